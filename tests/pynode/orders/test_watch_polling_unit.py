"""The buyer's watcher between blocks: one head read per idle cycle (no sockets: a scripted chain)."""

from __future__ import annotations

from types import SimpleNamespace

from pynode.core.errors import IpfsUnavailable
from pynode.orders import watch
from pynode.orders.watch import AwardPolicy, OrderWatcher

BUYER = "0x" + "22" * 20
OTHER = "0x" + "33" * 20


class Reader:
    def __init__(self) -> None:
        self.now = 100
        self.reads = 0

    def head(self) -> int:
        self.reads += 1
        return self.now


class Book:
    def __init__(self) -> None:
        self.queries: list[tuple] = []

    def logs(self, events, *topics, from_block: int, to_block: int):  # noqa: ANN001, ANN002, ANN201
        self.queries.append((events, from_block, to_block))
        assert not topics and "OrderPosted" in events  # one query: posts and the events the watcher answers
        if from_block <= 50 <= to_block:
            return [SimpleNamespace(event="OrderPosted", args={"orderId": 7, "buyer": BUYER}, block_number=50),
                    SimpleNamespace(event="OrderPosted", args={"orderId": 8, "buyer": OTHER}, block_number=50)]
        return []

    def note_posted(self, order_id: int, block: int) -> None:
        pass


class Chain:
    """Order 7's newest change is never settled here: the watcher keeps it dirty and looks again."""

    def __init__(self) -> None:
        self.reader, self.book = Reader(), Book()
        self.confirmations, self.from_block = 1, 10
        self.settle_checks: list[int] = []
        self.fail = False

    def settled_order(self, order_id: int, *, wait_s: float, head: int):  # noqa: ANN201
        assert wait_s == 0
        self.settle_checks.append(head)
        if self.fail:
            raise IpfsUnavailable("IPFS unavailable")
        return None


def _watcher() -> tuple[OrderWatcher, Chain]:
    chain = Chain()
    buyer = SimpleNamespace(chain=chain, account=SimpleNamespace(address=BUYER))
    return OrderWatcher(buyer, keypair=None, policy=AwardPolicy()), chain


def test_an_idle_cycle_is_one_head_read() -> None:
    watcher, chain = _watcher()
    watcher.cycle()
    assert chain.settle_checks == [100] and len(chain.book.queries) == 1  # order 7 only: 8 is another buyer's
    for _ in range(5):  # no new block: nothing the watcher reads can have changed
        watcher.cycle()
    assert chain.reader.reads == 6 and chain.settle_checks == [100] and len(chain.book.queries) == 1
    chain.reader.now = 101  # a new block: new logs and the unsettled order again, once
    watcher.cycle()
    watcher.cycle()
    assert chain.settle_checks == [100, 101] and len(chain.book.queries) == 2


def test_a_failed_step_is_retried_next_cycle_even_without_a_new_block() -> None:
    watcher, chain = _watcher()
    chain.fail = True
    watcher.cycle()
    chain.fail = False
    watcher.cycle()  # same head: the step that failed runs again
    watcher.cycle()  # and then the watcher is idle again
    assert chain.settle_checks == [100, 100]


def test_the_periodic_refresh_runs_without_a_new_block(monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(watch.time, "monotonic", lambda: clock[0])
    watcher, chain = _watcher()
    watcher.cycle()
    clock[0] += watch.REFRESH_S + 1
    watcher.cycle()
    assert chain.settle_checks == [100, 100]
