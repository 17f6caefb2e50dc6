"""The buyer's watcher between blocks and between changes: one head read per idle cycle, one commitment
read per change of an order (no sockets: a scripted chain)."""

from __future__ import annotations

from types import SimpleNamespace

from pynode.chain.orders import OrderTracker, order_hash
from pynode.core.errors import IpfsUnavailable
from pynode.orders import watch
from pynode.orders.watch import AwardPolicy, OrderWatcher

BUYER = "0x" + "22" * 20
OTHER = "0x" + "33" * 20
TERMS = {"buyer": BUYER, "token": "0x" + "00" * 20, "price": 10, "claimBond": 0, "claimDeadline": 2_000,
         "deliveryDeadline": 3_000, "inspectionWindow": 60, "feeBps": 0, "specHash": b"\x05" * 32}
SPEC = {"reservedFor": "0x" + "00" * 20, "processes": 1, "materials": 1, "certIds": 0, "docsHash": b"\x06" * 32}
DOCS = {"designCid": b"\x07" * 32, "designSha256": b"\x08" * 32, "specCid": b"\x09" * 32, "region": b"\x00" * 8}


def _posted(order_id: int, buyer: str) -> SimpleNamespace:
    return SimpleNamespace(event="OrderPosted", block_number=50, args={
        "orderId": order_id, "buyer": buyer, "terms": {**TERMS, "buyer": buyer}, "spec": SPEC, "docs": DOCS,
        "time": 1_000})


class Reader:
    def __init__(self) -> None:
        self.now = 100
        self.reads = 0

    def head(self) -> int:
        self.reads += 1
        return self.now


class Book:
    """Order 7 (the buyer's, open) and 8 (another buyer's), posted in block 50."""

    def __init__(self) -> None:
        self.queries: list[tuple] = []
        self.hash_reads: list[int] = []
        self.fail = False
        tracker = OrderTracker(7)
        tracker.apply("OrderPosted", _posted(7, BUYER).args)
        self.commitment = order_hash(tracker.order)

    def logs(self, events, *topics, from_block: int, to_block: int):
        self.queries.append((events, from_block, to_block))
        assert not topics and "OrderPosted" in events and "OrderClaimed" in events  # one query for all
        if from_block <= 50 <= to_block:
            return [_posted(7, BUYER), _posted(8, OTHER)]
        return []

    def order_hash(self, order_id: int, block: int) -> bytes:
        assert order_id == 7  # another buyer's order is never read
        if self.fail:
            raise IpfsUnavailable("IPFS unavailable")
        self.hash_reads.append(block)
        return self.commitment

    def load_order(self, *args, **kwargs):
        raise AssertionError("built from the scanned events: never read whole here")

    def note_posted(self, order_id: int, block: int) -> None:
        pass


def _watcher() -> tuple[OrderWatcher, SimpleNamespace]:
    reader = Reader()
    chain = SimpleNamespace(reader=reader, head=reader.head, book=Book(), confirmations=1, from_block=10,
                            on_progress=None)
    buyer = SimpleNamespace(chain=chain, account=SimpleNamespace(address=BUYER))
    return OrderWatcher(buyer, keypair=None, policy=AwardPolicy()), chain


def test_an_idle_cycle_is_one_head_read() -> None:
    watcher, chain = _watcher()
    watcher.cycle()  # the first cycle compares every known order with the chain (the periodic refresh)
    assert chain.book.hash_reads == [99] and len(chain.book.queries) == 1
    for _ in range(5):  # no new block: nothing the watcher reads can have changed
        watcher.cycle()
    assert chain.reader.reads == 6 and len(chain.book.queries) == 1
    chain.reader.now = 101  # a new block: its logs; the order did not change, so it is not read
    watcher.cycle()
    watcher.cycle()
    assert chain.book.hash_reads == [99] and len(chain.book.queries) == 2


def test_a_failed_step_is_retried_next_cycle_even_without_a_new_block() -> None:
    watcher, chain = _watcher()
    watcher._dirty.add(7)
    chain.book.fail = True
    watcher.cycle()
    chain.book.fail = False
    watcher.cycle()  # same head: the step that failed runs again
    watcher.cycle()  # and then the watcher is idle again
    assert chain.book.hash_reads == [99]


def test_the_periodic_refresh_compares_with_the_chain_again(monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(watch.time, "monotonic", lambda: clock[0])
    watcher, chain = _watcher()
    watcher._dirty.add(7)
    watcher.cycle()
    clock[0] += watch.REFRESH_S + 1
    watcher.cycle()
    assert chain.book.hash_reads == [99, 99]


def test_a_shipment_is_no_reason_to_read_the_order_unless_the_watcher_confirms() -> None:
    watcher, chain = _watcher()
    watcher.cycle()
    shipped = SimpleNamespace(event="OrderShipped", block_number=101, args={"orderId": 7, "time": 1_100})
    chain.book.logs = lambda *a, from_block, to_block: [shipped] if from_block <= 101 <= to_block else []
    chain.reader.now = 102
    watcher.cycle()  # auto_confirm off: the shipment is folded in, nothing is read for it
    assert chain.book.hash_reads == [99] and not watcher._dirty
