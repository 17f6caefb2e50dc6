"""An order's provenance as an EPCIS 2.0 JSON-LD document, each event carrying its GS1 event hash.

How the GS1 hash links to what the chain records
------------------------------------------------
The OrderBook does not store GS1 hashes: each step is one provenance record
``(prevHead, kind, actor, evidence, time)`` and the chain commits to
``head' = keccak256(abi.encode(prevHead, kind, actor, evidence, time))``
(contracts/README.md). Every EPCIS event exported here is a *deterministic
function of one on-chain record* (and the order's posted terms):

* what:  ``epcList`` / ``inputEPCList`` / ``outputEPCList`` = the order URN
  ``urn:fabmesh:order:<chainId>:<OrderBook>:<orderId>`` (and its parts URN for the
  production TransformationEvent);
* when:  ``eventTime`` = the record's ``time`` (UTC, milliseconds);
* where: ``readPoint`` = the record's actor account, ``bizLocation`` = the
  order's region (geohash prefix) when it has one;
* why:   CBV ``bizStep`` / ``disposition`` by record kind (commissioning,
  accepting, reserving, assembling, inspecting, encoding, shipping, receiving,
  holding, decommissioning, ...) and the order as a ``po`` business transaction;
* the record itself as user extensions: ``fabmesh:recordKind``, ``fabmesh:actor``,
  ``fabmesh:evidence``, ``fabmesh:prevHead``, ``fabmesh:time`` and the resulting
  ``fabmesh:head``; quality steps add ``fabmesh:reportCid`` / ``fabmesh:reportHash``
  / ``fabmesh:passed``, from which ``evidence = keccak256(abi.encode(reportCid,
  reportHash, passed))`` is recomputed.

So from the exported document alone one can (1) recompute each event's GS1 hash
with GS1's reference implementation (``epcis-event-hash-generator``) and compare
it with ``eventID`` (EPCIS 2.0's hash-based event id), and (2) recompute the
on-chain record hash ``head`` from the same event's fields; the last ``head`` is
the head inside the order's on-chain commitment ``orderHash``. The GS1 hash
covers every field of the record, so any edit of the record changes both.
The auditor (and :func:`expected_event_hashes`) derives the same GS1 hashes from
logs alone. A contract that took the GS1 hash as part of the evidence would
make the link direct (see the audit report in the project notes).
"""

from __future__ import annotations

import copy
import datetime
import warnings
from typing import Any

from eth_utils import to_checksum_address

from pynode.audit.collect import OrderLogs
from pynode.audit.model import hex_of
from pynode.chain.orders import OrderTracker, next_head, report_evidence
from pynode.core.errors import FabmeshError
from pynode.ipfs.cid import report_cid
from pynode.protocol.types import RecordKind

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
FABMESH_NS = "https://fabmesh.dev/epcis/"

# record kind → (event type, action, CBV bizStep, CBV disposition)
STEPS = {
    RecordKind.POSTED: ("ObjectEvent", "ADD", "commissioning", "active"),
    RecordKind.CLAIMED: ("ObjectEvent", "OBSERVE", "accepting", "in_progress"),
    RecordKind.AWARDED: ("ObjectEvent", "OBSERVE", "reserving", "reserved"),
    RecordKind.PRODUCTION_STARTED: ("TransformationEvent", None, "assembling", "in_progress"),
    RecordKind.QUALITY_ATTESTED: ("ObjectEvent", "OBSERVE", "inspecting", None),  # conformant / non_conformant
    RecordKind.SERIALS_RECORDED: ("ObjectEvent", "OBSERVE", "encoding", "active"),
    RecordKind.SHIPPED: ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    RecordKind.CONFIRMED: ("ObjectEvent", "OBSERVE", "receiving", "completeness_verified"),
    RecordKind.FINALIZED: ("ObjectEvent", "OBSERVE", "receiving", "completeness_inferred"),
    RecordKind.DISPUTED: ("ObjectEvent", "OBSERVE", "holding", "non_conformant"),
    RecordKind.RESOLVED: ("ObjectEvent", "OBSERVE", "other", None),
    RecordKind.DISPUTE_EXPIRED: ("ObjectEvent", "OBSERVE", "other", None),
    RecordKind.REFUNDED: ("ObjectEvent", "DELETE", "decommissioning", "inactive"),
    RecordKind.CANCELLED: ("ObjectEvent", "DELETE", "decommissioning", "inactive"),
    RecordKind.PAYMENT_WITHDRAWN: ("ObjectEvent", "OBSERVE", "other", None),
}


def _iso(ts: int) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def order_urn(chain_id: int, book: str, order_id: int) -> str:
    return f"urn:fabmesh:order:{chain_id}:{to_checksum_address(book)}:{order_id}"


def account_urn(chain_id: int, account: str) -> str:
    return f"urn:fabmesh:account:{chain_id}:{to_checksum_address(account)}"


def _context() -> list:
    return [EPCIS_CONTEXT, {"fabmesh": FABMESH_NS}]


def gs1_event_hash(event: dict[str, Any]) -> str:
    """The GS1 EPCIS event hash (ni:///sha-256;…?ver=CBV2.0) by GS1's reference implementation."""
    try:
        from epcis_event_hash_generator import hash_generator, json_to_py
    except ImportError as exc:  # pragma: no cover - it is a declared dependency of the export
        raise FabmeshError("EPCIS export needs the epcis-event-hash-generator package") from exc
    document = {"@context": _context(), "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": "1970-01-01T00:00:00.000Z", "epcisBody": {"eventList": [copy.deepcopy(event)]}}
    with warnings.catch_warnings():  # the package loads its bundled context with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        events = json_to_py.event_list_from_epcis_document_json(document)
    (digest,) = hash_generator.epcis_hashes_from_events(events)
    return digest


def document_event_hashes(document: dict[str, Any]) -> list[str]:
    """GS1 hashes of every event of an exported document, recomputed by the reference implementation."""
    from epcis_event_hash_generator import hash_generator, json_to_py

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    return hash_generator.epcis_hashes_from_events(events)


def base_event(step: tuple[str, str | None, str, str | None], time: int, urn: str, actor: str, chain_id: int,
               region: str) -> dict[str, Any]:
    """The EPCIS fields of one record of order ``urn``: ``step`` is (event type, action, bizStep, disposition)."""
    event_type, action, biz_step, disposition = step
    event: dict[str, Any] = {"type": event_type, "eventTime": _iso(time), "eventTimeZoneOffset": "+00:00"}
    if event_type == "TransformationEvent":
        event["inputEPCList"] = [urn]
        event["outputEPCList"] = [urn.replace(":order:", ":parts:")]
    else:
        event["epcList"] = [urn]
        event["action"] = action
    event["bizStep"] = biz_step
    if disposition:
        event["disposition"] = disposition
    event["readPoint"] = {"id": account_urn(chain_id, actor)}
    if region:
        event["bizLocation"] = {"id": f"urn:fabmesh:region:{region}"}
    event["bizTransactionList"] = [{"type": "po", "bizTransaction": urn}]
    return event


def _events(order: OrderLogs, chain_id: int, book: str) -> list[dict[str, Any]]:
    tracker = OrderTracker(order.order_id)
    urn = order_urn(chain_id, book, order.order_id)
    events = []
    region = ""
    for log in order.events:
        tracker.apply(log.event, log.args)
        kind, actor, evidence, time, prev = tracker.records[-1]
        if log.event == "OrderPosted":
            region = bytes(log.args["docs"]["region"]).rstrip(b"\x00").decode("ascii", "replace")
        step = STEPS[RecordKind(kind)]
        if kind == RecordKind.QUALITY_ATTESTED:
            step = (*step[:3], "conformant" if log.args["passed"] else "non_conformant")
        event = base_event(step, time, urn, actor, chain_id, region)
        event["fabmesh:recordKind"] = RecordKind(kind).name
        event["fabmesh:actor"] = to_checksum_address(actor)
        event["fabmesh:time"] = str(time)
        event["fabmesh:evidence"] = hex_of(evidence)
        event["fabmesh:prevHead"] = hex_of(prev)
        event["fabmesh:head"] = hex_of(tracker.head)
        event["fabmesh:block"] = str(log.block_number)
        event["fabmesh:transaction"] = str(log.tx_hash)
        if log.event in ("QualityAttested", "OrderShipped"):
            event["fabmesh:reportCid"] = report_cid(bytes(log.args["reportCid"]), bytes(log.args["reportHash"]))
            event["fabmesh:reportHash"] = hex_of(log.args["reportHash"])
            event["fabmesh:passed"] = "true" if log.args.get("passed", True) else "false"
        events.append(event)
    return events


def expected_event_hashes(order: OrderLogs, chain_id: int, book: str) -> list[str]:
    """The GS1 hashes an honest export must carry, derived from the logs alone."""
    return [gs1_event_hash(e) for e in _events(order, chain_id, book)]


def export_epcis(order: OrderLogs, chain_id: int, book: str, created: int) -> dict[str, Any]:
    """The EPCIS 2.0 document of one order; each event's ``eventID`` is its GS1 event hash."""
    return epcis_document(_events(order, chain_id, book), created)


def epcis_document(events: list[dict[str, Any]], created: int) -> dict[str, Any]:
    """The EPCIS 2.0 document of ``events`` (v1's or v2's), each given its GS1 event hash as ``eventID``."""
    return {"@context": _context(), "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": _iso(created),
            "epcisBody": {"eventList": [{"eventID": gs1_event_hash(event), **event} for event in events]}}


def record_of(event: dict[str, Any]) -> tuple[bytes, int, str, bytes, int]:
    """(prevHead, kind, actor, evidence, time) read back from an exported event."""
    return (bytes.fromhex(event["fabmesh:prevHead"][2:]), int(RecordKind[event["fabmesh:recordKind"]]),
            event["fabmesh:actor"], bytes.fromhex(event["fabmesh:evidence"][2:]), int(event["fabmesh:time"]))


def verify_document(document: dict[str, Any]) -> list[str]:
    """Problems found in an exported document by itself (empty = every hash recomputes)."""
    from pynode.ipfs.cid import cid_to_digest

    problems = []
    events = document["epcisBody"]["eventList"]
    hashes = document_event_hashes(document)
    head = b"\x00" * 32
    for index, (event, digest) in enumerate(zip(events, hashes)):
        if event.get("eventID") != digest:
            problems.append(f"event {index}: eventID {event.get('eventID')} but GS1 hash {digest}")
        prev, kind, actor, evidence, time = record_of(event)
        if prev != head:
            problems.append(f"event {index}: prevHead does not link to the previous event's head")
        if "fabmesh:reportCid" in event:
            expected = report_evidence(cid_to_digest(event["fabmesh:reportCid"]),
                                       bytes.fromhex(event["fabmesh:reportHash"][2:]),
                                       event["fabmesh:passed"] == "true")
            if expected != evidence:
                problems.append(f"event {index}: evidence is not keccak256(reportCid, reportHash, passed)")
        head = next_head(prev, kind, actor, evidence, time)
        if hex_of(head) != event["fabmesh:head"]:
            problems.append(f"event {index}: fabmesh:head is not the record hash of its fields")
    return problems
