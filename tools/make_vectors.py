"""Writes docs/vectors/*.json, the test vectors of docs/protocol.md, from fixed inputs through pynode itself.

    .venv/bin/python tools/make_vectors.py          # rewrite the vectors
    .venv/bin/python tools/make_vectors.py --check  # exit 1 if a committed vector differs

Every input is fixed here (keys derive from labels by SHA-256), so a run reproduces the committed files
byte for byte. Two things pynode draws at random are pinned: the design's 32-byte salt (os.urandom,
patched for the one call) and the HPKE ephemeral key, which cryptography 50 offers no API to fix, so a
committed envelope is kept as long as it still opens under the inputs (a new one is sealed otherwise).
tests/pynode/protocol/test_vectors.py checks every vector in both directions.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock

from eth_abi import encode
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: tools/ is not a package

from pynode.crypto import hpke, segmented
from pynode.crypto.envelope import OrderContext, build_envelope, open_envelope
from pynode.designs.geometry import measure
from pynode.documents.quality_report import ProductionResult, build_report, canonical_json
from pynode.documents.quote import sign_quote
from pynode.documents.signed_attestation import sign_attestation
from pynode.documents.spec import build_spec_document
from pynode.orders.design_keys import UNBOUND_ORDER
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import (
    ORDER_ABI,
    Attestation,
    Order,
    OrderDocs,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderTerms,
    Quote,
    RecordKind,
    Settlement,
    Transition,
)
from tools.vector_documents import (
    order_announcement_vector,
    order_draft_vector,
    safe_proposal_vector,
    signed_attestation_v2_vector,
    signed_settlement_vector,
)
from tools.vector_epcis import epcis_vector, story_logs
from tools.vector_inputs import (
    ARBITRATOR,
    BOOK,
    BOX_STL,
    BUYER,
    CHAIN_ID,
    CONTENT_KEY,
    DESIGN,
    DOMAIN,
    INSPECTOR,
    ORDER_ID,
    PARTNER,
    SEGMENT_SIZE,
    VECTORS,
    ZERO,
    b32,
    cids,
    h,
    label_bytes,
)

# --- segmented design ciphertext -------------------------------------------------------------------------------

@contextmanager
def fixed_salt(salt: bytes) -> Iterator[None]:
    """pynode draws one 32-byte salt per file from os.urandom: this run's is ``salt``."""
    def urandom(size: int) -> bytes:
        assert size == segmented.SALT_SIZE, size
        return salt
    with mock.patch.object(segmented.os, "urandom", urandom):
        yield


def segmented_case(name: str, plaintext: bytes) -> dict[str, Any]:
    salt = label_bytes(f"fabmesh vector salt {name}")
    with fixed_salt(salt):
        stream = segmented.iter_encrypt([plaintext], CONTENT_KEY, segment_size=SEGMENT_SIZE)
        chunks = list(stream)
    header, sealed = chunks[0], chunks[1:]
    okm = segmented.HKDF(algorithm=segmented.hashes.SHA256(), length=64, salt=salt,
                         info=segmented.HKDF_INFO).derive(CONTENT_KEY)
    segments = [{"index": i, "nonce": h(segmented._nonce(i, i == len(sealed) - 1)),
                 "plaintext_size": len(s) - segmented.TAG_SIZE, "tag": h(s[-segmented.TAG_SIZE:])}
                for i, s in enumerate(sealed)]
    ciphertext = b"".join(chunks)
    return {"name": name, "plaintext": h(plaintext), "plaintext_sha256": h(stream.result.plaintext_sha256),
            "salt": h(salt), "file_key": h(okm[:32]), "key_check": h(okm[32:]), "header": h(header),
            "segments": segments, "ciphertext": h(ciphertext), "ciphertext_size": len(ciphertext),
            **cids(ciphertext)}


def segmented_vectors() -> dict[str, Any]:
    return {"format": "FMSEGENC v1 (docs/protocol.md, 'Design ciphertext')", "content_key": h(CONTENT_KEY),
            "segment_size": SEGMENT_SIZE, "hkdf_info": segmented.HKDF_INFO.decode(),
            "cases": [segmented_case("three-segments", DESIGN), segmented_case("exact-multiple", DESIGN[:8192]),
                      segmented_case("empty", b"")]}


# --- HPKE key envelope -----------------------------------------------------------------------------------------

CONTEXT = OrderContext(chain_id=CHAIN_ID, contract=BOOK, order_id=ORDER_ID,
                       recipient=PARTNER.address,
                       design_sha256=hashlib.sha256(DESIGN).digest())


def sealed_fields(keypair: hpke.HpkeKeyPair, context: OrderContext, old: dict[str, Any] | None) -> dict[str, Any]:
    """An envelope of the content key to ``keypair`` under ``context``: the committed one while it still opens."""
    document = old["envelope"].encode() if old else b""
    try:
        open_envelope(document, keypair, context)
    except Exception:  # noqa: BLE001 - any reason the old envelope does not serve: seal a fresh one
        document = build_envelope(CONTENT_KEY, keypair.public_key, context)
    parsed = json.loads(document)
    info = json.dumps({k: v for k, v in parsed.items() if k not in ("enc", "ciphertext")}, sort_keys=True,
                      separators=(",", ":")).encode()
    return {"recipient_private_key": h(keypair.private_key), "recipient_public_key": h(keypair.public_key),
            "recipient_key_id": h(keypair.key_id), "info": info.decode(), "enc": parsed["enc"],
            "ciphertext": parsed["ciphertext"], "envelope": document.decode(), **cids(document)}


def envelope_case(suite: hpke.HpkeSuite, old: dict[str, Any] | None) -> dict[str, Any]:
    keypair = hpke.keypair_from_private_key(suite, label_bytes(f"fabmesh vector hpke {suite.name}"))
    return {"suite": int(suite), "suite_name": suite.name, **sealed_fields(keypair, CONTEXT, old)}


def _context(context: OrderContext) -> dict[str, Any]:
    return {"chain_id": context.chain_id, "contract": context.contract, "order_id": context.order_id,
            "recipient": context.recipient, "design_sha256": h(context.design_sha256)}


def key_backup(old: dict[str, Any] | None) -> dict[str, Any]:
    """The buyer's own copy of the content key (pynode/orders/design_keys.py): an envelope to the buyer's HPKE key
    for order id 0, since the order id is not known while the design is sealed."""
    suite = hpke.HpkeSuite.X25519_SHA256_AES256GCM
    keypair = hpke.keypair_from_private_key(suite, label_bytes("fabmesh vector hpke buyer"))
    context = dataclasses.replace(CONTEXT, order_id=UNBOUND_ORDER, recipient=BUYER.address)
    return {"suite": int(keypair.suite), "context": _context(context), **sealed_fields(keypair, context, old)}


def envelope_vectors(old: dict[str, Any] | None) -> dict[str, Any]:
    old_cases = {c["suite"]: c for c in old["cases"]} if old else {}
    return {"format": "fabmesh/key-envelope v1 (docs/protocol.md, 'Key envelope')",
            "direction": "open only: HPKE encapsulation is randomized and cryptography 50 cannot fix the ephemeral "
                         "key, so the vectors check that the committed envelopes open (and re-sealing round-trips)",
            "content_key": h(CONTENT_KEY), "context": _context(CONTEXT),
            "cases": [envelope_case(s, old_cases.get(int(s))) for s in hpke.HpkeSuite],
            "key_backup": key_backup(old.get("key_backup") if old else None)}


# --- documents -------------------------------------------------------------------------------------------------

SPEC_INPUTS: dict[str, Any] = {
    "process": "cnc-milling", "material": "al-6061", "quantity": 12,
    "tolerances": {"bore_d": {"nominal": 10.0, "plus": 0.05, "minus": 0.0, "unit": "mm"},
                   "length": {"nominal": 120.0, "plus": 0.1, "minus": 0.1, "unit": "mm"}},
    "certifications": ["iso-9001"], "region": "u33d", "design_name": "bracket.stl", "design_size": len(DESIGN),
    "notes": "deburr all edges",
}
EVIDENCE = {"cmm/bore.csv": b"bore_d,10.02\n", "photos/part-1.txt": b"part 1 photo placeholder\n"}
REPORT_INPUTS: dict[str, Any] = {
    "passed": True, "measurements": {"bore_d": 10.02, "length": 120.15, "mass_g": 41.5},
    "notes": "length out of tolerance", "order_id": ORDER_ID, "chain_id": CHAIN_ID, "contract": BOOK,
    "partner": CONTEXT.recipient, "started_at": 1_800_000_000, "finished_at": 1_800_003_600,
    "created_at": 1_800_003_700,
}


def spec_vector(design_cid: str) -> dict[str, Any]:
    document = build_spec_document(**SPEC_INPUTS, design_sha256=hashlib.sha256(DESIGN).digest(),
                                   design_cid=design_cid)
    return {"inputs": {**SPEC_INPUTS, "design_sha256": h(hashlib.sha256(DESIGN).digest()), "design_cid": design_cid},
            "document": document.decode(), "sha256": h(hashlib.sha256(document).digest()),
            "keccak256": h(keccak(document)), **cids(document)}


def spec_geometry_vector() -> dict[str, Any]:
    """A spec publishing its design's geometry (docs/protocol.md §4), the design a box sealed as the others are."""
    design = segmented_case("box-stl", BOX_STL)
    geometry = measure(BOX_STL)
    inputs = {**SPEC_INPUTS, "design_name": "box.stl", "design_size": len(BOX_STL),
              "design_sha256": design["plaintext_sha256"], "design_cid": design["cid_dag_pb"], "geometry": geometry}
    document = build_spec_document(**{**inputs, "design_sha256": b32(design["plaintext_sha256"])})
    return {"design": design, "inputs": inputs, "document": document.decode(),
            "sha256": h(hashlib.sha256(document).digest()), "keccak256": h(keccak(document)), **cids(document)}


def report_vector(spec: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, data in EVIDENCE.items():
            path = Path(folder, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            paths.append(path)
        inputs = dict(REPORT_INPUTS)
        result = ProductionResult(inputs.pop("passed"), inputs.pop("measurements"), tuple(paths), inputs.pop("notes"))
        document = canonical_json(build_report(result, json.loads(spec["document"]), **inputs))
    return {"inputs": {**REPORT_INPUTS, "evidence": {k: v.decode() for k, v in EVIDENCE.items()}},
            "document": document.decode(), "sha256": h(hashlib.sha256(document).digest()),
            "keccak256": h(keccak(document)), **cids(document)}


class Story(NamedTuple):
    """One order from post to shipment: every v2 struct of the vectors, tied to the documents above."""

    order_id: int  # derived from the terms (codec.order_id), not ORDER_ID
    docs: OrderDocs
    spec: OrderSpec
    terms: OrderTerms
    quote: Quote
    attestation: Attestation
    settlement: Settlement
    transitions: list[codec.Link]
    records: list[codec.Link]


def story(design: dict[str, Any], spec: dict[str, Any], report: dict[str, Any], envelope: dict[str, Any]) -> Story:
    docs = OrderDocs(b32(design["digest_dag_pb"]), b32(design["plaintext_sha256"]), b32(spec["digest_dag_pb"]),
                     b"u33d".ljust(8, b"\x00"))
    order_spec = OrderSpec(0b101, 0b10, 1 | 9001 << 32, (INSPECTOR.address,), codec.docs_hash(docs))
    terms = OrderTerms(BUYER.address, ZERO, 10**17, 10**16, ARBITRATOR, 1_800_000_000, 1_800_604_800, 3 * 86400,
                       86400, 14 * 86400, 100, codec.spec_hash(order_spec))
    quote = Quote(codec.terms_hash(terms), PARTNER.address, PARTNER.address, 9 * 10**16, 2 * 10**16, 5 * 86400,
                  1_799_990_000, (3 << 8) | 17)
    order_id = codec.order_id(terms)
    report_cid, report_sha256 = b32(report["digest_raw"]), b32(report["sha256"])
    passed = json.loads(report["document"])["passed"]
    attestation = Attestation(order_id, INSPECTOR.address, report_cid, report_sha256, passed, 0, 1_800_090_000)
    t0 = 1_799_900_000
    terms_hash = codec.terms_hash(terms)
    award = codec.award_evidence(terms_hash, eip712.struct_hash(DOMAIN, quote), b32(envelope["digest_dag_pb"]))
    transitions = [
        codec.Link(Transition.POSTED, BUYER.address, terms_hash, t0),
        codec.Link(Transition.AWARDED, BUYER.address, award, t0 + 600),
        codec.Link(Transition.SHIPPED, PARTNER.address, codec.report_evidence(report_cid, report_sha256, True),
                   t0 + 4 * 86400)]
    records = [
        codec.Link(RecordKind.SERIALS_RECORDED, PARTNER.address, label_bytes("fabmesh vector serials root"),
                   t0 + 3 * 86400),
        codec.Link(RecordKind.QUALITY_ATTESTED, INSPECTOR.address,
                   codec.report_evidence(report_cid, report_sha256, passed), t0 + 3 * 86400 + 60)]
    settlement = Settlement(order_id, 3 * 10**16, False, 1_800_100_000)
    return Story(order_id, docs, order_spec, terms, quote, attestation, settlement, transitions, records)


def document_vectors(design: dict[str, Any], spec: dict[str, Any], report: dict[str, Any], backup: dict[str, Any],
                     order: Story) -> dict[str, Any]:
    v1_domain = Domain("fabmesh OrderBook", "1", CHAIN_ID, BOOK)
    attestation = sign_attestation(INSPECTOR, domain=v1_domain, order_id=ORDER_ID,
                                   report_cid=order.attestation.report_cid,
                                   report_hash=order.attestation.report_hash, passed=order.attestation.passed,
                                   nonce=order.attestation.nonce, deadline=order.attestation.deadline)
    return {"spec": spec, "spec_geometry": spec_geometry_vector(), "quality_report": report,
            "signed_attestation": {"inspector_private_key": h(INSPECTOR.key), "domain": v1_domain.as_dict(),
                                   "document": attestation.to_json()},
            "signed_quote": {"partner_private_key": h(PARTNER.key), "domain": DOMAIN.as_dict(),
                             "document": sign_quote(PARTNER, DOMAIN, order.quote).to_json().decode()},
            "signed_attestation_v2": signed_attestation_v2_vector(order.attestation),
            "order_draft": order_draft_vector(order.terms, order.spec, order.docs, design, spec, backup),
            "signed_settlement": signed_settlement_vector(order.settlement),
            "order_announcement": order_announcement_vector(order.terms), "safe_proposal": safe_proposal_vector()}


# --- v2 on-chain encodings -------------------------------------------------------------------------------------

def _chain(order_id: int, links: list[codec.Link]) -> dict[str, Any]:
    start = codec.genesis(CHAIN_ID, BOOK, order_id)
    heads = codec.chain_heads(start, links)
    return {"genesis": h(start), "links": [{"kind": int(link.kind), "kind_name": link.kind.name,
                                            "actor": link.actor, "evidence": h(link.evidence), "time": link.time,
                                            "head": h(head)} for link, head in zip(links, heads)]}


def _typed(value: Any, signer: Any) -> dict[str, Any]:
    return {"type_string": eip712.type_string(type(value)), "type_hash": h(eip712.type_hash(type(value))),
            "message": {k: h(v) if isinstance(v, bytes) else v for k, v in eip712.message(value).items()},
            "struct_hash": h(eip712.struct_hash(DOMAIN, value)), "digest": h(eip712.digest(DOMAIN, value)),
            "signer": signer.address, "signer_private_key": h(signer.key),
            "signature": h(eip712.sign(signer, DOMAIN, value))}


def _struct(value: Any) -> dict[str, Any]:
    return {name: h(v) if isinstance(v, bytes) else list(v) if isinstance(v, tuple) else v
            for name, v in value._asdict().items()}


def shipped_state(order: Story) -> OrderState:
    """The order's state after the story's last transition (shipped)."""
    awarded, shipped = order.transitions[1], order.transitions[2]
    head = codec.chain_heads(codec.genesis(CHAIN_ID, BOOK, order.order_id), order.transitions)[-1]
    return OrderState(OrderStatus.SHIPPED, PARTNER.address, order.quote.payee, order.quote.price, order.quote.bond,
                      shipped.time, awarded.time + order.quote.lead_time, head)


def v2_vectors(order: Story) -> dict[str, Any]:
    transitions = _chain(order.order_id, order.transitions)
    state = shipped_state(order)
    full = Order(order.terms, state)
    return {
        "chain_id": CHAIN_ID, "order_book": BOOK, "order_id": order.order_id,
        "docs": {"value": _struct(order.docs), "hash": h(codec.docs_hash(order.docs))},
        "spec": {"value": _struct(order.spec), "hash": h(codec.spec_hash(order.spec))},
        "terms": {"value": _struct(order.terms), "hash": h(codec.terms_hash(order.terms))},
        "state": {"value": _struct(state)},
        "order": {"abi_encoding": h(encode([ORDER_ABI], [full])), "hash": h(codec.order_hash(full))},
        "order_posted": {"buyer": order.terms.buyer,
                         "posted": h(codec.posted_data(order.terms, order.spec, order.docs))},
        "order_awarded": dict(zip(("payee_price", "bond_due_by"), map(h, codec.awarded_words(
            state.payee, state.price, state.bond, state.due_by)))),
        "calldata": {"order_packed": [h(w) for w in codec.pack_order(full)],
                     "quote_packed": [h(w) for w in codec.pack_quote(order.quote)]},
        "transition_chain": transitions, "record_chain": _chain(order.order_id, order.records),
        "eip712": {"domain": DOMAIN.as_dict(), "domain_separator": h(eip712.domain_separator(DOMAIN, order.quote)),
                   "quote": _typed(order.quote, PARTNER), "attestation": _typed(order.attestation, INSPECTOR),
                   "settlement": _typed(order.settlement, BUYER)},
    }


def build(old: dict[str, Any]) -> dict[str, dict[str, Any]]:
    design = segmented_vectors()
    spec = spec_vector(design["cases"][0]["cid_dag_pb"])
    report = report_vector(spec)
    envelope = envelope_vectors(old.get("envelope.json"))
    order = story(design["cases"][0], spec, report, envelope["cases"][0])
    return {"segmented.json": design, "envelope.json": envelope,
            "documents.json": document_vectors(design["cases"][0], spec, report, envelope["key_backup"], order),
            "v2.json": v2_vectors(order), "epcis.json": epcis_vector(order.order_id, story_logs(
                order.terms, order.spec, order.docs, order.quote, shipped_state(order), order.attestation,
                b32(envelope["cases"][0]["digest_dag_pb"]), order.transitions, order.records))}


def render(vector: dict[str, Any]) -> str:
    return json.dumps(vector, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed vectors, write nothing")
    args = parser.parse_args()
    old = {p.name: json.loads(p.read_text()) for p in VECTORS.glob("*.json")}
    stale = []
    for name, vector in build(old).items():
        path = VECTORS / name
        if path.exists() and path.read_text() == render(vector):
            continue
        stale.append(name)
        if not args.check:
            VECTORS.mkdir(parents=True, exist_ok=True)
            path.write_text(render(vector))
    print(("differ: " if args.check else "written: ") + (", ".join(stale) or "none"))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
