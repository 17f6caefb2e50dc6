// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Lifecycle of an escrowed order. Terminal states: Paid, Resolved, Refunded, Cancelled.
/// @dev Open → Claimed → Awarded → (InProduction →) Shipped → Completed → Paid, with Shipped → Disputed →
/// Resolved, timeouts to Refunded and Open → Cancelled. See contracts/README.md for the full table.
/// Order matters: Awarded..Disputed (the statuses inspectors may attest in) stay contiguous, because
/// OrderBook `_requireAttestable` checks that range.
enum OrderStatus {
    None,
    Open,
    Claimed,
    Awarded,
    InProduction,
    Shipped,
    Disputed,
    Completed,
    Paid,
    Resolved,
    Refunded,
    Cancelled
}

/// @notice Kind of a provenance record; every order event is one record of the order's hash chain.
enum RecordKind {
    Posted,
    Claimed,
    Awarded,
    ProductionStarted,
    QualityAttested,
    SerialsRecorded,
    Shipped,
    Confirmed,
    Finalized,
    Disputed,
    Resolved,
    DisputeExpired,
    Refunded,
    Cancelled,
    PaymentWithdrawn
}

/// @notice Why a timed-out order was refunded (the evidence of its `Refunded` record).
enum RefundReason {
    NotClaimed, // Open past the claim deadline: buyer refunded
    NotAwarded, // Claimed but not awarded by the claim deadline: buyer refunded, claim bond returned
    NotShipped // Awarded/InProduction past the delivery deadline: buyer refunded and paid the claim bond
}

/// @notice Reputation outcome the order book reports to the partner registry.
enum Outcome {
    CompletedLate,
    CompletedOnTime,
    FailedQa,
    DisputeLost
}

/// @notice Immutable terms of an order, fixed at `post`.
/// @dev Storage holds only keccak256(abi.encode(Order)); callers pass the struct back as calldata.
struct OrderTerms {
    address buyer;
    address token; // address(0) = native ETH, else an allow-listed ERC-20
    uint96 price; // escrowed at post, in `token`
    uint96 claimBond; // ETH the claimant locks; paid to the buyer if it does not ship in time
    uint40 claimDeadline; // last second to claim and to award
    uint40 deliveryDeadline; // last second to ship before the buyer can take a refund
    uint32 inspectionWindow; // seconds after shipment in which the buyer may dispute
    uint16 feeBps; // protocol fee snapshot, taken from the partner's payment
    bytes32 specHash; // keccak256(abi.encode(OrderSpec))
}

/// @notice Mutable part of an order.
struct OrderState {
    OrderStatus status;
    address partner; // assignee from claim on, else address(0)
    uint40 stamp; // shipment time from Shipped on; dispute time while Disputed
    bytes32 head; // provenance hash-chain head
}

/// @notice What every call after `post` passes back; its hash is the order's only storage slot.
struct Order {
    OrderTerms terms;
    OrderState state;
}

/// @notice Requirements a claimant must meet, committed by `OrderTerms.specHash`.
struct OrderSpec {
    address reservedFor; // the only partner allowed to claim, or address(0) for any qualified partner
    uint32 processes; // required process bits (all of them): see PROCESS_* in contracts/README.md
    uint64 materials; // required material bits (all of them)
    uint128 certIds; // up to four uint32 certification ids, lowest 32 bits first; 0 = unused
    bytes32 docsHash; // keccak256(abi.encode(OrderDocs))
}

/// @notice Documents of an order; emitted at post, committed by `OrderSpec.docsHash`.
struct OrderDocs {
    bytes32 designCid; // sha2-256 digest of the CIDv1 of the encrypted design on IPFS
    bytes32 designSha256; // SHA-256 of the plaintext design
    bytes32 specCid; // digest of the spec document CID (process, material, quantity, tolerances, certs)
    bytes8 region; // geohash prefix, ASCII, left-aligned, zero-padded
}

/// @notice A partner's public profile, given at registration and on update.
struct PartnerProfile {
    uint32 capabilities; // process bitmask
    uint64 materials; // material bitmask
    bytes8 region; // geohash prefix, ASCII, left-aligned, zero-padded
    uint32 capacity; // capacity hint (parts per week, advisory)
    bytes32 profileCid; // digest of the profile document CID on IPFS
}

/// @notice One partner as the registry stores and returns it.
/// @dev Slot 0 holds everything a claim reads and a reputation update writes (capabilities … disputesLost),
/// so each costs one cold slot; slot 1 the bond and unbonding time with region and capacity; the CIDs
/// live in slots 2 and 3.
struct PartnerInfo {
    uint32 capabilities;
    uint64 materials;
    uint8 flags; // FLAG_* bits of PartnerRegistry
    uint32 completed;
    uint32 onTime;
    uint32 failedQa;
    uint32 disputesLost;
    uint96 bond;
    uint40 unbondingReadyAt;
    bytes8 region;
    uint32 capacity;
    bytes32 profileCid;
    bytes32 encryptionKeyHash; // keccak256 of the current HPKE public key
}

/// @notice An inspector's quality attestation, signed with EIP-712 and relayed by anyone.
struct Attestation {
    uint256 orderId;
    address inspector;
    bytes32 reportCid;
    bytes32 reportHash;
    bool passed;
    uint256 nonce;
    uint256 deadline;
}
