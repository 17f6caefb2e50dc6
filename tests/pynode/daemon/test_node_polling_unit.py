"""The node between blocks: what a cycle at an unchanged head re-reads (nothing; no sockets)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from eth_account import Account
from hexbytes import HexBytes

from pynode.daemon.config import NodeConfig
from pynode.daemon.node import Identity, Node

ACCOUNT = Account.from_key(b"\x01" * 32)


class _CountingBook:
    def __init__(self) -> None:
        self.loads: list[tuple[int, int]] = []

    def load_order(self, order_id: int, from_block: int, block: int) -> tuple:
        self.loads.append((order_id, block))
        return ("order", order_id, block)


def test_the_node_reads_an_order_once_per_head(tmp_path: Path) -> None:
    """Between blocks nothing on chain changes (the node's own transactions land in new blocks), so a cycle
    at the head the last one saw re-reads nothing; a new head, also one at the same height (a reorg), does."""
    node = Node(NodeConfig(work_dir=tmp_path / "node", confirmations=0), Identity(ACCOUNT, {}))
    try:
        book = _CountingBook()
        node._chain = SimpleNamespace(book=book, from_block=1)
        head = {"number": 20, "hash": HexBytes(b"\x01" * 32), "timestamp": 1_000}
        assert node._new_head(head) is True
        node.safe_head = 20
        assert node.load(7) == node.load(7) == ("order", 7, 20) and len(book.loads) == 1
        assert node._now() == 1_000  # chain time: the head's own timestamp, no request
        assert node._new_head(dict(head)) is False  # the same head: every read still holds
        node.load(7)
        assert len(book.loads) == 1
        assert node._new_head({**head, "hash": HexBytes(b"\x02" * 32), "timestamp": 1_001}) is True  # a reorg
        node.load(7)
        assert len(book.loads) == 2 and node._now() == 1_001
    finally:
        node.close()
