"""What marks a v2 node's jobs each cycle (:class:`Scan`): the book's order events over the confirmed blocks
(from the checkpoint on, in the wrapper's bounded LogReader ranges), the order announcements heard on the
quote channel, and the reorg check that rewinds the store when a checkpointed block left the chain.

The store keys a job by the low 63 bits of its v2 order id (:func:`job_key`: SQLite's integer; v2 ids are
192 bits), the full id in the job's order JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynode.chain.reorg import find_fork
from pynode.chain.v2.orders import ORDER_EVENTS, ZERO32
from pynode.daemon.store import JobState

if TYPE_CHECKING:
    from pynode.daemon.v2.node import NodeV2

KEY_MASK = (1 << 63) - 1


def job_key(order_id: int) -> int:
    """The store's key of a v2 order (SQLite integers are 64-bit signed)."""
    return order_id & KEY_MASK


class Scan:
    def __init__(self, node: NodeV2) -> None:
        self.node = node

    def check_reorg(self) -> None:
        """A checkpointed block no longer canonical: rewind the store to the common ancestor, read every active
        order again (its commitment is checked at the safe block anyway) and recount the account's nonces."""
        node = self.node
        fork = find_fork(node.w3, node.store.known_blocks())
        if fork is None:
            return
        node.store.rewind(fork)
        node.trackers.clear()
        node.dirty.update(job.order_id for job in node.store.active_jobs())
        node.tx.nonces.resync()
        node.log.warning("reorg", common_ancestor=fork)

    def events(self, safe_hash: str) -> None:
        """The order events of the confirmed blocks since the checkpoint: new orders become jobs, others mark
        theirs. ``safe_hash``, read before the logs, is kept for the reorg check."""
        node = self.node
        last = node.store.last_processed()
        start = last + 1 if last is not None else (node.config.start_block or node.from_block)
        if start > node.safe:
            return
        logs = node.book.logs(ORDER_EVENTS, from_block=start, to_block=node.safe)
        with node.store.transaction():
            for log in logs:
                order_id = int(log.args["orderId"])
                if log.event == "OrderPosted":
                    node.book.note_posted(order_id, log.block_number)
                    self.note(order_id, log.block_number)
                elif node.store.get_job(job_key(order_id)) is not None:
                    node.dirty.add(job_key(order_id))
            node.store.advance(node.safe, {node.safe: safe_hash})

    def drain_heard(self) -> None:
        """Announced orders the scan has not reached: a job at once if the book holds them at the safe block."""
        node = self.node
        for announcement in node.listener.drain():
            key = job_key(announcement.order_id)
            if node.store.get_job(key) is None and node.book.order_hash(announcement.order_id, node.safe) != ZERO32:
                self.note(announcement.order_id, None)

    def note(self, order_id: int, block: int | None) -> None:
        key = job_key(order_id)
        if self.node.store.get_job(key) is None:
            self.node.store.upsert_job(key, JobState.SEEN, {"order_id": str(order_id)}, block=block)
        self.node.dirty.add(key)
