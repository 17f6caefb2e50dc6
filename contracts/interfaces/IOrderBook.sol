// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAttestationVerifier} from "./IAttestationVerifier.sol";
import {IPullPayments} from "./IPullPayments.sol";
import {Attestation, Order, OrderDocs, OrderSpec, OrderTerms, RecordKind, RefundReason} from "../Types.sol";

/// @title Escrowed manufacturing orders with an on-chain provenance hash chain.
/// @notice Each order occupies one storage slot: keccak256(abi.encode(Order)). Every call after `post`
/// passes the current `Order` back as calldata; it is checked against that slot and a new hash stored.
/// Clients rebuild `Order` from events: terms from `OrderPosted`, state from the later events.
/// @dev Provenance: every order event below is one record (kind, actor, evidence, time) of the chain
/// head' = keccak256(abi.encode(prevHead, kind, actor, evidence, time)), starting from bytes32(0). Each
/// event documents its kind and evidence; it carries `prevHead` (except `OrderPosted`, whose prevHead is 0)
/// and `time`, so an auditor recomputes the chain from logs alone and compares it with `hashOrder`.
/// Credits and withdrawals: `IPullPayments`; signed attestations: `IAttestationVerifier`; `ZeroAddress` and
/// `EthTransferFailed`: contracts/Common.sol.
interface IOrderBook is IPullPayments, IAttestationVerifier {
    /// @notice An order was posted and its price escrowed. Record: Posted, actor buyer,
    /// evidence keccak256(abi.encode(terms)), prevHead 0.
    event OrderPosted(
        uint256 indexed orderId,
        address indexed buyer,
        address indexed reservedFor,
        OrderTerms terms,
        OrderSpec spec,
        OrderDocs docs,
        uint40 time
    );
    /// @notice A qualified partner claimed the order and locked the claim bond. Record: Claimed, evidence 0.
    event OrderClaimed(uint256 indexed orderId, address indexed partner, bytes32 prevHead, uint40 time);
    /// @notice The buyer awarded the claim and published the design key envelope for the partner.
    /// Record: Awarded, actor buyer, evidence keyEnvelopeCid.
    event OrderAwarded(
        uint256 indexed orderId,
        address indexed buyer,
        address indexed partner,
        bytes32 keyEnvelopeCid,
        bytes32 prevHead,
        uint40 time
    );
    /// @notice The partner started production. Record: ProductionStarted, evidence 0.
    event ProductionStarted(uint256 indexed orderId, address indexed partner, bytes32 prevHead, uint40 time);
    /// @notice The partner or an inspector attested quality. Record: QualityAttested, actor attester,
    /// evidence keccak256(abi.encode(reportCid, reportHash, passed)).
    event QualityAttested(
        uint256 indexed orderId,
        address indexed attester,
        bytes32 reportCid,
        bytes32 reportHash,
        bool passed,
        bytes32 prevHead,
        uint40 time
    );
    /// @notice The partner committed a batch of part serials as a Merkle root. Record: SerialsRecorded,
    /// evidence serialsRoot.
    event SerialsRecorded(
        uint256 indexed orderId, address indexed partner, bytes32 serialsRoot, bytes32 prevHead, uint40 time
    );
    /// @notice The partner shipped with a passing quality report. Record: Shipped,
    /// evidence keccak256(abi.encode(reportCid, reportHash, true)).
    event OrderShipped(
        uint256 indexed orderId,
        address indexed partner,
        bytes32 reportCid,
        bytes32 reportHash,
        bytes32 prevHead,
        uint40 time
    );
    /// @notice The buyer confirmed delivery; the payment is withdrawable by the partner.
    /// Record: Confirmed, evidence 0.
    event OrderConfirmed(uint256 indexed orderId, address indexed buyer, bytes32 prevHead, uint40 time);
    /// @notice Anyone finalized after a silent inspection window; the payment is withdrawable.
    /// Record: Finalized, evidence 0.
    event OrderFinalized(uint256 indexed orderId, address indexed caller, bytes32 prevHead, uint40 time);
    /// @notice The buyer disputed inside the inspection window. Record: Disputed, evidence evidenceCid.
    event OrderDisputed(
        uint256 indexed orderId, address indexed buyer, bytes32 evidenceCid, bytes32 prevHead, uint40 time
    );
    /// @notice An arbitrator split the escrow. Record: Resolved, actor arbitrator,
    /// evidence keccak256(abi.encode(buyerShare, partnerLost, rulingCid)).
    event DisputeResolved(
        uint256 indexed orderId,
        address indexed arbitrator,
        uint96 buyerShare,
        bool partnerLost,
        bytes32 rulingCid,
        bytes32 prevHead,
        uint40 time
    );
    /// @notice No arbitrator ruled in time; anyone settled half and half. Record: DisputeExpired,
    /// evidence bytes32(uint256(buyerShare)).
    event DisputeExpired(
        uint256 indexed orderId, address indexed caller, uint96 buyerShare, bytes32 prevHead, uint40 time
    );
    /// @notice A timeout refunded the buyer. Record: Refunded, evidence bytes32(uint256(reason)).
    event OrderRefunded(
        uint256 indexed orderId, address indexed caller, RefundReason reason, bytes32 prevHead, uint40 time
    );
    /// @notice The buyer cancelled an unclaimed order. Record: Cancelled, evidence 0.
    event OrderCancelled(uint256 indexed orderId, address indexed buyer, bytes32 prevHead, uint40 time);
    /// @notice The partner withdrew a completed order's payment (in the order token) and its claim bond
    /// (ETH). Record: PaymentWithdrawn, evidence 0.
    event PaymentWithdrawn(
        uint256 indexed orderId, address indexed partner, uint256 amount, uint256 bond, bytes32 prevHead, uint40 time
    );
    /// @notice Governance allowed or disallowed an ERC-20 for new orders.
    event TokenAllowed(address indexed token, bool allowed);
    /// @notice Governance changed the protocol fee for new orders.
    event FeeUpdated(uint16 feeBps, address indexed recipient);

    /// @notice Thrown when the passed order does not hash to the stored commitment (or does not exist).
    error OrderMismatch(uint256 orderId);
    /// @notice Thrown when the order is not Open.
    error OrderNotOpen(uint256 orderId);
    /// @notice Thrown when the order is not Claimed.
    error OrderNotClaimed(uint256 orderId);
    /// @notice Thrown when the order is not Awarded.
    error OrderNotAwarded(uint256 orderId);
    /// @notice Thrown when the order is neither Awarded nor InProduction.
    error OrderNotInProgress(uint256 orderId);
    /// @notice Thrown when the order is not Shipped.
    error OrderNotShipped(uint256 orderId);
    /// @notice Thrown when the order is not Disputed.
    error OrderNotDisputed(uint256 orderId);
    /// @notice Thrown when the order is not Completed.
    error OrderNotCompleted(uint256 orderId);
    /// @notice Thrown when inspectors may not attest in the order's status (before award or after settlement).
    error OrderNotAttestable(uint256 orderId);
    /// @notice Thrown when no timeout refund applies to the order's status.
    error OrderNotRefundable(uint256 orderId);
    /// @notice Thrown when the caller is not the order's buyer.
    error NotBuyer(uint256 orderId, address caller);
    /// @notice Thrown when the caller is not the order's partner.
    error NotPartner(uint256 orderId, address caller);
    /// @notice Thrown when the caller is neither the order's partner nor an inspector.
    error NotAttester(uint256 orderId, address caller);
    /// @notice Thrown when the buyer tries to claim its own order.
    error BuyerCannotClaim(uint256 orderId);
    /// @notice Thrown when a partner claims an order reserved for another partner.
    error NotReservedPartner(uint256 orderId, address reservedFor);
    /// @notice Thrown when claiming or awarding after the claim deadline.
    error ClaimDeadlinePassed(uint256 orderId, uint40 claimDeadline);
    /// @notice Thrown when refunding an Open or Claimed order before the claim deadline has passed.
    error ClaimDeadlineNotPassed(uint256 orderId, uint40 claimDeadline);
    /// @notice Thrown when refunding an awarded order before the delivery deadline has passed.
    error DeliveryDeadlineNotPassed(uint256 orderId, uint40 deliveryDeadline);
    /// @notice Thrown when disputing after the inspection window closed.
    error InspectionWindowClosed(uint256 orderId, uint256 closedAt);
    /// @notice Thrown when finalizing while the inspection window is still open.
    error InspectionWindowOpen(uint256 orderId, uint256 closesAt);
    /// @notice Thrown when settling a dispute before the arbitration timeout.
    error DisputeTimeoutNotReached(uint256 orderId, uint256 expiresAt);
    /// @notice Thrown when msg.value differs from the price (ETH orders), zero (token orders) or the claim bond.
    error IncorrectPayment(uint256 expected, uint256 received);
    /// @notice Thrown when the spec does not hash to `terms.specHash`.
    error SpecHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice Thrown when the documents do not hash to `spec.docsHash`.
    error DocsHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice Thrown when `terms.buyer` is not the caller.
    error BuyerNotSender(address buyer);
    /// @notice Thrown when the price is zero.
    error ZeroPrice();
    /// @notice Thrown when the claim deadline is not in the future.
    error ClaimDeadlineNotInFuture(uint40 claimDeadline);
    /// @notice Thrown when the delivery deadline is not after the claim deadline.
    error DeliveryDeadlineNotAfterClaimDeadline(uint40 deliveryDeadline, uint40 claimDeadline);
    /// @notice Thrown when the inspection window is zero.
    error ZeroInspectionWindow();
    /// @notice Thrown when `terms.feeBps` is not the current protocol fee.
    error FeeMismatch(uint16 expected, uint16 actual);
    /// @notice Thrown when the payment token is not allow-listed.
    error TokenNotAllowed(address token);
    /// @notice Thrown when the arbitrator's buyer share exceeds the price.
    error ShareExceedsPrice(uint96 share, uint96 price);
    /// @notice Thrown when setting a fee above `MAX_FEE_BPS`.
    error FeeTooHigh(uint16 feeBps, uint16 maxFeeBps);

    /// @notice Posts an order and escrows its price (msg.value for ETH, else transferFrom the buyer).
    /// @param terms Order terms; `buyer` must be the caller, `feeBps` the current fee, and `specHash`
    /// keccak256(abi.encode(spec)).
    /// @param spec Claim requirements; `docsHash` must be keccak256(abi.encode(docs)).
    /// @param docs Design and spec document commitments (emitted, not stored).
    /// @return orderId The new order id (sequential from 1).
    function post(OrderTerms calldata terms, OrderSpec calldata spec, OrderDocs calldata docs)
        external
        payable
        returns (uint256 orderId);

    /// @notice Cancels an Open order; its price is credited to the buyer. Buyer only.
    /// @param orderId The order.
    /// @param order Its current value.
    function cancel(uint256 orderId, Order calldata order) external;

    /// @notice Claims an Open order before its claim deadline, locking `claimBond` (msg.value, ETH).
    /// The caller must be vetted, not suspended or unbonding, and match the spec's processes, materials and
    /// certifications (unexpired at this block).
    /// @param orderId The order.
    /// @param order Its current value.
    /// @param spec The spec committed by specHash.
    function claim(uint256 orderId, Order calldata order, OrderSpec calldata spec) external payable;

    /// @notice Awards the claim and publishes the key envelope for the partner, by the claim deadline. Buyer only.
    /// @param orderId The order.
    /// @param order Its current value.
    /// @param keyEnvelopeCid Digest of the CID of the design key envelope sealed to the partner's HPKE key.
    function award(uint256 orderId, Order calldata order, bytes32 keyEnvelopeCid) external;

    /// @notice Reports that production started. Partner only.
    /// @param orderId The order.
    /// @param order Its current value.
    function startProduction(uint256 orderId, Order calldata order) external;

    /// @notice Adds a quality attestation: by the partner before shipment, or by an inspector from award
    /// until settlement. A failed attestation counts against the partner's reputation.
    /// @param orderId The order.
    /// @param order Its current value.
    /// @param reportCid Digest of the report CID.
    /// @param reportHash SHA-256 of the report.
    /// @param passed Verdict.
    function attest(uint256 orderId, Order calldata order, bytes32 reportCid, bytes32 reportHash, bool passed)
        external;

    /// @notice Relays an inspector's EIP-712 signed attestation (any relayer). Binds order id, chain id and
    /// this contract; consumes the inspector's sequential nonce.
    /// @param order The current value of order `att.orderId`.
    /// @param att The signed attestation.
    /// @param signature ECDSA or ERC-1271 signature by `att.inspector`.
    function attestBySig(Order calldata order, Attestation calldata att, bytes calldata signature) external;

    /// @notice Commits a batch of part serials (Merkle root) before shipment. Partner only.
    /// @param orderId The order.
    /// @param order Its current value.
    /// @param serialsRoot Merkle root of the serials.
    function recordSerials(uint256 orderId, Order calldata order, bytes32 serialsRoot) external;

    /// @notice Marks the order shipped with its passing quality report; starts the inspection window.
    /// Partner only. Shipping late is allowed until someone takes the timeout refund.
    /// @param orderId The order.
    /// @param order Its current value.
    /// @param reportCid Digest of the QA report CID.
    /// @param reportHash SHA-256 of the QA report.
    function ship(uint256 orderId, Order calldata order, bytes32 reportCid, bytes32 reportHash) external;

    /// @notice Confirms delivery: the payment (minus the fee) and claim bond become withdrawable by the
    /// partner. Buyer only.
    /// @param orderId The order.
    /// @param order Its current value.
    function confirm(uint256 orderId, Order calldata order) external;

    /// @notice Same as `confirm`, by anyone, once the inspection window has passed without a dispute.
    /// @param orderId The order.
    /// @param order Its current value.
    function finalize(uint256 orderId, Order calldata order) external;

    /// @notice Disputes a shipped order inside the inspection window. Buyer only.
    /// @param orderId The order.
    /// @param order Its current value.
    /// @param evidenceCid Digest of the evidence CID.
    function dispute(uint256 orderId, Order calldata order, bytes32 evidenceCid) external;

    /// @notice Splits a disputed escrow: `buyerShare` to the buyer, the rest (minus the fee) to the partner;
    /// the claim bond goes to the buyer if `partnerLost`, else back to the partner. Arbitrator only.
    /// @param orderId The order.
    /// @param order Its current value.
    /// @param buyerShare Part of the price refunded.
    /// @param partnerLost Whether the partner lost (bond slashed, dispute counted).
    /// @param rulingCid Ruling CID digest.
    function resolve(uint256 orderId, Order calldata order, uint96 buyerShare, bool partnerLost, bytes32 rulingCid)
        external;

    /// @notice Settles a dispute no arbitrator ruled on within `disputeTimeout`: half the price to each side
    /// (the odd wei to the partner, fee on its part), claim bond back to the partner. Anyone.
    /// @param orderId The order.
    /// @param order Its current value.
    function settleExpiredDispute(uint256 orderId, Order calldata order) external;

    /// @notice Refunds the buyer after a timeout the partner side missed (see `RefundReason`). Anyone.
    /// @param orderId The order.
    /// @param order Its current value.
    function refund(uint256 orderId, Order calldata order) external;

    /// @notice Pays the partner a completed order's price minus fee (order token) and claim bond (ETH).
    /// Partner only.
    /// @param orderId The order.
    /// @param order Its current value.
    function withdrawPayment(uint256 orderId, Order calldata order) external;

    /// @notice Allows or disallows an ERC-20 for new orders (existing orders are unaffected). Governance only.
    /// @param token The token.
    /// @param allowed Whether new orders may use it.
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Sets the fee for new orders (at most `MAX_FEE_BPS`) and its recipient. Governance only.
    /// @param newFeeBps Basis points of the partner's payment.
    /// @param recipient Receiver of future fee credits.
    function setFee(uint16 newFeeBps, address recipient) external;

    /// @notice The stored commitment of an order: keccak256(abi.encode(order)), zero if none.
    /// @param orderId The order.
    /// @return The commitment.
    function orderHash(uint256 orderId) external view returns (bytes32);

    /// @notice Number of orders posted (the last order id).
    /// @return The count.
    function orderCount() external view returns (uint256);

    /// @notice Current protocol fee for new orders, in basis points.
    /// @return The fee.
    function feeBps() external view returns (uint16);

    /// @notice Current receiver of fee credits.
    /// @return The recipient.
    function feeRecipient() external view returns (address);

    /// @notice Whether new orders may use `token`.
    /// @param token The token.
    /// @return True if allow-listed.
    function tokenAllowed(address token) external view returns (bool);

    /// @notice Hash of an order, as stored by the contract.
    /// @param order The order.
    /// @return keccak256(abi.encode(order)).
    function hashOrder(Order calldata order) external pure returns (bytes32);

    /// @notice The provenance head after appending one record.
    /// @param prevHead Head before.
    /// @param kind Record kind.
    /// @param actor Actor.
    /// @param evidence Evidence hash.
    /// @param time Record time.
    /// @return keccak256(abi.encode(prevHead, kind, actor, evidence, time)).
    function nextHead(bytes32 prevHead, RecordKind kind, address actor, bytes32 evidence, uint40 time)
        external
        pure
        returns (bytes32);
}
