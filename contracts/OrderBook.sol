// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {SharedRoles, ZeroAddress, sendEthToCaller} from "./Common.sol";
import {IOrderBook} from "./interfaces/IOrderBook.sol";
import {IPartnerRegistry} from "./interfaces/IPartnerRegistry.sol";
import {
    Attestation,
    Order,
    OrderDocs,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderTerms,
    Outcome,
    RecordKind,
    RefundReason
} from "./Types.sol";
import {OrderCommitment} from "./libraries/OrderCommitment.sol";
import {AttestationVerifier} from "./utils/AttestationVerifier.sol";
import {PullPayments} from "./utils/PullPayments.sol";

/// @title OrderBook
/// @notice Escrowed manufacturing orders. One storage slot per order holds keccak256(abi.encode(Order)),
/// whose state includes the provenance hash-chain head; callers pass the order back as calldata.
/// Payouts are pulled: a completed order's payment by `withdrawPayment`, every other credit by `withdraw`.
/// No role can move escrow except the arbitrator's split of a disputed order (see contracts/README.md).
/// @dev The state machine; hashing is in `OrderCommitment`, money in `PullPayments`, signatures in
/// `AttestationVerifier`. Every transition: check the commitment, the status, the caller, the deadlines, then
/// store the new commitment, credit, emit, and only then call out (registry, token, ETH).
contract OrderBook is IOrderBook, AccessControl, SharedRoles, AttestationVerifier, PullPayments {
    using OrderCommitment for Order;
    using SafeERC20 for IERC20;

    /// @notice Role whose quality attestations are accepted, directly or by EIP-712 signature.
    bytes32 public constant INSPECTOR_ROLE = keccak256("INSPECTOR_ROLE");
    /// @notice Role that splits the escrow of disputed orders.
    bytes32 public constant ARBITRATOR_ROLE = keccak256("ARBITRATOR_ROLE");
    /// @notice Upper bound of the protocol fee: 5 %.
    uint16 public constant MAX_FEE_BPS = 500;
    uint256 private constant BPS = 10_000;

    /// @notice The partner registry checked at claim time and told about reputation outcomes.
    IPartnerRegistry public immutable registry;
    /// @notice Seconds an arbitrator has to rule before anyone may settle a dispute half and half.
    uint256 public immutable disputeTimeout;

    // One slot, so `post` checks the fee and bumps the count with a single cold access.
    uint64 private _orderCount;
    uint16 private _feeBps;
    address private _feeRecipient;

    mapping(uint256 orderId => bytes32 commitment) private _orderHashes;
    mapping(address token => bool allowed) private _tokenAllowed;

    /// @notice Deploys the book bound to `registry_`; `admin` appoints the role holders.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants the other roles) and initial fee recipient.
    /// @param registry_ The partner registry.
    /// @param disputeTimeout_ Seconds before an unresolved dispute can be settled by anyone.
    constructor(address admin, IPartnerRegistry registry_, uint256 disputeTimeout_)
        AttestationVerifier("fabmesh OrderBook", "1")
    {
        if (admin == address(0) || address(registry_) == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        registry = registry_;
        disputeTimeout = disputeTimeout_;
        _feeRecipient = admin;
    }

    // ---------------------------------------------------------------- buyer

    /// @inheritdoc IOrderBook
    function post(OrderTerms calldata terms, OrderSpec calldata spec, OrderDocs calldata docs)
        external
        payable
        nonReentrant
        returns (uint256 orderId)
    {
        if (terms.buyer != msg.sender) revert BuyerNotSender(terms.buyer);
        if (terms.price == 0) revert ZeroPrice();
        if (terms.claimDeadline <= block.timestamp) revert ClaimDeadlineNotInFuture(terms.claimDeadline);
        if (terms.deliveryDeadline <= terms.claimDeadline) {
            revert DeliveryDeadlineNotAfterClaimDeadline(terms.deliveryDeadline, terms.claimDeadline);
        }
        if (terms.inspectionWindow == 0) revert ZeroInspectionWindow();
        bytes32 docsHash = keccak256(abi.encode(docs));
        if (spec.docsHash != docsHash) revert DocsHashMismatch(docsHash, spec.docsHash);
        bytes32 specHash = keccak256(abi.encode(spec));
        if (terms.specHash != specHash) revert SpecHashMismatch(specHash, terms.specHash);
        if (terms.feeBps != _feeBps) revert FeeMismatch(_feeBps, terms.feeBps);
        bool isEth = terms.token == address(0);
        if (isEth) {
            if (msg.value != terms.price) revert IncorrectPayment(terms.price, msg.value);
        } else {
            if (msg.value != 0) revert IncorrectPayment(0, msg.value);
            if (!_tokenAllowed[terms.token]) revert TokenNotAllowed(terms.token);
        }
        // Unchecked: one increment per transaction cannot reach 2^64.
        unchecked {
            orderId = ++_orderCount;
        }
        uint40 time = uint40(block.timestamp);
        bytes32 evidence = keccak256(abi.encode(terms));
        bytes32 head = OrderCommitment.nextHead(bytes32(0), RecordKind.Posted, msg.sender, evidence, time);
        _orderHashes[orderId] = keccak256(abi.encode(terms, OrderState(OrderStatus.Open, address(0), 0, head)));
        emit OrderPosted(orderId, msg.sender, spec.reservedFor, terms, spec, docs, time);
        if (!isEth) _pullExact(IERC20(terms.token), terms.price);
    }

    /// @inheritdoc IOrderBook
    function cancel(uint256 orderId, Order calldata order) external {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Open) revert OrderNotOpen(orderId);
        _onlyBuyer(orderId, order);
        bytes32 prevHead = _advance(orderId, order, OrderStatus.Cancelled, RecordKind.Cancelled, msg.sender, 0);
        _credit(msg.sender, order.terms.token, orderId, order.terms.price);
        emit OrderCancelled(orderId, msg.sender, prevHead, uint40(block.timestamp));
    }

    /// @inheritdoc IOrderBook
    function award(uint256 orderId, Order calldata order, bytes32 keyEnvelopeCid) external {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Claimed) revert OrderNotClaimed(orderId);
        _onlyBuyer(orderId, order);
        uint40 deadline = order.terms.claimDeadline;
        if (block.timestamp > deadline) revert ClaimDeadlinePassed(orderId, deadline);
        bytes32 prevHead =
            _advance(orderId, order, OrderStatus.Awarded, RecordKind.Awarded, msg.sender, keyEnvelopeCid);
        emit OrderAwarded(
            orderId, msg.sender, order.state.partner, keyEnvelopeCid, prevHead, uint40(block.timestamp)
        );
    }

    /// @inheritdoc IOrderBook
    function confirm(uint256 orderId, Order calldata order) external {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Shipped) revert OrderNotShipped(orderId);
        _onlyBuyer(orderId, order);
        bytes32 prevHead = _complete(orderId, order, RecordKind.Confirmed);
        emit OrderConfirmed(orderId, msg.sender, prevHead, uint40(block.timestamp));
        _recordCompletion(order);
    }

    /// @inheritdoc IOrderBook
    function dispute(uint256 orderId, Order calldata order, bytes32 evidenceCid) external {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Shipped) revert OrderNotShipped(orderId);
        _onlyBuyer(orderId, order);
        uint256 closesAt = uint256(order.state.stamp) + order.terms.inspectionWindow;
        if (block.timestamp > closesAt) revert InspectionWindowClosed(orderId, closesAt);
        bytes32 prevHead = order.state.head;
        bytes32 head =
            OrderCommitment.nextHead(prevHead, RecordKind.Disputed, msg.sender, evidenceCid, uint40(block.timestamp));
        _orderHashes[orderId] =
            order.hashWithState(OrderStatus.Disputed, order.state.partner, uint40(block.timestamp), head);
        emit OrderDisputed(orderId, msg.sender, evidenceCid, prevHead, uint40(block.timestamp));
    }

    // -------------------------------------------------------------- partner

    /// @inheritdoc IOrderBook
    function claim(uint256 orderId, Order calldata order, OrderSpec calldata spec) external payable {
        order.verify(orderId, _orderHashes[orderId]);
        OrderTerms calldata t = order.terms;
        if (order.state.status != OrderStatus.Open) revert OrderNotOpen(orderId);
        if (msg.sender == t.buyer) revert BuyerCannotClaim(orderId);
        if (block.timestamp > t.claimDeadline) revert ClaimDeadlinePassed(orderId, t.claimDeadline);
        if (msg.value != t.claimBond) revert IncorrectPayment(t.claimBond, msg.value);
        bytes32 specHash = keccak256(abi.encode(spec));
        if (specHash != t.specHash) revert SpecHashMismatch(t.specHash, specHash);
        if (spec.reservedFor != address(0) && spec.reservedFor != msg.sender) {
            revert NotReservedPartner(orderId, spec.reservedFor);
        }
        registry.checkEligible(msg.sender, spec.processes, spec.materials, spec.certIds);
        bytes32 prevHead = order.state.head;
        bytes32 head = OrderCommitment.nextHead(prevHead, RecordKind.Claimed, msg.sender, 0, uint40(block.timestamp));
        _orderHashes[orderId] = order.hashWithState(OrderStatus.Claimed, msg.sender, 0, head);
        emit OrderClaimed(orderId, msg.sender, prevHead, uint40(block.timestamp));
    }

    /// @inheritdoc IOrderBook
    function startProduction(uint256 orderId, Order calldata order) external {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Awarded) revert OrderNotAwarded(orderId);
        _onlyPartner(orderId, order);
        bytes32 prevHead =
            _advance(orderId, order, OrderStatus.InProduction, RecordKind.ProductionStarted, msg.sender, 0);
        emit ProductionStarted(orderId, msg.sender, prevHead, uint40(block.timestamp));
    }

    /// @inheritdoc IOrderBook
    function recordSerials(uint256 orderId, Order calldata order, bytes32 serialsRoot) external {
        order.verify(orderId, _orderHashes[orderId]);
        _requireInProgress(orderId, order.state.status);
        _onlyPartner(orderId, order);
        bytes32 prevHead =
            _advance(orderId, order, order.state.status, RecordKind.SerialsRecorded, msg.sender, serialsRoot);
        emit SerialsRecorded(orderId, msg.sender, serialsRoot, prevHead, uint40(block.timestamp));
    }

    /// @inheritdoc IOrderBook
    function ship(uint256 orderId, Order calldata order, bytes32 reportCid, bytes32 reportHash) external {
        order.verify(orderId, _orderHashes[orderId]);
        _requireInProgress(orderId, order.state.status);
        _onlyPartner(orderId, order);
        bytes32 prevHead = order.state.head;
        bytes32 evidence = OrderCommitment.reportEvidence(reportCid, reportHash, true);
        bytes32 head =
            OrderCommitment.nextHead(prevHead, RecordKind.Shipped, msg.sender, evidence, uint40(block.timestamp));
        _orderHashes[orderId] = order.hashWithState(OrderStatus.Shipped, msg.sender, uint40(block.timestamp), head);
        emit OrderShipped(orderId, msg.sender, reportCid, reportHash, prevHead, uint40(block.timestamp));
    }

    /// @inheritdoc IOrderBook
    function withdrawPayment(uint256 orderId, Order calldata order) external nonReentrant {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Completed) revert OrderNotCompleted(orderId);
        _onlyPartner(orderId, order);
        OrderTerms calldata t = order.terms;
        uint256 amount = t.price - _fee(t.price, t.feeBps);
        uint256 bond = t.claimBond;
        bytes32 prevHead = _advance(orderId, order, OrderStatus.Paid, RecordKind.PaymentWithdrawn, msg.sender, 0);
        emit PaymentWithdrawn(orderId, msg.sender, amount, bond, prevHead, uint40(block.timestamp));
        if (t.token == address(0)) {
            sendEthToCaller(amount + bond);
        } else {
            IERC20(t.token).safeTransfer(msg.sender, amount);
            if (bond != 0) sendEthToCaller(bond);
        }
    }

    // ------------------------------------------------------------ attesters

    /// @inheritdoc IOrderBook
    function attest(uint256 orderId, Order calldata order, bytes32 reportCid, bytes32 reportHash, bool passed)
        external
    {
        order.verify(orderId, _orderHashes[orderId]);
        if (msg.sender == order.state.partner) {
            _requireInProgress(orderId, order.state.status);
        } else if (hasRole(INSPECTOR_ROLE, msg.sender)) {
            _requireAttestable(orderId, order.state.status);
        } else {
            revert NotAttester(orderId, msg.sender);
        }
        _attest(orderId, order, msg.sender, reportCid, reportHash, passed);
    }

    /// @inheritdoc IOrderBook
    function attestBySig(Order calldata order, Attestation calldata att, bytes calldata signature) external {
        uint256 orderId = att.orderId;
        order.verify(orderId, _orderHashes[orderId]);
        _requireAttestable(orderId, order.state.status);
        _verifyAttestation(att, signature);
        _attest(orderId, order, att.inspector, att.reportCid, att.reportHash, att.passed);
    }

    // ----------------------------------------------------- anyone / timeouts

    /// @inheritdoc IOrderBook
    function finalize(uint256 orderId, Order calldata order) external {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Shipped) revert OrderNotShipped(orderId);
        uint256 closesAt = uint256(order.state.stamp) + order.terms.inspectionWindow;
        if (block.timestamp <= closesAt) revert InspectionWindowOpen(orderId, closesAt);
        bytes32 prevHead = _complete(orderId, order, RecordKind.Finalized);
        emit OrderFinalized(orderId, msg.sender, prevHead, uint40(block.timestamp));
        _recordCompletion(order);
    }

    /// @inheritdoc IOrderBook
    function refund(uint256 orderId, Order calldata order) external {
        order.verify(orderId, _orderHashes[orderId]);
        RefundReason reason = _refundReason(orderId, order);
        OrderTerms calldata t = order.terms;
        bytes32 prevHead =
            _advance(orderId, order, OrderStatus.Refunded, RecordKind.Refunded, msg.sender, bytes32(uint256(reason)));
        _credit(t.buyer, t.token, orderId, t.price);
        if (reason == RefundReason.NotAwarded) {
            _credit(order.state.partner, address(0), orderId, t.claimBond); // the buyer let the claim lapse
        } else if (reason == RefundReason.NotShipped) {
            _credit(t.buyer, address(0), orderId, t.claimBond); // the partner abandoned: bond slashed
        }
        emit OrderRefunded(orderId, msg.sender, reason, prevHead, uint40(block.timestamp));
    }

    /// @inheritdoc IOrderBook
    function settleExpiredDispute(uint256 orderId, Order calldata order) external {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Disputed) revert OrderNotDisputed(orderId);
        uint256 expiresAt = uint256(order.state.stamp) + disputeTimeout;
        if (block.timestamp <= expiresAt) revert DisputeTimeoutNotReached(orderId, expiresAt);
        uint96 buyerShare = order.terms.price / 2;
        bytes32 prevHead = _advance(
            orderId, order, OrderStatus.Resolved, RecordKind.DisputeExpired, msg.sender, bytes32(uint256(buyerShare))
        );
        _split(orderId, order, buyerShare, false);
        emit DisputeExpired(orderId, msg.sender, buyerShare, prevHead, uint40(block.timestamp));
    }

    // ----------------------------------------------------------- privileged

    /// @inheritdoc IOrderBook
    function resolve(uint256 orderId, Order calldata order, uint96 buyerShare, bool partnerLost, bytes32 rulingCid)
        external
        onlyRole(ARBITRATOR_ROLE)
    {
        order.verify(orderId, _orderHashes[orderId]);
        if (order.state.status != OrderStatus.Disputed) revert OrderNotDisputed(orderId);
        if (buyerShare > order.terms.price) revert ShareExceedsPrice(buyerShare, order.terms.price);
        bytes32 prevHead = _advance(
            orderId,
            order,
            OrderStatus.Resolved,
            RecordKind.Resolved,
            msg.sender,
            OrderCommitment.rulingEvidence(buyerShare, partnerLost, rulingCid)
        );
        _split(orderId, order, buyerShare, partnerLost);
        emit DisputeResolved(
            orderId, msg.sender, buyerShare, partnerLost, rulingCid, prevHead, uint40(block.timestamp)
        );
        if (partnerLost) registry.recordOutcome(order.state.partner, Outcome.DisputeLost);
    }

    /// @inheritdoc IOrderBook
    function setTokenAllowed(address token, bool allowed) external onlyRole(GOVERNANCE_ROLE) {
        if (token == address(0)) revert ZeroAddress();
        _tokenAllowed[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    /// @inheritdoc IOrderBook
    function setFee(uint16 newFeeBps, address recipient) external onlyRole(GOVERNANCE_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert FeeTooHigh(newFeeBps, MAX_FEE_BPS);
        if (recipient == address(0)) revert ZeroAddress();
        _feeBps = newFeeBps;
        _feeRecipient = recipient;
        emit FeeUpdated(newFeeBps, recipient);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IOrderBook
    function orderHash(uint256 orderId) external view returns (bytes32) {
        return _orderHashes[orderId];
    }

    /// @inheritdoc IOrderBook
    function orderCount() external view returns (uint256) {
        return _orderCount;
    }

    /// @inheritdoc IOrderBook
    function feeBps() external view returns (uint16) {
        return _feeBps;
    }

    /// @inheritdoc IOrderBook
    function feeRecipient() external view returns (address) {
        return _feeRecipient;
    }

    /// @inheritdoc IOrderBook
    function tokenAllowed(address token) external view returns (bool) {
        return _tokenAllowed[token];
    }

    /// @inheritdoc IOrderBook
    function hashOrder(Order calldata order) external pure returns (bytes32) {
        return order.hash();
    }

    /// @inheritdoc IOrderBook
    function nextHead(bytes32 prevHead, RecordKind kind, address actor, bytes32 evidence, uint40 time)
        external
        pure
        returns (bytes32)
    {
        return OrderCommitment.nextHead(prevHead, kind, actor, evidence, time);
    }

    // ------------------------------------------------------------- internal

    function _onlyBuyer(uint256 orderId, Order calldata order) private view {
        if (msg.sender != order.terms.buyer) revert NotBuyer(orderId, msg.sender);
    }

    function _onlyPartner(uint256 orderId, Order calldata order) private view {
        if (msg.sender != order.state.partner) revert NotPartner(orderId, msg.sender);
    }

    function _requireInProgress(uint256 orderId, OrderStatus status) private pure {
        if (status != OrderStatus.Awarded && status != OrderStatus.InProduction) revert OrderNotInProgress(orderId);
    }

    /// @dev Attestable: Awarded, InProduction, Shipped, Disputed, i.e. from award until settlement. A range
    /// check, so it relies on these four being contiguous in `OrderStatus` (Types.sol says so beside the enum,
    /// and tests/contracts/test_eip712_attestation.py checks every status).
    function _requireAttestable(uint256 orderId, OrderStatus status) private pure {
        if (status < OrderStatus.Awarded || status > OrderStatus.Disputed) revert OrderNotAttestable(orderId);
    }

    /// @dev Appends a record and stores the new commitment with `status`; partner and stamp are kept.
    function _advance(
        uint256 orderId,
        Order calldata order,
        OrderStatus status,
        RecordKind kind,
        address actor,
        bytes32 evidence
    ) private returns (bytes32 prevHead) {
        prevHead = order.state.head;
        bytes32 head = OrderCommitment.nextHead(prevHead, kind, actor, evidence, uint40(block.timestamp));
        _orderHashes[orderId] = order.hashWithState(status, order.state.partner, order.state.stamp, head);
    }

    /// @dev Which timeout applies, or reverts if none has passed.
    function _refundReason(uint256 orderId, Order calldata order) private view returns (RefundReason) {
        OrderTerms calldata t = order.terms;
        OrderStatus status = order.state.status;
        if (status == OrderStatus.Open || status == OrderStatus.Claimed) {
            if (block.timestamp <= t.claimDeadline) revert ClaimDeadlineNotPassed(orderId, t.claimDeadline);
            return status == OrderStatus.Open ? RefundReason.NotClaimed : RefundReason.NotAwarded;
        }
        if (status == OrderStatus.Awarded || status == OrderStatus.InProduction) {
            if (block.timestamp <= t.deliveryDeadline) {
                revert DeliveryDeadlineNotPassed(orderId, t.deliveryDeadline);
            }
            return RefundReason.NotShipped;
        }
        revert OrderNotRefundable(orderId);
    }

    /// @dev Shipped → Completed: the fee is credited now, the partner's share waits for `withdrawPayment`.
    function _complete(uint256 orderId, Order calldata order, RecordKind kind) private returns (bytes32 prevHead) {
        prevHead = _advance(orderId, order, OrderStatus.Completed, kind, msg.sender, 0);
        OrderTerms calldata t = order.terms;
        uint256 fee = _fee(t.price, t.feeBps);
        if (fee != 0) _credit(_feeRecipient, t.token, orderId, fee);
    }

    function _recordCompletion(Order calldata order) private {
        bool onTime = order.state.stamp <= order.terms.deliveryDeadline;
        registry.recordOutcome(order.state.partner, onTime ? Outcome.CompletedOnTime : Outcome.CompletedLate);
    }

    function _attest(
        uint256 orderId,
        Order calldata order,
        address attester,
        bytes32 reportCid,
        bytes32 reportHash,
        bool passed
    ) private {
        bytes32 prevHead = _advance(
            orderId,
            order,
            order.state.status,
            RecordKind.QualityAttested,
            attester,
            OrderCommitment.reportEvidence(reportCid, reportHash, passed)
        );
        emit QualityAttested(orderId, attester, reportCid, reportHash, passed, prevHead, uint40(block.timestamp));
        if (!passed) registry.recordOutcome(order.state.partner, Outcome.FailedQa);
    }

    /// @dev Credits a disputed escrow: buyerShare to the buyer, the rest minus the fee to the partner, and
    /// the claim bond to the loser's counterparty.
    function _split(uint256 orderId, Order calldata order, uint96 buyerShare, bool partnerLost) private {
        OrderTerms calldata t = order.terms;
        address partner = order.state.partner;
        uint256 partnerShare = t.price - buyerShare;
        uint256 fee = _fee(partnerShare, t.feeBps);
        _credit(t.buyer, t.token, orderId, buyerShare);
        _credit(partner, t.token, orderId, partnerShare - fee);
        if (fee != 0) _credit(_feeRecipient, t.token, orderId, fee);
        _credit(partnerLost ? t.buyer : partner, address(0), orderId, t.claimBond);
    }

    function _fee(uint256 amount, uint16 bps) private pure returns (uint256) {
        return amount * bps / BPS;
    }

    /// @dev Who may sign attestations for `attestBySig`: inspectors.
    function _checkSigner(address signer) internal view override {
        _checkRole(INSPECTOR_ROLE, signer);
    }
}
