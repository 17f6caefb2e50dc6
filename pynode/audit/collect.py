"""Logs in bounded block ranges → per-order evidence (events and credits), nothing trusted yet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pynode.chain.events.decoder import DecodedLog, EventDecoder
from pynode.chain.events.reader import LogReader
from pynode.chain.orders import ORDER_EVENTS

MONEY_EVENTS = ("Credited",)
AUDITED_EVENTS = (*ORDER_EVENTS, *MONEY_EVENTS)


@dataclass
class OrderLogs:
    """Everything the logs say about one order, in (block, logIndex) order."""

    order_id: int
    events: list[DecodedLog] = field(default_factory=list)  # the order's provenance records
    credits: list[DecodedLog] = field(default_factory=list)  # Credited(account, token, orderId, amount)

    @property
    def partner(self) -> str | None:
        for log in self.events:
            if log.event == "OrderClaimed":
                return str(log.args["partner"])
        return None

    def parties(self) -> set[str]:
        found = set()
        for log in self.events:
            for key in ("buyer", "partner", "attester", "arbitrator", "caller"):
                if key in log.args:
                    found.add(str(log.args[key]))
        return found


def fetch_logs(reader: LogReader, decoder: EventDecoder, address: str, topics: list[str], from_block: int,
               to_block: int) -> list[DecodedLog]:
    """Decoded logs of ``address``'s ``topics`` (topic0s) in [from_block, to_block], in the reader's bounded
    (and halving) ranges."""
    return reader.events(decoder, [address], from_block, to_block, [topics])


def group_by_order(logs: Iterable[DecodedLog]) -> dict[int, OrderLogs]:
    """Order events and credits keyed by order id (insertion order = log order)."""
    orders: dict[int, OrderLogs] = {}
    for log in sorted(logs, key=lambda entry: (entry.block_number, entry.log_index)):
        if log.event in ORDER_EVENTS:
            oid = int(log.args["orderId"])
            orders.setdefault(oid, OrderLogs(oid)).events.append(log)
        elif log.event in MONEY_EVENTS:
            oid = int(log.args["orderId"])
            orders.setdefault(oid, OrderLogs(oid)).credits.append(log)
    return dict(sorted(orders.items()))
