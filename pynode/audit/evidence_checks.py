"""The checks of the documents an order names by CID: spec, design, key envelope, reports, dispute files.

Each fetches through an :class:`~pynode.audit.ipfs_evidence.EvidenceSource`, size-capped, and compares
the document with what the chain committed to; an unfetchable document is a failed check, by name.
"""

from __future__ import annotations

import hashlib
import json

from pynode.audit.ipfs_evidence import EvidenceSource, EvidenceUnavailable
from pynode.audit.model import AuditContext, Check, hex_of, short, where
from pynode.chain.events.decoder import DecodedLog
from pynode.core.address import to_checksum_address
from pynode.core.errors import FabmeshError
from pynode.crypto.envelope import MAX_ENVELOPE_SIZE, parse_envelope
from pynode.crypto.formats import MAGIC
from pynode.documents.report_rules import MAX_REPORT_BYTES, read_report, report_mismatch
from pynode.documents.spec_rules import MAX_SPEC_BYTES, read_spec
from pynode.ipfs.cid import cid_to_digest, design_cid, digest_to_cid, report_cid
from pynode.protocol.types import OrderDocs

MAX_DISPUTE_EVIDENCE_BYTES = 64 << 20


def check_spec(oid: int, docs: OrderDocs, evidence: EvidenceSource) -> Check:
    digest = bytes(docs.spec_cid)
    try:
        data = evidence.document(digest_to_cid(digest), MAX_SPEC_BYTES)
        design = read_spec(data).get("design", {})
    except EvidenceUnavailable as exc:
        return Check(oid, "evidence.spec", False, f"spec document not fetchable: {exc}")
    except FabmeshError as exc:
        return Check(oid, "evidence.spec", False, f"spec document {digest_to_cid(digest)} does not parse: {exc}")
    if design.get("sha256") != hex_of(docs.design_sha256):
        return Check(oid, "evidence.spec", False,
                     f"spec says design sha256 {design.get('sha256')}, the order commits to "
                     f"{hex_of(docs.design_sha256)}")
    if "cid" in design:
        try:
            same = cid_to_digest(str(design["cid"])) == bytes(docs.design_cid)
        except FabmeshError:
            same = False
        if not same:
            return Check(oid, "evidence.spec", False,
                         f"spec names design {design['cid']}, the order commits to "
                         f"{digest_to_cid(bytes(docs.design_cid))}")
    return Check(oid, "evidence.spec", True, f"{digest_to_cid(digest)} parses; its design sha256 matches docs")


def spec_design_cid(design_digest: bytes, spec_digest: bytes, evidence: EvidenceSource) -> str:
    """The design's CID, whose codec the spec document records by naming it in full (see ipfs/cid.py)."""
    try:
        document = json.loads(evidence.document(digest_to_cid(bytes(spec_digest)), MAX_SPEC_BYTES))
    except (EvidenceUnavailable, ValueError):  # check_spec reports it
        document = None
    design = document.get("design") if isinstance(document, dict) else None
    return design_cid(bytes(design_digest), design.get("cid") if isinstance(design, dict) else None)


def check_design(oid: int, docs: OrderDocs, evidence: EvidenceSource) -> Check:
    cid = spec_design_cid(docs.design_cid, docs.spec_cid, evidence)
    try:
        head = evidence.prefix(cid, len(MAGIC))
    except EvidenceUnavailable as exc:
        return Check(oid, "evidence.design", False, f"design ciphertext not fetchable: {exc}")
    if head != MAGIC:
        return Check(oid, "evidence.design", False,
                     f"{cid} does not start with the {MAGIC.decode()} ciphertext header")
    return Check(oid, "evidence.design", True, f"{cid} is an {MAGIC.decode()} ciphertext")


def check_envelope(oid: int, log: DecodedLog, docs: OrderDocs, partner: str | None, ctx: AuditContext,
                   evidence: EvidenceSource) -> Check:
    digest = bytes(log.args["keyEnvelopeCid"])
    try:
        envelope = parse_envelope(evidence.document(digest_to_cid(digest), MAX_ENVELOPE_SIZE))
    except EvidenceUnavailable as exc:
        return Check(oid, "evidence.key_envelope", False, f"key envelope not fetchable: {exc}")
    except FabmeshError as exc:
        return Check(oid, "evidence.key_envelope", False, f"{digest_to_cid(digest)} is not a key envelope: {exc}")
    context = envelope.context
    expected = {"chain_id": ctx.chain_id, "contract": ctx.book, "order_id": oid,
                "recipient": to_checksum_address(partner or log.args["partner"]),
                "design_sha256": bytes(docs.design_sha256)}
    for key, want in expected.items():
        got = getattr(context, key)
        if got != want:
            show = hex_of(got) if isinstance(got, bytes) else got
            return Check(oid, "evidence.key_envelope", False,
                         f"envelope {digest_to_cid(digest)} is bound to {key} {show}, the order has "
                         f"{hex_of(want) if isinstance(want, bytes) else want}")
    return Check(oid, "evidence.key_envelope", True,
                 f"{digest_to_cid(digest)} is an envelope for this chain, book, order, partner and design")


def check_report(oid: int, log: DecodedLog, partner: str | None, ctx: AuditContext,
                 evidence: EvidenceSource) -> Check:
    name = "evidence.quality_report"
    cid_digest, committed = bytes(log.args["reportCid"]), bytes(log.args["reportHash"])
    passed = bool(log.args.get("passed", True))
    cid = report_cid(cid_digest, committed)
    try:
        data = evidence.document(cid, MAX_REPORT_BYTES)
    except EvidenceUnavailable as exc:
        return Check(oid, name, False, f"{where(log)}: report not fetchable: {exc}")
    actual = hashlib.sha256(data).digest()
    if actual != committed:
        return Check(oid, name, False, f"{where(log)}: report {cid} has SHA-256 {short(actual)}, the chain "
                                       f"records {short(committed)}: its content no longer matches its hash")
    try:
        report = read_report(data)
    except FabmeshError as exc:
        return Check(oid, name, False, f"{where(log)}: report {cid} does not parse: {exc}")
    mismatch = report_mismatch(report, order_id=oid, chain_id=ctx.chain_id, contract=ctx.book, partner=partner,
                               passed=passed)
    if mismatch:
        key, got, want = mismatch
        return Check(oid, name, False, f"{where(log)}: report {cid} says {key} {got}, the chain says {want}")
    return Check(oid, name, True, f"{where(log)}: {cid} SHA-256 matches; report for this order, "
                                  f"passed={report['passed']}")


def check_fetchable(oid: int, name: str, log: DecodedLog, field: str, evidence: EvidenceSource) -> Check:
    cid = digest_to_cid(bytes(log.args[field]))
    try:
        data = evidence.document(cid, MAX_DISPUTE_EVIDENCE_BYTES)
    except EvidenceUnavailable as exc:
        return Check(oid, name, False, f"{where(log)}: {field} not fetchable: {exc}")
    return Check(oid, name, True, f"{where(log)}: {cid} fetched ({len(data)} bytes)")
