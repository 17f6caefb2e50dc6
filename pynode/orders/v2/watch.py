"""The v2 buyer watcher (`fabmesh node watch-orders` with ``protocol = 2`` in watch.toml): awards by policy.

Each cycle reads the head (its number, time and transaction hashes: one request), finds the buyer's own new
posts (``OrderPosted`` by its address, from the post index's blocks on), brings each open order with an event
since up to the safe block (a cycle's few blocks: one eth_getLogs for the posts and the events of all; checked
against the book's commitments; every ``recheck_s`` each one's commitment is asked too) and acts on what the
chain says:

- an open order is announced on the quote channel (again every ``announce_s`` while no qualified quote for it
  is known: pubsub keeps no history), its verified quotes from the channel and each quoting partner's registry
  facts (read once a cycle, however many orders it quoted) go to
  :func:`~pynode.orders.award_policy.decide_award` at the head's time, with the partners at
  ``max_awarded_per_partner`` named busy; ``Award`` sends the award (the quote checked again, the
  design key sealed to the partner's registry key and published only once the award's simulation passed:
  orders/v2/buyer.py), ``Wait`` is decided again only when it ends or a quote for the order arrives,
  ``GiveUp`` cancels the order (``on_give_up = "cancel"``); every rejection is logged once with its reason;
  an award that reverts excludes that quote, so the next cycle takes the next one;
- a shipped order is confirmed once its report checks out (``auto_confirm``); a report that does not is
  logged and left to the buyer;
- an awarded order not shipped by its due date is refunded (``refund_late``).

Sends are pipelined (orders/v2/sends.py): every order's award, confirmation, refund or cancellation goes out
in the cycle that decides it, without waiting for the receipts of the others, one action in flight per order;
each is simulated first, journaled before it is broadcast (send_journal.py: a restarted watcher looks its
rows up instead of deciding those orders again, so no second envelope is sealed for an award still in a
pool) and acted on only for an order whose newest change is ``confirmations`` deep. An order whose
transaction landed is left alone until its tracker has folded that block.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.tx import TxRequest, TxReverted
from pynode.chain.v2.orders import OrderTracker
from pynode.core.address import to_checksum_address
from pynode.core.errors import InputError, Kind, classify
from pynode.crypto.hpke import HpkeKeyPair
from pynode.orders.award_policy import Award, AwardSettings, GiveUp, PartnerFacts, Wait, decide_award
from pynode.orders.quote_channel import QuoteChannel, VerifiedQuote
from pynode.orders.v2.buyer import BuyerV2, QuoteRefused, ReportRefused
from pynode.orders.v2.send_journal import SendJournal
from pynode.orders.v2.sends import Landed, Sends, listed_since
from pynode.orders.v2.settings import WatchLoopSettings
from pynode.orders.v2.watch_inputs import PartnerReads, QuoteFeed, TrackedOrders
from pynode.orders.v2.watch_state import RejectionMemory, Step, next_step
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderStatus, Transition

RETRY_MAX_S = 30.0  # the longest pause before an order whose step failed is tried again


@dataclass
class WatchStatsV2:
    awarded: dict[int, str] = field(default_factory=dict)  # order id -> partner (mined)
    confirmed: list[int] = field(default_factory=list)
    refunded: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    rejected: int = 0  # rejections logged
    sent: Counter = field(default_factory=Counter)  # transactions broadcast, by action


class OrderWatcherV2:
    def __init__(self, buyer: BuyerV2, keypair: HpkeKeyPair, award: AwardSettings, settings: WatchLoopSettings,
                 channel: QuoteChannel | None, log: Callable[..., None] | None = None,
                 on_quote: Callable[[], None] | None = None, journal: SendJournal | None = None) -> None:
        self.buyer = buyer
        self.chain = buyer.chain
        self.keypair = keypair
        self.award = award
        self.settings = settings
        self.channel = channel
        self.log = log or (lambda *a, **k: None)
        self.stats = WatchStatsV2()
        self.quotes = QuoteFeed(channel, self.log, on_quote or (lambda: None))
        self.inbox = self.quotes.inbox
        self.journal = journal or SendJournal()  # in memory: nothing to pick up after a restart
        self.sends = Sends(self.chain.sender(buyer.account), self.journal, confirmations=self.chain.confirmations,
                           log=self.log)
        self.partners = PartnerReads(buyer, self.sends)
        self._told = RejectionMemory()
        self.orders = TrackedOrders(self.chain, self.address)
        self._landed: dict[int, int] = {}  # order id -> block its mined transaction changed it in, not folded yet
        self._checked_at = float("-inf")  # monotonic time of the last recheck: every recheck_s
        self._done: set[int] = set()
        self._confirm_refused: set[int] = set()
        self._waiting: dict[int, int] = {}  # order id -> chain time its Wait ends
        self._gave_up: set[int] = set()
        self._quoted: set[int] = set()  # open orders whose last decision had a qualified quote (not announced again)
        self._backoff: dict[int, tuple[float, float]] = {}  # order id -> (monotonic time it is tried again, pause)
        self._loads: Counter = Counter()  # partner -> this buyer's orders it holds awarded and unshipped
        self._head: int | None = None  # the head the last full cycle read
        self._failed = False  # a step failed in the last cycle
        self._full_at = 0.0  # monotonic time of the last full cycle

    @property
    def address(self) -> str:
        return self.buyer.account.address

    def start(self) -> None:
        """Receives the channel's verified quotes on a thread (ends with :meth:`close`)."""
        self.quotes.start()

    def receive(self, verified: VerifiedQuote) -> None:
        """A verified quote from elsewhere (a file, a test) into the inbox, as if off the channel."""
        self.quotes.receive(verified)

    def close(self) -> None:
        self.quotes.close()
        self.journal.close()

    # ------------------------------------------------------------------------------- cycle

    def cycle(self) -> WatchStatsV2:
        """One head read; the rest only when something can have changed: a new block (the chain's clock moves
        with it), a new quote, a step that failed last time, or a re-announcement due."""
        block = self.chain.head_block()  # through the chain's clock: the sends' base fee, the nonces' resync
        head, now = int(block["number"]), int(block["timestamp"])
        fresh = self.quotes.drain()
        due = time.monotonic() - self._full_at >= self.settings.announce_s
        if head == self._head and not fresh and not self._failed and not due:
            return self.stats
        listed = listed_since(self.chain.rpc, self._head, block, len(self.sends))
        self._head, self._failed, self._full_at = head, False, time.monotonic()
        self.orders.recheck = self._full_at - self._checked_at >= self.settings.recheck_s
        if self.orders.recheck:
            self._checked_at = self._full_at
        for landed in self.sends.poll(head, listed):
            self._on_landed(landed)
        safe = max(head - self.chain.confirmations, self.chain.from_block)
        if self.orders.discover(safe, self._done):
            # the buyer posted (its CLI, another process of the account): the count of nonces kept here is behind,
            # so the next send asks the node's instead of being refused as nonce too low first
            self.sends.sender.nonces.resync()
        self.partners.clear()
        self._loads = Counter(t.partner for i, t in self.orders.trackers.items()
                              if i not in self._done and t.posted and t.status == OrderStatus.AWARDED)
        self._loads.update(f.detail["partner"] for f in self.sends.pending() if f.action == "award")
        for order_id in sorted(set(self.orders.trackers) - self._done):
            if self.sends.busy(order_id) or self._backoff.get(order_id, (0.0, 0.0))[0] > self._full_at:
                continue
            try:
                self._step(order_id, safe, now)
            except Exception as exc:  # one order's trouble never stops the others
                if classify(exc) is Kind.FATAL and not isinstance(exc, (TxReverted, InputError)):
                    raise
                if isinstance(exc, OrderOutOfSync):  # read it whole next time
                    self.orders.trackers[order_id] = OrderTracker(order_id, b"")
                    self.orders.changed.add(order_id)
                self._failed = True  # retried in a later cycle, new block or not
                # ... after a pause doubling per failure: an order whose report or node is away for a while must not
                # slow every cycle of the others
                wait = min(2 * self._backoff.get(order_id, (0.0, 0.5))[1], RETRY_MAX_S)
                self._backoff[order_id] = (self._full_at + wait, wait)
                self.log("watch_retry", order_id=order_id, error=f"{type(exc).__name__}: {exc}"[:300], retry_in_s=wait)
            else:
                self._backoff.pop(order_id, None)
        self.quotes.quoted.clear()
        return self.stats

    def _step(self, order_id: int, safe: int, now: int) -> None:
        tracker = self.orders.tracker(order_id, safe)
        landed = self._landed.get(order_id)
        if landed is not None:
            if tracker.seen[0] < landed:  # our transaction's change is not folded yet (a node's log index lags)
                self.orders.changed.add(order_id)
                return
            del self._landed[order_id]
        step = next_step(self.settings, tracker.status, tracker.due_by, now,
                         confirm_refused=order_id in self._confirm_refused)
        if step is Step.DONE:
            self._finish(tracker)
        elif step is Step.DECIDE:
            self.quotes.announce(self.chain.chain_id, self.chain.book.address, tracker, self.settings.announce_s,
                                 again=order_id not in self._quoted)
            self._decide(tracker, now)
        elif step is Step.CONFIRM:
            self._confirm(tracker)
        elif step is Step.REFUND:
            self._submit(order_id, "refund", self.buyer.refund_request(tracker), due_by=tracker.due_by)

    def _decide(self, tracker: OrderTracker, now: int) -> None:
        order_id = tracker.order_id
        terms_hash = codec.terms_hash(tracker.terms)
        until = self._waiting.get(order_id)
        if until is not None and now < until and terms_hash not in self.quotes.quoted and not self.orders.recheck:
            return  # the Wait holds, and nothing it was decided on changed: no partner read, no decision
        offered = self.inbox.for_terms(terms_hash)
        facts = {p: self.partners.facts(p, tracker.spec) for p in dict.fromkeys(q.partner for q in offered)}
        posted_at = next(link.time for link in tracker.transitions if link.kind == Transition.POSTED)
        limit = self.award.max_awarded_per_partner
        busy = () if limit is None else {partner for partner, n in self._loads.items() if n >= limit}
        decision = decide_award(self.award, tracker.terms, tracker.spec, posted_at, list(offered), facts, now,
                                busy)
        for rejected in self._told.fresh(order_id, decision.rejected):
            self.stats.rejected += 1
            self.log("quote_rejected", order_id=order_id, partner=rejected.quote.partner,
                     price=str(rejected.quote.price), reason=rejected.reason.value, detail=rejected.detail)
        if not isinstance(decision, Wait) or decision.qualified:
            self._quoted.add(order_id)
        else:
            self._quoted.discard(order_id)
        if isinstance(decision, Wait):
            if until != decision.until:
                self.log("award_waiting", order_id=order_id, until=decision.until, quotes=len(offered),
                         qualified=len(decision.qualified))
            self._waiting[order_id] = decision.until
        elif isinstance(decision, Award):
            self._send_award(tracker, offered[decision.quote], facts, now)
        elif isinstance(decision, GiveUp):
            self._give_up(tracker, decision)

    def _send_award(self, tracker: OrderTracker, chosen: VerifiedQuote, facts: dict[str, PartnerFacts],
                    now: int) -> None:
        quote = chosen.signed.quote
        partner = to_checksum_address(quote.partner)
        try:
            award, envelope = self.buyer.award_request(tracker, chosen.signed, self.keypair, facts[quote.partner],
                                                       now, self.partners.info(partner))
            # the key envelope is published once the award's simulation passed: an order changed above the safe
            # block (OrderMismatch: deferred) or a refused award gives the design key to no one
            sent = self._submit(tracker.order_id, "award", award, ready=lambda: self.buyer.vault.publish(envelope),
                                partner=partner, price=str(quote.price), lead_time=quote.lead_time,
                                bond=str(quote.bond), envelope=envelope.cid, digest="0x" + chosen.digest.hex())
        except (TxReverted, QuoteRefused) as exc:  # refused by the simulation or the recheck: the next best
            self._award_failed(tracker.order_id, partner, chosen.digest, f"{type(exc).__name__}: {exc}")
            return
        if not sent:
            return
        self._loads[partner] += 1
        self._waiting.pop(tracker.order_id, None)

    def _award_failed(self, order_id: int, partner: str, digest: bytes, error: str) -> None:
        self.inbox.exclude(digest)
        self._failed = True  # the next best is tried next cycle, new block or not
        self.log("award_failed", order_id=order_id, partner=partner, error=error[:300])

    def _give_up(self, tracker: OrderTracker, decision: GiveUp) -> None:
        order_id = tracker.order_id
        if order_id not in self._gave_up:
            self._gave_up.add(order_id)
            self.log("award_given_up", order_id=order_id, reason=decision.reason.value, detail=decision.detail,
                     action=self.settings.on_give_up)
        if self.settings.on_give_up == "cancel":
            self._submit(order_id, "cancel", self.buyer.cancel_request(tracker))

    def _confirm(self, tracker: OrderTracker) -> None:
        try:
            confirm = self.buyer.confirm_request(tracker)
        except ReportRefused as exc:  # a report that does not check out is the buyer's to dispute, not retried
            self._confirm_refused.add(tracker.order_id)
            self.log("confirm_refused", order_id=tracker.order_id, reason=str(exc)[:300])
            return
        self._submit(tracker.order_id, "confirm", confirm)

    def _submit(self, order_id: int, action: str, tx: TxRequest, ready: Callable[[], object] | None = None,
                **detail: object) -> bool:
        """Sends ``tx`` (``ready``: see Sends.submit); False if its simulation found the order changed above the
        safe block (OrderMismatch)."""
        try:
            tx_hash = self.sends.submit(order_id, action, tx, ready=ready, **detail)
        except TxReverted as exc:
            if exc.error != "OrderMismatch":
                raise
            self.log("send_deferred", order_id=order_id, action=action, reason="order changed above the safe block")
            return False
        self.stats.sent[action] += 1
        self.log("tx_sent", order_id=order_id, action=action, tx=tx_hash)
        return True

    def _finish(self, tracker: OrderTracker) -> None:
        """A terminal order: nothing more to do for it, ever."""
        self._done.add(tracker.order_id)
        self.inbox.forget(codec.terms_hash(tracker.terms))
        self._told.forget(tracker.order_id)
        for kept in (self._waiting, self._landed, self._backoff):  # a watcher runs for months: nothing left behind
            kept.pop(tracker.order_id, None)
        for marked in (self._quoted, self._confirm_refused, self._gave_up):
            marked.discard(tracker.order_id)

    def _on_landed(self, landed: Landed) -> None:
        """A transaction of ours mined, reverted or lost: the order is read again before its next step; a confirm,
        refund or cancel mined deep enough made it terminal (its only outcome): done, its last change not read."""
        order_id, detail = landed.order_id, landed.detail
        tracker = self.orders.trackers.get(order_id)  # none yet for a send the journal restored: read first
        if landed.ok and landed.action != "award" and tracker is not None:
            self._finish(tracker)
        else:
            self.orders.changed.add(order_id)
        if landed.ok and landed.block is not None and landed.action == "award":
            self._landed[order_id] = landed.block
            self.orders.awarded[order_id] = landed.tx_hash  # its events need no commitment read (TrackedOrders)
        if not landed.ok:
            if landed.action == "award" and landed.block is not None:  # reverted on chain: that quote is out
                self._award_failed(order_id, detail["partner"], bytes.fromhex(detail["digest"][2:]),
                                   f"reverted on chain: {landed.reason}")
            else:  # retried from what the chain says next cycle
                self._failed = True
                self.log("send_failed", order_id=order_id, action=landed.action, tx=landed.tx_hash,
                         error=landed.reason[:300])
        elif landed.action == "award":
            self.stats.awarded[order_id] = detail["partner"]
            self.log("awarded", order_id=order_id, partner=detail["partner"], price=detail["price"],
                     lead_time=detail["lead_time"], tx=landed.tx_hash, envelope=detail["envelope"])
        else:
            done = {"confirm": self.stats.confirmed, "refund": self.stats.refunded, "cancel": self.stats.cancelled}
            done[landed.action].append(order_id)
            self.log({"confirm": "confirmed", "refund": "refunded", "cancel": "cancelled"}[landed.action],
                     order_id=order_id, tx=landed.tx_hash, **({"due_by": detail["due_by"]} if "due_by" in detail
                                                              else {}))
