"""docs/schemas/*.schema.json (JSON Schema 2020-12) against what pynode writes and reads.

Every document pynode writes validates against its schema, and every malformed example is refused both by
the schema and by pynode's own reader, so the published schemas and the code cannot drift apart unseen.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from jsonschema import Draft202012Validator

from pynode.chain.v2.safe_tx import DELEGATE_CALL, SafeProposal, parse_safe_proposal
from pynode.core.errors import InputError
from pynode.crypto import hpke
from pynode.crypto.envelope import OrderContext, build_envelope, parse_envelope
from pynode.documents.order_announcement import OrderAnnouncement, parse_order_announcement
from pynode.documents.order_draft import OrderDraft, parse_order_draft
from pynode.documents.quality_report import ProductionResult, build_report, canonical_json, parse_report
from pynode.documents.quote import parse_signed_quote, sign_quote
from pynode.documents.signed_attestation import parse_signed_attestation, sign_attestation
from pynode.documents.signed_settlement import SignedSettlement, parse_signed_settlement
from pynode.documents.spec import build_spec_document, read_spec_document
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import OrderDocs, OrderSpec, OrderTerms, Quote, Settlement

DOCS = Path(__file__).resolve().parents[3] / "docs"
VECTORS = json.loads((DOCS / "vectors" / "documents.json").read_text())
ENVELOPES = json.loads((DOCS / "vectors" / "envelope.json").read_text())
SCHEMAS = {path.name.removesuffix(".schema.json"): json.loads(path.read_text())
           for path in sorted((DOCS / "schemas").glob("*.schema.json"))}
BOOK = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
KEY = Account.from_key(b"\x07" * 32)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[name])


def canonical(document: dict[str, Any], *, ascii_only: bool = False) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only).encode()


#: schema name → pynode's reader of a document's bytes
READERS: dict[str, Callable[[bytes], object]] = {
    "order-spec": read_spec_document,
    "quality-report": parse_report,
    "signed-attestation": parse_signed_attestation,
    "signed-quote": parse_signed_quote,
    "key-envelope": parse_envelope,
    "order-announcement": parse_order_announcement,
    "order-draft": parse_order_draft,
    "signed-settlement": parse_signed_settlement,
    "safe-proposal": parse_safe_proposal,
}
ANNOUNCEMENT = OrderAnnouncement(31337, BOOK, 7, b"\x04" * 32)


def order_draft(inspectors: tuple[str, ...] = (BOOK,), top: int = 0) -> OrderDraft:
    docs = OrderDocs(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, b"u33d\0\0\0\0")
    spec = OrderSpec(top or 1, top or 2, top or 3, inspectors, codec.docs_hash(docs))
    terms = OrderTerms(KEY.address, "0x" + "00" * 20, top or 10**17, top or 10**16, BOOK, 2**40 - 1, 2**40 - 1, 3600,
                       7200, 86400, 25, codec.spec_hash(spec))
    return OrderDraft(31337, BOOK, terms, spec, docs, {"cid": "bafyabc", "plaintext_sha256": b"\x02" * 32,
                                                        "plaintext_size": 10, "ciphertext_size": 40},
                      "bafyspec", "QmBackup")


SETTLEMENT = Settlement(7, 5, True, 2**40 - 1)


def signed_settlement(settlement: Settlement = SETTLEMENT) -> SignedSettlement:
    domain = Domain("fabmesh OrderBook", "2", 1, BOOK)
    return SignedSettlement(1, BOOK, settlement, KEY.address, eip712.sign(KEY, domain, settlement))


def test_every_schema_is_a_valid_2020_12_schema_and_has_a_reader() -> None:
    assert set(SCHEMAS) == set(READERS)
    for schema in SCHEMAS.values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def written_spec(**changes: Any) -> bytes:
    inputs: dict[str, Any] = {
        "process": "fdm", "material": "petg", "quantity": 1, "tolerances": {}, "certifications": [], "region": "",
        "design_name": "part.stl", "design_size": 0, "design_sha256": b"\x01" * 32,
        "design_cid": "bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
    return build_spec_document(**{**inputs, **changes})


def written_report(tmp_path: Path) -> bytes:
    spec = json.loads(VECTORS["spec"]["document"])
    result = ProductionResult(False, {"length": 119.95}, (), "bore not measured")
    report = build_report(result, spec, order_id=2**256 - 1, chain_id=1, contract=BOOK, partner=KEY.address,
                          started_at=0, finished_at=5, created_at=9)
    return canonical_json(report)


def written_documents(tmp_path: Path) -> list[tuple[str, bytes]]:
    """(schema, bytes) of documents as pynode writes them: the vectors' and a few more shapes."""
    domain = Domain("fabmesh OrderBook", "2", 1, BOOK)
    top = Quote(b"\xff" * 32, KEY.address, KEY.address, 2**96 - 1, 2**96 - 1, 2**32 - 1, 2**40 - 1, 2**256 - 1)
    attestation = sign_attestation(KEY, domain=domain, order_id=2**200, report_cid=b"\x00" * 32,
                                   report_hash=b"\x00" * 32, passed=True, nonce=3, deadline=2**40 - 1)
    context = OrderContext(chain_id=1, contract=BOOK, order_id=0, recipient=KEY.address, design_sha256=b"\x02" * 32)
    documents = [("order-spec", VECTORS["spec"]["document"].encode()),
                 ("order-spec", written_spec(tolerances={"a.b-c_1": {"nominal": -1, "plus": 0, "minus": 2.5,
                                                                       "unit": "µm"}}, notes="ünïcode")),
                 ("quality-report", VECTORS["quality_report"]["document"].encode()),
                 ("quality-report", written_report(tmp_path)),
                 ("signed-attestation", VECTORS["signed_attestation"]["document"].encode()),
                 ("signed-attestation", attestation.to_json().encode()),
                 ("signed-quote", VECTORS["signed_quote"]["document"].encode()),
                 ("signed-quote", sign_quote(KEY, domain, top).to_json()),
                 ("order-announcement", ANNOUNCEMENT.to_json()),
                 ("order-announcement", OrderAnnouncement(2**256 - 1, BOOK, 2**256 - 1, b"\xff" * 32).to_json()),
                 ("order-draft", order_draft().to_json()), ("order-draft", order_draft((), 2**32 - 1).to_json()),
                 ("signed-settlement", signed_settlement().to_json()),
                 ("signed-settlement", signed_settlement(Settlement(2**256 - 1, 2**96 - 1, False, 0)).to_json()),
                 ("safe-proposal", SafeProposal(BOOK, 2**64 - 1, KEY.address, b"", 2**256 - 1, 2**256 - 1,
                                                DELEGATE_CALL, "ünïcode").to_json())]
    envelopes = [*ENVELOPES["cases"], ENVELOPES["key_backup"]]
    documents += [("key-envelope", case["envelope"].encode()) for case in envelopes]
    documents += [(schema, VECTORS[name]["document"].encode()) for schema, name in (
        ("order-announcement", "order_announcement"), ("order-draft", "order_draft"),
        ("signed-settlement", "signed_settlement"), ("signed-attestation", "signed_attestation_v2"),
        ("safe-proposal", "safe_proposal"),
        ("order-spec", "spec_geometry"))]
    documents += [("key-envelope", build_envelope(b"\x03" * 32, hpke.generate_keypair(pq).public_key, context))
                  for pq in (False, True)]
    return documents


def test_every_document_pynode_writes_validates_and_reads_back(tmp_path: Path) -> None:
    checked = set()
    for name, data in written_documents(tmp_path):
        validator(name).validate(json.loads(data))
        READERS[name](data)
        checked.add(name)
    assert checked == set(SCHEMAS)


def base(name: str) -> dict[str, Any]:
    if name == "key-envelope":
        return json.loads(ENVELOPES["cases"][0]["envelope"])
    if name == "order-announcement":
        return json.loads(ANNOUNCEMENT.to_json())
    if name == "order-draft":
        return json.loads(order_draft().to_json())
    if name == "signed-settlement":
        return json.loads(signed_settlement().to_json())
    key = {"order-spec": "spec", "quality-report": "quality_report", "signed-attestation": "signed_attestation",
           "signed-quote": "signed_quote", "safe-proposal": "safe_proposal"}[name]
    return json.loads(VECTORS[key]["document"])


def setting(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation: set the dotted ``path`` (list indexes as numbers) to ``value``; ``DELETE`` removes it."""
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return mutate


DELETE = object()
MALFORMED: list[tuple[str, str, Any]] = [
    ("order-spec", "type", "fabmesh/order"), ("order-spec", "version", 2), ("order-spec", "process", DELETE),
    ("order-spec", "material", ""), ("order-spec", "quantity", 0), ("order-spec", "quantity", 10**9 + 1),
    ("order-spec", "tolerances.bore_d.plus", -0.1), ("order-spec", "tolerances.bore_d.unit", ""),
    ("order-spec", "tolerances.bore_d.extra", 1), ("order-spec", "tolerances.bore_d.nominal", DELETE),
    ("order-spec", "tolerances.-bad", {"nominal": 1.0, "plus": 0.0, "minus": 0.0, "unit": "mm"}),
    ("order-spec", "design.sha256", "0x" + "AB" * 32), ("order-spec", "design.cid", DELETE),
    ("order-spec", "design.size", -1),
    ("quality-report", "schema", "fabmesh.quality-report/2"), ("quality-report", "order_id", "07"),
    ("quality-report", "chain_id", 0), ("quality-report", "contract", "0x1234"),
    ("quality-report", "notes", DELETE), ("quality-report", "extra", True),
    ("quality-report", "checks.0.measured", "10.02"), ("quality-report", "checks.0.unit", ""),
    ("quality-report", "checks.0.name", "bad name"), ("quality-report", "evidence.0.sha256", "AB" * 32),
    ("quality-report", "evidence.0.size", -1), ("quality-report", "other_measurements.mass_g", "41.5"),
    ("quality-report", "passed", "false"), ("quality-report", "started_at", -1),
    ("signed-attestation", "type", "fabmesh/attestation"), ("signed-attestation", "signature", DELETE),
    ("signed-attestation", "signature", "0x" + "11" * 64), ("signed-attestation", "passed", "true"),
    ("signed-attestation", "nonce", -1), ("signed-attestation", "order_book", "book"),
    ("signed-attestation", "report_cid", "0x" + "11" * 31), ("signed-attestation", "extra", 1),
    ("signed-quote", "version", 2), ("signed-quote", "chain_id", 0), ("signed-quote", "extra", 1),
    ("signed-quote", "quote.price", 90000000000000000), ("signed-quote", "quote.price", "01"),
    ("signed-quote", "quote.bond", "1" * 30), ("signed-quote", "quote.lead_time", 2**32),
    ("signed-quote", "quote.expiry", -1), ("signed-quote", "quote.nonce", "-1"),
    ("signed-quote", "quote.payee", DELETE), ("signed-quote", "quote.terms_hash", "0x" + "11" * 31),
    ("signed-quote", "quote.extra", "1"), ("signed-quote", "signature", "0x"),
    ("key-envelope", "suite", 3), ("key-envelope", "version", 2), ("key-envelope", "enc", "0x" + "ab" * 1120),
    ("key-envelope", "ciphertext", "0x" + "AB" * 48), ("key-envelope", "order.contract", DELETE),
    ("key-envelope", "order.chain_id", 0), ("key-envelope", "recipient_key_id", "0x" + "ab" * 31),
    ("key-envelope", "extra", 1),
    ("order-announcement", "type", "fabmesh/order"), ("order-announcement", "version", 2),
    ("order-announcement", "chain_id", 0), ("order-announcement", "order_id", 7),
    ("order-announcement", "order_id", "07"), ("order-announcement", "order_book", "0x12"),
    ("order-announcement", "terms_hash", "0x" + "11" * 31), ("order-announcement", "terms_hash", DELETE),
    ("order-announcement", "extra", 1),
    ("order-draft", "type", "fabmesh/draft"), ("order-draft", "version", 2), ("order-draft", "chain_id", 0),
    ("order-draft", "terms.price", 10**17), ("order-draft", "terms.price", "01"), ("order-draft", "terms.buyer", "0x1"),
    ("order-draft", "spec.inspectors", "0x" + "ab" * 20), ("order-draft", "docs.region", "0x00"),
    ("order-draft", "docs.extra", "0x00"), ("order-draft", "design.cid", DELETE), ("order-draft", "spec_cid", "../x"),
    ("order-draft", "design.plaintext_size", -1), ("order-draft", "terms.specHash", "0x" + "11" * 31),
    ("signed-settlement", "type", "fabmesh/settlement"), ("signed-settlement", "version", True),
    ("signed-settlement", "chain_id", 0), ("signed-settlement", "order_id", 7),
    ("signed-settlement", "buyer_share", "05"), ("signed-settlement", "bond_to_buyer", 1),
    ("signed-settlement", "deadline", 2**40), ("signed-settlement", "signer", DELETE),
    ("signed-settlement", "signature", "0x" + "11" * 64), ("signed-settlement", "extra", 1),
    ("safe-proposal", "type", "fabmesh/safe-tx"), ("safe-proposal", "version", 2), ("safe-proposal", "chain_id", 0),
    ("safe-proposal", "chain_id", "31337"), ("safe-proposal", "safe", "0x12"), ("safe-proposal", "to", DELETE),
    ("safe-proposal", "value", 0), ("safe-proposal", "value", "01"), ("safe-proposal", "nonce", 0),
    ("safe-proposal", "data", "0xabc"), ("safe-proposal", "data", "abcd"), ("safe-proposal", "operation", 2),
    ("safe-proposal", "label", None), ("safe-proposal", "safe_tx_hash", "0x" + "11" * 31),
    ("safe-proposal", "signatures", []), ("safe-proposal", "signatures.0x12", "0x" + "11" * 65),
    ("safe-proposal", "signatures.0x0000000000000000000000000000000000000001", "0x" + "11" * 64),
    ("safe-proposal", "extra", 1),
]


@pytest.mark.parametrize(("name", "path", "value"), MALFORMED,
                         ids=[f"{n}:{p}={'DELETE' if v is DELETE else v!r}"[:80] for n, p, v in MALFORMED])
def test_the_schemas_and_the_readers_refuse_malformed_documents(name: str, path: str, value: Any) -> None:
    document = copy.deepcopy(base(name))
    setting(path, value)(document)
    assert not validator(name).is_valid(document)
    with pytest.raises(InputError):  # every reader's errors, envelope and crypto ones included
        READERS[name](canonical(document, ascii_only=name == "key-envelope"))


def test_the_malformed_examples_start_from_valid_documents() -> None:
    for name in SCHEMAS:
        validator(name).validate(base(name))
