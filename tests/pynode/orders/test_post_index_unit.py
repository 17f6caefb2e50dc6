"""The posted-block index: a fresh command reads an order from its post on, and a bad file costs nothing but
requests."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

from web3 import Web3

from pynode.chain.contracts import OrderBook
from pynode.chain.deployment import ContractInfo
from pynode.orders.post_index import PostIndex

BOOK = "0x" + "Ab" * 20


class _Book:
    def __init__(self) -> None:
        self.noted: dict[int, int] = {}

    def note_posted(self, order_id: int, block: int) -> None:
        self.noted[order_id] = block


def test_posts_recorded_by_one_command_start_the_reads_of_the_next(tmp_path: Path) -> None:
    PostIndex(tmp_path, 11155111, BOOK).add(7, 20_123)
    PostIndex(tmp_path, 11155111, BOOK).add(8, 20_130)
    book = _Book()
    PostIndex(tmp_path, 11155111, BOOK.lower()).load_into(book)
    assert book.noted == {7: 20_123, 8: 20_130}
    other = _Book()
    PostIndex(tmp_path, 1, BOOK).load_into(other)  # another chain's orders are not these
    assert other.noted == {}


def test_a_torn_or_foreign_file_is_an_empty_index(tmp_path: Path) -> None:
    index = PostIndex(tmp_path, 1, BOOK)
    index.path.parent.mkdir(parents=True)
    for text in ("{not json", "[1, 2]", '{"x": 1, "9": "a"}'):
        index.path.write_text(text)
        book = _Book()
        index.load_into(book)
        assert book.noted == {}
    index.add(3, 40)
    book = _Book()
    index.load_into(book)
    assert book.noted == {3: 40}


def test_a_post_not_where_the_index_says_is_read_from_the_deployment(monkeypatch) -> None:
    """The index is a starting point only: the book reads the whole history when the post is not found."""
    abi = json.loads((resources.files("pynode.chain") / "abi" / "OrderBook.json").read_text())
    book = OrderBook(Web3(), ContractInfo("OrderBook", Web3.to_checksum_address(BOOK), abi))  # no provider: no reads
    book.note_posted(5, 900)
    spans: list[int] = []

    def logs(events, topic, *, from_block: int, to_block: int):
        spans.append(from_block)
        posted = SimpleNamespace(event="OrderPosted", block_number=850)
        return [posted] if from_block <= 850 else []

    monkeypatch.setattr(book, "logs", logs)
    assert [log.block_number for log in book.order_logs(5, 100, 1000)] == [850]
    assert spans == [900, 100] and book.posted_at(5, 100) == 850
