// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Protocol v2 types (contracts/v2/README.md). v1 (contracts/*.sol) stays until the Python stack moves.

/// @notice Lifecycle of an escrowed order. Terminal: Completed (→ FeeCollected), Resolved, Refunded, Rejected,
/// Cancelled.
/// @dev Open → Awarded → Shipped → Completed (paid out in the same transaction), with Shipped → Disputed →
/// Resolved, Awarded → Rejected (partner, within the reject window), timeouts to Refunded and Open →
/// Cancelled. Quote-first orders are born Awarded. Awarded..Disputed stay contiguous: inspectors attest in
/// that range.
enum OrderStatus {
    None,
    Open,
    Awarded,
    Shipped,
    Disputed,
    Completed,
    Resolved,
    Refunded,
    Rejected,
    Cancelled,
    FeeCollected // Completed, and its fee credited to the fee recipient (collectFees)
}

/// @notice Kind of a transition record: every status change extends the order's transition chain by one.
enum Transition {
    Posted,
    Awarded, // escrow-first award, or a quote-first post (the order is born awarded)
    Rejected,
    Shipped,
    Confirmed,
    Finalized,
    Disputed,
    DisputeDefaulted, // the partner did not match the arbitration fee in time: the buyer wins
    Settled, // a split both parties signed
    Ruled, // the arbitrator's ruling, executed
    DisputeExpired, // no ruling within the order's disputeTimeout: half and half
    Refunded,
    Cancelled,
    FeeCollected // the fee recipient's collection of a completed order's fee (evidence: the fee)
}

/// @notice Kind of a record on the order's separate record chain; records never change the order's slot.
enum RecordKind {
    QualityAttested,
    SerialsRecorded,
    ArbitrationFeePaid,
    EvidenceSubmitted
}

/// @notice Why a timed-out order was refunded.
enum RefundReason {
    NotAwarded, // Open past the award deadline
    NotShipped // Awarded past its due time: the locked bond is slashed to the buyer
}

/// @notice What the order book tells the registry when it releases or slashes a partner's locked bond.
enum Outcome {
    None, // released without a reputation change (reject, settlement, cancelled dispute)
    CompletedOnTime,
    CompletedLate,
    FailedQa, // at most once per order
    DisputeLost,
    Abandoned // not shipped by its due time
}

/// @notice Immutable terms of an order, fixed at post. The three parameters are snapshots of the book's
/// bounded governance parameters at post, so a change never reaches an existing order.
struct OrderTerms {
    address buyer;
    address token; // address(0) = native ETH, else an allow-listed ERC-20
    uint96 price; // escrowed at post: the most the buyer pays (a quote's lower price is returned at award)
    uint96 minBond; // least ETH bond a quote must lock out of the partner's registry bond
    address arbitrator; // ERC-792 IArbitrator for disputes; neither the buyer nor the partner
    uint40 awardDeadline; // last second to award; after it an Open order can be refunded
    uint40 deliveryDeadline; // latest due time a quote may promise (award time + lead time)
    uint32 inspectionWindow; // seconds after shipment in which the buyer may dispute
    uint32 rejectWindow; // snapshot: seconds after award in which the partner may reject without penalty
    uint32 disputeTimeout; // snapshot: seconds the arbitrator has before the half-and-half expiry fallback
    uint16 feeBps; // snapshot: protocol fee, taken from the partner's payment
    bytes32 specHash; // keccak256(abi.encode(OrderSpec))
}

/// @notice Mutable part of an order; changes only on transitions.
struct OrderState {
    OrderStatus status;
    address partner; // zero until awarded
    address payee; // receives the partner's payment (from the quote)
    uint96 price; // the awarded quote's price (≤ terms.price)
    uint96 bond; // ETH locked out of the partner's registry bond at award
    uint40 stamp; // award time while Awarded, shipment time from Shipped on, dispute time while Disputed
    uint40 dueBy; // award time + the quote's lead time: the shipment deadline
    bytes32 head; // transition-chain head
}

/// @notice What every call after post passes back, packed into 8 words (IOrderBookV2.award, "Packed order");
/// keccak256(abi.encode(Order)) is the order's slot.
struct Order {
    OrderTerms terms;
    OrderState state;
}

/// @notice What the partner must meet, committed by `OrderTerms.specHash`.
struct OrderSpec {
    uint32 processes; // required process bits (all of them)
    uint64 materials; // required material bits (all of them)
    uint128 certIds; // up to four uint32 certification ids, lowest 32 bits first; 0 = unused
    address[] inspectors; // the inspectors whose attestations this order accepts (at most 8)
    bytes32 docsHash; // keccak256(abi.encode(OrderDocs))
}

/// @notice Documents of an order; emitted at post, committed by `OrderSpec.docsHash`.
struct OrderDocs {
    bytes32 designCid; // sha2-256 digest of the CIDv1 of the encrypted design on IPFS
    bytes32 designSha256; // SHA-256 of the plaintext design
    bytes32 specCid; // digest of the spec document CID
    bytes8 region; // geohash prefix, ASCII, left-aligned, zero-padded
}

/// @notice A partner's EIP-712 signed offer. It prices the terms it names (`termsHash` =
/// keccak256(abi.encode(OrderTerms))): the buyer awards it to an Open order with those terms, or posts an
/// order born awarded. Terms give one order id and an order is awarded once, so a quote is single-use
/// without a write. The nonce is a cancellation handle (Permit2-style bitmap: bit `nonce & 255` of the
/// partner's word `nonce >> 8`, set only by cancelling); nonce 0 cannot be cancelled. `award` and `postAwarded`
/// take it packed into 4 words without `termsHash`, which is the awarded terms' (IOrderBookV2.award).
struct Quote {
    bytes32 termsHash;
    address partner;
    address payee;
    uint96 price;
    uint96 bond;
    uint32 leadTime; // seconds from award to the shipment deadline
    uint40 expiry; // last second the quote can be awarded
    uint256 nonce;
}

/// @notice An inspector's quality attestation, signed with EIP-712 and relayed by anyone. The nonce is
/// sequential per (inspector, order) (OpenZeppelin NoncesKeyed, key = orderId): a stale signature never
/// blocks another order's, and the inspector can cancel it by using its nonce.
struct Attestation {
    uint256 orderId;
    address inspector;
    bytes32 reportCid;
    bytes32 reportHash;
    bool passed;
    uint64 nonce;
    uint40 deadline;
}

/// @notice A split of a shipped or disputed order that both parties sign (the caller is one of them).
struct Settlement {
    uint256 orderId;
    uint96 buyerShare; // of the order's price; the rest, minus the fee, to the payee
    bool bondToBuyer; // whether the partner's locked bond is slashed to the buyer
    uint40 deadline;
}

/// @notice A partner's public profile, given at registration and on update.
struct PartnerProfile {
    uint32 capabilities; // process bitmask
    uint64 materials; // material bitmask
    bytes8 region;
    uint32 capacity; // capacity hint (parts per week, advisory)
    bytes32 profileCid;
}

/// @notice What an award reads and writes of one partner and a completion writes: one storage slot, held
/// by the order book (`IPartnerSlots`), written by the book's awards and completions and by the registry's
/// partner, certifier, guardian and governance functions. The registry holds the rest of the partner.
struct PartnerSlot {
    uint8 flags; // the registry's FLAG_* bits
    uint24 completed;
    uint24 onTime;
    uint32 capabilities; // process bitmask
    uint64 materials; // material bitmask
    uint96 free; // bond not locked by open orders (the registry holds the total and the ETH)
}

/// @notice One partner as the registry returns it (`partnerInfo`; `locked` = bond − free bond).
/// @dev The registry stores it in its own layout (PartnerRegistryV2.Partner): an award and a completion
/// each touch one slot.
struct PartnerInfo {
    uint8 flags;
    uint24 completed;
    uint24 onTime;
    uint24 failedQa;
    uint24 disputesLost;
    uint24 abandoned;
    uint96 locked; // bond locked by open orders
    uint32 capabilities;
    uint64 materials;
    uint96 bond;
    uint40 unbondingReadyAt;
    bytes8 region;
    uint32 capacity;
    bytes32 profileCid;
    bytes32 encryptionKeyHash;
}
