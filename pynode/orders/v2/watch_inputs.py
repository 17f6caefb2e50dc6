"""What the v2 watcher decides on: its orders as the chain holds them (one event scan a cycle for all), the
quotes off the channel (and its orders' announcements there), and the quoting partners' registry facts, each
read once a cycle however many orders it quoted."""

from __future__ import annotations

import copy
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pynode.chain.contracts import OrderOutOfSync, _topic_for_address, _topic_for_uint
from pynode.chain.v2.orders import ORDER_EVENTS, OrderTracker
from pynode.core.address import to_checksum_address
from pynode.core.errors import Kind, classify
from pynode.documents.order_announcement import OrderAnnouncement
from pynode.orders.award_policy import PartnerFacts
from pynode.orders.quote_channel import QuoteChannel, VerifiedQuote
from pynode.orders.v2.watch_state import QuoteInbox, announce_due
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderSpec, Transition

if TYPE_CHECKING:
    from pynode.chain.events.decoder import DecodedLog
    from pynode.chain.v2.registry import PartnerInfoV2
    from pynode.orders.v2.buyer import BuyerV2, ChainV2
    from pynode.orders.v2.sends import Sends


class QuoteFeed:
    """Verified quotes received off the channel on a thread (or handed in), moved into the inbox by the cycle."""

    def __init__(self, channel: QuoteChannel | None, log: Callable[..., None], on_quote: Callable[[], None]) -> None:
        self.channel = channel
        self.log = log
        self.on_quote = on_quote  # a quote arrived: e.g. wake the loop
        self.inbox = QuoteInbox()
        self.quoted: set[bytes] = set()  # terms hashes a quote arrived for since the cycle last cleared it
        self._arrived: queue.SimpleQueue[VerifiedQuote] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._announced: dict[int, float] = {}  # order id -> monotonic time of its last announcement

    def start(self) -> None:
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
        self._arrived.put(verified)

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def announce(self, chain_id: int, book: str, tracker: OrderTracker, every_s: float, *, again: bool) -> None:
        """Announces an open order at first sight, then every ``every_s`` while ``again`` (no qualified quote for
        it known: pubsub keeps no history, and shops quote, or publish their quote again, when asked). An order
        with a quote in hand is not announced again: every shop would answer every announcement."""
        last = self._announced.get(tracker.order_id)
        if self.channel is None or (last is not None and not again) or \
                not announce_due(last, time.monotonic(), every_s):
            return
        try:
            self.channel.announce(OrderAnnouncement(chain_id, book, tracker.order_id, codec.terms_hash(tracker.terms)))
        except Exception as exc:  # quotes already received still count: the award goes on; retried next cycle
            if classify(exc) is not Kind.TRANSIENT:
                raise
            self.log("announce_failed", order_id=tracker.order_id, error=f"{type(exc).__name__}: {exc}"[:300])
            return
        self._announced[tracker.order_id] = time.monotonic()

    def drain(self) -> bool:
        """Moves the quotes received since into the inbox; whether any was new."""
        fresh = False
        while not self._arrived.empty():  # the only consumer: what empty() saw is there to get
            verified = self._arrived.get()
            if self.inbox.add(verified):
                fresh = True
                quote = verified.signed.quote
                self.quoted.add(quote.terms_hash)
                self.log("quote_received", partner=quote.partner, price=str(quote.price), lead_time=quote.lead_time,
                         terms_hash="0x" + quote.terms_hash.hex(), digest="0x" + verified.digest.hex())
        return fresh


class PartnerReads:
    """Each quoting partner's registry entry, read at most once a cycle (:meth:`clear` starts one), and its facts
    for an order's spec, net of the bonds the watcher's awards in flight will lock."""

    def __init__(self, buyer: BuyerV2, sends: Sends) -> None:
        self.buyer = buyer
        self.sends = sends
        self._infos: dict[str, PartnerInfoV2] = {}

    def clear(self) -> None:
        self._infos = {}

    def info(self, partner: str) -> PartnerInfoV2:
        key = to_checksum_address(partner)
        if key not in self._infos:
            self._infos[key] = self.buyer.chain.registry.partner_info(key)
        return self._infos[key]

    def facts(self, partner: str, spec: OrderSpec) -> PartnerFacts:
        """So no award is sent that the partner's free bond cannot cover once the ones in flight have locked theirs."""
        key = to_checksum_address(partner)
        facts = self.buyer.partner_facts(key, spec, info=self.info(key))
        locking = sum(int(f.detail["bond"]) for f in self.sends.pending()
                      if f.action == "award" and f.detail["partner"] == key)
        return facts._replace(free_bond=facts.free_bond - locking) if locking else facts


#: a range this short is read for every buyer's order events in one request, longer ones filtered by order
ONE_QUERY_BLOCKS = 32


class TrackedOrders:
    """The buyer's orders as the watcher knows them: found by its posts, each brought up to the safe block from
    the events one scan a cycle reads for all of them, and checked against the book's commitments (``orderHash``
    and ``recordHead`` at that block) in batches: a cycle's round trips do not grow with the orders that moved.
    An order whose fold does not reproduce them is read from its own logs (OrderBookV2.update / load_order).

    An order whose only new events are those of the buyer's own award, mined (``awarded``), is not asked: the
    book took the award only for the order it was built from, the tracker it has (every later write passes the
    whole order, so it is the one the book held), and the award's events, folded onto it, are the book's next
    state (the award leaves the record chain as it was); a log the node left out is caught by the next check."""

    def __init__(self, chain: ChainV2, buyer: str) -> None:
        self.chain = chain
        self.buyer = buyer
        self.trackers: dict[int, OrderTracker] = {}
        self.changed: set[int] = set()  # orders whose tracker is not known to be the book's at the safe block
        self._new_logs: dict[int, list[DecodedLog]] = {}  # their events, as the scan read them
        self.recheck = False  # this cycle checks every live order's commitments too (an event the scan missed)
        self.awarded: dict[int, str] = {}  # order id -> the hash of the buyer's own award mined, not folded yet
        self.next_block = chain.from_block

    def discover(self, safe: int, done: set[int]) -> int:
        """The buyer's new posts, then every live order's events since the last cycle, folded and checked
        (:meth:`_check`); how many new posts were found. Over a cycle's few blocks one eth_getLogs of the book's
        order events, sorted here (a few blocks of every buyer's orders are a few logs); over a longer range (the
        first cycle's catch-up) two filtered ones, however many orders are open."""
        if safe < self.next_block:
            return 0
        book = self.chain.book
        found = len(self.trackers)
        every = book.logs(ORDER_EVENTS, from_block=self.next_block, to_block=safe) \
            if safe - self.next_block < ONE_QUERY_BLOCKS else None
        posts = [e for e in every if e.event == "OrderPosted"] if every is not None else \
            book.logs(("OrderPosted",), None, _topic_for_address(self.buyer), from_block=self.next_block,
                      to_block=safe)
        for event in posts:
            if int(event.args["buyer"], 16) != int(self.buyer, 16):
                continue  # another buyer's (the unfiltered read)
            order_id = int(event.args["orderId"])
            book.note_posted(order_id, event.block_number)
            self.trackers.setdefault(order_id, OrderTracker(order_id, book.genesis_of(order_id)))
        tracked = sorted(set(self.trackers) - done)
        if tracked:  # the new orders' own posts among them
            live = set(tracked)
            logs = [e for e in every if int(e.args["orderId"]) in live] if every is not None else \
                book.logs(ORDER_EVENTS, [_topic_for_uint(i) for i in tracked], from_block=self.next_block,
                          to_block=safe)
            for log in logs:
                self._new_logs.setdefault(int(log.args["orderId"]), []).append(log)
            self.changed.update(self._new_logs)
            book.prefetch(logs)  # their block times (and senders) in batches, for every order at once
        self.next_block = safe + 1
        self._check(safe, done)
        return len(self.trackers) - found

    def _check(self, safe: int, done: set[int]) -> None:
        ids = sorted((self.changed | (set(self.trackers) if self.recheck else set())) - done)
        book, folded = self.chain.book, {}
        for order_id in [i for i in self.awarded if i in done]:
            del self.awarded[order_id]
        for order_id in ids:
            known = self.trackers[order_id]
            logs = [log for log in self._new_logs.get(order_id, []) if (log.block_number, log.log_index) > known.seen]
            updated = copy.deepcopy(known) if logs else known
            try:
                for log in logs:
                    book.apply(updated, log)
            except OrderOutOfSync:
                continue  # read from its logs when its turn comes
            own = self.awarded.pop(order_id, "") if logs else ""
            if own and known.posted and all(log.tx_hash.lower() == own.lower() for log in logs):
                self._take(order_id, updated)
            else:
                folded[order_id] = updated
        # the book writes records (serials, attestations, a dispute's fees and evidence) only of an awarded order:
        # one whose transitions are its post alone, which its orderHash confirms, holds none to ask recordHead for
        posted_only = {i for i, t in folded.items() if all(link.kind == Transition.POSTED for link in t.transitions)}
        for order_id, (order_hash, record_head) in book.commitments(list(folded), safe,
                                                                   records=lambda i: i not in posted_only).items():
            updated = folded[order_id]
            if book.matches(updated, order_hash, safe, updated.record_head if record_head is None else record_head):
                self._take(order_id, updated)
            else:
                self.changed.add(order_id)

    def _take(self, order_id: int, updated: OrderTracker) -> None:
        self.trackers[order_id] = updated
        self.changed.discard(order_id)
        self._new_logs.pop(order_id, None)

    def tracker(self, order_id: int, safe: int) -> OrderTracker:
        """The order at the safe block; one whose fold the check did not confirm is read from its logs."""
        known = self.trackers[order_id]
        if order_id in self.changed:
            book = self.chain.book
            known = book.update(known, self.chain.from_block, safe) if known.posted else \
                book.load_order(order_id, self.chain.from_block, safe)
            self.trackers[order_id] = known
            self.changed.discard(order_id)
            self._new_logs.pop(order_id, None)
        return known
