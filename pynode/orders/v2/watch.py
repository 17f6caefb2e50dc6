"""The v2 buyer watcher (`fabmesh node watch-orders` with ``protocol = 2`` in watch.toml): awards by policy.

Each cycle reads the head, finds the buyer's own new posts (``OrderPosted`` by its address, from the post
index's blocks on), brings each open order with an event since (one eth_getLogs for all) up to the safe block
(checked against the book's commitments; every ``announce_s`` each one's commitment is asked too) and acts
on what the chain says, so it is restart-safe without local state:

- an open order is announced on the quote channel (again every ``announce_s``: pubsub keeps no history), its
  verified quotes from the channel and each quoting partner's registry facts go to
  :func:`~pynode.orders.award_policy.decide_award` at the head's time; ``Award`` sends the award (the quote
  checked again, the design key sealed to the partner's registry key: orders/v2/buyer.py), ``Wait`` waits,
  ``GiveUp`` cancels the order (``on_give_up = "cancel"``); every rejection is logged once with its reason;
  an award that reverts excludes that quote, so the next cycle takes the next one;
- a shipped order is confirmed once its report checks out (``auto_confirm``); a report that does not is
  logged and left to the buyer;
- an awarded order not shipped by its due date is refunded (``refund_late``).

Every send is simulated first, and only on an order whose newest change is ``confirmations`` deep; an award
or a cancellation waits while a transaction of the buyer's is pending (one sent before a restart).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pynode.chain.contracts import OrderOutOfSync, _topic_for_address, _topic_for_uint
from pynode.chain.tx import TxReverted
from pynode.chain.v2.orders import ORDER_EVENTS, OrderTracker
from pynode.core.errors import InputError, Kind, classify
from pynode.crypto.hpke import HpkeKeyPair
from pynode.documents.order_announcement import OrderAnnouncement
from pynode.orders.award_policy import Award, AwardSettings, GiveUp, PartnerFacts, Wait, decide_award
from pynode.orders.quote_channel import QuoteChannel, VerifiedQuote
from pynode.orders.v2.buyer import BuyerV2, QuoteRefused, ReportRefused
from pynode.orders.v2.settings import WatchLoopSettings
from pynode.orders.v2.watch_state import QuoteInbox, RejectionMemory, Step, announce_due, next_step
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import Transition


@dataclass
class WatchStatsV2:
    awarded: dict[int, str] = field(default_factory=dict)  # order id -> partner
    confirmed: list[int] = field(default_factory=list)
    refunded: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    rejected: int = 0  # rejections logged


class OrderWatcherV2:
    def __init__(self, buyer: BuyerV2, keypair: HpkeKeyPair, award: AwardSettings, settings: WatchLoopSettings,
                 channel: QuoteChannel | None, log: Callable[..., None] | None = None,
                 on_quote: Callable[[], None] | None = None) -> None:
        self.buyer = buyer
        self.chain = buyer.chain
        self.keypair = keypair
        self.award = award
        self.settings = settings
        self.channel = channel
        self.log = log or (lambda *a, **k: None)
        self.on_quote = on_quote or (lambda: None)  # a quote arrived: e.g. wake the loop
        self.stats = WatchStatsV2()
        self.inbox = QuoteInbox()
        self._told = RejectionMemory()
        self._arrived: queue.SimpleQueue[VerifiedQuote] = queue.SimpleQueue()
        self._trackers: dict[int, OrderTracker] = {}
        self._changed: set[int] = set()  # tracked orders with an event since their tracker was brought up to date
        self._recheck = False  # this cycle asks every open order's commitment too (an event the scan missed)
        self._checked_at = float("-inf")  # monotonic time of the last recheck: every announce_s
        self._done: set[int] = set()
        self._confirm_refused: set[int] = set()
        self._announced: dict[int, float] = {}
        self._waiting: dict[int, int] = {}  # order id -> the Wait's until last logged
        self._gave_up: set[int] = set()
        self._next_block = self.chain.from_block
        self._head: int | None = None  # the head the last full cycle read
        self._failed = False  # a step failed in the last cycle
        self._full_at = 0.0  # monotonic time of the last full cycle
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return self.buyer.account.address

    # ------------------------------------------------------------------------------ quotes

    def start(self) -> None:
        """Receives the channel's verified quotes on a thread (ends with :meth:`close`)."""
        if self.channel is not None and self._thread is None:
            self._thread = threading.Thread(target=self._receive, name="quote-channel", daemon=True)
            self._thread.start()

    def _receive(self) -> None:
        assert self.channel is not None
        try:
            for verified in self.channel.quotes():
                self._arrived.put(verified)
                self.on_quote()
        except Exception as exc:  # noqa: BLE001 - the channel sorted it: only what ends the stream gets here
            self.log("quote_channel_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    def receive(self, verified: VerifiedQuote) -> None:
        """A verified quote from elsewhere (a file, a test) into the inbox, as if off the channel."""
        self._arrived.put(verified)

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _drain(self) -> bool:
        """Moves the quotes received since into the inbox; whether any was new."""
        fresh = False
        while not self._arrived.empty():  # the only consumer: what empty() saw is there to get
            verified = self._arrived.get()
            if self.inbox.add(verified):
                fresh = True
                quote = verified.signed.quote
                self.log("quote_received", partner=quote.partner, price=str(quote.price), lead_time=quote.lead_time,
                         terms_hash="0x" + quote.terms_hash.hex(), digest="0x" + verified.digest.hex())
        return fresh

    # ------------------------------------------------------------------------------- cycle

    def cycle(self) -> WatchStatsV2:
        """One head read; the rest only when something can have changed: a new block (the chain's clock moves
        with it), a new quote, a step that failed last time, or a re-announcement due."""
        head, now = self.chain.head_block()  # the head's time with it: one request a cycle
        fresh = self._drain()
        due = time.monotonic() - self._full_at >= self.settings.announce_s
        if head == self._head and not fresh and not self._failed and not due:
            return self.stats
        self._head, self._failed, self._full_at = head, False, time.monotonic()
        self._recheck = self._full_at - self._checked_at >= self.settings.announce_s
        if self._recheck:
            self._checked_at = self._full_at
        safe = max(head - self.chain.confirmations, self.chain.from_block)
        self._discover(safe)
        for order_id in sorted(set(self._trackers) - self._done):
            try:
                self._step(order_id, safe, head, now)
            except Exception as exc:  # one order's trouble never stops the others
                if classify(exc) is Kind.FATAL and not isinstance(exc, (TxReverted, InputError)):
                    raise
                if isinstance(exc, OrderOutOfSync):  # read it whole next time
                    self._trackers[order_id] = OrderTracker(order_id, b"")
                self._failed = True  # retried next cycle, new block or not
                self.log("watch_retry", order_id=order_id, error=f"{type(exc).__name__}: {exc}"[:300])
        return self.stats

    def _discover(self, safe: int) -> None:
        """The buyer's new posts and the tracked orders' events since the last cycle: two requests, however many
        orders are open (an unchanged order's commitment is not asked, but every ``announce_s``)."""
        if safe < self._next_block:
            return
        tracked = sorted(set(self._trackers) - self._done)
        if tracked:
            self._changed.update(int(event.args["orderId"]) for event in self.chain.book.logs(
                ORDER_EVENTS, [_topic_for_uint(i) for i in tracked], from_block=self._next_block, to_block=safe))
        for event in self.chain.book.logs(("OrderPosted",), None, _topic_for_address(self.address),
                                          from_block=self._next_block, to_block=safe):
            order_id = int(event.args["orderId"])
            self.chain.book.note_posted(order_id, event.block_number)
            self._trackers.setdefault(order_id, OrderTracker(order_id, b""))  # unposted: load_order reads it
        self._next_block = safe + 1

    def _tracker(self, order_id: int, safe: int) -> OrderTracker:
        """The order at the safe block: folded from the last tracker's logs when the commitment moved."""
        known = self._trackers[order_id]
        book = self.chain.book
        if not known.posted:
            known = book.load_order(order_id, self.chain.from_block, safe)
        elif order_id in self._changed or \
                (self._recheck and book.order_hash(order_id, safe) != codec.order_hash(known.order)):
            known = book.update(known, self.chain.from_block, safe)
        self._trackers[order_id] = known
        self._changed.discard(order_id)
        return known

    def _settling(self, tracker: OrderTracker, head: int) -> bool:
        """Whether the order changed above the safe block (asked only before a send)."""
        return self.chain.confirmations > 0 and \
            self.chain.book.order_hash(tracker.order_id, head) != codec.order_hash(tracker.order)

    def _step(self, order_id: int, safe: int, head: int, now: int) -> None:
        tracker = self._tracker(order_id, safe)
        step = next_step(self.settings, tracker.status, tracker.due_by, now,
                         confirm_refused=order_id in self._confirm_refused)
        if step is Step.DONE:
            self._done.add(order_id)
            self.inbox.forget(codec.terms_hash(tracker.terms))
            self._told.forget(order_id)
        elif step is Step.DECIDE:
            self._announce(tracker)
            self._decide(tracker, head, now)
        elif step is not Step.NONE and not self._settling(tracker, head):
            if step is Step.CONFIRM:
                self._confirm(tracker)
            else:
                sent = self.buyer.refund(tracker)
                self.stats.refunded.append(order_id)
                self.log("refunded", order_id=order_id, tx=sent.tx_hash, due_by=tracker.due_by)

    def _announce(self, tracker: OrderTracker) -> None:
        if self.channel is None or not announce_due(self._announced.get(tracker.order_id), time.monotonic(),
                                                    self.settings.announce_s):
            return
        try:
            self.channel.announce(OrderAnnouncement(self.chain.chain_id, self.chain.book.address, tracker.order_id,
                                                    codec.terms_hash(tracker.terms)))
        except Exception as exc:  # quotes already received still count: the award goes on; retried next cycle
            if classify(exc) is not Kind.TRANSIENT:
                raise
            self.log("announce_failed", order_id=tracker.order_id, error=f"{type(exc).__name__}: {exc}"[:300])
            return
        self._announced[tracker.order_id] = time.monotonic()

    def _decide(self, tracker: OrderTracker, head: int, now: int) -> None:
        order_id = tracker.order_id
        offered = self.inbox.for_terms(codec.terms_hash(tracker.terms))
        facts: dict[str, PartnerFacts] = {}
        for partner in dict.fromkeys(q.partner for q in offered):
            facts[partner] = self.buyer.partner_facts(partner, tracker.spec)
        posted_at = next(link.time for link in tracker.transitions if link.kind == Transition.POSTED)
        decision = decide_award(self.award, tracker.terms, tracker.spec, posted_at, list(offered), facts, now)
        for rejected in self._told.fresh(order_id, decision.rejected):
            self.stats.rejected += 1
            self.log("quote_rejected", order_id=order_id, partner=rejected.quote.partner,
                     price=str(rejected.quote.price), reason=rejected.reason.value, detail=rejected.detail)
        if isinstance(decision, Wait):
            if self._waiting.get(order_id) != decision.until:
                self._waiting[order_id] = decision.until
                self.log("award_waiting", order_id=order_id, until=decision.until, quotes=len(offered),
                         qualified=len(decision.qualified))
        elif isinstance(decision, Award) and not self._settling(tracker, head):
            self._send_award(tracker, offered[decision.quote], facts, now)
        elif isinstance(decision, GiveUp):
            self._give_up(tracker, decision, head)

    def _in_flight(self, order_id: int, action: str) -> bool:
        """Whether a transaction of this account is still pending (a restarted watcher's award, say): no award or
        cancellation starts until it is mined, so the chain says what it did and no second envelope is sealed."""
        eth, me = self.chain.w3.eth, self.buyer.account.address
        pending = eth.get_transaction_count(me, "pending") > eth.get_transaction_count(me)
        if pending:
            self.log("send_deferred", order_id=order_id, action=action, reason="a transaction is pending")
        return pending

    def _send_award(self, tracker: OrderTracker, chosen: VerifiedQuote, facts: dict[str, PartnerFacts],
                    now: int) -> None:
        quote = chosen.signed.quote
        if self._in_flight(tracker.order_id, "award"):
            return
        try:
            sent, envelope_cid = self.buyer.award(tracker, chosen.signed, self.keypair, facts[quote.partner], now)
        except (TxReverted, QuoteRefused) as exc:  # refused by the book or the recheck: the next best next time
            self.inbox.exclude(chosen.digest)
            self._failed = True  # the next best is tried next cycle, new block or not
            self.log("award_failed", order_id=tracker.order_id, partner=quote.partner,
                     error=f"{type(exc).__name__}: {exc}"[:300])
            return
        self.stats.awarded[tracker.order_id] = quote.partner
        self.log("awarded", order_id=tracker.order_id, partner=quote.partner, price=str(quote.price),
                 lead_time=quote.lead_time, tx=sent.tx_hash, envelope=envelope_cid)

    def _give_up(self, tracker: OrderTracker, decision: GiveUp, head: int) -> None:
        order_id = tracker.order_id
        if order_id not in self._gave_up:
            self._gave_up.add(order_id)
            self.log("award_given_up", order_id=order_id, reason=decision.reason.value, detail=decision.detail,
                     action=self.settings.on_give_up)
        if self.settings.on_give_up == "cancel" and not self._settling(tracker, head) and \
                not self._in_flight(order_id, "cancel"):
            sent = self.buyer.cancel(tracker)
            self.stats.cancelled.append(order_id)
            self.log("cancelled", order_id=order_id, tx=sent.tx_hash)

    def _confirm(self, tracker: OrderTracker) -> None:
        try:
            sent = self.buyer.confirm(tracker)
        except ReportRefused as exc:  # a report that does not check out is the buyer's to dispute, not retried
            self._confirm_refused.add(tracker.order_id)
            self.log("confirm_refused", order_id=tracker.order_id, reason=str(exc)[:300])
            return
        self.stats.confirmed.append(tracker.order_id)
        self.log("confirmed", order_id=tracker.order_id, tx=sent.tx_hash)
