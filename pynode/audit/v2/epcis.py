"""A v2 order's provenance as EPCIS 2.0 JSON-LD (docs/protocol.md §10): one event per link of either chain, in
block order, each carrying ``fabmesh:chain`` ("transition" or "record") and linking to the previous head of its
own chain from the genesis of §7.2, so the document alone rebuilds both chains (:func:`verify_document_v2`).

The event fields are v1's (pynode.audit.epcis.base_event); v2 adds what recomputes each link's evidence: the
award's ``fabmesh:termsHash`` / ``quoteHash`` / ``keyEnvelopeCid``, the report of a shipment or attestation,
a resolution's split and a fee's amount.
"""

from __future__ import annotations

from typing import Any

from pynode.audit.epcis import base_event, document_event_hashes, epcis_document, order_urn
from pynode.audit.model import hex_of
from pynode.audit.v2.facts import Folded
from pynode.ipfs.cid import cid_to_digest, digest_to_cid, report_cid
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import RecordKind, Transition

_OTHER = ("ObjectEvent", "OBSERVE", "other", None)
_END = ("ObjectEvent", "DELETE", "decommissioning", "inactive")
TRANSITION_STEPS: dict[Transition, tuple[str, str | None, str, str | None]] = {
    Transition.POSTED: ("ObjectEvent", "ADD", "commissioning", "active"),
    Transition.AWARDED: ("ObjectEvent", "OBSERVE", "reserving", "reserved"),
    Transition.SHIPPED: ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    Transition.CONFIRMED: ("ObjectEvent", "OBSERVE", "receiving", "completeness_verified"),
    Transition.FINALIZED: ("ObjectEvent", "OBSERVE", "receiving", "completeness_inferred"),
    Transition.DISPUTED: ("ObjectEvent", "OBSERVE", "holding", "non_conformant"),
    Transition.REJECTED: _END, Transition.REFUNDED: _END, Transition.CANCELLED: _END,
    **{k: _OTHER for k in (Transition.DISPUTE_DEFAULTED, Transition.SETTLED, Transition.RULED,
                           Transition.DISPUTE_EXPIRED, Transition.FEE_COLLECTED)},
}
RECORD_STEPS: dict[RecordKind, tuple[str, str | None, str, str | None]] = {
    RecordKind.QUALITY_ATTESTED: ("ObjectEvent", "OBSERVE", "inspecting", None),  # conformant / non_conformant
    RecordKind.SERIALS_RECORDED: ("ObjectEvent", "OBSERVE", "encoding", "active"),
    RecordKind.ARBITRATION_FEE_PAID: _OTHER,
    RecordKind.EVIDENCE_SUBMITTED: _OTHER,
}
_SPLITS = (Transition.DISPUTE_DEFAULTED, Transition.SETTLED, Transition.RULED, Transition.DISPUTE_EXPIRED)


def _report(event: dict[str, Any], cid: bytes, digest: bytes, passed: bool) -> None:
    event["fabmesh:reportCid"] = report_cid(cid, digest)
    event["fabmesh:reportHash"] = hex_of(digest)
    event["fabmesh:passed"] = "true" if passed else "false"


def v2_events(folded: Folded, chain_id: int, book: str) -> list[dict[str, Any]]:
    """One EPCIS event per link of the folded order (both chains, in log order)."""
    t = folded.tracker
    if t is None:
        return []
    urn = order_urn(chain_id, book, t.order_id)
    region = bytes(t.docs.region).rstrip(b"\x00").decode("ascii", "replace")
    links = {"transition": iter(t.transitions), "record": iter(t.records)}
    attestations = iter(t.attestations)
    events = []
    for step in folded.steps:
        if step.chain is None:
            continue
        link, log = next(links[step.chain]), step.log
        if step.chain == "transition":
            kind: Transition | RecordKind = Transition(link.kind)
            shape = TRANSITION_STEPS[Transition(link.kind)]
        else:
            kind = RecordKind(link.kind)
            shape = RECORD_STEPS[kind]
        if kind == RecordKind.QUALITY_ATTESTED and step.chain == "record":
            attested = next(attestations)
            shape = (*shape[:3], "conformant" if attested.passed else "non_conformant")
        event = base_event(shape, link.time, urn, link.actor, chain_id, region)
        event.update({"fabmesh:chain": step.chain, "fabmesh:recordKind": kind.name, "fabmesh:actor": link.actor,
                      "fabmesh:time": str(link.time), "fabmesh:evidence": hex_of(link.evidence),
                      "fabmesh:prevHead": hex_of(step.prev), "fabmesh:head": hex_of(step.head),
                      "fabmesh:block": str(log.block_number), "fabmesh:transaction": str(log.tx_hash)})
        if step.chain == "record" and kind == RecordKind.QUALITY_ATTESTED:
            _report(event, attested.report_cid, attested.report_hash, attested.passed)
        elif log.event == "OrderShipped":
            _report(event, bytes(log.args["reportCid"]), bytes(log.args["reportHash"]), True)
        elif log.event == "OrderAwarded":
            event.update({"fabmesh:termsHash": hex_of(codec.terms_hash(t.terms)),
                          "fabmesh:quoteHash": hex_of(log.args["quoteHash"]),
                          "fabmesh:keyEnvelopeCid": digest_to_cid(bytes(log.args["keyEnvelopeCid"])),
                          "fabmesh:partner": str(log.args["partner"])})
        elif log.event == "OrderResolved":
            event.update({"fabmesh:toBuyer": str(log.args["toBuyer"]), "fabmesh:toPayee": str(log.args["toPayee"]),
                          "fabmesh:fee": str(log.args["fee"]),
                          "fabmesh:bondToBuyer": "true" if log.args["bondToBuyer"] else "false"})
        events.append(event)
    return events


def export_epcis_v2(folded: Folded, chain_id: int, book: str, created: int) -> dict[str, Any]:
    return epcis_document(v2_events(folded, chain_id, book), created)


def _evidence(event: dict[str, Any]) -> bytes | None:
    """The link evidence recomputed from the event's own fields (None: the event carries none to recompute)."""
    if "fabmesh:reportCid" in event:
        return codec.report_evidence(cid_to_digest(event["fabmesh:reportCid"]),
                                     bytes.fromhex(event["fabmesh:reportHash"][2:]), event["fabmesh:passed"] == "true")
    if "fabmesh:quoteHash" in event:
        return codec.award_evidence(bytes.fromhex(event["fabmesh:termsHash"][2:]),
                                    bytes.fromhex(event["fabmesh:quoteHash"][2:]),
                                    cid_to_digest(event["fabmesh:keyEnvelopeCid"]))
    if "fabmesh:toBuyer" in event:
        return codec.split_evidence(int(event["fabmesh:toBuyer"]), int(event["fabmesh:toPayee"]),
                                    int(event["fabmesh:fee"]), event["fabmesh:bondToBuyer"] == "true")
    return None


def verify_document_v2(document: dict[str, Any]) -> list[str]:
    """Problems of an exported v2 document by itself (empty: every GS1 hash, evidence and head recomputes, both
    chains linking from the genesis of the order its URN names)."""
    problems = []
    events = document["epcisBody"]["eventList"]
    heads: dict[str, bytes] = {}
    for index, (event, digest) in enumerate(zip(events, document_event_hashes(document), strict=True)):
        if event.get("eventID") != digest:
            problems.append(f"event {index}: eventID {event.get('eventID')} but GS1 hash {digest}")
        *_, chain_id, book, order_id = event["epcList"][0].split(":")
        chain = event["fabmesh:chain"]
        start = heads.get(chain, codec.genesis(int(chain_id), book, int(order_id)))
        prev, evidence = bytes.fromhex(event["fabmesh:prevHead"][2:]), bytes.fromhex(event["fabmesh:evidence"][2:])
        if prev != start:
            problems.append(f"event {index}: prevHead does not link to the {chain} chain's previous head")
        if _evidence(event) not in (None, evidence):
            problems.append(f"event {index}: evidence does not recompute from the event's fields")
        kinds = Transition if chain == "transition" else RecordKind
        head = codec.link(prev, kinds[event["fabmesh:recordKind"]], event["fabmesh:actor"], evidence,
                          int(event["fabmesh:time"]))
        if hex_of(head) != event["fabmesh:head"]:
            problems.append(f"event {index}: fabmesh:head is not the link hash of its fields")
        heads[chain] = head
    return problems
