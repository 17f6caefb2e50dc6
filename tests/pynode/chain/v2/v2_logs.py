"""Synthetic OrderBookV2 logs for the unit tests: raw eth_getLogs entries ABI-encoded from the packaged ABI and
decoded by the real EventDecoder, so each test folds exactly what a node would hand the tracker; and the logs of
the protocol vectors' order (docs/vectors/v2.json: posted, awarded, serials, a failed attestation, shipped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import collapse_if_tuple, keccak

from pynode.chain.deployment import load_abi
from pynode.chain.events.decoder import DecodedLog, EventDecoder, event_topic
from pynode.chain.v2.orders import OrderTracker
from pynode.protocol.v2 import codec

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


VECTORS = Path(__file__).resolve().parents[4] / "docs" / "vectors"
V2, ENV, DOCS = (json.loads((VECTORS / f"{n}.json").read_text()) for n in ("v2", "envelope", "documents"))


def b(text: str) -> bytes:
    return bytes.fromhex(text[2:])


ORDER_ID = V2["order_id"]
LINKS, RECORDS = V2["transition_chain"]["links"], V2["record_chain"]["links"]
BUYER, PARTNER, INSPECTOR = LINKS[0]["actor"], LINKS[2]["actor"], RECORDS[1]["actor"]
REPORT = (b(DOCS["quality_report"]["digest_raw"]), b(DOCS["quality_report"]["sha256"]))
REPORT_PASSED = json.loads(DOCS["quality_report"]["document"])["passed"]
ENVELOPE = b(ENV["cases"][0]["digest_dag_pb"])
QUOTE_HASH = b(V2["eip712"]["quote"]["struct_hash"])
STRANGER = "0x" + "5a" * 20
Timed = list[tuple[DecodedLog, int]]


def posted(chain: Chain, tx: str | None = None, data: bytes | None = None) -> DecodedLog:
    return chain.log("OrderPosted", tx, orderId=ORDER_ID, buyer=BUYER, posted=data or b(V2["order_posted"]["posted"]))


def awarded(chain: Chain, tx: str | None = None) -> DecodedLog:
    words = V2["order_awarded"]
    return chain.log("OrderAwarded", tx, orderId=ORDER_ID, partner=PARTNER, payeePrice=b(words["payee_price"]),
                     bondDueBy=b(words["bond_due_by"]), quoteHash=QUOTE_HASH, keyEnvelopeCid=ENVELOPE)


def recorded(chain: Chain, link: dict[str, Any], tx: str | None = None, head: bytes | None = None) -> DecodedLog:
    return chain.log("Recorded", tx, orderId=ORDER_ID, kind=link["kind"], actor=link["actor"],
                     evidence=b(link["evidence"]), head=head or b(link["head"]))


def vector_logs(chain: Chain, report: tuple[bytes, bytes] = REPORT) -> Timed:
    """The vectors' order: posted, awarded, serials recorded, a failed attestation, shipped."""
    att_record = recorded(chain, RECORDS[1])
    attested = chain.log("QualityAttested", att_record.tx_hash, orderId=ORDER_ID, inspector=INSPECTOR,
                         reportCid=REPORT[0], reportHash=REPORT[1], passed=REPORT_PASSED)
    shipped = chain.log("OrderShipped", orderId=ORDER_ID, reportCid=report[0], reportHash=report[1])
    return [(posted(chain), LINKS[0]["time"]), (awarded(chain), LINKS[1]["time"]),
            (recorded(chain, RECORDS[0]), RECORDS[0]["time"]), (att_record, RECORDS[1]["time"]),
            (attested, RECORDS[1]["time"]), (shipped, LINKS[2]["time"])]


def fold(items: Timed, senders: dict[str, str] | None = None) -> OrderTracker:
    tracker = OrderTracker(ORDER_ID, codec.genesis(V2["chain_id"], BOOK, ORDER_ID))
    for log, time in items:
        sender = (senders or {}).get(log.tx_hash)
        assert tracker.needs_sender(log) == (sender is not None), log.event
        tracker.apply(log, time, sender)
    return tracker
