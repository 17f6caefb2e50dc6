"""What marks a v2 node's jobs each cycle (:class:`Scan`): the book's order events over the confirmed blocks
(from the checkpoint on, in the wrapper's bounded LogReader ranges), the order announcements heard on the
quote channel, and the reorg check that rewinds the store when a checkpointed block left the chain.

The store keys a job by the low 63 bits of its v2 order id (:func:`job_key`: SQLite's integer; v2 ids are
192 bits), the full id in the job's order JSON.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.reorg import find_fork
from pynode.chain.v2.orders import ORDER_EVENTS, ZERO32, OrderTracker
from pynode.daemon.store import JobState

if TYPE_CHECKING:
    from pynode.chain.events.decoder import DecodedLog
    from pynode.daemon.v2.node import NodeV2

KEY_MASK = (1 << 63) - 1


@dataclass
class Known:
    """A job's order as the node knows it: read from the chain (checked against orderHash and recordHead) at
    ``read_at`` (monotonic), with the events scanned since folded in (``checked`` False once one was)."""

    tracker: OrderTracker
    read_at: float
    checked: bool


def job_key(order_id: int) -> int:
    """The store's key of a v2 order (SQLite integers are 64-bit signed)."""
    return order_id & KEY_MASK


class Scan:
    def __init__(self, node: NodeV2) -> None:
        self.node = node
        #: number -> hash of blocks read last cycle and seen to descend from the checkpoint (the safe block, and
        #: the head when it is the safe block's child): a new safe block that is one of them or their child
        #: proves the checkpoint still canonical at no request
        self.linked: dict[int, str] = {}

    def check_reorg(self, safe_hash: str, parent_hash: str) -> None:
        """A checkpointed block no longer canonical: rewind the store to the common ancestor, read every active
        order again (its commitment is checked at the safe block anyway) and recount the account's nonces.
        ``safe_hash``/``parent_hash``: the safe block's, just read; when it continues the blocks seen last cycle,
        the stored hashes are not asked for."""
        node = self.node
        if self.linked.get(node.safe) != safe_hash.lower() and self.linked.get(node.safe - 1) != parent_hash.lower():
            fork = find_fork(node.rpc, node.store.known_blocks())
            if fork is not None:
                node.store.rewind(fork)
                node.trackers.clear()
                node.dirty.update(job.order_id for job in node.store.active_jobs())
                node.tx.nonces.resync()
                node.log.warning("reorg", common_ancestor=fork)
        self.linked = {node.safe: safe_hash.lower()}

    def link_head(self, head: int, head_hash: str, head_parent: str) -> None:
        """Remembers the head for the next cycle's check when it is the safe block's child (confirmations = 1)."""
        if self.linked.get(head - 1) == head_parent.lower():
            self.linked[head] = head_hash.lower()

    def events(self, safe_hash: str) -> None:
        """The order events of the confirmed blocks since the checkpoint: new orders become jobs, others mark
        theirs. ``safe_hash``, read before the logs, is kept for the reorg check."""
        node = self.node
        last = node.store.last_processed()
        start = last + 1 if last is not None else (node.config.start_block or node.from_block)
        if start > node.safe:
            return
        logs = node.book.logs(ORDER_EVENTS, from_block=start, to_block=node.safe)
        self.fold(logs)
        with node.store.transaction():
            for log in logs:
                order_id = int(log.args["orderId"])
                if log.event == "OrderPosted":
                    node.book.note_posted(order_id, log.block_number)
                    self.note(order_id, log.block_number)
                elif node.store.get_job(job_key(order_id)) is not None:
                    node.dirty.add(job_key(order_id))
            node.store.advance(node.safe, {node.safe: safe_hash})

    def fold(self, logs: list[DecodedLog]) -> None:
        """The scanned events folded into the orders the node knows, and a new order born from its OrderPosted
        (its terms hash to its id): a job reads its order from the chain only when it has none, or every
        REFRESH_S, or before it ends (:meth:`.node.NodeV2.verified`). A log that does not follow (a fold that
        went wrong, a reorg) drops the order: the next step reads it from the chain, checked."""
        node, book = self.node, self.node.book
        wanted = [log for log in logs if log.event == "OrderPosted" or job_key(int(log.args["orderId"])) in
                  node.trackers]
        book.prefetch(wanted)  # block times a node did not send with its logs, the senders of "anyone" links
        for log in wanted:
            order_id = int(log.args["orderId"])
            key = job_key(order_id)
            known = node.trackers.get(key)
            if known is None:
                known = node.trackers[key] = Known(OrderTracker(order_id, book.genesis_of(order_id)),
                                                   time.monotonic(), False)
            elif (log.block_number, log.log_index) <= known.tracker.seen:
                continue  # folded already (a rewind scans again)
            try:
                book.apply(known.tracker, log)
            except OrderOutOfSync:
                del node.trackers[key]
                continue
            known.checked = False

    def drain_heard(self) -> None:
        """Announced orders the scan has not reached: a job at once if the book holds them at the safe block. An
        order announced again whose job holds an open quote: the buyer listens now, the quote goes out again."""
        node = self.node
        for announcement in node.listener.drain():
            key = job_key(announcement.order_id)
            job = node.store.get_job(key)
            if job is not None:
                node.acts.quotes.asked(job, node.acts.quote_now())
            elif node.book.order_hash(announcement.order_id, node.safe) != ZERO32:
                self.note(announcement.order_id, None)

    def note(self, order_id: int, block: int | None) -> None:
        key = job_key(order_id)
        if self.node.store.get_job(key) is None:
            self.node.store.upsert_job(key, JobState.SEEN, {"order_id": str(order_id)}, block=block)
        self.node.dirty.add(key)
