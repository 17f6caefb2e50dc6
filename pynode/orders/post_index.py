"""Where the orders posted from this machine start: their OrderPosted blocks, kept in the home dir.

A new command reads an order's events from its post on instead of from the deployment block (on a chain
a few days old, tens of thousands of blocks: a dozen bounded ``eth_getLogs`` per order read). A record is
only a starting point: :meth:`OrderBook.order_logs` reads the whole history when the post is not there
(a reorg moved it), so a stale or lost file costs requests, never correctness.
"""

from __future__ import annotations

import json
from pathlib import Path

from pynode.chain.contracts import OrderBook
from pynode.core.fsutil import write_atomic


class PostIndex:
    def __init__(self, home: Path, chain_id: int, book: str) -> None:
        self.path = home / "orders" / f"{chain_id}-{book.lower()}.json"

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}  # none yet, or torn: a cache, rebuilt as orders are posted
        return {k: v for k, v in data.items() if k.isdigit() and isinstance(v, int)} if isinstance(data, dict) else {}

    def load_into(self, book: OrderBook) -> None:
        for order_id, block in self._read().items():
            book.note_posted(int(order_id), block)

    def add(self, order_id: int, block: int) -> None:
        data = self._read()
        data[str(order_id)] = block
        write_atomic(self.path, json.dumps(data, sort_keys=True), mode=0o644)
