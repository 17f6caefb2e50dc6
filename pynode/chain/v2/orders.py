"""The v2 order tracker: an order's current `Order` (terms + state) and both its chains, folded from its events.

The v2 book stores keccak256(abi.encode(Order)) and every call after post passes the Order back
(contracts/v2/README.md). Its events carry only what the order and block do not imply (docs/protocol.md §7.1,
§9.2), so each fold step takes the log's block time and, where the actor is "anyone" (finalize, refund,
resolutions, fee collection), the transaction's sender. The transition chain is rebuilt link by link
(pynode.protocol.v2.codec) and checked by the caller against ``orderHash(orderId)``; the record chain
(``Recorded``) is checked here against the head each record emits, and by the caller against ``recordHead``.
A log that cannot follow the order's current status, or a record head that does not recompute, raises
:class:`OrderOutOfSync`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.events.decoder import DecodedLog
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import (
    Order,
    OrderDocs,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderTerms,
    RecordKind,
    Transition,
)

ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\x00" * 32

#: the events that change an order's state (each a transition-chain link)
TRANSITION_EVENTS = ("OrderPosted", "OrderAwarded", "OrderRejected", "OrderShipped", "OrderCompleted",
                     "OrderRefunded", "OrderCancelled", "OrderDisputed", "OrderResolved")
#: record-chain and arbitration events (no change of the order's slot)
RECORD_EVENTS = ("Recorded", "QualityAttested", "ArbitrationCreated")
#: every per-order event with the order id in topic 1, in one eth_getLogs filter
ORDER_EVENTS = TRANSITION_EVENTS + RECORD_EVENTS
#: its order id is topic 3; a completed order's later credit is its fee collection (Completed -> FeeCollected)
FEE_EVENT = "Credited"
_BY_SENDER = frozenset({"OrderRefunded", "OrderResolved"})
_FROM = {
    "OrderAwarded": (OrderStatus.OPEN,),
    "OrderRejected": (OrderStatus.AWARDED,),
    "OrderShipped": (OrderStatus.AWARDED,),
    "OrderCompleted": (OrderStatus.SHIPPED,),
    "OrderRefunded": (OrderStatus.OPEN, OrderStatus.AWARDED),
    "OrderCancelled": (OrderStatus.OPEN,),
    "OrderDisputed": (OrderStatus.SHIPPED,),
    "OrderResolved": (OrderStatus.SHIPPED, OrderStatus.DISPUTED),
}


def by_sender(log: DecodedLog) -> bool:
    """Whether the event's link is made by "anyone" (finalize, refund, a resolution): its actor is the
    transaction's sender, which the event does not carry. A fee collection is one too, known only in the fold."""
    if log.event == "OrderCompleted":
        return int(log.args["kind"]) == Transition.FINALIZED
    return log.event in _BY_SENDER


class Attested(NamedTuple):
    """One QualityAttested record: who attested, the report's CID digest and hash, and the result."""

    inspector: str
    report_cid: bytes
    report_hash: bytes
    passed: bool
    time: int


def _word(value: int) -> bytes:
    return int(value).to_bytes(32, "big")


@dataclass
class OrderView:
    """One v2 order as the book commits to it (terms, state, both chains) and what follows from it, typed."""

    order_id: int
    genesis: bytes  # codec.genesis(chain id, book, order id): where both chains start
    # None only until OrderPosted is applied: typed as always set
    terms: OrderTerms = None  # type: ignore[assignment]
    state: OrderState = None  # type: ignore[assignment]
    spec: OrderSpec = None  # type: ignore[assignment]
    docs: OrderDocs = None  # type: ignore[assignment]
    transitions: list[codec.Link] = field(default_factory=list)
    records: list[codec.Link] = field(default_factory=list)
    record_head: bytes = b""  # the genesis until a record (set in __post_init__)
    attestations: list[Attested] = field(default_factory=list)
    key_envelope_cid: bytes | None = None
    quote_hash: bytes | None = None  # the awarded quote's EIP-712 struct hash
    report: tuple[bytes, bytes] | None = None  # the shipment's (reportCid, reportHash)
    dispute_id: int | None = None  # at the order's arbitrator, once both fees are in
    resolution: tuple[int, int, int, bool] | None = None  # (toBuyer, toPayee, fee, bondToBuyer)
    posted_block: int | None = None
    seen: tuple[int, int] = (-1, -1)  # (block, log index) of the latest log folded: where an update resumes
    # An award in the post's transaction is postAwarded's (the chain starts Awarded), unless born_awarded is
    # False: a contract buyer (a Safe batch) that posted and awarded in one transaction (Posted, then Awarded).
    born_awarded: bool = True
    awarded_with_post: bool = False
    _posted_tx: str = ""
    _completed: tuple[str, int, int] = ("", 0, 0)  # the completion's (tx hash, block, log index)

    def __post_init__(self) -> None:
        self.record_head = self.record_head or self.genesis

    @property
    def order(self) -> Order:
        return Order(self.terms, self.state)

    @property
    def posted(self) -> bool:
        return self.state is not None

    @property
    def status(self) -> OrderStatus:
        return OrderStatus(self.state.status)

    @property
    def head(self) -> bytes:
        return self.state.head

    @property
    def buyer(self) -> str:
        return self.terms.buyer

    @property
    def partner(self) -> str | None:
        """The awarded partner; None while Open or unposted."""
        return None if self.state is None or self.state.partner == ZERO_ADDRESS else self.state.partner

    @property
    def payee(self) -> str | None:
        return None if self.partner is None else self.state.payee

    @property
    def price(self) -> int:
        """The awarded quote's price; the escrowed terms' price until an award."""
        return self.state.price if self.partner is not None else self.terms.price

    @property
    def bond(self) -> int:
        return self.state.bond

    @property
    def fee(self) -> int:
        """The protocol fee a completion leaves in the book: price × feeBps / 10,000, rounded down."""
        return self.price * self.terms.fee_bps // 10_000

    @property
    def award_deadline(self) -> int:
        return self.terms.award_deadline

    @property
    def delivery_deadline(self) -> int:
        return self.terms.delivery_deadline

    @property
    def due_by(self) -> int:
        """Award time + lead time: the shipment deadline (0 until awarded)."""
        return self.state.due_by

    @property
    def awarded_at(self) -> int | None:
        return next((t.time for t in self.transitions if t.kind == Transition.AWARDED), None)

    @property
    def reject_window_closes(self) -> int | None:
        """Last second the partner may reject (None unless Awarded)."""
        return self.state.stamp + self.terms.reject_window if self.status == OrderStatus.AWARDED else None

    @property
    def shipped_at(self) -> int | None:
        return next((t.time for t in self.transitions if t.kind == Transition.SHIPPED), None)

    @property
    def inspection_closes(self) -> int | None:
        """Last second the buyer may dispute (None until shipped)."""
        shipped = self.shipped_at
        return None if shipped is None else shipped + self.terms.inspection_window

    @property
    def disputed_at(self) -> int | None:
        return self.state.stamp if self.status == OrderStatus.DISPUTED else None

    @property
    def dispute_expires(self) -> int | None:
        """From when (after) anyone may settle an unruled, created dispute half and half (None unless Disputed)."""
        at = self.disputed_at
        return None if at is None else at + self.terms.dispute_timeout

    @property
    def terminal(self) -> bool:
        return self.status in (OrderStatus.COMPLETED, OrderStatus.RESOLVED, OrderStatus.REFUNDED,
                               OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.FEE_COLLECTED)



@dataclass
class OrderTracker(OrderView):
    """An :class:`OrderView` rebuilt from the order's events (``apply`` in log order)."""

    def needs_sender(self, log: DecodedLog) -> bool:
        """Whether ``apply`` needs the transaction's sender for this log (the event does not imply its actor)."""
        return by_sender(log) or self._is_fee_collection(log)

    def _is_fee_collection(self, log: DecodedLog) -> bool:
        """A credit of this order in a later transaction than its completion (the award's price difference and a
        refused push, credited in the completion itself, are not)."""
        tx, block, index = self._completed
        return (log.event == FEE_EVENT and self.state is not None and self.status == OrderStatus.COMPLETED
                and log.tx_hash != tx and (log.block_number, log.log_index) > (block, index))

    def apply(self, log: DecodedLog, time: int, sender: str | None = None) -> None:
        """Folds one decoded log of this order (``time``: its block's timestamp; ``sender``: its transaction's
        sender, when :meth:`needs_sender` says so)."""
        args = log.args
        if int(args["orderId"]) != self.order_id:
            raise ValueError(f"log of order {args['orderId']} applied to order {self.order_id}")
        self.seen = max(self.seen, (log.block_number, log.log_index))
        if log.event == "OrderPosted":
            self._posted(log, time)
        elif self.state is None:
            raise OrderOutOfSync(f"order {self.order_id}: {log.event} before its OrderPosted")
        elif log.event in _FROM:
            if self.status not in _FROM[log.event]:
                raise OrderOutOfSync(f"order {self.order_id}: {log.event} while {self.status.name}")
            self._transition(log, time, sender)
        elif log.event == "Recorded":
            self._recorded(args, time)
        elif log.event == "QualityAttested":
            self._attested(args, time)
        elif log.event == "ArbitrationCreated":
            self.dispute_id = int(args["disputeId"])
        elif self._is_fee_collection(log):
            self._advance(Transition.FEE_COLLECTED, self._actor(sender), _word(args["amount"]), time,
                          status=OrderStatus.FEE_COLLECTED)

    def _actor(self, sender: str | None) -> str:
        if sender is None:
            raise ValueError(f"order {self.order_id}: this link's actor is its transaction's sender: pass it")
        return sender

    def _advance(self, kind: Transition, actor: str, evidence: bytes, time: int, *, prev: bytes | None = None,
                 **state: Any) -> None:
        head = codec.link(self.state.head if prev is None else prev, kind, actor, evidence, time)
        self.transitions.append(codec.Link(kind, actor, evidence, time))
        self.state = self.state._replace(head=head, **state)

    def _posted(self, log: DecodedLog, time: int) -> None:
        if self.state is not None:
            raise OrderOutOfSync(f"order {self.order_id}: a second OrderPosted")
        try:
            terms, spec, docs = codec.decode_posted(log.args["buyer"], log.args["posted"])
        except ValueError as exc:
            raise OrderOutOfSync(f"order {self.order_id}: OrderPosted data does not decode") from exc
        if codec.order_id(terms) != self.order_id:
            raise OrderOutOfSync(f"order {self.order_id}: OrderPosted terms hash to another order id")
        self.terms, self.spec, self.docs = terms, spec, docs
        self.posted_block, self._posted_tx = log.block_number, log.tx_hash
        self.state = OrderState(OrderStatus.OPEN, ZERO_ADDRESS, ZERO_ADDRESS, 0, 0, 0, 0, self.genesis)
        self._advance(Transition.POSTED, terms.buyer, codec.terms_hash(terms), time)

    def _transition(self, log: DecodedLog, time: int, sender: str | None) -> None:
        args, event, buyer = log.args, log.event, self.terms.buyer
        if event == "OrderAwarded":
            self._awarded(log, time)
        elif event == "OrderRejected":
            self._advance(Transition.REJECTED, str(args["partner"]), bytes(args["reasonCid"]), time,
                          status=OrderStatus.REJECTED)
        elif event == "OrderShipped":
            self.report = (bytes(args["reportCid"]), bytes(args["reportHash"]))
            self._advance(Transition.SHIPPED, self.state.partner, codec.report_evidence(*self.report, True), time,
                          status=OrderStatus.SHIPPED, stamp=time)
        elif event == "OrderCompleted":
            kind = Transition(int(args["kind"]))
            self._completed = (log.tx_hash, log.block_number, log.log_index)
            self._advance(kind, buyer if kind == Transition.CONFIRMED else self._actor(sender), ZERO32, time,
                          status=OrderStatus.COMPLETED)
        elif event == "OrderRefunded":
            self._advance(Transition.REFUNDED, self._actor(sender), _word(args["reason"]), time,
                          status=OrderStatus.REFUNDED)
        elif event == "OrderCancelled":
            self._advance(Transition.CANCELLED, buyer, ZERO32, time, status=OrderStatus.CANCELLED)
        elif event == "OrderDisputed":
            self._advance(Transition.DISPUTED, buyer, bytes(args["evidenceCid"]), time,
                          status=OrderStatus.DISPUTED, stamp=time)
        else:  # OrderResolved
            self.resolution = (int(args["toBuyer"]), int(args["toPayee"]), int(args["fee"]), bool(args["bondToBuyer"]))
            self._advance(Transition(int(args["kind"])), self._actor(sender), codec.split_evidence(*self.resolution),
                          time, status=OrderStatus.RESOLVED)

    def _awarded(self, log: DecodedLog, time: int) -> None:
        args = log.args
        try:
            payee, price, bond, due_by = codec.decode_awarded(args["payeePrice"], args["bondDueBy"])
        except ValueError as exc:
            raise OrderOutOfSync(f"order {self.order_id}: OrderAwarded words do not decode") from exc
        self.quote_hash, self.key_envelope_cid = bytes(args["quoteHash"]), bytes(args["keyEnvelopeCid"])
        prev = None
        self.awarded_with_post = log.tx_hash == self._posted_tx
        if self.awarded_with_post and self.born_awarded:  # postAwarded: the chain has no Posted link
            self.transitions.pop()
            prev = self.genesis
        evidence = codec.award_evidence(codec.terms_hash(self.terms), self.quote_hash, self.key_envelope_cid)
        self._advance(Transition.AWARDED, self.terms.buyer, evidence, time, prev=prev, status=OrderStatus.AWARDED,
                      partner=str(args["partner"]), payee=payee, price=price, bond=bond, stamp=time, due_by=due_by)

    def _recorded(self, args: Any, time: int) -> None:
        kind, actor, evidence = RecordKind(int(args["kind"])), str(args["actor"]), bytes(args["evidence"])
        head = codec.link(self.record_head, kind, actor, evidence, time)
        if head != bytes(args["head"]):
            raise OrderOutOfSync(f"order {self.order_id}: Recorded head does not follow the record chain")
        self.records.append(codec.Link(kind, actor, evidence, time))
        self.record_head = head

    def _attested(self, args: Any, time: int) -> None:
        """QualityAttested follows its own Recorded link in the same transaction: it must match that link."""
        att = Attested(str(args["inspector"]), bytes(args["reportCid"]), bytes(args["reportHash"]),
                       bool(args["passed"]), time)
        last = self.records[-1] if self.records else None
        if last is None or last.kind != RecordKind.QUALITY_ATTESTED or last.actor != att.inspector or \
                last.evidence != codec.report_evidence(att.report_cid, att.report_hash, att.passed):
            raise OrderOutOfSync(f"order {self.order_id}: QualityAttested without its Recorded link")
        self.attestations.append(att)
