// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IArbitrable} from "@kleros/erc-792/contracts/IArbitrable.sol";
import {IArbitrator} from "@kleros/erc-792/contracts/IArbitrator.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IOrderBookV2Disputes} from "./interfaces/IOrderBookV2Disputes.sol";
import {IPartnerRegistryV2} from "./interfaces/IPartnerRegistryV2.sol";
import {OrderHashes} from "./libraries/OrderHashes.sol";
import {Splits} from "./libraries/Splits.sol";
import {Attestation, Order, OrderSpec, OrderState, OrderStatus, Outcome, RecordKind, Settlement, Transition} from
    "./Types.sol";
import {OrderBookV2Base} from "./OrderBookV2Base.sol";

/// @title OrderBookV2Disputes
/// @notice The order book's disputes, settlements and attestations, deployed by `OrderBookV2` and run only
/// by its delegatecall, in its storage (EIP-170: the whole book does not fit one contract).
/// @dev Called directly it reverts (`NotDelegated`): its own storage is never used.
contract OrderBookV2Disputes is OrderBookV2Base {
    /// @dev Who gets the deposits the book still holds when a dispute resolves.
    enum DepositTo {
        Buyer,
        Partner,
        Halves
    }

    address private immutable _book;

    /// @notice Deployed by the book with its own constructor arguments (the registry and the EIP-712 domain
    /// are immutables, so they must match).
    /// @param authority The book's AccessManager.
    /// @param registry_ The book's registry.
    /// @param feeRecipient_ The book's first fee recipient.
    constructor(address authority, IPartnerRegistryV2 registry_, address feeRecipient_)
        OrderBookV2Base(authority, registry_, feeRecipient_)
    {
        _book = msg.sender;
    }

    /// @dev Only in the book's context (delegatecall).
    modifier onlyDelegated() {
        if (address(this) != _book) revert NotDelegated();
        _;
    }

    /// @inheritdoc IOrderBookV2Disputes
    function dispute(bytes32[8] calldata order, bytes32 evidenceCid) external payable onlyDelegated nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, SHIPPED);
        _onlyBuyer(o);
        uint256 closesAt = uint256(o.state.stamp) + o.terms.inspectionWindow;
        if (block.timestamp > closesAt) revert InspectionWindowClosed(closesAt);
        IArbitrator arbitrator = IArbitrator(o.terms.arbitrator);
        uint256 cost = arbitrator.arbitrationCost("");
        if (msg.value != cost) revert ArbitrationFeeMismatch(cost, msg.value);
        o.state.stamp = uint40(block.timestamp);
        _advance(orderId, o, OrderStatus.Disputed, Transition.Disputed, evidenceCid);
        Arbitration storage a = _arbitrations[orderId];
        uint96 fee = SafeCast.toUint96(msg.value);
        a.buyerFee = fee;
        a.refundable = fee;
        emit OrderDisputed(orderId, arbitrator, evidenceCid, msg.value);
    }

    /// @inheritdoc IOrderBookV2Disputes
    function payArbitrationFee(bytes32[8] calldata order) external payable onlyDelegated nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, DISPUTED);
        _onlyPartner(o);
        Arbitration memory a = _arbitrations[orderId];
        if (a.created) revert ArbitrationAlreadyCreated(orderId);
        uint256 closesAt = uint256(o.state.stamp) + FEE_RESPONSE_WINDOW;
        if (block.timestamp > closesAt) revert FeeResponseWindowClosed(closesAt);
        if (msg.value != a.buyerFee) revert ArbitrationFeeMismatch(a.buyerFee, msg.value);
        IArbitrator arbitrator = IArbitrator(o.terms.arbitrator);
        uint256 cost = arbitrator.arbitrationCost("");
        uint256 deposits = uint256(a.buyerFee) + msg.value;
        if (cost > deposits) revert ArbitrationCostRose(cost, deposits);
        Arbitration storage stored = _arbitrations[orderId];
        stored.created = true;
        stored.refundable = SafeCast.toUint96(deposits - cost);
        _record(orderId, RecordKind.ArbitrationFeePaid, msg.sender, bytes32(msg.value));
        uint256 disputeId = arbitrator.createDispute{value: cost}(RULING_OPTIONS, "");
        _disputeOrders[address(arbitrator)][disputeId] = orderId;
        _disputeParties[address(arbitrator)][disputeId] = [o.terms.buyer, o.state.partner];
        emit ArbitrationCreated(orderId, arbitrator, disputeId);
    }

    /// @inheritdoc IOrderBookV2Disputes
    function claimDefault(bytes32[8] calldata order) external onlyDelegated nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, DISPUTED);
        if (_arbitrations[orderId].created) revert ArbitrationAlreadyCreated(orderId);
        uint256 closesAt = uint256(o.state.stamp) + FEE_RESPONSE_WINDOW;
        if (block.timestamp <= closesAt) revert FeeResponseWindowOpen(closesAt);
        _resolve(orderId, o, Transition.DisputeDefaulted, o.state.price, true, DepositTo.Buyer);
    }

    /// @inheritdoc IArbitrable
    function rule(uint256 disputeId, uint256 ruling) external onlyDelegated {
        uint256 orderId = _disputeOrders[msg.sender][disputeId];
        if (orderId == 0) revert UnknownDispute(msg.sender, disputeId);
        if (ruling > RULING_OPTIONS) revert RulingOutOfRange(ruling);
        Arbitration storage a = _arbitrations[orderId];
        if (a.ruled) revert AlreadyRuled(disputeId);
        a.ruled = true;
        a.ruling = uint8(ruling);
        emit Ruling(IArbitrator(msg.sender), disputeId, ruling);
    }

    /// @inheritdoc IOrderBookV2Disputes
    function executeRuling(bytes32[8] calldata order) external onlyDelegated nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, DISPUTED);
        Arbitration memory a = _arbitrations[orderId];
        if (!a.ruled) revert NotRuled(orderId);
        uint96 price = o.state.price;
        if (a.ruling == 0) {
            _resolve(orderId, o, Transition.Ruled, price / 2, false, DepositTo.Halves);
            return;
        }
        uint96 share = Splits.rulingShare(price, a.ruling);
        uint256 twice = uint256(share) * 2;
        DepositTo to = twice > price ? DepositTo.Buyer : (twice < price ? DepositTo.Partner : DepositTo.Halves);
        _resolve(orderId, o, Transition.Ruled, share, twice > price, to);
    }

    /// @inheritdoc IOrderBookV2Disputes
    function settleExpired(bytes32[8] calldata order) external onlyDelegated nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, DISPUTED);
        Arbitration memory a = _arbitrations[orderId];
        if (!a.created) revert ArbitrationNotCreated(orderId);
        if (a.ruled) revert AlreadyRuled(orderId);
        uint256 endsAt = uint256(o.state.stamp) + o.terms.disputeTimeout;
        if (block.timestamp <= endsAt) revert DisputeTimeoutNotPassed(endsAt);
        _resolve(orderId, o, Transition.DisputeExpired, o.state.price / 2, false, DepositTo.Halves);
    }

    /// @inheritdoc IOrderBookV2Disputes
    function settle(bytes32[8] calldata order, Settlement calldata settlement, bytes calldata signature)
        external
        onlyDelegated
        nonReentrant
    {
        (uint256 orderId,, Order memory o) = _load()(order, SHIPPED | DISPUTED);
        if (settlement.orderId != orderId) revert SettlementOrderMismatch(settlement.orderId);
        address buyer = o.terms.buyer;
        address partner = o.state.partner;
        address other = partner;
        if (msg.sender == partner) other = buyer;
        else if (msg.sender != buyer) revert CallerNotAllowed(msg.sender);
        _checkSettlement(settlement, other, signature);
        DepositTo to = _arbitrations[orderId].created ? DepositTo.Halves : DepositTo.Buyer;
        _resolve(orderId, o, Transition.Settled, settlement.buyerShare, settlement.bondToBuyer, to);
    }

    /// @inheritdoc IOrderBookV2Disputes
    function submitEvidence(bytes32[8] calldata order, bytes32 evidenceCid) external onlyDelegated {
        (uint256 orderId,, Order memory o) = _load()(order, DISPUTED);
        if (msg.sender != o.terms.buyer && msg.sender != o.state.partner) {
            revert CallerNotAllowed(msg.sender);
        }
        _record(orderId, RecordKind.EvidenceSubmitted, msg.sender, evidenceCid);
    }

    /// @inheritdoc IOrderBookV2Disputes
    function collectFees(bytes32[8][] calldata orders) external onlyDelegated {
        address recipient = _feeRecipient;
        for (uint256 i; i < orders.length; ++i) {
            (uint256 orderId,, Order memory o) = _load()(orders[i], COMPLETED);
            // slither-disable-next-line unused-return — only the fee of a completion (buyer share 0) is collected
            (,, uint96 fee) = Splits.split(o.state.price, 0, o.terms.feeBps);
            // Nothing to collect (fee 0 or rounded to 0): the order stays Completed, as no log could state a move.
            if (fee == 0) continue;
            _advance(orderId, o, OrderStatus.FeeCollected, Transition.FeeCollected, bytes32(uint256(fee)));
            _credit(recipient, o.terms.token, orderId, fee);
        }
    }

    /// @inheritdoc IOrderBookV2Disputes
    function attest(
        bytes32[8] calldata order,
        OrderSpec calldata spec,
        Attestation calldata att,
        bytes calldata signature
    ) external onlyDelegated nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, AWARDED | SHIPPED | DISPUTED);
        if (att.orderId != orderId) revert AttestationOrderMismatch(att.orderId);
        _useAttestation(att, signature);
        _attest(orderId, o, spec, att.inspector, att.reportCid, att.reportHash, att.passed);
    }

    /// @inheritdoc IOrderBookV2Disputes
    function attest(
        bytes32[8] calldata order,
        OrderSpec calldata spec,
        bytes32 reportCid,
        bytes32 reportHash,
        bool passed
    ) external onlyDelegated nonReentrant {
        (uint256 orderId,, Order memory o) = _load()(order, AWARDED | SHIPPED | DISPUTED);
        _attest(orderId, o, spec, msg.sender, reportCid, reportHash, passed);
    }

    /// @dev Resolves a shipped or disputed order by a split of its price: the buyer's part, the fee and the
    /// payee's part are credited, the held deposits go `depositTo`, then the bond is slashed to the buyer or
    /// released.
    function _resolve(
        uint256 orderId,
        Order memory o,
        Transition kind,
        uint96 buyerShare,
        bool bondToBuyer,
        DepositTo depositTo
    ) private {
        OrderState memory st = o.state; // _advance changes only its status and head
        (uint96 toBuyer, uint96 toPayee, uint96 fee) = Splits.split(st.price, buyerShare, o.terms.feeBps);
        _advance(
            orderId, o, OrderStatus.Resolved, kind, OrderHashes.splitEvidence(toBuyer, toPayee, fee, bondToBuyer)
        );
        address buyer = o.terms.buyer;
        address token = o.terms.token;
        _credit(buyer, token, orderId, toBuyer);
        _credit(st.payee, token, orderId, toPayee);
        _credit(_feeRecipient, token, orderId, fee);
        _payDeposits(orderId, buyer, st.partner, depositTo);
        emit OrderResolved(orderId, kind, toBuyer, toPayee, fee, bondToBuyer);
        if (bondToBuyer) {
            _credit(buyer, address(0), orderId, st.bond);
            registry.slashBond(st.partner, st.bond, Outcome.DisputeLost);
        } else {
            _releaseBond(st.partner, st.bond, Outcome.None);
        }
    }

    /// @dev Credits the arbitration deposits the book still holds for order `orderId`.
    function _payDeposits(uint256 orderId, address buyer, address partner, DepositTo depositTo) private {
        uint256 held = _arbitrations[orderId].refundable;
        if (held == 0) return;
        _arbitrations[orderId].refundable = 0;
        if (depositTo == DepositTo.Buyer) {
            _credit(buyer, address(0), orderId, held);
        } else if (depositTo == DepositTo.Partner) {
            _credit(partner, address(0), orderId, held);
        } else {
            uint256 half = held / 2;
            _credit(buyer, address(0), orderId, held - half);
            _credit(partner, address(0), orderId, half);
        }
    }

    /// @dev Records an inspector's attestation on order `orderId` (`o`, loaded Awarded, Shipped or Disputed) on
    /// the record chain; a failed one reaches the registry once.
    function _attest(
        uint256 orderId,
        Order memory o,
        OrderSpec calldata spec,
        address inspector,
        bytes32 reportCid,
        bytes32 reportHash,
        bool passed
    ) private {
        if (o.state.status == OrderStatus.Shipped) {
            uint256 closesAt = uint256(o.state.stamp) + o.terms.inspectionWindow;
            if (block.timestamp > closesAt) revert InspectionWindowClosed(closesAt);
        }
        _checkSpec(o.terms, spec);
        if (!_named(spec.inspectors, inspector)) revert InspectorNotNamed(inspector);
        if (!registry.isAccreditedInspector(inspector)) revert InspectorNotAccredited(inspector);
        _record(
            orderId, RecordKind.QualityAttested, inspector, OrderHashes.reportEvidence(reportCid, reportHash, passed)
        );
        emit QualityAttested(orderId, inspector, reportCid, reportHash, passed);
        if (!passed && !_arbitrations[orderId].failedQaCounted) {
            _arbitrations[orderId].failedQaCounted = true;
            registry.recordOutcome(o.state.partner, Outcome.FailedQa);
        }
    }

    function _named(address[] calldata inspectors, address inspector) private pure returns (bool) {
        for (uint256 i; i < inspectors.length; ++i) {
            if (inspectors[i] == inspector) return true;
        }
        return false;
    }
}
