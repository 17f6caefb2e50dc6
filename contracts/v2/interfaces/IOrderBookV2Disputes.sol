// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IArbitrable} from "@kleros/erc-792/contracts/IArbitrable.sol";
import {IArbitrator} from "@kleros/erc-792/contracts/IArbitrator.sol";

import {Attestation, OrderSpec, OrderStatus, RecordKind, Settlement, Transition} from "../Types.sol";

/// @title IOrderBookV2Disputes
/// @notice The v2 order book's disputes (ERC-792 IArbitrable: fee deposits, rulings, the expiry fallback),
/// jointly signed settlements and records (attestations, evidence), and the order-commitment errors every
/// order-book function shares. `IOrderBookV2` extends it; the book runs these functions in its
/// `OrderBookV2Disputes` extension (delegatecall) to stay under EIP-170.
interface IOrderBookV2Disputes is IArbitrable {
    /// @notice Per-order arbitration state, written only once the order is disputed.
    struct Arbitration {
        uint96 buyerFee; // the buyer's deposit at dispute; the partner matches it
        uint96 refundable; // deposits the book still holds: the buyer's, then both less the arbitrator's cost
        uint8 ruling; // the arbitrator's ruling, once `ruled`
        bool ruled;
        bool created; // the dispute exists at the arbitrator (both deposits in, the cost paid to it)
        bool failedQaCounted; // a failed QA attestation already reached the registry
    }

    /// @notice Emitted when the buyer disputed, depositing `fee` for the arbitrator.
    event OrderDisputed(uint256 indexed orderId, IArbitrator indexed arbitrator, bytes32 evidenceCid, uint256 fee);

    /// @notice Emitted when both deposits were in and the dispute was created at the order's arbitrator.
    event ArbitrationCreated(uint256 indexed orderId, IArbitrator indexed arbitrator, uint256 indexed disputeId);

    /// @notice Emitted when a disputed or shipped order was resolved (`kind`: DisputeDefaulted, Settled,
    /// Ruled or DisputeExpired) by this split.
    event OrderResolved(
        uint256 indexed orderId, Transition kind, uint96 toBuyer, uint96 toPayee, uint96 fee, bool bondToBuyer
    );

    /// @notice Emitted when order `orderId`'s record chain grew by one record; `head` is the new head.
    event Recorded(
        uint256 indexed orderId, RecordKind indexed kind, address indexed actor, bytes32 evidence, bytes32 head
    );

    /// @notice Emitted with a QualityAttested record: the report's CID and hash and the result.
    event QualityAttested(
        uint256 indexed orderId, address indexed inspector, bytes32 reportCid, bytes32 reportHash, bool passed
    );

    /// @notice Thrown when the disputes extension is called other than by the book's delegatecall.
    error NotDelegated();

    /// @notice Thrown when the packed order passed is not the current value of the order its terms give (`orderId`).
    error OrderMismatch(uint256 orderId);

    /// @notice Thrown when the order is not in the status the call needs.
    error WrongStatus(uint256 orderId, OrderStatus status);

    /// @notice Thrown when the caller is not the one the call needs.
    error CallerNotAllowed(address caller);

    /// @notice Thrown when the spec does not hash to `terms.specHash`.
    error SpecHashMismatch(bytes32 expected, bytes32 actual);

    /// @notice Thrown when the inspection window has closed (dispute, attest).
    error InspectionWindowClosed(uint256 closedAt);

    /// @notice Thrown when the fee deposit is not the one the call needs.
    error ArbitrationFeeMismatch(uint256 expected, uint256 sent);

    /// @notice Thrown when the partner's window to match the arbitration fee has closed.
    error FeeResponseWindowClosed(uint256 closedAt);

    /// @notice Thrown when the partner's window to match the arbitration fee is still open.
    error FeeResponseWindowOpen(uint256 closesAt);

    /// @notice Thrown when the dispute already exists at the arbitrator.
    error ArbitrationAlreadyCreated(uint256 orderId);

    /// @notice Thrown when the dispute does not exist at the arbitrator yet.
    error ArbitrationNotCreated(uint256 orderId);

    /// @notice Thrown when the arbitrator now asks more than the deposits cover.
    error ArbitrationCostRose(uint256 cost, uint256 deposit);

    /// @notice Thrown when `rule` names a dispute of this book the caller does not arbitrate.
    error UnknownDispute(address arbitrator, uint256 disputeId);

    /// @notice Thrown when a dispute was already ruled (`rule` twice, or the expiry fallback after a ruling).
    error AlreadyRuled(uint256 id);

    /// @notice Thrown when a ruling is above RULING_OPTIONS.
    error RulingOutOfRange(uint256 ruling);

    /// @notice Thrown when executing a ruling that was not given.
    error NotRuled(uint256 orderId);

    /// @notice Thrown when the dispute timeout has not passed.
    error DisputeTimeoutNotPassed(uint256 endsAt);

    /// @notice Thrown when a settlement names another order.
    error SettlementOrderMismatch(uint256 orderId);

    /// @notice Thrown when an inspector is not one the order's spec names.
    error InspectorNotNamed(address inspector);

    /// @notice Thrown when an inspector is not accredited in the registry.
    error InspectorNotAccredited(address inspector);

    /// @notice Thrown when an attestation names another order.
    error AttestationOrderMismatch(uint256 orderId);

    /// @notice Buyer disputes a shipped order within the inspection window, depositing the arbitrator's
    /// `arbitrationCost("")`.
    function dispute(bytes32[8] calldata order, bytes32 evidenceCid) external payable;

    /// @notice Partner matches the buyer's arbitration deposit within FEE_RESPONSE_WINDOW of the dispute;
    /// the book creates the dispute at the order's arbitrator.
    function payArbitrationFee(bytes32[8] calldata order) external payable;

    /// @notice Resolves a dispute whose partner did not match the fee in time: the buyer gets the price, the
    /// bond and its deposit (DisputeLost).
    function claimDefault(bytes32[8] calldata order) external;

    /// @notice Applies the arbitrator's stored ruling.
    function executeRuling(bytes32[8] calldata order) external;

    /// @notice Resolves a dispute with no ruling within the order's dispute timeout: half and half, bond
    /// released, the remaining deposit halved.
    function settleExpired(bytes32[8] calldata order) external;

    /// @notice Resolves a shipped or disputed order by a split the other party signed (EIP-712 Settlement);
    /// the caller is the buyer or the partner. Deposits go back to whoever paid them.
    function settle(bytes32[8] calldata order, Settlement calldata settlement, bytes calldata signature)
        external;

    /// @notice Buyer or partner adds evidence to a disputed order's record chain.
    function submitEvidence(bytes32[8] calldata order, bytes32 evidenceCid) external;

    /// @notice Credits the fee recipient with the fees of completed orders (anyone may call; the recipient
    /// usually does, paying for its collection instead of every completion paying for a fee write). Each order
    /// moves Completed → FeeCollected, so a fee is collected once; a `Credited` event per order states it.
    /// A completed order with nothing to collect (fee 0, or rounded down to 0) is skipped and stays Completed:
    /// no transition without the event that states it.
    /// @param orders The completed orders' current values, packed (IOrderBookV2.award: "Packed order").
    function collectFees(bytes32[8][] calldata orders) external;

    /// @notice Records an inspector's signed attestation (relayed by anyone).
    /// @dev Only inspectors the spec names and the registry accredits; Awarded..Disputed, not after the
    /// inspection window of a shipped order; a failed result records FailedQa once per order.
    function attest(
        bytes32[8] calldata order,
        OrderSpec calldata spec,
        Attestation calldata att,
        bytes calldata signature
    ) external;

    /// @notice Records the calling inspector's attestation.
    function attest(
        bytes32[8] calldata order,
        OrderSpec calldata spec,
        bytes32 reportCid,
        bytes32 reportHash,
        bool passed
    ) external;
}
