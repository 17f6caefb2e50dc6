"""The contracts' enums, flags and structs (contracts/Types.sol, PartnerRegistry's FLAG_*), each defined once.

The structs are NamedTuples: they encode exactly as the positional tuples the ABI takes (a NamedTuple
is a tuple), and a reader names the field it means (``order.state.status``, not ``order[1][0]``).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import NamedTuple


class Status(IntEnum):
    """OrderStatus: the lifecycle of an escrowed order."""

    NONE = 0
    OPEN = 1
    CLAIMED = 2
    AWARDED = 3
    IN_PRODUCTION = 4
    SHIPPED = 5
    DISPUTED = 6
    COMPLETED = 7
    PAID = 8
    RESOLVED = 9
    REFUNDED = 10
    CANCELLED = 11


#: the states an order never leaves
TERMINAL = frozenset({Status.PAID, Status.RESOLVED, Status.REFUNDED, Status.CANCELLED})


def is_terminal(status: int) -> bool:
    return status in TERMINAL


class RecordKind(IntEnum):
    """The kind of a provenance record: every order event is one record of the order's hash chain."""

    POSTED = 0
    CLAIMED = 1
    AWARDED = 2
    PRODUCTION_STARTED = 3
    QUALITY_ATTESTED = 4
    SERIALS_RECORDED = 5
    SHIPPED = 6
    CONFIRMED = 7
    FINALIZED = 8
    DISPUTED = 9
    RESOLVED = 10
    DISPUTE_EXPIRED = 11
    REFUNDED = 12
    CANCELLED = 13
    PAYMENT_WITHDRAWN = 14


class RefundReason(IntEnum):
    """Why a timed-out order was refunded (the evidence of its Refunded record)."""

    NOT_CLAIMED = 0
    NOT_AWARDED = 1
    NOT_SHIPPED = 2


class PartnerFlags(IntFlag):
    """PartnerRegistry's FLAG_* bits of PartnerInfo.flags."""

    REGISTERED = 1
    VETTED = 2
    SUSPENDED = 4
    UNBONDING = 8


class ProvenanceRecord(NamedTuple):
    """One link of an order's provenance hash chain: the head after it is
    keccak256(abi.encode(prev_head, kind, actor, evidence, time))."""

    kind: int  # a RecordKind
    actor: str
    evidence: bytes
    time: int
    prev_head: bytes


class OrderTerms(NamedTuple):
    """Immutable terms of an order, fixed at post."""

    buyer: str
    token: str  # the zero address: native ETH
    price: int
    claim_bond: int
    claim_deadline: int
    delivery_deadline: int
    inspection_window: int
    fee_bps: int
    spec_hash: bytes


class OrderState(NamedTuple):
    """The mutable part of an order."""

    status: int
    partner: str
    stamp: int  # shipment time from Shipped on; dispute time while Disputed
    head: bytes  # provenance hash-chain head


class Order(NamedTuple):
    terms: OrderTerms
    state: OrderState


class OrderSpec(NamedTuple):
    """What the partner must be able to do (its hash is OrderTerms.spec_hash)."""

    reserved_for: str
    processes: int
    materials: int
    cert_ids: int  # up to four uint32 ids, lowest 32 bits first
    docs_hash: bytes


class OrderDocs(NamedTuple):
    """The documents an order names (its hash is OrderSpec.docs_hash)."""

    design_cid: bytes
    design_sha256: bytes
    spec_cid: bytes
    region: bytes
