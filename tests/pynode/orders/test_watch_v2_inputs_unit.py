"""How the v2 watcher's event scan asks the node (pynode/orders/v2/watch_inputs.py TrackedOrders.discover): a
cycle's few blocks in one unfiltered eth_getLogs of the book's order events, sorted here (another buyer's posts and
orders left out); a long catch-up range in two filtered ones. A recording book stands in for OrderBookV2: what is
decided is which logs are asked for and which orders they start tracking, not the fold."""

from __future__ import annotations

from types import SimpleNamespace

from pynode.chain.events.decoder import DecodedLog
from pynode.chain.v2.orders import ORDER_EVENTS, OrderTracker
from pynode.orders.v2.watch_inputs import ONE_QUERY_BLOCKS, TrackedOrders

BUYER, OTHER = "0x" + "Bb" * 20, "0x" + "0c" * 20


def _log(event: str, order_id: int, block: int, **args: object) -> DecodedLog:
    return DecodedLog(event, "0x" + "11" * 20, block, "0x" + "ab" * 32, "0x" + "cd" * 32, 0,
                      {"orderId": order_id, **args}, 1)


class _Book:
    def __init__(self, logs: list[DecodedLog]) -> None:
        self._logs = logs
        self.asked: list[tuple[tuple[str, ...], tuple[object, ...]]] = []

    def logs(self, events: tuple[str, ...], *topics: object, from_block: int, to_block: int) -> list[DecodedLog]:
        self.asked.append((events, topics))
        found = [log for log in self._logs if log.event in events and from_block <= log.block_number <= to_block]
        if topics and topics[0] is not None:  # by order id
            ids = {int(t, 16) for t in topics[0]}
            found = [log for log in found if log.args["orderId"] in ids]
        if len(topics) > 1:  # by buyer
            found = [log for log in found if log.args["buyer"] == BUYER]
        return found

    def note_posted(self, order_id: int, block: int) -> None:
        pass

    def genesis_of(self, order_id: int) -> bytes:
        return b"\x00" * 32

    def prefetch(self, logs: object) -> None:
        pass

    def apply(self, tracker: object, log: DecodedLog) -> None:
        pass

    def commitments(self, ids: list[int], block: int, records: object) -> dict:
        return {}  # not confirmed: each order stays ``changed``, read whole when its turn comes


LOGS = [_log("OrderPosted", 1, 105, buyer=BUYER), _log("OrderPosted", 2, 105, buyer=OTHER),
        _log("OrderAwarded", 2, 106, partner=OTHER), _log("OrderAwarded", 3, 106, partner=OTHER)]


def _orders(logs: list[DecodedLog], from_block: int) -> tuple[TrackedOrders, _Book]:
    book = _Book(logs)
    orders = TrackedOrders(SimpleNamespace(book=book, from_block=from_block), BUYER)
    orders.trackers[3] = OrderTracker(3, b"\x00" * 32)  # an order of the buyer's found earlier
    return orders, book


def test_a_cycles_few_blocks_are_one_unfiltered_request_sorted_here() -> None:
    orders, book = _orders(LOGS, 100)
    assert orders.discover(110, set()) == 1  # one new post of the buyer's: its nonces are counted again
    assert book.asked == [(ORDER_EVENTS, ())]  # one eth_getLogs: no filter by order or buyer
    assert set(orders.trackers) == {1, 3}  # the buyer's new post tracked, another buyer's left out
    assert {i: [log.event for log in logs] for i, logs in orders._new_logs.items()} == \
        {1: ["OrderPosted"], 3: ["OrderAwarded"]}
    assert orders.next_block == 111
    assert orders.discover(110, set()) == 0 and len(book.asked) == 1  # no new block: nothing asked


def test_a_long_catch_up_is_two_filtered_requests() -> None:
    orders, book = _orders(LOGS, 110 - ONE_QUERY_BLOCKS)
    orders.discover(110, set())
    assert [events for events, _ in book.asked] == [("OrderPosted",), ORDER_EVENTS]
    assert set(orders.trackers) == {1, 3}
    assert {i: [log.event for log in logs] for i, logs in orders._new_logs.items()} == \
        {1: ["OrderPosted"], 3: ["OrderAwarded"]}


class _CheckingBook(_Book):
    def __init__(self, logs: list[DecodedLog]) -> None:
        super().__init__(logs)
        self.checked: list[list[int]] = []

    def commitments(self, ids: list[int], block: int, records: object) -> dict:
        self.checked.append(ids)
        return {}


def test_the_buyers_own_mined_award_is_folded_without_asking_the_commitments() -> None:
    award = _log("OrderAwarded", 3, 106, partner=OTHER)._replace(tx_hash="0x" + "AB" * 32)
    book = _CheckingBook([award, _log("OrderAwarded", 4, 106, partner=OTHER)])
    orders = TrackedOrders(SimpleNamespace(book=book, from_block=100), BUYER)
    for order_id in (3, 4):  # posted, folded and checked earlier
        orders.trackers[order_id] = SimpleNamespace(order_id=order_id, posted=True, seen=(105, 0), transitions=[])
    orders.awarded = {3: award.tx_hash.lower(), 4: award.tx_hash.lower()}  # 4's new event is another transaction's
    orders.changed.update((3, 4))
    orders.discover(110, set())
    assert book.checked == [[4]]  # order 3 took its fold: the book accepted the award only for the order it had
    assert 3 not in orders.changed and 4 in orders.changed
    assert orders.awarded == {}  # each award's events came: nothing kept for either
