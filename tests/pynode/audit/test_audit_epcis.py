"""EPCIS 2.0 export: GS1's reference implementation recomputes every event hash from the exported file,
and the on-chain record hash (the order's provenance head) is recomputed from the same events."""

from __future__ import annotations

import json

import pytest
from epcis_event_hash_generator import events_from_file_reader, hash_generator

from pynode.audit.collect import group_by_order
from pynode.audit.epcis import expected_event_hashes, export_epcis, verify_document

pytestmark = pytest.mark.integration


@pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")
def test_exported_events_hash_with_the_gs1_reference_implementation(market, auditor, chain, tmp_path):
    oid = market.full_order()
    order = group_by_order(auditor.logs())[oid]
    document = export_epcis(order, chain.chain_id, chain.book.address, created=1_700_000_000)
    path = tmp_path / "order.jsonld"
    path.write_text(json.dumps(document, indent=2))

    events = json.loads(path.read_text())["epcisBody"]["eventList"]
    steps = [e["bizStep"] for e in events]
    assert steps == ["commissioning", "accepting", "reserving", "inspecting", "inspecting", "shipping", "receiving",
                     "other"]
    assert {e["type"] for e in events} == {"ObjectEvent"}
    # GS1's package, reading the exported file itself, computes exactly the eventIDs
    gs1 = hash_generator.epcis_hashes_from_events(events_from_file_reader.event_list_from_file(str(path)))
    assert gs1 == [e["eventID"] for e in events]
    assert all(h.startswith("ni:///sha-256;") for h in gs1)
    # ... and they are the hashes derived from the logs alone
    assert gs1 == expected_event_hashes(order, chain.chain_id, chain.book.address)
    # the last event's record hash is the head inside the on-chain order commitment
    assert verify_document(json.loads(path.read_text())) == []
    assert events[-1]["fabmesh:head"] == "0x" + chain.book.load_order(oid, chain.from_block).head.hex()


def test_production_is_a_transformation_event_and_edits_are_detected(market, auditor, chain):
    oid = market.post()
    market.claim_award(oid)
    chain.send(market.maker, chain.book.simple("startProduction", market.tracker(oid)))
    market.ship(oid)
    order = group_by_order(auditor.logs())[oid]
    document = export_epcis(order, chain.chain_id, chain.book.address, created=1_700_000_000)
    production = document["epcisBody"]["eventList"][3]
    assert production["type"] == "TransformationEvent"
    assert production["outputEPCList"][0].startswith("urn:fabmesh:parts")
    assert verify_document(document) == []
    shipped = document["epcisBody"]["eventList"][4]
    shipped["fabmesh:reportHash"] = "0x" + "00" * 32
    problems = verify_document(document)
    assert any("eventID" in p for p in problems) and any("keccak256(reportCid" in p for p in problems)
