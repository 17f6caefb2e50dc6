"""Synthetic OrderBookV2 logs for the unit tests: raw eth_getLogs entries ABI-encoded from the packaged ABI and
decoded by the real EventDecoder, so each test folds exactly what a node would hand the tracker."""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import collapse_if_tuple, keccak

from pynode.chain.deployment import load_abi
from pynode.chain.events.decoder import DecodedLog, EventDecoder, event_topic

BOOK = "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # the address of the v2 vectors' book
ABI = load_abi(None, "OrderBookV2")
EVENTS = {item["name"]: item for item in ABI if item["type"] == "event"}
DECODER = EventDecoder({BOOK: ABI})


class Chain:
    """Hands out logs in block order: one block (and transaction) per ``log`` call unless ``tx`` is given."""

    def __init__(self) -> None:
        self.block = 100
        self.index = 0

    def log(self, event: str, tx: str | None = None, **args: Any) -> DecodedLog:
        if tx is None:
            self.block += 1
        self.index += 1
        item = EVENTS[event]
        indexed = [i for i in item["inputs"] if i["indexed"]]
        data = [i for i in item["inputs"] if not i["indexed"]]
        raw = {
            "address": BOOK,
            "topics": [event_topic(item)] + ["0x" + encode([i["type"]], [args[i["name"]]]).hex() for i in indexed],
            "data": "0x" + encode([collapse_if_tuple(i) for i in data], [args[i["name"]] for i in data]).hex(),
            "blockNumber": hex(self.block),
            "blockHash": "0x" + keccak(b"block %d" % self.block).hex(),
            "transactionHash": tx or "0x" + keccak(b"tx %d" % self.block).hex(),
            "logIndex": hex(self.index),
            "removed": False,
        }
        return DECODER.decode(raw)
