"""Build, hash and track OrderBook orders off-chain (shared by tests, gas and deploy scripts).

The contract stores only keccak256(abi.encode(Order)); every call after `post` passes the Order back.
`OrderTracker.apply` folds an order's events into the current Order exactly as the contract does, so a
client that has seen all events of an order can always build the calldata and check it against
`OrderBook.orderHash(orderId)`. The provenance head is recomputed from the events alone.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pynode.core.abi_types import encode
from pynode.core.address import keccak, to_checksum_address
from pynode.protocol.types import (
    Order,
    OrderDocs,
    OrderSpec,
    OrderState,
    OrderTerms,
    ProvenanceRecord,
    RecordKind,
    Status,
)

ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\x00" * 32

# Process and material bits (capabilities / requirements bitmasks).
PROCESS = {
    "FDM": 1 << 0, "SLA": 1 << 1, "SLS": 1 << 2, "MJF": 1 << 3, "DMLS": 1 << 4,
    "CNC_MILLING": 1 << 5, "CNC_TURNING": 1 << 6, "LASER_CUTTING": 1 << 7,
    "SHEET_METAL": 1 << 8, "INJECTION_MOLDING": 1 << 9,
}
MATERIAL = {
    "PLA": 1 << 0, "ABS": 1 << 1, "PETG": 1 << 2, "NYLON": 1 << 3, "RESIN": 1 << 4,
    "AL_6061": 1 << 5, "AL_7075": 1 << 6, "SS_316": 1 << 7, "TI_6AL4V": 1 << 8, "PEEK": 1 << 9,
}
CERT = {"ISO_9001": 1, "AS9100": 2, "ISO_13485": 3}

TERMS_TYPE = "(address,address,uint96,uint96,uint40,uint40,uint32,uint16,bytes32)"
STATE_TYPE = "(uint8,address,uint40,bytes32)"
SPEC_TYPE = "(address,uint32,uint64,uint128,bytes32)"
DOCS_TYPE = "(bytes32,bytes32,bytes32,bytes8)"


def _b32(value: Any) -> bytes:
    """HexBytes, hex strings or bytes → 32 raw bytes."""
    if isinstance(value, str):
        value = bytes.fromhex(value.removeprefix("0x"))
    return bytes(value).rjust(32, b"\x00") if len(value) < 32 else bytes(value)


def pack_cert_ids(*cert_ids: int) -> int:
    """Up to four uint32 certification ids packed into OrderSpec.certIds (lowest 32 bits first)."""
    assert len(cert_ids) <= 4
    return sum(cid << (32 * i) for i, cid in enumerate(cert_ids))


def docs_hash(docs: Any) -> bytes:
    return keccak(encode([DOCS_TYPE], [_norm_docs(docs)]))


def spec_hash(spec: Any) -> bytes:
    return keccak(encode([SPEC_TYPE], [_norm_spec(spec)]))


def terms_hash(terms: Any) -> bytes:
    return keccak(encode([TERMS_TYPE], [_norm_terms(terms)]))


def order_hash(order: Any) -> bytes:
    terms, state = order
    return keccak(encode([TERMS_TYPE, STATE_TYPE], [_norm_terms(terms), _norm_state(state)]))


def next_head(prev_head: Any, kind: int, actor: str, evidence: Any, time: int) -> bytes:
    return keccak(
        encode(
            ["bytes32", "uint8", "address", "bytes32", "uint40"],
            [_b32(prev_head), int(kind), str(actor), _b32(evidence), int(time)],
        )
    )


def report_evidence(report_cid: Any, report_hash: Any, passed: bool) -> bytes:
    return keccak(encode(["bytes32", "bytes32", "bool"], [_b32(report_cid), _b32(report_hash), bool(passed)]))


def ruling_evidence(buyer_share: int, partner_lost: bool, ruling_cid: Any) -> bytes:
    return keccak(encode(["uint96", "bool", "bytes32"], [int(buyer_share), bool(partner_lost), _b32(ruling_cid)]))


def _as_tuple(value: Any) -> tuple[Any, ...]:
    """A decoded struct as a tuple: brownie gives tuples, web3 gives AttributeDicts in field order."""
    return tuple(value.values()) if isinstance(value, Mapping) else tuple(value)


def _norm_terms(t: Any) -> OrderTerms:
    return OrderTerms(str(t[0]), str(t[1]), int(t[2]), int(t[3]), int(t[4]), int(t[5]), int(t[6]), int(t[7]),
                      _b32(t[8]))


def _norm_state(s: Any) -> OrderState:
    return OrderState(int(s[0]), str(s[1]), int(s[2]), _b32(s[3]))


def _norm_spec(s: Any) -> OrderSpec:
    return OrderSpec(str(s[0]), int(s[1]), int(s[2]), int(s[3]), _b32(s[4]))


def _norm_docs(d: Any) -> OrderDocs:
    region = d[3]
    if isinstance(region, str):
        region = bytes.fromhex(region.removeprefix("0x")) if region.startswith("0x") else region.encode()
    return OrderDocs(_b32(d[0]), _b32(d[1]), _b32(d[2]), bytes(region).ljust(8, b"\x00"))


def make_docs(seed: int = 1, region: str = "u33d") -> OrderDocs:
    """Deterministic test documents."""
    return OrderDocs(keccak(b"design-cid-%d" % seed), keccak(b"design-sha-%d" % seed), keccak(b"spec-cid-%d" % seed),
                     region.encode().ljust(8, b"\x00"))


def make_spec(docs: Any, processes: int = PROCESS["CNC_MILLING"], materials: int = MATERIAL["AL_6061"],
              cert_ids: tuple[int, ...] = (), reserved_for: Any = ZERO_ADDRESS) -> OrderSpec:
    return OrderSpec(str(reserved_for), processes, materials, pack_cert_ids(*cert_ids), docs_hash(docs))


def make_terms(buyer: Any, spec: Any, *, token: Any = ZERO_ADDRESS, price: int = 10**17, claim_bond: int = 10**16,
               claim_deadline: int, delivery_deadline: int, inspection_window: int = 3 * 86400,
               fee_bps: int = 0) -> OrderTerms:
    return OrderTerms(str(buyer), str(token), price, claim_bond, claim_deadline, delivery_deadline, inspection_window,
                      fee_bps, spec_hash(spec))


# event name → (record kind, actor field, evidence(args, terms) , state update(state, args, time))
def _ev_zero(args: Any, terms: OrderTerms) -> bytes:
    return ZERO32


_Evidence = Callable[[Any, OrderTerms], Any]
_Update = Callable[[OrderState, Any, int], tuple[int, str, int]]


def _to(status: Status | None) -> _Update:
    """The update that sets ``status`` (None: keeps it) and keeps the partner and the stamp."""
    return lambda s, a, t: (s.status if status is None else status, s.partner, s.stamp)


_EVENTS: dict[str, tuple[RecordKind, str, _Evidence, _Update]] = {
    "OrderClaimed": (RecordKind.CLAIMED, "partner", _ev_zero,
                     lambda s, a, t: (Status.CLAIMED, str(a["partner"]), 0)),
    "OrderAwarded": (RecordKind.AWARDED, "buyer", lambda a, _: a["keyEnvelopeCid"],
                     _to(Status.AWARDED)),
    "ProductionStarted": (RecordKind.PRODUCTION_STARTED, "partner", _ev_zero,
                          _to(Status.IN_PRODUCTION)),
    "QualityAttested": (RecordKind.QUALITY_ATTESTED, "attester",
                        lambda a, _: report_evidence(a["reportCid"], a["reportHash"], a["passed"]),
                        _to(None)),
    "SerialsRecorded": (RecordKind.SERIALS_RECORDED, "partner", lambda a, _: a["serialsRoot"],
                        _to(None)),
    "OrderShipped": (RecordKind.SHIPPED, "partner", lambda a, _: report_evidence(a["reportCid"], a["reportHash"], True),
                     lambda s, a, t: (Status.SHIPPED, s.partner, t)),
    "OrderConfirmed": (RecordKind.CONFIRMED, "buyer", _ev_zero, _to(Status.COMPLETED)),
    "OrderFinalized": (RecordKind.FINALIZED, "caller", _ev_zero, _to(Status.COMPLETED)),
    "OrderDisputed": (RecordKind.DISPUTED, "buyer", lambda a, _: a["evidenceCid"],
                      lambda s, a, t: (Status.DISPUTED, s.partner, t)),
    "DisputeResolved": (RecordKind.RESOLVED, "arbitrator",
                        lambda a, _: ruling_evidence(a["buyerShare"], a["partnerLost"], a["rulingCid"]),
                        _to(Status.RESOLVED)),
    "DisputeExpired": (RecordKind.DISPUTE_EXPIRED, "caller", lambda a, _: int(a["buyerShare"]).to_bytes(32, "big"),
                       _to(Status.RESOLVED)),
    "OrderRefunded": (RecordKind.REFUNDED, "caller", lambda a, _: int(a["reason"]).to_bytes(32, "big"),
                      _to(Status.REFUNDED)),
    "OrderCancelled": (RecordKind.CANCELLED, "buyer", _ev_zero, _to(Status.CANCELLED)),
    "PaymentWithdrawn": (RecordKind.PAYMENT_WITHDRAWN, "partner", _ev_zero, _to(Status.PAID)),
}
ORDER_EVENTS = ("OrderPosted", *_EVENTS)


def record_actor(event: str, args: Any) -> str | None:
    """Who made the provenance record an order event documents; None for other events."""
    if event == "OrderPosted":
        return str(args["buyer"])
    entry = _EVENTS.get(event)
    return None if entry is None else str(args[entry[1]])


@dataclass
class OrderTracker:
    """Current Order (terms, state) of one order id, rebuilt from its events."""

    order_id: int
    # None only until the OrderPosted event is applied (or the caller passes them): typed as always set
    terms: OrderTerms = None  # type: ignore[assignment]
    state: OrderState = None  # type: ignore[assignment]
    spec: OrderSpec = None  # type: ignore[assignment]  # not in events' fold: kept by the poster / read from OrderPosted
    docs: OrderDocs = None  # type: ignore[assignment]
    records: list[ProvenanceRecord] = field(default_factory=list)

    @property
    def order(self) -> Order:
        return Order(self.terms, self.state)

    @property
    def status(self) -> Status:
        return Status(self.state.status)

    @property
    def head(self) -> bytes:
        return self.state.head

    def apply(self, name: str, args: Any) -> None:
        """Folds one event (name and decoded args mapping) into the order."""
        assert int(args["orderId"]) == self.order_id
        if name == "OrderPosted":
            self.terms = _norm_terms(_as_tuple(args["terms"]))
            self.spec = _norm_spec(_as_tuple(args["spec"]))
            self.docs = _norm_docs(_as_tuple(args["docs"]))
            time = int(args["time"])
            digest = terms_hash(self.terms)
            head = next_head(ZERO32, RecordKind.POSTED, args["buyer"], digest, time)
            self.records.append(ProvenanceRecord(RecordKind.POSTED, str(args["buyer"]), digest, time, ZERO32))
            self.state = OrderState(Status.OPEN, ZERO_ADDRESS, 0, head)
            return
        kind, actor_field, evidence, update = _EVENTS[name]
        prev = _b32(args["prevHead"])
        if prev != self.head:
            raise ValueError(f"order {self.order_id}: {name} prevHead {prev.hex()} != head {self.head.hex()}")
        time = int(args["time"])
        ev = _b32(evidence(args, self.terms))
        actor = str(args[actor_field])
        self.records.append(ProvenanceRecord(kind, actor, ev, time, prev))
        status, partner, stamp = update(self.state, args, time)
        self.state = OrderState(int(status), partner, stamp, next_head(prev, kind, actor, ev, time))

    def apply_tx(self, tx: Any) -> None:
        """Folds every event of this order in a brownie transaction, in log order."""
        for ev in tx.events:
            if ev.name in ORDER_EVENTS and "orderId" in ev and int(ev["orderId"]) == self.order_id:
                self.apply(ev.name, ev)


def create_address(deployer: str, nonce: int) -> str:
    """Address of the contract `deployer` creates with `nonce` (CREATE), as scripts/deploy.py predicts it."""
    import rlp

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(str(deployer)[2:]), nonce]))[12:])
