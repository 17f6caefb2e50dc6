"""A v2 order's human-facing facts (terms, parties, documents by CID, timeline) as the v1 report model's
OrderReport, so the text, JSON and HTML reports render v2 orders unchanged."""

from __future__ import annotations

from typing import Any

from pynode.audit.evidence_checks import spec_design_cid
from pynode.audit.ipfs_evidence import EvidenceSource
from pynode.audit.model import Check, OrderReport, hex_of
from pynode.audit.v2.facts import Folded, OrderFacts
from pynode.chain.v2.orders import ZERO32, OrderTracker
from pynode.ipfs.cid import digest_to_cid, report_cid

#: event -> (label, arg) of the documents it names by CID digest
DOCUMENTS = {
    "OrderAwarded": ("key envelope", "keyEnvelopeCid"),
    "OrderShipped": ("quality report", "reportCid"),
    "QualityAttested": ("inspection report", "reportCid"),
    "OrderDisputed": ("dispute evidence", "evidenceCid"),
    "OrderRejected": ("rejection reason", "reasonCid"),
}
_ACTORS = ("buyer", "partner", "inspector", "actor")


def order_terms(t: OrderTracker) -> dict[str, Any]:
    terms = t.terms
    out: dict[str, Any] = {
        "token": str(terms.token), "price": terms.price, "min_bond": terms.min_bond,
        "arbitrator": str(terms.arbitrator), "award_deadline": terms.award_deadline,
        "delivery_deadline": terms.delivery_deadline, "inspection_window": terms.inspection_window,
        "reject_window": terms.reject_window, "dispute_timeout": terms.dispute_timeout, "fee_bps": terms.fee_bps,
        "design_sha256": hex_of(t.docs.design_sha256)}
    if t.partner is not None:
        out.update(awarded_price=t.state.price, bond=t.state.bond, due_by=t.state.due_by)
    return out


def describe(facts: OrderFacts, folded: Folded, checks: list[Check], evidence: EvidenceSource) -> OrderReport:
    t = folded.tracker
    parties: dict[str, str] = {}
    documents: list[dict[str, str]] = []
    timeline: list[dict[str, Any]] = []
    if t is not None:
        parties["buyer"] = str(t.terms.buyer)
        if t.partner is not None:
            parties.update(partner=str(t.partner), payee=str(t.payee))
        parties["arbitrator"] = str(t.terms.arbitrator)
        documents += [{"label": "spec", "event": "OrderPosted", "cid": digest_to_cid(bytes(t.docs.spec_cid))},
                      {"label": "design (encrypted)", "event": "OrderPosted",
                       "cid": spec_design_cid(bytes(t.docs.design_cid), bytes(t.docs.spec_cid), evidence)}]
    actors = {(s.log.tx_hash, s.log.log_index): s.actor for s in folded.steps if s.actor}
    for log in facts.logs:
        args = log.args
        if log.event in DOCUMENTS:
            label, key = DOCUMENTS[log.event]
            if bytes(args[key]) != ZERO32:
                cid = (report_cid(bytes(args[key]), bytes(args["reportHash"])) if key == "reportCid"
                       else digest_to_cid(bytes(args[key])))
                documents.append({"label": label, "event": log.event, "cid": cid})
        if log.event == "QualityAttested":
            parties.setdefault("inspector", str(args["inspector"]))
        actor = actors.get((log.tx_hash, log.log_index)) or next((str(args[k]) for k in _ACTORS if k in args), "")
        entry: dict[str, Any] = {"event": log.event, "time": facts.times.get(log.block_hash, 0),
                                 "block": log.block_number, "tx": log.tx_hash, "actor": actor}
        if "passed" in args:
            entry["passed"] = bool(args["passed"])
        timeline.append(entry)
    status = t.status.name if t is not None else "UNKNOWN"
    terms = order_terms(t) if t is not None else {}
    return OrderReport(facts.order_id, status, terms, parties, documents, timeline, checks)
