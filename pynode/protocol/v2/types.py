"""contracts/v2/Types.sol's enums and structs, each defined once.

Every struct is a NamedTuple whose fields follow the Solidity struct in order (snake_case names) and
whose ``FIELDS`` entry lists the Solidity (name, type) pairs: a NamedTuple is a tuple, so it encodes exactly as
the ABI tuple the contract takes, and a reader names the field it means (``order.state.head``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

Fields = tuple[tuple[str, str], ...]


class OrderStatus(IntEnum):
    NONE = 0
    OPEN = 1
    AWARDED = 2
    SHIPPED = 3
    DISPUTED = 4
    COMPLETED = 5
    RESOLVED = 6
    REFUNDED = 7
    REJECTED = 8
    CANCELLED = 9
    FEE_COLLECTED = 10  # Completed, its fee credited to the fee recipient (collectFees)


class Transition(IntEnum):
    """The kind of a transition-chain link: one per status change."""

    POSTED = 0
    AWARDED = 1
    REJECTED = 2
    SHIPPED = 3
    CONFIRMED = 4
    FINALIZED = 5
    DISPUTED = 6
    DISPUTE_DEFAULTED = 7
    SETTLED = 8
    RULED = 9
    DISPUTE_EXPIRED = 10
    REFUNDED = 11
    CANCELLED = 12
    FEE_COLLECTED = 13  # evidence: the fee, as a uint256 word


class RecordKind(IntEnum):
    """The kind of a record-chain link; records never change the order's slot."""

    QUALITY_ATTESTED = 0
    SERIALS_RECORDED = 1
    ARBITRATION_FEE_PAID = 2
    EVIDENCE_SUBMITTED = 3


class RefundReason(IntEnum):
    NOT_AWARDED = 0
    NOT_SHIPPED = 1


class Outcome(IntEnum):
    NONE = 0
    COMPLETED_ON_TIME = 1
    COMPLETED_LATE = 2
    FAILED_QA = 3
    DISPUTE_LOST = 4
    ABANDONED = 5


class OrderTerms(NamedTuple):
    buyer: str
    token: str  # the zero address: native ETH
    price: int
    min_bond: int
    arbitrator: str
    award_deadline: int
    delivery_deadline: int
    inspection_window: int
    reject_window: int
    dispute_timeout: int
    fee_bps: int
    spec_hash: bytes


class OrderState(NamedTuple):
    status: int  # an OrderStatus
    partner: str
    payee: str
    price: int
    bond: int
    stamp: int
    due_by: int
    head: bytes  # transition-chain head


class Order(NamedTuple):
    terms: OrderTerms
    state: OrderState


class OrderSpec(NamedTuple):
    processes: int
    materials: int
    cert_ids: int  # up to four uint32 ids, lowest 32 bits first
    inspectors: tuple[str, ...]
    docs_hash: bytes


class OrderDocs(NamedTuple):
    design_cid: bytes
    design_sha256: bytes
    spec_cid: bytes
    region: bytes  # geohash prefix, ASCII, left-aligned, zero-padded to 8 bytes


class Quote(NamedTuple):
    terms_hash: bytes
    partner: str
    payee: str
    price: int
    bond: int
    lead_time: int
    expiry: int
    nonce: int  # unordered: bit nonce & 255 of the partner's word nonce >> 8


class Attestation(NamedTuple):
    order_id: int
    inspector: str
    report_cid: bytes
    report_hash: bytes
    passed: bool
    nonce: int  # sequential per (inspector, order)
    deadline: int


class Settlement(NamedTuple):
    order_id: int
    buyer_share: int
    bond_to_buyer: bool
    deadline: int


class PartnerProfile(NamedTuple):
    """What a partner registers and updates (PartnerRegistryV2); ``keccak256(abi.encode(profile))`` is what
    ``vet`` binds (``profileHash``)."""

    capabilities: int  # process bitmask
    materials: int  # material bitmask
    region: bytes  # geohash prefix, as OrderDocs.region
    capacity: int  # parts per week, advisory
    profile_cid: bytes


#: each struct's Solidity (name, type) pairs, in field order: the one source of its ABI and EIP-712 types
FIELDS: dict[type, Fields] = {
    OrderTerms: (
        ("buyer", "address"), ("token", "address"), ("price", "uint96"), ("minBond", "uint96"),
        ("arbitrator", "address"), ("awardDeadline", "uint40"), ("deliveryDeadline", "uint40"),
        ("inspectionWindow", "uint32"), ("rejectWindow", "uint32"), ("disputeTimeout", "uint32"),
        ("feeBps", "uint16"), ("specHash", "bytes32"),
    ),
    OrderState: (
        ("status", "uint8"), ("partner", "address"), ("payee", "address"), ("price", "uint96"), ("bond", "uint96"),
        ("stamp", "uint40"), ("dueBy", "uint40"), ("head", "bytes32"),
    ),
    OrderSpec: (
        ("processes", "uint32"), ("materials", "uint64"), ("certIds", "uint128"), ("inspectors", "address[]"),
        ("docsHash", "bytes32"),
    ),
    OrderDocs: (
        ("designCid", "bytes32"), ("designSha256", "bytes32"), ("specCid", "bytes32"), ("region", "bytes8"),
    ),
    Quote: (
        ("termsHash", "bytes32"), ("partner", "address"), ("payee", "address"), ("price", "uint96"),
        ("bond", "uint96"), ("leadTime", "uint32"), ("expiry", "uint40"), ("nonce", "uint256"),
    ),
    Attestation: (
        ("orderId", "uint256"), ("inspector", "address"), ("reportCid", "bytes32"), ("reportHash", "bytes32"),
        ("passed", "bool"), ("nonce", "uint64"), ("deadline", "uint40"),
    ),
    Settlement: (
        ("orderId", "uint256"), ("buyerShare", "uint96"), ("bondToBuyer", "bool"), ("deadline", "uint40"),
    ),
    PartnerProfile: (
        ("capabilities", "uint32"), ("materials", "uint64"), ("region", "bytes8"), ("capacity", "uint32"),
        ("profileCid", "bytes32"),
    ),
}


def abi_tuple(fields: Fields) -> str:
    """The ABI tuple type of a struct's fields, e.g. ``(uint256,address,...)``."""
    return "(" + ",".join(kind for _, kind in fields) + ")"


#: Order is a struct of the two structs above: its ABI type nests their tuples
ORDER_ABI = f"({abi_tuple(FIELDS[OrderTerms])},{abi_tuple(FIELDS[OrderState])})"
