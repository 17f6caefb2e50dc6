"""The node between blocks and between changes: what a cycle re-reads (no sockets)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from eth_account import Account
from hexbytes import HexBytes

from pynode.chain.known_orders import KnownOrders
from pynode.chain.orders import OrderTracker, order_hash
from pynode.daemon.config import NodeConfig
from pynode.daemon.node import Identity, Node

ACCOUNT = Account.from_key(b"\x01" * 32)
BUYER = "0x" + "33" * 20
TERMS = {"buyer": BUYER, "token": "0x" + "00" * 20, "price": 10, "claimBond": 0, "claimDeadline": 2_000,
         "deliveryDeadline": 3_000, "inspectionWindow": 60, "feeBps": 0, "specHash": b"\x05" * 32}
SPEC = {"reservedFor": "0x" + "00" * 20, "processes": 1, "materials": 1, "certIds": 0, "docsHash": b"\x06" * 32}
DOCS = {"designCid": b"\x07" * 32, "designSha256": b"\x08" * 32, "specCid": b"\x09" * 32,
        "region": b"u33" + b"\x00" * 5}


def _posted(order_id: int) -> SimpleNamespace:
    return SimpleNamespace(event="OrderPosted", block_number=15, args={
        "orderId": order_id, "buyer": BUYER, "terms": TERMS, "spec": SPEC, "docs": DOCS, "time": 1_000})


class _CountingBook:
    """Order 7 on chain: its commitment is ``commitment`` (or what the posted event builds); counted reads."""

    def __init__(self) -> None:
        tracker = OrderTracker(7)
        tracker.apply("OrderPosted", _posted(7).args)
        self.tracker = tracker
        self.commitment = order_hash(tracker.order)
        self.hashes: list[int] = []
        self.loads: list[int] = []

    def order_hash(self, order_id: int, block: int) -> bytes:
        self.hashes.append(block)
        return self.commitment

    def load_order(self, order_id: int, from_block: int, block: int, *, expected: bytes) -> OrderTracker:
        self.loads.append(block)
        assert expected == self.commitment
        return self.tracker


def _node(tmp_path: Path, book: _CountingBook) -> Node:
    node = Node(NodeConfig(work_dir=tmp_path / "node", confirmations=1), Identity(ACCOUNT, {}))
    node._chain = SimpleNamespace(book=book, from_block=1)
    node.sync.orders = KnownOrders(book)
    return node


def test_an_order_built_from_scanned_events_costs_one_commitment_read_per_change(tmp_path: Path) -> None:
    book = _CountingBook()
    node = _node(tmp_path, book)
    try:
        head = {"number": 20, "hash": HexBytes(b"\x01" * 32), "parentHash": HexBytes(b"\x00" * 32), "timestamp": 1_000}
        node.sync.orders.fold("OrderPosted", _posted(7).args)
        assert node.sync.new_head(head) is True
        node.sync.safe_head = 19
        assert node.sync.load(7) == node.sync.load(7) == book.tracker
        assert book.hashes == [19] and book.loads == []  # the scanned events, confirmed by the commitment
        assert node.sync.now() == 1_000  # chain time: the head's own timestamp, no request
        assert node.sync.new_head({**head, "number": 21, "hash": HexBytes(b"\x02" * 32)}) is True
        node.sync.safe_head = 20
        node.sync.load(7)
        assert book.hashes == [19]  # no event since: still the order the chain confirmed
    finally:
        node.close()


def test_an_order_the_commitment_contradicts_is_read_whole(tmp_path: Path) -> None:
    book = _CountingBook()
    node = _node(tmp_path, book)
    try:
        node.sync.orders.fold("OrderPosted", _posted(7).args)
        book.commitment = b"\xee" * 32  # a log the provider left out, or forged
        book.tracker = OrderTracker(7, book.tracker.terms, book.tracker.state, book.tracker.spec, book.tracker.docs)
        node.sync.new_head({"number": 20, "hash": HexBytes(b"\x01" * 32), "timestamp": 1_000})
        node.sync.safe_head = 19
        assert node.sync.load(7) is book.tracker and book.loads == [19]
    finally:
        node.close()


def test_an_order_with_an_own_transaction_short_of_depth_waits(tmp_path: Path) -> None:
    book = _CountingBook()
    node = _node(tmp_path, book)
    try:
        node.awaiting.entries[(7, "claim")] = SimpleNamespace()
        node.sync.new_head({"number": 20, "hash": HexBytes(b"\x01" * 32), "timestamp": 1_000})
        node.sync.safe_head = 19
        assert node.sync.load(7) is None and book.hashes == []
    finally:
        node.close()
