"""The EPCIS vector (docs/protocol.md §10.1): the story's order as the book's events a node would decode (block
numbers, block and transaction hashes made up from labels, times from the story's links), folded by pynode's v2
auditor and exported as EPCIS 2.0 JSON-LD with GS1 event hashes."""

from __future__ import annotations

from typing import Any

from pynode.audit.v2.epcis import export_epcis_v2
from pynode.audit.v2.facts import OrderFacts, fold
from pynode.chain.events.decoder import DecodedLog
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import Attestation, OrderDocs, OrderSpec, OrderState, OrderTerms, Quote
from tools.vector_inputs import BOOK, CHAIN_ID, DOMAIN, h, label_bytes

CREATED = 1_800_400_000  # the document's creationDate


def story_logs(terms: OrderTerms, spec: OrderSpec, docs: OrderDocs, quote: Quote, state: OrderState,
               attestation: Attestation, envelope_cid: bytes, links: list[codec.Link],
               records: list[codec.Link]) -> list[tuple[str, int, dict[str, Any]]]:
    """(event, time, args) in log order: posted, awarded, serials recorded, the attestation's record and its
    QualityAttested (one transaction), shipped. Args as the decoder gives them: bytes, EIP-55 addresses, ints."""
    order_id = codec.order_id(terms)
    payee_price, bond_due_by = codec.awarded_words(state.payee, state.price, state.bond, state.due_by)
    genesis = codec.genesis(CHAIN_ID, BOOK, order_id)
    serials, attested = records
    record_heads = codec.chain_heads(genesis, records)

    def recorded(link: codec.Link, head: bytes) -> dict[str, Any]:
        return {"orderId": order_id, "kind": int(link.kind), "actor": link.actor, "evidence": link.evidence,
                "head": head}

    return [
        ("OrderPosted", links[0].time, {"orderId": order_id, "buyer": terms.buyer,
                                        "posted": codec.posted_data(terms, spec, docs)}),
        ("OrderAwarded", links[1].time, {"orderId": order_id, "partner": state.partner, "payeePrice": payee_price,
                                         "bondDueBy": bond_due_by, "quoteHash": eip712.struct_hash(DOMAIN, quote),
                                         "keyEnvelopeCid": envelope_cid}),
        ("Recorded", serials.time, recorded(serials, record_heads[0])),
        ("Recorded", attested.time, recorded(attested, record_heads[1])),
        ("QualityAttested", attested.time, {"orderId": order_id, "inspector": attestation.inspector,
                                            "reportCid": attestation.report_cid,
                                            "reportHash": attestation.report_hash, "passed": attestation.passed}),
        ("OrderShipped", links[2].time, {"orderId": order_id, "reportCid": attestation.report_cid,
                                         "reportHash": attestation.report_hash})]


def decoded(events: list[tuple[str, int, dict[str, Any]]]) -> list[tuple[DecodedLog, int]]:
    """The events as logs, one block and transaction each but the attestation's two (the same call)."""
    logs, block = [], 100
    for index, (event, time, args) in enumerate(events):
        block += event != "QualityAttested"
        tx = h(label_bytes(f"fabmesh vector tx {block}"))
        logs.append((DecodedLog(event, BOOK, block, h(label_bytes(f"fabmesh vector block {block}")), tx, index, args),
                     time))
    return logs


def epcis_vector(order_id: int, events: list[tuple[str, int, dict[str, Any]]]) -> dict[str, Any]:
    logs = decoded(events)
    genesis = codec.genesis(CHAIN_ID, BOOK, order_id)
    facts = OrderFacts(order_id, genesis, [log for log, _ in logs], {log.block_hash: t for log, t in logs}, {},
                       b"", b"")
    folded = fold(facts, genesis)
    assert folded.tracker is not None and not folded.broken, folded.error
    return {"format": "EPCIS 2.0 JSON-LD of a v2 order (docs/protocol.md, 'EPCIS 2.0 mapping')",
            "chain_id": CHAIN_ID, "order_book": BOOK, "order_id": order_id, "created": CREATED,
            "logs": [{"event": log.event, "block_number": log.block_number, "block_hash": log.block_hash,
                      "tx_hash": log.tx_hash, "log_index": log.log_index, "time": time,
                      "args": {k: h(v) if isinstance(v, bytes) else v for k, v in log.args.items()}}
                     for log, time in logs],
            "document": export_epcis_v2(folded, CHAIN_ID, BOOK, CREATED)}
