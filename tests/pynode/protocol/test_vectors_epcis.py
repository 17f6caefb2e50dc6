"""docs/vectors/epcis.json both ways: the committed logs of the story's order fold (pynode's v2 auditor) and export
to the committed EPCIS 2.0 document; the document alone gives back both chains of docs/vectors/v2.json, each
event's GS1 hash (GS1's own implementation), evidence and head rebuilt here as docs/protocol.md §10 says."""

from __future__ import annotations

import copy
import datetime
import json
import warnings
from typing import Any

from epcis_event_hash_generator import hash_generator, json_to_py
from eth_abi import encode
from eth_utils import keccak

from pynode.audit.v2.epcis import export_epcis_v2, verify_document_v2
from pynode.audit.v2.facts import OrderFacts, fold
from pynode.chain.events.decoder import DecodedLog
from pynode.ipfs.cid import parse_cid
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import RecordKind, Transition
from vector_files import DOCS, ENV, V2, b, load

EPCIS = load("epcis.json")
DOCUMENT = EPCIS["document"]
EVENTS = DOCUMENT["epcisBody"]["eventList"]
ADDRESSES = {"buyer", "partner", "actor", "inspector"}


def logs() -> list[tuple[DecodedLog, int]]:
    def arg(name: str, value: Any) -> Any:
        return b(value) if isinstance(value, str) and name not in ADDRESSES else value

    return [(DecodedLog(item["event"], EPCIS["order_book"], item["block_number"], item["block_hash"], item["tx_hash"],
                        item["log_index"], {k: arg(k, v) for k, v in item["args"].items()}), item["time"])
            for item in EPCIS["logs"]]


def test_the_logs_fold_to_the_vector_order_and_export_to_the_vector_document() -> None:
    items = logs()
    genesis = codec.genesis(EPCIS["chain_id"], EPCIS["order_book"], EPCIS["order_id"])
    facts = OrderFacts(EPCIS["order_id"], genesis, [log for log, _ in items], {log.block_hash: t for log, t in items},
                       {}, b"", b"")
    folded = fold(facts, genesis)
    assert folded.tracker is not None and not folded.broken
    assert codec.order_hash(folded.tracker.order) == b(V2["order"]["hash"])
    assert folded.tracker.record_head == b(V2["record_chain"]["links"][-1]["head"])
    exported = export_epcis_v2(folded, EPCIS["chain_id"], EPCIS["order_book"], EPCIS["created"])
    assert json.loads(json.dumps(exported)) == DOCUMENT
    assert verify_document_v2(copy.deepcopy(DOCUMENT)) == []


def test_every_event_id_is_the_gs1_hash_of_its_event() -> None:
    with warnings.catch_warnings():  # the package loads its bundled context with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(DOCUMENT))
    assert hash_generator.epcis_hashes_from_events(events) == [e["eventID"] for e in EVENTS]
    assert all(e["eventID"].startswith("ni:///sha-256;") and e["eventID"].endswith("?ver=CBV2.0") for e in EVENTS)


STEPS = {"POSTED": ("ObjectEvent", "ADD", "commissioning", "active"),
         "AWARDED": ("ObjectEvent", "OBSERVE", "reserving", "reserved"),
         "SERIALS_RECORDED": ("ObjectEvent", "OBSERVE", "encoding", "active"),
         "QUALITY_ATTESTED": ("ObjectEvent", "OBSERVE", "inspecting", "non_conformant"),  # the report failed
         "SHIPPED": ("ObjectEvent", "OBSERVE", "shipping", "in_transit")}


def report_evidence(event: dict[str, Any]) -> bytes:
    return keccak(encode(["bytes32", "bytes32", "bool"], [parse_cid(event["fabmesh:reportCid"]).digest,
                                                         b(event["fabmesh:reportHash"]),
                                                         event["fabmesh:passed"] == "true"]))


def test_the_document_alone_rebuilds_both_chains_of_the_order() -> None:
    urn = f"urn:fabmesh:order:{V2['chain_id']}:{V2['order_book']}:{V2['order_id']}"
    genesis = keccak(encode(["uint256", "address", "uint256"], [V2["chain_id"], V2["order_book"], V2["order_id"]]))
    heads = {"transition": genesis, "record": genesis}
    rebuilt: dict[str, list[bytes]] = {"transition": [], "record": []}
    for event in EVENTS:
        chain, kind = event["fabmesh:chain"], event["fabmesh:recordKind"]
        assert event["epcList"] == [urn] and event["bizTransactionList"] == [{"type": "po", "bizTransaction": urn}]
        assert (event["type"], event["action"], event["bizStep"], event["disposition"]) == STEPS[kind]
        assert event["eventTime"] == datetime.datetime.fromtimestamp(int(event["fabmesh:time"]), datetime.UTC
                                                                     ).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert b(event["fabmesh:prevHead"]) == heads[chain]
        evidence = b(event["fabmesh:evidence"])
        if "fabmesh:reportCid" in event:
            assert evidence == report_evidence(event)
        if kind == "AWARDED":
            assert evidence == keccak(encode(["bytes32"] * 3, [b(event["fabmesh:termsHash"]),
                                                              b(event["fabmesh:quoteHash"]),
                                                              parse_cid(event["fabmesh:keyEnvelopeCid"]).digest]))
        number = (Transition if chain == "transition" else RecordKind)[kind]
        head = keccak(encode(["bytes32", "uint8", "address", "bytes32", "uint40"],
                             [heads[chain], int(number), event["fabmesh:actor"], evidence, int(event["fabmesh:time"])]))
        assert b(event["fabmesh:head"]) == head
        heads[chain] = head
        rebuilt[chain].append(head)
    for chain in ("transition", "record"):
        assert rebuilt[chain] == [b(link["head"]) for link in V2[f"{chain}_chain"]["links"]]
    # the fields the evidence recomputes from are the vectors' own
    awarded = next(e for e in EVENTS if e["fabmesh:recordKind"] == "AWARDED")
    assert awarded["fabmesh:keyEnvelopeCid"] == ENV["cases"][0]["cid_dag_pb"]
    assert b(awarded["fabmesh:quoteHash"]) == b(V2["eip712"]["quote"]["struct_hash"])
    attested = next(e for e in EVENTS if e["fabmesh:recordKind"] == "QUALITY_ATTESTED")
    assert attested["fabmesh:reportCid"] == DOCS["quality_report"]["cid_raw"]
