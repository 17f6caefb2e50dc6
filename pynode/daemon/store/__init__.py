"""The node's durable state: one SQLite file in WAL mode, safe to SIGKILL at any moment.

Why SQLite: a transaction is atomic across tables, so "apply the events of
blocks a..b" and "last_processed = b" commit together or not at all; a node
killed mid-way restarts from the old checkpoint and re-applies the same
blocks (applying is idempotent: it is keyed by order id). WAL lets the metrics
thread read while the loop writes, and ``synchronous=FULL`` makes a commit
durable before we act on it (the actions journal is written *before* a tx is
sent, so it must survive a power cut too).

One part per table group, each a class over the same connection (``database.py``; the
tables and their migrations are in ``schema.py``, the version in ``PRAGMA user_version``):

* ``checkpoints.py``: ``last_seen`` (highest block fetched/observed), ``last_processed``
  (highest block whose events are fully applied) and the hashes of the newest
  ``keep_blocks`` processed blocks, for reorg detection.
* ``job_table.py``: one row per order the node cares about (``Job``, ``JobState``).
* ``action_journal.py``: idempotency journal of on-chain actions, planned -> sent -> mined | failed
  (``Action``, ``ActionStatus``).

``Store`` joins them, and ``rewind`` spans them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pynode.daemon.store.action_journal import Action, ActionJournal, ActionStatus
from pynode.daemon.store.checkpoints import KEEP_BLOCKS, Checkpoints
from pynode.daemon.store.job_table import TERMINAL_STATES, Job, JobState, JobTable, to_json
from pynode.daemon.store.schema import SCHEMA_VERSION

__all__ = ["KEEP_BLOCKS", "SCHEMA_VERSION", "TERMINAL_STATES", "Action", "ActionStatus", "Job", "JobState", "Store",
           "to_json"]


class Store(Checkpoints, JobTable, ActionJournal):
    """The node's SQLite state: one connection, used from the thread that opened it.

    Every method is atomic on its own; several calls inside ``with store.transaction():``
    commit together (or roll back together if the block raises or the process dies).
    """

    def __init__(self, path: Path, *, keep_blocks: int = KEEP_BLOCKS, clock: Callable[[], float] = time.time) -> None:
        self.keep_blocks = keep_blocks
        super().__init__(path, clock=clock)

    def rewind(self, to_block: int) -> list[int]:
        """Forgets everything above ``to_block`` after a reorg.

        Deletes stored hashes above it, lowers both checkpoints to it, and marks
        the jobs changed by a block above it ``needs_refresh`` (the daemon
        re-reads their state from the chain). Returns those order ids.
        """
        with self.transaction():
            self._forget_blocks_above(to_block)
            return self._flag_changed_above(to_block)
