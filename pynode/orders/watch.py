"""The buyer's side of the daemon machinery: award the first qualified claim automatically (opt-in).

`fabmesh node watch-orders` runs :class:`OrderWatcher` in a loop. Each cycle
reads every order event of the new confirmed blocks (one ``eth_getLogs``), folds
those of the buyer's orders into them (checked against the chain's commitment at
the safe block once per change: chain/known_orders.py), looks at those that a new
claim or shipment touched (and compares every open one with the chain now and
then, in case a step failed or a log was missed) and acts on what the chain
says, so it is idempotent and restart-safe without local state: a claimed order whose
claimant qualifies is awarded (the design key is sealed to the claimant's
registered HPKE key and the envelope pinned), a shipped order is confirmed if
``auto_confirm`` is on. Claims are exclusive (Open -> Claimed), so "the first
qualified claim" is the claim on the order when it qualifies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_utils import to_checksum_address

from pynode.chain.contracts import OrderOutOfSync, PartnerInfo
from pynode.chain.known_orders import KnownOrders
from pynode.chain.orders import ORDER_EVENTS, OrderTracker, order_hash
from pynode.chain.tx import TxReverted
from pynode.core.errors import Kind, classify
from pynode.crypto.hpke import HpkeKeyPair
from pynode.orders.buyer import Buyer
from pynode.protocol.types import Status, is_terminal

REFRESH_S = 60.0  # every open order is re-read at least this often, news or not


@dataclass(frozen=True)
class AwardPolicy:
    auto_award: bool = True
    auto_confirm: bool = False
    min_completed: int = 0
    max_failed_qa: int | None = None
    allowed_partners: frozenset[str] = frozenset()  # checksummed; empty: any vetted partner


@dataclass
class WatchStats:
    awarded: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


class OrderWatcher:
    def __init__(self, buyer: Buyer, keypair: HpkeKeyPair, policy: AwardPolicy,
                 log: Callable[..., None] | None = None) -> None:
        self.buyer = buyer
        self.chain = buyer.chain
        self.keypair = keypair
        self.policy = policy
        self.log = log or (lambda *a, **k: None)
        self._known: set[int] = set()
        self._done: set[int] = set()
        self._dirty: set[int] = set()
        self._refreshed_at = 0.0
        self._head: int | None = None  # the head the last cycle read
        self._failed = False  # a step raised in the last cycle
        self._next_block = self.chain.from_block
        self.orders = KnownOrders(self.chain.book)  # the buyer's orders as the scanned events build them
        # the events this policy answers (a claim: award, a shipment: confirm); one it does not answer is no
        # reason to read the order (a missed or wrong one is caught by the periodic refresh all the same)
        self._answers = {event for event, on in (("OrderClaimed", policy.auto_award),
                                                 ("OrderShipped", policy.auto_confirm)) if on}
        self.stats = WatchStats()

    @property
    def address(self) -> str:
        return self.buyer.account.address

    def qualifies(self, tracker: OrderTracker, safe: int | None = None) -> str | None:
        """None if the claimant may be awarded, else why not."""
        return self._qualifies(tracker, safe)[0]

    def _qualifies(self, tracker: OrderTracker, safe: int | None) -> tuple[str | None, PartnerInfo | None]:
        """Why not (or None), and the claimant's registry entry at the head (the award reuses it)."""
        partner = to_checksum_address(tracker.state.partner)
        if self.policy.allowed_partners and partner not in self.policy.allowed_partners:
            return "not in allowed_partners", None
        info = self.chain.registry.partner_info(partner)
        if info.completed < self.policy.min_completed:
            return f"{info.completed} completed orders, fewer than {self.policy.min_completed}", info
        if self.policy.max_failed_qa is not None and info.failed_qa > self.policy.max_failed_qa:
            return f"{info.failed_qa} failed QA, more than {self.policy.max_failed_qa}", info
        return self.buyer.claimant_refusal(tracker, safe), info  # vetting, suspension, unbonding, certifications

    def _discover(self, head: int) -> None:
        head -= self.chain.confirmations
        if head < self._next_block:
            return
        # one query for every order event (a metered provider bills requests, not bytes): the buyer's own
        # posts, and what changes its orders, folded into them (chain/known_orders.py)
        posted, touched = set(), set()
        me = to_checksum_address(self.address)
        for event in self.chain.book.logs(ORDER_EVENTS, from_block=self._next_block, to_block=head):
            order_id = int(event.args["orderId"])
            if event.event == "OrderPosted":
                if to_checksum_address(event.args["buyer"]) != me:
                    continue
                posted.add(order_id)
                self.chain.book.note_posted(order_id, event.block_number)
            elif order_id not in self._known | posted:
                continue
            self.orders.fold(event.event, event.args)
            if event.event in self._answers:
                touched.add(order_id)
        self._known |= posted
        self._dirty |= touched  # a new post has nothing to answer yet: its claim will touch it
        self._next_block = head + 1

    def cycle(self) -> WatchStats:
        """One head read; the rest only when a new block came (nothing the watcher reads changes without
        one), a step failed last time (retried every cycle) or the periodic refresh is due. The head is read
        as a whole block (one request either way): the connection's clock keeps it, so an award sent in this
        cycle takes its fees from it and paces its receipt wait by the heads seen."""
        head = self.chain.head()
        refresh = time.monotonic() - self._refreshed_at >= REFRESH_S
        if head == self._head and not refresh and not self._failed:
            return self.stats
        self._head, self._failed = head, False
        self._discover(head)
        if refresh:  # compared with the chain's commitment again (unless it was within REFRESH_S): a log
            for order_id in self._known - self._done:  # missed is caught here
                self.orders.doubt(order_id, REFRESH_S)
            self._dirty |= self._known
            self._refreshed_at = time.monotonic()
        for order_id in sorted(self._dirty - self._done):
            try:
                if self._step(order_id, head):
                    self._dirty.discard(order_id)
            except Exception as exc:  # sorted: one order's trouble never stops the others
                if classify(exc) is Kind.FATAL and not isinstance(exc, TxReverted):
                    raise
                if isinstance(exc, (TxReverted, OrderOutOfSync)):
                    self.orders.forget(order_id)  # the chain disagrees with what was built: read it whole
                self._failed = True
                self.log("watch_retry", order_id=order_id, error=f"{type(exc).__name__}: {exc}"[:300])
        return self.stats

    def _step(self, order_id: int, head: int) -> bool:
        """Acts on the order as the safe block has it; False while a claim's newest change is short of that
        depth (a claim 1 block deep may still vanish, and sealing the design key to it cannot be undone)."""
        safe = max(head - self.chain.confirmations, self.chain.from_block)
        tracker = self.orders.at(order_id, safe, self.chain.from_block)
        status = tracker.status
        if self._settling(tracker, safe, head):
            return False  # changed again above the safe block: look when that change is deep
        if is_terminal(status):
            self._done.add(order_id)
        elif status == Status.CLAIMED and self.policy.auto_award:
            partner = tracker.state.partner
            reason, info = self._qualifies(tracker, safe)
            if reason is not None:
                if self.stats.refused.get(order_id) != reason:
                    self.log("award_refused", order_id=order_id, partner=partner, reason=reason)
                self.stats.refused[order_id] = reason
                return True
            sent, envelope_cid = self.buyer.award(order_id, partner, self.keypair, tracker, info=info, eligible=True)
            self.stats.awarded.append(order_id)
            self.log("awarded", order_id=order_id, partner=partner, tx=sent.tx_hash, envelope=envelope_cid)
        elif status == Status.SHIPPED and self.policy.auto_confirm:
            # the confirmation passes the order back: its simulation refuses a change above the safe block
            sent = self.buyer.act("confirm", order_id, tracker)
            self.stats.confirmed.append(order_id)
            self.log("confirmed", order_id=order_id, tx=sent.tx_hash)
        return True

    def _settling(self, tracker: OrderTracker, safe: int, head: int) -> bool:
        """Whether the order changed above the safe block, asked (one ``orderHash`` at the head) only where
        that matters: before an award (sealing the design key cannot be undone) or a confirmation, and for an
        open order while someone listens for progress (a claim is told as it deepens)."""
        answers = (tracker.status == Status.CLAIMED and self.policy.auto_award) or \
            (tracker.status == Status.SHIPPED and self.policy.auto_confirm)
        shown = self.chain.on_progress is not None and tracker.status == Status.OPEN
        if not self.chain.confirmations or not (answers or shown):
            return False
        if self.chain.book.order_hash(tracker.order_id, head) == order_hash(tracker.order):
            return False
        if self.chain.on_progress is not None:
            self.chain.on_progress(self.chain.change_progress(tracker.order_id, safe + 1, head))
        return True
