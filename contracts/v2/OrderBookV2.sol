// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IArbitrable} from "@kleros/erc-792/contracts/IArbitrable.sol";

import {ZeroAddress} from "./Common.sol";
import {OrderBookV2Base} from "./OrderBookV2Base.sol";
import {OrderBookV2Disputes} from "./OrderBookV2Disputes.sol";
import {IArbitrableParties} from "./interfaces/IArbitrableParties.sol";
import {IOrderBookV2} from "./interfaces/IOrderBookV2.sol";
import {IOrderBookV2Disputes} from "./interfaces/IOrderBookV2Disputes.sol";
import {IPartnerRegistryV2} from "./interfaces/IPartnerRegistryV2.sol";
import {IPartnerSlots} from "./interfaces/IPartnerSlots.sol";
import {OrderHashes} from "./libraries/OrderHashes.sol";
import {PartnerSlots} from "./libraries/PartnerSlots.sol";
import {Splits} from "./libraries/Splits.sol";
import {
    Attestation,
    Order,
    OrderDocs,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderTerms,
    Outcome,
    Quote,
    RecordKind,
    RefundReason,
    Settlement,
    Transition
} from "./Types.sol";

/// @title OrderBookV2
/// @notice Escrowed manufacturing orders awarded by partners' EIP-712 quotes, arbitrated per order by the
/// ERC-792 arbitrator the terms name. One slot per order holds keccak256(abi.encode(Order)); it changes only
/// on transitions. Records extend a second chain in a slot of their own. No role moves escrow: governance
/// only lists tokens and sets bounded parameters that orders snapshot at post (contracts/v2/README.md).
/// @dev The state machine; hashing is in `OrderHashes`, splits in `Splits`, money in `Payouts`, signatures in
/// `SignatureVerifier`; disputes, settlements and attestations run in `OrderBookV2Disputes` (delegatecall,
/// EIP-170). Every function: check the commitment, status, caller and deadlines, store the new
/// commitment, credit and emit, and only then call out (registry, arbitrator, token, ETH).
contract OrderBookV2 is IOrderBookV2, IArbitrableParties, IPartnerSlots, OrderBookV2Base {
    /// @notice The extension running disputes, settlements and attestations in this contract's storage.
    address public immutable disputes;

    /// @notice Deploys the book bound to `registry_`, governed by the AccessManager `authority`, and its
    /// disputes extension.
    /// @param authority The OpenZeppelin AccessManager deciding who may call restricted functions.
    /// @param registry_ The partner registry.
    /// @param feeRecipient_ Receiver of fees and skimmed surplus.
    constructor(address authority, IPartnerRegistryV2 registry_, address feeRecipient_)
        OrderBookV2Base(authority, registry_, feeRecipient_)
    {
        disputes = address(new OrderBookV2Disputes(authority, registry_, feeRecipient_));
    }

    /// @notice Accepts slashed bonds from the registry (credited to the wronged buyer by the caller).
    receive() external payable {
        if (msg.sender != address(registry)) revert UnexpectedEth(msg.sender);
    }

    /// @inheritdoc IOrderBookV2
    function post(OrderTerms calldata terms, OrderSpec calldata spec, OrderDocs calldata docs)
        external
        payable
        nonReentrant
        returns (uint256 orderId)
    {
        _checkDocs(spec, docs);
        OrderTerms memory t = OrderHashes.copyTerms(terms); // read once _newOrder checked the calldata clean
        bytes32 termsHash = _newOrder(terms, t, spec, msg.value);
        orderId = OrderHashes.orderIdOf(termsHash);
        bytes32 head = OrderHashes.nextTransition(
            _genesis(orderId), Transition.Posted, msg.sender, termsHash, uint40(block.timestamp)
        );
        _orderHashes[orderId] =
            OrderHashes.hashOrder(t, OrderState(OrderStatus.Open, address(0), address(0), 0, 0, 0, 0, head));
        _emitPosted(orderId, terms, spec, docs);
        if (terms.token != address(0)) _pullExact(terms.token, terms.price);
    }

    /// @inheritdoc IOrderBookV2
    function postAwarded(
        OrderTerms calldata terms,
        OrderSpec calldata spec,
        OrderDocs calldata docs,
        bytes32[4] calldata quote,
        bytes calldata signature,
        bytes32 keyEnvelopeCid
    ) external payable nonReentrant returns (uint256 orderId) {
        _checkDocs(spec, docs);
        OrderTerms memory t = OrderHashes.copyTerms(terms); // read once _newOrder checked the calldata clean
        bytes32 termsHash = _newOrder(terms, t, spec, msg.value);
        orderId = OrderHashes.orderIdOf(termsHash);
        _emitPosted(orderId, terms, spec, docs);
        _award(orderId, t, termsHash, spec, _genesis(orderId), quote, signature, keyEnvelopeCid);
        if (terms.token != address(0)) _pullExact(terms.token, terms.price);
    }

    /// @inheritdoc IOrderBookV2
    function award(
        bytes32[8] calldata order,
        OrderSpec calldata spec,
        bytes32[4] calldata quote,
        bytes calldata signature,
        bytes32 keyEnvelopeCid
    ) external {
        // No reentrancy guard: an escrow-first award calls out only through STATICCALL (the signature's
        // ERC-1271 fallback, the registry's checkCertifications), which cannot re-enter a state change; and an
        // award entered from another function's callout finds that function's state already written (each writes
        // before it calls out).
        (uint256 orderId, bytes32 termsHash, Order memory o) = _load()(order, OPEN);
        _onlyBuyer(o);
        uint40 deadline = o.terms.awardDeadline;
        if (block.timestamp > deadline) revert AwardDeadlinePassed(deadline);
        _checkSpec(o.terms, spec);
        _award(orderId, o.terms, termsHash, spec, o.state.head, quote, signature, keyEnvelopeCid);
    }

    /// @inheritdoc IOrderBookV2
    function cancel(bytes32[8] calldata order) external {
        (uint256 orderId,, Order memory o) = _load()(order, OPEN);
        _onlyBuyer(o);
        _advance(orderId, o, OrderStatus.Cancelled, Transition.Cancelled, 0);
        _credit(msg.sender, o.terms.token, orderId, o.terms.price);
        emit OrderCancelled(orderId);
    }

    /// @inheritdoc IOrderBookV2
    function confirm(bytes32[8] calldata order) external nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, SHIPPED);
        _onlyBuyer(o);
        _complete(orderId, o, Transition.Confirmed);
    }

    /// @inheritdoc IOrderBookV2
    function reject(bytes32[8] calldata order, bytes32 reasonCid) external nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, AWARDED);
        _onlyPartner(o);
        uint256 closesAt = uint256(o.state.stamp) + o.terms.rejectWindow;
        if (block.timestamp > closesAt) revert RejectWindowClosed(closesAt);
        _advance(orderId, o, OrderStatus.Rejected, Transition.Rejected, reasonCid);
        _credit(o.terms.buyer, o.terms.token, orderId, o.state.price);
        emit OrderRejected(orderId, msg.sender, reasonCid);
        _releaseBond(msg.sender, o.state.bond, Outcome.None);
    }

    /// @inheritdoc IOrderBookV2
    function ship(bytes32[8] calldata order, bytes32 reportCid, bytes32 reportHash) external {
        (uint256 orderId,, Order memory o) = _load()(order, AWARDED);
        _onlyPartner(o);
        o.state.stamp = uint40(block.timestamp);
        bytes32 evidence = OrderHashes.reportEvidence(reportCid, reportHash, true);
        _advance(orderId, o, OrderStatus.Shipped, Transition.Shipped, evidence);
        emit OrderShipped(orderId, reportCid, reportHash);
    }

    /// @inheritdoc IOrderBookV2
    function recordSerials(bytes32[8] calldata order, bytes32 serialsRoot) external {
        (uint256 orderId,, Order memory o) = _load()(order, AWARDED);
        _onlyPartner(o);
        if (block.timestamp > o.state.dueBy) revert DueTimePassed(o.state.dueBy);
        _record(orderId, RecordKind.SerialsRecorded, msg.sender, serialsRoot);
    }

    /// @inheritdoc IOrderBookV2
    function finalize(bytes32[8] calldata order) external nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, SHIPPED);
        uint256 closesAt = uint256(o.state.stamp) + o.terms.inspectionWindow;
        if (block.timestamp <= closesAt) revert InspectionWindowOpen(closesAt);
        _complete(orderId, o, Transition.Finalized);
    }

    /// @inheritdoc IOrderBookV2
    function refund(bytes32[8] calldata order) external nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, OPEN | AWARDED);
        address buyer = o.terms.buyer;
        if (o.state.status == OrderStatus.Open) {
            uint40 deadline = o.terms.awardDeadline;
            if (block.timestamp <= deadline) revert NotYetRefundable(deadline);
            _advance(orderId, o, OrderStatus.Refunded, Transition.Refunded, 0);
            _credit(buyer, o.terms.token, orderId, o.terms.price);
            emit OrderRefunded(orderId, RefundReason.NotAwarded);
        } else {
            uint40 dueBy = o.state.dueBy;
            if (block.timestamp <= dueBy) revert NotYetRefundable(dueBy);
            _advance(orderId, o, OrderStatus.Refunded, Transition.Refunded, bytes32(uint256(1)));
            _credit(buyer, o.terms.token, orderId, o.state.price);
            _credit(buyer, address(0), orderId, o.state.bond);
            emit OrderRefunded(orderId, RefundReason.NotShipped);
            registry.slashBond(o.state.partner, o.state.bond, Outcome.Abandoned);
        }
    }

    /// @inheritdoc IOrderBookV2
    function allowToken(address token) external restricted {
        if (token == address(0)) revert ZeroAddress();
        _tokenAllowed[token] = true;
        emit TokenAllowed(token);
    }

    /// @inheritdoc IOrderBookV2
    function delistToken(address token) external restricted {
        _tokenAllowed[token] = false;
        emit TokenDelisted(token);
    }

    /// @inheritdoc IOrderBookV2
    function setFee(uint16 newFeeBps, address recipient) external restricted {
        if (newFeeBps > MAX_FEE_BPS) revert FeeTooHigh(newFeeBps);
        if (recipient == address(0)) revert ZeroAddress();
        _params.feeBps = newFeeBps;
        _feeRecipient = recipient;
        emit FeeSet(newFeeBps, recipient);
    }

    /// @inheritdoc IOrderBookV2
    function setParameters(uint32 newRejectWindow, uint32 newDisputeTimeout) external restricted {
        if (newRejectWindow < MIN_REJECT_WINDOW || newRejectWindow > MAX_REJECT_WINDOW) {
            revert RejectWindowOutOfRange(newRejectWindow);
        }
        if (newDisputeTimeout < MIN_DISPUTE_TIMEOUT || newDisputeTimeout > MAX_DISPUTE_TIMEOUT) {
            revert DisputeTimeoutOutOfRange(newDisputeTimeout);
        }
        _params.rejectWindow = newRejectWindow;
        _params.disputeTimeout = newDisputeTimeout;
        emit ParametersSet(newRejectWindow, newDisputeTimeout);
    }

    /// @inheritdoc IOrderBookV2
    function pause() external restricted {
        _params.paused = true;
        emit PausedSet(true);
    }

    /// @inheritdoc IOrderBookV2
    function unpause() external restricted {
        _params.paused = false;
        emit PausedSet(false);
    }

    /// @inheritdoc IPartnerSlots
    function setPartnerWord(address partner, uint256 word) external {
        if (msg.sender != address(registry)) revert NotRegistry(msg.sender);
        _partnerWords[partner] = word;
    }

    /// @inheritdoc IPartnerSlots
    function partnerWord(address partner) external view returns (uint256) {
        return _partnerWords[partner];
    }

    /// @inheritdoc IOrderBookV2
    function orderHash(uint256 orderId) external view returns (bytes32) {
        return _orderHashes[orderId];
    }

    /// @inheritdoc IArbitrableParties
    function disputeParties(uint256 disputeID) external view returns (address claimant, address respondent) {
        address[2] storage parties = _disputeParties[msg.sender][disputeID];
        return (parties[0], parties[1]);
    }

    /// @inheritdoc IOrderBookV2
    function recordHead(uint256 orderId) external view returns (bytes32) {
        bytes32 head = _recordHeads[orderId];
        return head == 0 ? _genesis(orderId) : head;
    }

    /// @inheritdoc IOrderBookV2
    function arbitration(uint256 orderId) external view returns (Arbitration memory) {
        return _arbitrations[orderId];
    }

    /// @inheritdoc IOrderBookV2
    function feeBps() external view returns (uint16) {
        return _params.feeBps;
    }

    /// @inheritdoc IOrderBookV2
    function rejectWindow() external view returns (uint32) {
        return _params.rejectWindow;
    }

    /// @inheritdoc IOrderBookV2
    function disputeTimeout() external view returns (uint32) {
        return _params.disputeTimeout;
    }

    /// @inheritdoc IOrderBookV2
    function paused() external view returns (bool) {
        return _params.paused;
    }

    /// @inheritdoc IOrderBookV2
    function feeRecipient() external view returns (address) {
        return _feeRecipient;
    }

    /// @inheritdoc IOrderBookV2
    function tokenAllowed(address token) external view returns (bool) {
        return _tokenAllowed[token];
    }

    /// @inheritdoc IOrderBookV2
    function genesis(uint256 orderId) external view returns (bytes32) {
        return _genesis(orderId);
    }

    /// @dev Checks new terms (`t` their memory copy) against the sender, the clock, the current parameters and
    /// the payment; returns their hash, whose order id (OrderHashes.orderIdOf) must be new.
    function _newOrder(OrderTerms calldata terms, OrderTerms memory t, OrderSpec calldata spec, uint256 value)
        private
        view
        returns (bytes32 termsHash)
    {
        // Dirty calldata reverts first, so the stored commitment, hashed from the raw words of the copy
        // (OrderHashes.hashOrder), is of a clean encoding, and the checks below read clean values.
        if (!OrderHashes.isCleanTerms(terms)) revert NonCanonicalEncoding();
        if (t.buyer != msg.sender) revert BuyerNotSender(t.buyer);
        if (t.price == 0) revert ZeroPrice();
        if (t.awardDeadline <= block.timestamp) revert AwardDeadlineNotInFuture(t.awardDeadline);
        if (t.deliveryDeadline <= t.awardDeadline) {
            revert DeliveryDeadlineNotAfterAwardDeadline(t.deliveryDeadline, t.awardDeadline);
        }
        if (t.inspectionWindow == 0 || t.inspectionWindow > MAX_INSPECTION_WINDOW) {
            revert InspectionWindowOutOfRange(t.inspectionWindow);
        }
        if (t.arbitrator == address(0)) revert ZeroAddress();
        if (t.arbitrator == msg.sender) revert ArbitratorIsBuyer();
        if (spec.inspectors.length > MAX_INSPECTORS) revert TooManyInspectors(spec.inspectors.length);
        // The terms commit to a canonical spec encoding only (_checkSpec hashes later calldata as it is).
        if (!OrderHashes.isCleanSpec(spec)) revert NonCanonicalEncoding();
        bytes32 specHash = OrderHashes.hashSpec(spec);
        if (t.specHash != specHash) revert SpecHashMismatch(t.specHash, specHash);
        Params memory p = _params;
        if (p.paused) revert NewOrdersPaused();
        if (t.feeBps != p.feeBps || t.rejectWindow != p.rejectWindow || t.disputeTimeout != p.disputeTimeout) {
            revert SnapshotMismatch();
        }
        if (t.token == address(0)) {
            if (value != t.price) revert IncorrectPayment(t.price, value);
        } else {
            if (value != 0) revert IncorrectPayment(0, value);
            if (!_tokenAllowed[t.token]) revert TokenNotAllowed(t.token);
        }
        termsHash = OrderHashes.hashTerms(t);
        uint256 orderId = OrderHashes.orderIdOf(termsHash);
        if (_orderHashes[orderId] != 0) revert OrderExists(orderId);
    }

    /// @dev Emits OrderPosted(orderId, buyer, posted): the terms, spec and docs packed from the calldata
    /// (IOrderBookV2.OrderPosted gives the layout), ~40 % of their ABI encoding's log bytes. Call after
    /// `_newOrder` and `_checkDocs`, which checked every word of the terms, spec and docs clean (dirty input
    /// reverted there, so every word read here is clean), and after `_newOrder` bounded the inspectors.
    function _emitPosted(uint256 orderId, OrderTerms calldata terms, OrderSpec calldata spec, OrderDocs calldata docs)
        private
    {
        bytes32 topic = OrderPosted.selector;
        address buyer = msg.sender;
        address[] calldata inspectors = spec.inspectors;
        // Assembly: builds the log data (the ABI encoding of one `bytes`: offset, length, the packed fields
        // zero-padded to a word) at the free memory pointer (scratch, not allocated) and logs it. Each field is
        // stored left-aligned in a word at its byte offset, in increasing order, so the next one overwrites
        // the zeros that follow it.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let n := inspectors.length
            let size := add(220, mul(n, 20))
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), size)
            let p := add(ptr, 0x40)
            mstore(p, shl(96, calldataload(add(terms, 0x20)))) // token
            mstore(add(p, 20), shl(160, calldataload(add(terms, 0x40)))) // price
            mstore(add(p, 32), shl(160, calldataload(add(terms, 0x60)))) // minBond
            mstore(add(p, 44), shl(96, calldataload(add(terms, 0x80)))) // arbitrator
            mstore(add(p, 64), shl(216, calldataload(add(terms, 0xa0)))) // awardDeadline
            mstore(add(p, 69), shl(216, calldataload(add(terms, 0xc0)))) // deliveryDeadline
            mstore(add(p, 74), shl(224, calldataload(add(terms, 0xe0)))) // inspectionWindow
            mstore(add(p, 78), shl(224, calldataload(add(terms, 0x100)))) // rejectWindow
            mstore(add(p, 82), shl(224, calldataload(add(terms, 0x120)))) // disputeTimeout
            mstore(add(p, 86), shl(240, calldataload(add(terms, 0x140)))) // feeBps
            mstore(add(p, 88), shl(224, calldataload(spec))) // processes
            mstore(add(p, 92), shl(192, calldataload(add(spec, 0x20)))) // materials
            mstore(add(p, 100), shl(128, calldataload(add(spec, 0x40)))) // certIds
            calldatacopy(add(p, 116), docs, 0x60) // designCid, designSha256, specCid
            mstore(add(p, 212), calldataload(add(docs, 0x60))) // region (bytes8: already left-aligned)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(p, add(220, mul(i, 20))), shl(96, calldataload(add(inspectors.offset, mul(i, 0x20)))))
            }
            mstore(add(p, size), 0) // the padding
            log3(ptr, add(0x40, and(add(size, 31), not(31))), topic, orderId, buyer)
        }
    }

    /// @dev Reverts unless `docs` are the ones `spec` commits to (they are emitted, not stored).
    function _checkDocs(OrderSpec calldata spec, OrderDocs calldata docs) private pure {
        (bytes32 docsHash, bool clean) = OrderHashes.hashDocs(docs);
        if (!clean) revert NonCanonicalEncoding();
        if (spec.docsHash != docsHash) revert DocsHashMismatch(spec.docsHash, docsHash);
    }

    /// @dev Awards order `orderId` (its terms checked, its spec matched) to `quote`: uses the quote, stores
    /// the Awarded commitment, credits the price difference, then locks the bond in the registry.
    function _award(
        uint256 orderId,
        OrderTerms memory t,
        bytes32 termsHash,
        OrderSpec calldata spec,
        bytes32 prevHead,
        bytes32[4] calldata quote,
        bytes calldata signature,
        bytes32 keyEnvelopeCid
    ) private {
        uint40 time = uint40(block.timestamp);
        (OrderState memory s, bytes32 quoteHash) = _quoted(t, termsHash, quote, signature);
        s.head = OrderHashes.nextTransition(
            prevHead,
            Transition.Awarded,
            msg.sender,
            OrderHashes.awardEvidence(termsHash, quoteHash, keyEnvelopeCid),
            time
        );
        _orderHashes[orderId] = OrderHashes.hashOrder(t, s);
        // Unchecked: the quote's price <= terms.price (_checkQuote).
        unchecked {
            _credit(t.buyer, t.token, orderId, t.price - s.price);
        }
        emit OrderAwarded(
            orderId,
            s.partner,
            bytes32(uint256(uint160(s.payee)) << 96 | s.price),
            bytes32(uint256(s.bond) << 40 | s.dueBy),
            quoteHash,
            keyEnvelopeCid
        );
        _lockBond(s.partner, s.bond, spec);
    }

    /// @dev Checks that `partner` may take an order with `spec`'s requirements and locks `amount` of its free
    /// bond, in its slot here (one word read and written); only an order naming certifications asks the
    /// registry, which holds them.
    function _lockBond(address partner, uint96 amount, OrderSpec calldata spec) private {
        (uint32 processes, uint64 materials, uint128 certIds) = OrderHashes.requirements(spec);
        uint256 word = _partnerWords[partner];
        PartnerSlots.checkEligible(word, partner, processes, materials);
        if (certIds != 0) registry.checkCertifications(partner, certIds);
        _partnerWords[partner] = PartnerSlots.lock(word, partner, amount);
    }

    /// @dev The Awarded state the packed `quote` gives these terms now, checked against them, and the quote's
    /// struct hash (its signature checked). The quote names the terms it is awarded to (`termsHash`): a
    /// signature over other terms does not recover its partner.
    function _quoted(OrderTerms memory t, bytes32 termsHash, bytes32[4] calldata quote, bytes calldata signature)
        private
        view
        returns (OrderState memory s, bytes32 quoteHash)
    {
        Quote memory q = OrderHashes.unpackQuote(quote, termsHash);
        uint40 time = uint40(block.timestamp);
        // The due time cannot overflow uint40 (a uint32 lead time after now).
        // Field by field into the zeroed return (a struct constructor would allocate a second one).
        s.status = OrderStatus.Awarded;
        s.partner = q.partner;
        s.payee = q.payee;
        s.price = q.price;
        s.bond = q.bond;
        s.stamp = time;
        s.dueBy = time + q.leadTime;
        _checkQuote(t, s);
        quoteHash = _useQuote(q, signature);
    }

    /// @dev Reverts unless the quote, awarded now as state `s`, prices these terms within their bounds.
    function _checkQuote(OrderTerms memory terms, OrderState memory s) private pure {
        if (s.price == 0 || s.price > terms.price) revert QuotePriceOutOfRange(s.price, terms.price);
        if (s.bond < terms.minBond) revert QuoteBondBelowMinimum(s.bond, terms.minBond);
        if (s.dueBy > terms.deliveryDeadline) revert LeadTimePastDeliveryDeadline(s.dueBy, terms.deliveryDeadline);
        if (s.partner == terms.buyer || s.partner == terms.arbitrator) revert PartnerNotIndependent(s.partner);
        if (s.payee == address(0)) revert ZeroAddress();
    }

    /// @dev Completes a shipped order: bond released, payment pushed to the payee last. The fee stays in the
    /// book until the fee recipient collects it (`collectFees`): no fee write in every completion.
    function _complete(uint256 orderId, Order memory o, Transition kind) private {
        OrderState memory st = o.state; // _advance changes only its status and head
        // The fee (third value) stays in the book for collectFees.
        // slither-disable-next-line unused-return — a completion gives the buyer nothing back (share 0)
        (, uint96 toPayee,) = Splits.split(st.price, 0, o.terms.feeBps);
        bool onTime = st.stamp <= st.dueBy;
        _advance(orderId, o, OrderStatus.Completed, kind, 0);
        address token = o.terms.token;
        emit OrderCompleted(orderId, kind);
        _releaseBond(st.partner, st.bond, onTime ? Outcome.CompletedOnTime : Outcome.CompletedLate);
        // The push comes last, and its credit fallback must follow the transfer attempt. Every entry point
        // that completes is nonReentrant.
        _push(st.payee, token, orderId, toPayee);
    }

    // ------------------------------------------- disputes, settlements, attestations (the extension)

    /// @inheritdoc IOrderBookV2Disputes
    function dispute(bytes32[8] calldata, bytes32) external payable {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function payArbitrationFee(bytes32[8] calldata) external payable {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function claimDefault(bytes32[8] calldata) external {
        _delegate();
    }

    /// @inheritdoc IArbitrable
    function rule(uint256, uint256) external {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function executeRuling(bytes32[8] calldata) external {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function settleExpired(bytes32[8] calldata) external {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function settle(bytes32[8] calldata, Settlement calldata, bytes calldata) external {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function submitEvidence(bytes32[8] calldata, bytes32) external {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function collectFees(bytes32[8][] calldata) external {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function attest(bytes32[8] calldata, OrderSpec calldata, Attestation calldata, bytes calldata) external {
        _delegate();
    }

    /// @inheritdoc IOrderBookV2Disputes
    function attest(bytes32[8] calldata, OrderSpec calldata, bytes32, bytes32, bool) external {
        _delegate();
    }

    /// @dev Runs the call in the extension, in this contract's storage, and returns or reverts with its data.
    function _delegate() private {
        address target = disputes;
        // Assembly: a transparent forward; it never returns to Solidity code, so memory from 0 is free to use.
        // solhint-disable-next-line no-inline-assembly
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
