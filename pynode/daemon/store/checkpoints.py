"""How far the node has read the chain: the two checkpoints and the hashes of recent blocks.

``last_seen`` is the highest block fetched or observed, ``last_processed`` the highest whose
events are fully applied (silverback keeps the same pair); the newest ``keep_blocks`` block
hashes let the daemon find where a reorg forked.
"""

from __future__ import annotations

from collections.abc import Mapping

from pynode.core.errors import FatalError
from pynode.daemon.store.database import Database

KEEP_BLOCKS = 256


class Checkpoints(Database):
    keep_blocks: int = KEEP_BLOCKS

    def _checkpoint(self, name: str) -> int | None:
        row = self._db.execute("SELECT block FROM checkpoints WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def _set_checkpoint(self, name: str, block: int) -> None:
        self._db.execute(
            "INSERT INTO checkpoints (name, block, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET block = excluded.block, updated_at = excluded.updated_at",
            (name, block, self._now()))

    def last_seen(self) -> int | None:
        """Highest block fetched or observed (may be ahead of last_processed)."""
        return self._checkpoint("last_seen")

    def last_processed(self) -> int | None:
        """Highest block whose events are fully applied: resume from the next one."""
        return self._checkpoint("last_processed")

    def note_seen(self, block: int) -> None:
        """Raises last_seen to ``block`` (never lowers it; ``rewind`` does that)."""
        with self.transaction():
            current = self.last_seen()
            if current is None or block > current:
                self._set_checkpoint("last_seen", block)

    def advance(self, to_block: int, block_hashes: Mapping[int, str] = {}) -> None:  # the {} default is only read
        """Marks blocks up to ``to_block`` as applied and remembers their hashes.

        Call it inside the same ``transaction()`` as the job updates of those
        blocks. Refuses to go backwards (that is ``rewind``'s job).
        """
        with self.transaction():
            current = self.last_processed()
            if current is not None and to_block < current:
                raise FatalError(f"checkpoint would go back from {current} to {to_block}: use rewind()")
            if any(number > to_block for number in block_hashes):
                raise FatalError(f"block hashes above the checkpoint {to_block} would be recorded")
            self._db.executemany("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)",
                                 sorted(block_hashes.items()))
            self._set_checkpoint("last_processed", to_block)
            seen = self.last_seen()
            if seen is None or to_block > seen:
                self._set_checkpoint("last_seen", to_block)
            self._db.execute(
                "DELETE FROM blocks WHERE number NOT IN (SELECT number FROM blocks ORDER BY number DESC LIMIT ?)",
                (self.keep_blocks,))

    def known_blocks(self) -> dict[int, str]:
        """Stored (number -> hash) of recently processed blocks, for ``chain.reorg.find_fork``."""
        return {row[0]: row[1] for row in self._db.execute("SELECT number, hash FROM blocks ORDER BY number")}

    def _forget_blocks_above(self, to_block: int) -> None:
        """Drops the hashes above ``to_block`` and lowers both checkpoints to it (the chain part of a rewind)."""
        self._db.execute("DELETE FROM blocks WHERE number > ?", (to_block,))
        for name in ("last_seen", "last_processed"):
            current = self._checkpoint(name)
            if current is not None and current > to_block:
                self._set_checkpoint(name, to_block)
