"""Orders built from the events a process scans anyway, trusted once the chain's commitment confirms them.

The daemon and the buyer's watcher read every order event of their range (one
bounded ``eth_getLogs`` per new safe block range). Folding those events into the
orders they change, and comparing the result with the contract's ``orderHash``
at the safe block, costs one ``eth_call`` per change of an order, and nothing
while it does not change (every change of an order emits an event, so an order
without new events still has the commitment it was confirmed at). What the
commitment contradicts (a log left out or forged, a reorg that moved events)
is read whole: the order's own events, checked against that commitment
(:meth:`OrderBook.load_order`). A reorg the caller notices forgets everything.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pynode.chain.contracts import OrderBook
from pynode.chain.orders import OrderTracker, order_hash


@dataclass
class _Known:
    tracker: OrderTracker
    verified: bool = False  # the commitment at the safe block matched since the last event folded in
    verified_at: float = 0.0  # when (monotonic seconds)


class KnownOrders:
    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self._orders: dict[int, _Known] = {}
        self.reads = 0  # orders read whole (not built from scanned events)

    def fold(self, event: str, args: Mapping[str, Any]) -> None:
        """Folds one scanned order event (in chain order) into its order. An order posted before the scan
        started is not known here: it is read whole when first asked for."""
        order_id = int(args["orderId"])
        known = self._orders.get(order_id)
        if event == "OrderPosted":
            known = self._orders[order_id] = _Known(OrderTracker(order_id))
        elif known is None:
            return
        try:
            known.tracker.apply(event, args)
            known.verified = False
        except (ValueError, KeyError, TypeError):  # does not continue the order's provenance chain
            self._orders.pop(order_id, None)

    def doubt(self, order_id: int, older_than_s: float = 0.0) -> None:
        """Compares the order with the chain again on the next read (a periodic re-check), unless it was
        compared less than ``older_than_s`` ago."""
        known = self._orders.get(order_id)
        if known is not None and time.monotonic() - known.verified_at >= older_than_s:
            known.verified = False

    def forget(self, order_id: int | None = None) -> None:
        """Drops one order (the chain disagreed with it) or all (a reorg): read again when asked for."""
        if order_id is None:
            self._orders.clear()
        else:
            self._orders.pop(order_id, None)

    def at(self, order_id: int, block: int, from_block: int) -> OrderTracker:
        """The order as of ``block`` (the safe block the scan reached), checked against its commitment there."""
        known = self._orders.get(order_id)
        if known is not None and known.verified:
            return known.tracker
        expected = self.book.order_hash(order_id, block)
        if known is None or order_hash(known.tracker.order) != expected:
            self.reads += 1
            known = _Known(self.book.load_order(order_id, from_block, block, expected=expected))
            self._orders[order_id] = known
        known.verified, known.verified_at = True, time.monotonic()
        return known.tracker
