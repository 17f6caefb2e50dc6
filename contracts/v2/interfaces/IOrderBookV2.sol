// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OrderDocs, OrderSpec, OrderTerms, RefundReason, Transition} from "../Types.sol";
import {IOrderBookV2Disputes} from "./IOrderBookV2Disputes.sol";
import {IPayouts} from "./IPayouts.sol";
import {ISignatureVerifier} from "./ISignatureVerifier.sol";

/// @title IOrderBookV2
/// @notice Escrowed manufacturing orders awarded by partners' signed quotes, with per-order ERC-792
/// arbitration (contracts/v2/README.md has every function, who may call it and the transition it makes).
/// One slot per order holds keccak256(abi.encode(Order)); every call after post passes the order back, packed
/// into 8 words (`bytes32[8]`, "Packed order" below), and the order id is derived from its terms.
/// Records (attestations, serials, fee payments, evidence) extend a separate record chain and never change
/// that slot, so no record can make another party's pending transaction revert.
interface IOrderBookV2 is IOrderBookV2Disputes, ISignatureVerifier, IPayouts {

    // ------------------------------------------------------------------- events

    /// @notice Emitted when order `orderId` was posted (Open), or posted already awarded (then OrderAwarded
    /// follows in the same transaction). `posted` is the terms, spec and docs packed big-endian, without what
    /// it implies (the buyer is the topic; `specHash` and `docsHash` are hashes of the spec and docs it
    /// holds): token 20 B, price 12, minBond 12, arbitrator 20, awardDeadline 5, deliveryDeadline 5,
    /// inspectionWindow 4, rejectWindow 4, disputeTimeout 4, feeBps 2, processes 4, materials 8, certIds 16,
    /// designCid 32, designSha256 32, specCid 32, region 8, then 20 B per inspector (docs/protocol.md §7.1).
    event OrderPosted(uint256 indexed orderId, address indexed buyer, bytes posted);
    /// @notice Emitted when a quote was awarded: the partner's bond is locked and the key envelope published.
    /// The awarded state's fields are packed two to a word (what a client folds the order from):
    /// `payeePrice` = payee << 96 | price, `bondDueBy` = bond << 40 | dueBy (docs/protocol.md §7.1).
    event OrderAwarded(
        uint256 indexed orderId,
        address indexed partner,
        bytes32 payeePrice,
        bytes32 bondDueBy,
        bytes32 quoteHash,
        bytes32 keyEnvelopeCid
    );
    /// @notice Emitted when the partner rejected an award within the reject window.
    event OrderRejected(uint256 indexed orderId, address indexed partner, bytes32 reasonCid);
    /// @notice Emitted when the order's partner shipped, carrying its QA report.
    event OrderShipped(uint256 indexed orderId, bytes32 reportCid, bytes32 reportHash);
    /// @notice Emitted when a shipped order completed (`kind` Confirmed or Finalized) and its payment went to
    /// the payee (a `Credited` event follows if the payee refused it). What it implies is not repeated: the
    /// fee, price × feeBps / 10,000 (rounded down), stays in the book for the fee recipient's `collectFees`;
    /// the payee got the price less the fee; on time iff the shipment stamp ≤ dueBy.
    event OrderCompleted(uint256 indexed orderId, Transition kind);
    /// @notice Emitted when a timed-out order was refunded to its buyer.
    event OrderRefunded(uint256 indexed orderId, RefundReason reason);
    /// @notice Emitted when the buyer cancelled an Open order.
    event OrderCancelled(uint256 indexed orderId);
    /// @notice Emitted when governance allow-listed an ERC-20 for new orders.
    event TokenAllowed(address indexed token);
    /// @notice Emitted when an ERC-20 was de-listed for new orders (existing orders are unaffected).
    event TokenDelisted(address indexed token);
    /// @notice Emitted when the fee of new orders and the fee recipient changed.
    event FeeSet(uint16 feeBps, address indexed recipient);
    /// @notice Emitted when the snapshotted parameters of new orders changed.
    event ParametersSet(uint32 rejectWindow, uint32 disputeTimeout);
    /// @notice Emitted when new orders were paused (true) or allowed again (false).
    event PausedSet(bool paused);

    // ------------------------------------------------------------------- errors

    /// @notice Thrown when `terms.buyer` is not the sender.
    error BuyerNotSender(address buyer);
    /// @notice Thrown when an order's price is zero.
    error ZeroPrice();
    /// @notice Thrown when the award deadline is not in the future.
    error AwardDeadlineNotInFuture(uint40 awardDeadline);
    /// @notice Thrown when the delivery deadline is not after the award deadline.
    error DeliveryDeadlineNotAfterAwardDeadline(uint40 deliveryDeadline, uint40 awardDeadline);
    /// @notice Thrown when the inspection window is zero or above MAX_INSPECTION_WINDOW.
    error InspectionWindowOutOfRange(uint32 inspectionWindow);
    /// @notice Thrown when the terms' parameter snapshots (fee, reject window, dispute timeout) are not the
    /// current parameters.
    error SnapshotMismatch();
    /// @notice Thrown when the arbitrator is the buyer.
    error ArbitratorIsBuyer();
    /// @notice Thrown when a spec names more than MAX_INSPECTORS inspectors.
    error TooManyInspectors(uint256 count);
    /// @notice Thrown when the docs do not hash to `spec.docsHash`.
    error DocsHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice Thrown when new terms, spec or docs are not a canonical ABI encoding (dirty high bits, or the
    /// inspectors not right after the spec's head): the book commits to clean encodings only.
    error NonCanonicalEncoding();
    /// @notice Thrown when the ETH sent is not what the call needs.
    error IncorrectPayment(uint256 expected, uint256 sent);
    /// @notice Thrown when the token is not allow-listed.
    error TokenNotAllowed(address token);
    /// @notice Thrown when new orders are paused.
    error NewOrdersPaused();
    /// @notice Thrown when a quote's price is zero or above the terms' price.
    error QuotePriceOutOfRange(uint96 price, uint96 cap);
    /// @notice Thrown when a quote's bond is below the terms' minimum.
    error QuoteBondBelowMinimum(uint96 bond, uint96 minBond);
    /// @notice Thrown when award time plus the quote's lead time is after the delivery deadline.
    error LeadTimePastDeliveryDeadline(uint256 dueBy, uint40 deliveryDeadline);
    /// @notice Thrown when the award deadline has passed.
    error AwardDeadlinePassed(uint40 awardDeadline);
    /// @notice Thrown when the quote's partner is the buyer or the arbitrator.
    error PartnerNotIndependent(address partner);
    /// @notice Thrown when the reject window of the award has closed.
    error RejectWindowClosed(uint256 closedAt);
    /// @notice Thrown when the award deadline (Open) or the due time (Awarded) has not passed yet.
    error NotYetRefundable(uint256 from);
    /// @notice Thrown when the inspection window is still open (finalize).
    error InspectionWindowOpen(uint256 closesAt);
    /// @notice Thrown when the due time has passed (serials).
    error DueTimePassed(uint40 dueBy);
    /// @notice Thrown when a fee is above MAX_FEE_BPS.
    error FeeTooHigh(uint16 feeBps);
    /// @notice Thrown when a reject window is outside [MIN_REJECT_WINDOW, MAX_REJECT_WINDOW].
    error RejectWindowOutOfRange(uint32 rejectWindow);
    /// @notice Thrown when a dispute timeout is outside [MIN_DISPUTE_TIMEOUT, MAX_DISPUTE_TIMEOUT].
    error DisputeTimeoutOutOfRange(uint32 disputeTimeout);
    /// @notice Thrown when ETH arrives from anyone but the registry (slashed bonds).
    error UnexpectedEth(address sender);
    /// @notice Thrown when an order with these terms exists already (ids derive from the terms).
    error OrderExists(uint256 orderId);

    // ---------------------------------------------------------------- buyer

    /// @notice Posts an Open order, escrowing `terms.price` (ETH exactly, or the ERC-20 pulled exactly).
    /// @dev The terms' fee, reject window and dispute timeout must equal the current parameters. Not while
    /// paused. The arbitrator is non-zero and not the buyer.
    /// @return orderId The new order's id: the top 192 bits of keccak256(abi.encode(terms)), so terms post once
    /// (a buyer repeating an order changes a deadline or its documents).
    function post(OrderTerms calldata terms, OrderSpec calldata spec, OrderDocs calldata docs)
        external
        payable
        returns (uint256 orderId);

    /// @notice Posts an order already awarded to `quote` (post and award in one transaction).
    /// @param quote The partner's signed `Quote` for these terms, packed (its termsHash is theirs, not carried).
    /// @return orderId The new order's id.
    function postAwarded(
        OrderTerms calldata terms,
        OrderSpec calldata spec,
        OrderDocs calldata docs,
        bytes32[4] calldata quote,
        bytes calldata signature,
        bytes32 keyEnvelopeCid
    ) external payable returns (uint256 orderId);

    /// @notice Awards an Open order to a partner's signed quote and publishes the design key envelope: the
    /// quote's bond is locked in the partner's slot and the price difference credited back.
    /// @dev Packed order (every `bytes32[8] order` of the book): the order's fields, each masked to its width;
    /// the order id is the top 192 bits of keccak256(abi.encode(terms)), as at post (docs/protocol.md §7.1):
    ///     w0 = buyer << 96 | price                 w4 = payee << 96 | state.price
    ///     w1 = token << 96 | minBond               w5 = status << 176 | bond << 80 | stamp << 40 | dueBy
    ///     w2 = arbitrator << 96 | awardDeadline << 56 | deliveryDeadline << 16 | feeBps
    ///     w3 = partner << 96 | inspectionWindow << 64 | rejectWindow << 32 | disputeTimeout
    ///     w6 = specHash                            w7 = head
    /// Packed quote (`bytes32[4] quote`): its termsHash is the awarded terms' (not carried), the rest masked:
    ///     w0 = partner << 96 | price    w1 = payee << 96 | bond    w2 = leadTime << 40 | expiry    w3 = nonce
    /// @param order The Open order, packed.
    /// @param quote The partner's signed `Quote`, packed.
    function award(
        bytes32[8] calldata order,
        OrderSpec calldata spec,
        bytes32[4] calldata quote,
        bytes calldata signature,
        bytes32 keyEnvelopeCid
    ) external;

    /// @notice Buyer cancels an Open order; the price is credited back.
    function cancel(bytes32[8] calldata order) external;

    /// @notice Buyer accepts a shipped order: the fee is credited, the payment pushed to the payee (credited
    /// if the push fails) and the bond released with CompletedOnTime or CompletedLate.
    function confirm(bytes32[8] calldata order) external;

    // -------------------------------------------------------------- partner

    /// @notice Partner rejects an award within the reject window (design does not decrypt, does not match):
    /// buyer credited, bond released without a reputation change.
    function reject(bytes32[8] calldata order, bytes32 reasonCid) external;

    /// @notice Partner ships, carrying its QA report. Late shipments are allowed (completion records them).
    function ship(bytes32[8] calldata order, bytes32 reportCid, bytes32 reportHash) external;

    /// @notice Partner records the root of the parts' serial numbers, while Awarded and until its due time.
    function recordSerials(bytes32[8] calldata order, bytes32 serialsRoot) external;

    // --------------------------------------------------------------- anyone

    /// @notice Completes a shipped order after its inspection window, paying out like `confirm`.
    function finalize(bytes32[8] calldata order) external;

    /// @notice Refunds a timed-out order: Open after its award deadline, or Awarded after its due time (the
    /// bond is slashed to the buyer, Abandoned).
    function refund(bytes32[8] calldata order) external;

    // --------------------------------------------------------- both parties

    // ----------------------------------------------------------- inspectors

    // ----------------------------------------------------------- governance

    /// @notice Allow-lists an ERC-20 for new orders. Restricted (delayed).
    function allowToken(address token) external;

    /// @notice De-lists an ERC-20 for new orders. Restricted (guardian, instant).
    function delistToken(address token) external;

    /// @notice Sets the fee of new orders and the fee recipient. Restricted (delayed).
    function setFee(uint16 newFeeBps, address recipient) external;

    /// @notice Sets the reject window and dispute timeout of new orders. Restricted (delayed).
    function setParameters(uint32 newRejectWindow, uint32 newDisputeTimeout) external;

    /// @notice Pauses new orders (post, postAwarded). Restricted (guardian, instant).
    function pause() external;

    /// @notice Allows new orders again. Restricted (delayed).
    function unpause() external;

    // ---------------------------------------------------------------- views

    /// @notice The stored commitment of order `orderId`: keccak256(abi.encode(Order)), zero if none.
    /// @return The commitment.
    function orderHash(uint256 orderId) external view returns (bytes32);

    /// @notice Head of order `orderId`'s record chain (its genesis while it has no record).
    /// @return The head.
    function recordHead(uint256 orderId) external view returns (bytes32);

    /// @notice Genesis of both chains of order `orderId`: keccak256(abi.encode(chainid, book, orderId)).
    /// @return The genesis.
    function genesis(uint256 orderId) external view returns (bytes32);

    /// @notice The arbitration state of order `orderId`.
    /// @return The state.
    function arbitration(uint256 orderId) external view returns (Arbitration memory);

    /// @notice Fee of new orders in basis points.
    /// @return The fee.
    function feeBps() external view returns (uint16);

    /// @notice Reject window of new orders (seconds).
    /// @return The window.
    function rejectWindow() external view returns (uint32);

    /// @notice Dispute timeout of new orders (seconds).
    /// @return The timeout.
    function disputeTimeout() external view returns (uint32);

    /// @notice Whether new orders are paused.
    /// @return Paused.
    function paused() external view returns (bool);

    /// @notice Receiver of fees and skimmed surplus.
    /// @return The recipient.
    function feeRecipient() external view returns (address);

    /// @notice Whether `token` is allow-listed for new orders.
    /// @return Allowed.
    function tokenAllowed(address token) external view returns (bool);

}
