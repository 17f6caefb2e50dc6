"""The node's view of the chain: scan → apply → checkpoint, the reorg rewind, and the orders as confirmed.

Each cycle (:meth:`Sync.follow`): on a new head whose link to the last cycle's head was not seen, the
stored hashes of processed blocks are compared with the chain (``reorg.find_fork``); on a fork the store
rewinds to the common ancestor and every job a vanished block touched is re-evaluated. Then
``eth_getLogs`` runs over the confirmed blocks only (head minus ``confirmations``), from the checkpoint
on, in the events reader's bounded ranges; each batch is decoded on the fast path and applied to the jobs
table in the *same* SQLite transaction that moves ``last_processed`` (``last_seen`` follows the head).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pynode.chain.known_orders import KnownOrders
from pynode.chain.orders import OrderTracker, record_actor
from pynode.chain.reorg import find_fork
from pynode.daemon.jobs import REFRESH_S
from pynode.daemon.store import JobState

if TYPE_CHECKING:
    from pynode.chain.client import Chain
    from pynode.daemon.node import Node


class Sync:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.safe_head = -1
        self.orders: KnownOrders | None = None  # orders as the scanned events build them (see load())
        self._tip: tuple[int, bytes] | None = None
        self._cache: dict[Any, Any] = {}  # reads at the head ``_tip``: valid until the head changes
        self._partner_info: tuple[float, Any] | None = None  # (when read, own registry entry at the safe block)

    def connected(self, chain: Chain) -> None:
        """A new connection: the orders are built again from its events."""
        self.orders = KnownOrders(chain.book)

    def follow(self, head_block: Mapping[str, Any]) -> None:
        """Brings the store up to the safe block under ``head_block`` (reorg check, scan)."""
        node = self.node
        head = int(head_block["number"])
        last_tip = self._tip
        moved = self.new_head(head_block)
        self.safe_head = head - node.config.confirmations
        node.store.note_seen(head)
        # the same head hash is the same chain: nothing to compare; neither when every head since the last
        # cycle's was seen as the child of the one before (the block clock: this cycle's and those a receipt
        # wait read), since the last cycle's head's parent link is the newest stored block
        if moved and not (last_tip is not None and node.sender.clock.chained({"number": last_tip[0],
                                                                               "hash": last_tip[1]})):
            self.check_reorg()
        # the head's parent link is the hash of block head - 1 (the safe block at confirmations = 1), and the
        # head's own hash that of the safe block at confirmations = 0: neither is asked for again
        self.scan(self.safe_head, {head - 1: "0x" + bytes(head_block["parentHash"]).hex(),
                                   head: "0x" + bytes(head_block["hash"]).hex()})

    def new_head(self, head_block: Mapping[str, Any]) -> bool:
        """Starts the per-head cache (chain time, orders as loaded) on a new head; False when the head is
        the one the last cycle saw, whose reads all still hold."""
        tip = (int(head_block["number"]), bytes(head_block["hash"]))
        if tip == self._tip:
            return False
        self._tip = tip
        self._cache = {"now": int(head_block["timestamp"])}
        return True

    def now(self) -> int:
        """Chain time: the head's timestamp."""
        return self._cache["now"]

    def check_reorg(self) -> None:
        node = self.node
        fork = find_fork(node.chain.w3, node.store.known_blocks())
        if fork is None:
            return
        touched = node.store.rewind(fork)
        node.dirty.update(touched)
        self.forget()
        node.sender.sender.nonces.resync()  # the vanished blocks may have held our transactions
        node.log.warning("reorg", common_ancestor=fork, jobs_to_recheck=touched)

    def scan(self, safe_head: int, known_hashes: Mapping[int, str] | None = None) -> None:
        node, chain, store = self.node, self.node.chain, self.node.store
        last = store.last_processed()
        start = (last + 1) if last is not None else (node.config.start_block if node.config.start_block is not None
                                                     else chain.from_block)
        if start > safe_head:
            return
        book, registry = chain.book.address, chain.registry.address
        for batch in chain.reader.batches([book, registry], start, safe_head, known_hashes=known_hashes):
            started = time.perf_counter()
            events = node.decoder.decode_all(batch.logs)
            node.metrics.observe_decode(len(events), time.perf_counter() - started)
            suspended = False
            with store.transaction():
                for ev in events:
                    if ev.address == book and "orderId" in ev.args:
                        if ev.event == "OrderPosted":
                            chain.book.note_posted(int(ev.args["orderId"]), ev.block_number)
                        self.orders.fold(ev.event, ev.args)  # type: ignore[union-attr]  # set on connecting
                        self.apply(ev)
                    elif ev.address == registry and _names(ev, node.address):
                        self._partner_info = None  # our registry entry changed: read it again
                        suspended = suspended or ev.event == "PartnerSuspended"
                store.advance(batch.to_block, batch.block_hashes)
            if suspended:
                node.partner.check_standing()  # still suspended now? then stop
            if node.stopping:
                return

    def forget(self, order_id: int | None = None) -> None:
        """Drops what the scanned events built (a reorg, or the chain disagreeing with it): read it again."""
        if self.orders is not None:
            self.orders.forget(order_id)
        if order_id is None:
            self._partner_info = None

    def apply(self, ev: Any) -> None:
        store = self.node.store
        order_id = int(ev.args["orderId"])
        job = store.get_job(order_id)
        if ev.event == "OrderPosted":
            if job is None:
                spec, terms = ev.args["spec"], ev.args["terms"]
                summary = {"buyer": terms["buyer"], "price": str(terms["price"]), "token": terms["token"],
                           "processes": spec["processes"], "materials": spec["materials"],
                           "posted_block": ev.block_number}
                store.upsert_job(order_id, JobState.SEEN, summary, block=ev.block_number)
            else:
                state = JobState.SEEN if job.state is JobState.CLOSED else job.state
                store.upsert_job(order_id, state, block=ev.block_number)
        elif job is not None:
            store.upsert_job(order_id, job.state, block=ev.block_number)
            if record_actor(ev.event, ev.args) == self.node.address:
                return  # our own transaction: the step that sent it already decided what comes next
        else:
            return
        self.node.dirty.add(order_id)

    def load(self, order_id: int) -> OrderTracker | None:
        """The order at the confirmed block, or None while one of the node's own transactions for it is short
        of confirmation depth (the safe block does not show it yet).

        The order comes from the scanned events once the chain's commitment at the safe block confirms them
        (:mod:`pynode.chain.known_orders`: one ``orderHash`` call per change). Someone else's change above the
        safe block needs no read: every transaction the node sends passes the order, so its simulation refuses
        a stale one (and a claim's is made against the pending state first).
        """
        if self.node.awaiting.about(order_id):
            return None  # not cached: the wait ends with a confirmation, which need not bring a new head
        key = ("order", order_id)
        if key not in self._cache:
            self._cache[key] = self.orders.at(  # type: ignore[union-attr]  # set on connecting, first
                order_id, max(self.safe_head, 0), self.node.chain.from_block)
        return self._cache[key]

    def info(self) -> Any:
        """The node's registry entry at the safe block (a capability gained in a block that may still vanish
        does not count yet); read again when a scanned registry event names the node, after a reorg, and
        every REFRESH_S (an expiring certification changes no event)."""
        if self._partner_info is None or time.monotonic() - self._partner_info[0] > REFRESH_S:
            chain = self.node.chain
            info = chain.registry.partner_info(self.node.address, max(self.safe_head, chain.from_block))
            self._partner_info = (time.monotonic(), info)
        return self._partner_info[1]


def _names(ev: Any, address: str) -> bool:
    """Whether a registry event is about ``address`` (any address argument)."""
    return any(isinstance(v, str) and v.lower() == address.lower() for v in ev.args.values())
