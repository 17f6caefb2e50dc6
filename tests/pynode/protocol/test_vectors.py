"""docs/vectors/*.json in both directions: pynode's encoders give the expected bytes from the inputs, and the
expected bytes decode (decrypt, open, parse, recover) back to the inputs, both through pynode and through
the steps docs/protocol.md spells out, built here from cryptography, eth-abi and eth-keys primitives.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hpke as hpke_lib
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_abi import decode, encode
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from pynode.crypto import hpke, segmented
from pynode.crypto.envelope import OrderContext, build_envelope, open_envelope, parse_envelope
from pynode.documents.quality_report import ProductionResult, build_report, canonical_json, parse_report
from pynode.documents.quote import parse_signed_quote, sign_quote
from pynode.documents.signed_attestation import parse_signed_attestation, sign_attestation
from pynode.documents.spec import build_spec_document, read_spec_document
from pynode.ipfs.cid import DAG_PB, RAW, digest_to_cid, parse_cid, report_cid
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import (
    FIELDS,
    ORDER_ABI,
    Attestation,
    Order,
    OrderSpec,
    OrderState,
    OrderTerms,
    Quote,
    Settlement,
    abi_tuple,
)
from vector_files import DOCS, DOCS_V2, ENV, SEG, SPEC_V2, STATE_V2, TERMS_V2, V2, VECTORS, b, domain_of, typed_of

CASES = {case["name"]: case for case in SEG["cases"]}


# --- design ciphertext -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_pynode_encrypts_the_design_to_the_vector_bytes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    monkeypatch.setattr(segmented.os, "urandom", lambda size: b(case["salt"])[:size])  # the only random input
    stream = segmented.iter_encrypt([b(case["plaintext"])], b(SEG["content_key"]), segment_size=SEG["segment_size"])
    assert b"".join(stream) == b(case["ciphertext"])
    assert stream.result.plaintext_sha256 == b(case["plaintext_sha256"])
    assert stream.result.ciphertext_size == case["ciphertext_size"]


@pytest.mark.parametrize("name", CASES)
def test_pynode_decrypts_the_vector_bytes_to_the_design(name: str) -> None:
    case = CASES[name]
    stream = segmented.iter_decrypt([b(case["ciphertext"])], b(SEG["content_key"]),
                                    expected_sha256=b(case["plaintext_sha256"]))
    assert b"".join(stream) == b(case["plaintext"])


def spec_decrypt(ciphertext: bytes, content_key: bytes) -> tuple[bytes, dict[str, Any]]:
    """docs/protocol.md 'Design ciphertext', step by step: header, HKDF, key check, segments by nonce."""
    magic, version, segment_size, salt, key_check = struct.unpack(">8sBI32s32s", ciphertext[:77])
    assert (magic, version) == (b"FMSEGENC", 1) and 4096 <= segment_size <= 16 << 20
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=salt, info=b"fabmesh/segmented-aes-256-gcm/v1").derive(
        content_key)
    assert okm[32:] == key_check
    aead, header, body = AESGCM(okm[:32]), ciphertext[:77], ciphertext[77:]
    sealed = [body[i:i + segment_size + 16] for i in range(0, len(body), segment_size + 16)]
    nonces = [i.to_bytes(11, "big") + (b"\x01" if i == len(sealed) - 1 else b"\x00") for i in range(len(sealed))]
    plaintext = b"".join(aead.decrypt(n, s, header) for n, s in zip(nonces, sealed))
    return plaintext, {"salt": salt, "file_key": okm[:32], "key_check": key_check, "nonces": nonces,
                       "tags": [s[-16:] for s in sealed], "sizes": [len(s) - 16 for s in sealed]}


@pytest.mark.parametrize("name", CASES)
def test_the_spec_alone_decrypts_the_design(name: str) -> None:
    case = CASES[name]
    plaintext, parts = spec_decrypt(b(case["ciphertext"]), b(SEG["content_key"]))
    assert plaintext == b(case["plaintext"]) and hashlib.sha256(plaintext).digest() == b(case["plaintext_sha256"])
    assert (parts["salt"], parts["file_key"], parts["key_check"]) == (b(case["salt"]), b(case["file_key"]),
                                                                      b(case["key_check"]))
    assert b(case["ciphertext"]).startswith(b(case["header"]))
    assert [(b(s["nonce"]), b(s["tag"]), s["plaintext_size"]) for s in case["segments"]] == list(
        zip(parts["nonces"], parts["tags"], parts["sizes"]))


def test_the_cases_cover_a_short_final_segment_an_exact_multiple_and_an_empty_file() -> None:
    sizes = {name: [s["plaintext_size"] for s in case["segments"]] for name, case in CASES.items()}
    assert sizes == {"three-segments": [4096, 4096, 1808], "exact-multiple": [4096, 4096], "empty": [0]}


# --- CIDs ------------------------------------------------------------------------------------------------------

def dag_pb_block(data: bytes) -> bytes:
    """docs/protocol.md 'CID commitments': a one-block UnixFS file as Kubo encodes it without raw leaves."""
    def varint(n: int) -> bytes:
        out = b""
        while n >= 0x80:
            out, n = out + bytes([n & 0x7F | 0x80]), n >> 7
        return out + bytes([n])
    unixfs = b"\x08\x02" + (b"\x12" + varint(len(data)) + data if data else b"") + b"\x18" + varint(len(data))
    return b"\x0a" + varint(len(unixfs)) + unixfs


def cid_items() -> list[tuple[str, bytes, dict[str, Any]]]:
    items = [(f"design {c['name']}", b(c["ciphertext"]), c) for c in SEG["cases"]]
    items += [(f"envelope {c['suite']}", c["envelope"].encode(), c) for c in ENV["cases"]]
    items += [("key backup", ENV["key_backup"]["envelope"].encode(), ENV["key_backup"])]
    items += [(name, DOCS[name]["document"].encode(), DOCS[name]) for name in ("spec", "spec_geometry",
                                                                                 "quality_report")]
    items += [("design box-stl", b(DOCS["spec_geometry"]["design"]["ciphertext"]), DOCS["spec_geometry"]["design"])]
    return items


@pytest.mark.parametrize(("what", "data", "vector"), cid_items(), ids=[i[0] for i in cid_items()])
def test_cids_and_their_on_chain_digests(what: str, data: bytes, vector: dict[str, Any]) -> None:
    block = dag_pb_block(data)
    assert block == b(vector["dag_pb_block"])
    assert b(vector["digest_dag_pb"]) == hashlib.sha256(block).digest()
    assert b(vector["digest_raw"]) == hashlib.sha256(data).digest()
    for codec_name, key in ((DAG_PB, "dag_pb"), (RAW, "raw")):
        cid = parse_cid(vector[f"cid_{key}"])  # decode: CID text → codec and the bytes32
        assert (cid.codec, cid.digest) == (codec_name, b(vector[f"digest_{key}"]))
        assert digest_to_cid(b(vector[f"digest_{key}"]), codec_name) == vector[f"cid_{key}"]  # encode
    # the binary CIDv1 is 0x01 | codec varint | 0x12 0x20 | digest, base32-lowercased with the 'b' prefix
    assert vector["cid_raw"].startswith("bafkrei") and vector["cid_dag_pb"].startswith("bafybei")


def test_a_reports_codec_follows_from_its_two_on_chain_fields() -> None:
    report = DOCS["quality_report"]
    assert report_cid(b(report["digest_raw"]), b(report["sha256"])) == report["cid_raw"]
    assert report_cid(b(report["digest_dag_pb"]), b(report["sha256"])) == report["cid_dag_pb"]


# --- key envelope ----------------------------------------------------------------------------------------------

CONTEXT = OrderContext(chain_id=ENV["context"]["chain_id"], contract=ENV["context"]["contract"],
                       order_id=ENV["context"]["order_id"], recipient=ENV["context"]["recipient"],
                       design_sha256=b(ENV["context"]["design_sha256"]))
SUITES = {c["suite"]: c for c in ENV["cases"]}


def keypair(case: dict[str, Any]) -> hpke.HpkeKeyPair:
    return hpke.keypair_from_private_key(hpke.HpkeSuite(case["suite"]), b(case["recipient_private_key"]))


@pytest.mark.parametrize("suite", SUITES)
def test_the_recipient_key_pair_derives_from_its_private_key(suite: int) -> None:
    case = SUITES[suite]
    pair = keypair(case)
    assert pair.public_key == b(case["recipient_public_key"]) and pair.public_key[0] == suite
    assert hashlib.sha256(pair.public_key).digest() == pair.key_id == b(case["recipient_key_id"])


def spec_info(suite: int, key_id: str) -> bytes:
    """docs/protocol.md 'Key envelope': the HPKE info is the canonical JSON of every field but enc and ciphertext."""
    fields = {"type": "fabmesh/key-envelope", "version": 1, "suite": suite, "recipient": ENV["context"]["recipient"],
              "recipient_key_id": key_id,
              "order": {k: ENV["context"][k] for k in ("chain_id", "contract", "order_id", "design_sha256")}}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@pytest.mark.parametrize("suite", SUITES)
def test_the_committed_envelope_opens_to_the_content_key(suite: int) -> None:
    case = SUITES[suite]
    assert open_envelope(case["envelope"].encode(), keypair(case), CONTEXT) == b(ENV["content_key"])
    parsed = parse_envelope(case["envelope"].encode())
    assert (parsed.enc, parsed.ciphertext) == (b(case["enc"]), b(case["ciphertext"]))


@pytest.mark.parametrize("suite", SUITES)
def test_the_spec_alone_opens_the_envelope(suite: int) -> None:
    case = SUITES[suite]
    info = spec_info(suite, case["recipient_key_id"])
    assert info == case["info"].encode()
    kem = {1: hpke_lib.KEM.X25519, 2: hpke_lib.KEM.MLKEM768_X25519}[suite]
    rfc9180 = hpke_lib.Suite(kem, hpke_lib.KDF.HKDF_SHA256, hpke_lib.AEAD.AES_256_GCM)
    private = hpke._private_key_object(hpke.HpkeSuite(suite), b(case["recipient_private_key"]))
    assert rfc9180.decrypt(b(case["enc"]) + b(case["ciphertext"]), private, info=info) == b(ENV["content_key"])
    assert len(b(case["enc"])) == {1: 32, 2: 1120}[suite] and len(b(case["ciphertext"])) == 48


def test_the_x_wing_private_key_expands_by_shake256_as_the_spec_says() -> None:
    seed = b(SUITES[2]["recipient_private_key"])
    expanded = hashlib.shake_256(seed).digest(96)
    x25519_public = hpke.x25519.X25519PrivateKey.from_private_bytes(expanded[64:]).public_key().public_bytes_raw()
    mlkem_public = hpke.mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]).public_key().public_bytes_raw()
    assert b(SUITES[2]["recipient_public_key"]) == b"\x02" + mlkem_public + x25519_public


@pytest.mark.parametrize("suite", SUITES)
def test_sealing_the_inputs_gives_the_vector_fields_and_opens(suite: int) -> None:
    """Encode direction: HPKE's ephemeral key is random (no fixed-key API in cryptography 50), so a fresh
    envelope differs from the committed one in enc and ciphertext only."""
    case = SUITES[suite]
    document = build_envelope(b(ENV["content_key"]), b(case["recipient_public_key"]), CONTEXT)
    fields = json.loads(document)
    assert spec_info(suite, case["recipient_key_id"]) == json.dumps(
        {k: v for k, v in fields.items() if k not in ("enc", "ciphertext")}, sort_keys=True, separators=(",", ":")
    ).encode()
    assert open_envelope(document, keypair(case), CONTEXT) == b(ENV["content_key"])


# --- documents -------------------------------------------------------------------------------------------------

def test_the_spec_document_builds_to_the_vector_bytes_and_reads_back() -> None:
    vector = DOCS["spec"]
    inputs = dict(vector["inputs"], design_sha256=b(vector["inputs"]["design_sha256"]))
    document = build_spec_document(**inputs)
    assert document == vector["document"].encode()
    assert hashlib.sha256(document).digest() == b(vector["sha256"]) and keccak(document) == b(vector["keccak256"])
    spec = read_spec_document(document)
    assert (spec.process, spec.material, spec.quantity) == tuple(inputs[k] for k in ("process", "material",
                                                                                     "quantity"))
    assert {k: v.model_dump() for k, v in spec.tolerances.items()} == inputs["tolerances"]
    assert json.loads(document)["design"]["cid"] == SEG["cases"][0]["cid_dag_pb"]


def test_the_quality_report_builds_to_the_vector_bytes_and_parses_back(tmp_path: Path) -> None:
    vector = DOCS["quality_report"]
    inputs = dict(vector["inputs"])
    paths = []
    for name, text in inputs.pop("evidence").items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    result = ProductionResult(inputs.pop("passed"), inputs.pop("measurements"), tuple(paths), inputs.pop("notes"))
    report = build_report(result, json.loads(DOCS["spec"]["document"]), **inputs)
    assert canonical_json(report) == vector["document"].encode()
    parsed = parse_report(vector["document"].encode())
    assert parsed == report and not parsed.passed  # length is out of tolerance
    assert hashlib.sha256(canonical_json(parsed)).digest() == b(vector["sha256"])
    assert keccak(canonical_json(parsed)) == b(vector["keccak256"])


def test_the_signed_attestation_signs_to_the_vector_and_recovers() -> None:
    vector = DOCS["signed_attestation"]
    parsed = parse_signed_attestation(vector["document"])
    domain = Domain(vector["domain"]["name"], vector["domain"]["version"], vector["domain"]["chainId"],
                    vector["domain"]["verifyingContract"])
    inspector = Account.from_key(b(vector["inspector_private_key"]))
    assert parsed.recover_signer(domain) == inspector.address
    again = sign_attestation(inspector, domain=domain, order_id=parsed.order_id, report_cid=parsed.report_cid,
                             report_hash=parsed.report_hash, passed=parsed.passed, nonce=parsed.nonce,
                             deadline=parsed.deadline)
    assert again.to_json() == vector["document"]


def test_the_signed_quote_signs_to_the_vector_and_parses_back() -> None:
    vector = DOCS["signed_quote"]
    domain = domain_of(vector["domain"])
    partner = Account.from_key(b(vector["partner_private_key"]))
    parsed = parse_signed_quote(vector["document"])
    assert parsed.quote == quote_of(V2["eip712"]["quote"]["message"])
    assert parsed.recover_signer(domain) == partner.address
    assert sign_quote(partner, domain, parsed.quote).to_json() == vector["document"].encode()
    assert parsed.signature == b(V2["eip712"]["quote"]["signature"])


# --- v2 on-chain encodings -------------------------------------------------------------------------------------

def quote_of(message: dict[str, Any]) -> Quote:
    names = [name for name, _ in FIELDS[Quote]]
    return Quote(*(b(message[n]) if n == "termsHash" else message[n] for n in names))


def test_struct_hashes_encode_to_the_vectors() -> None:
    assert codec.docs_hash(DOCS_V2) == b(V2["docs"]["hash"]) == SPEC_V2.docs_hash
    assert codec.spec_hash(SPEC_V2) == b(V2["spec"]["hash"]) == TERMS_V2.spec_hash
    assert codec.terms_hash(TERMS_V2) == b(V2["terms"]["hash"])
    # a struct with a dynamic member (OrderSpec's inspectors) is one tuple argument: its encoding opens with 0x20
    assert encode([abi_tuple(FIELDS[OrderSpec])], [SPEC_V2])[:32] == (32).to_bytes(32, "big")


def test_the_order_commitment_encodes_and_decodes() -> None:
    order = Order(TERMS_V2, STATE_V2)
    encoding = b(V2["order"]["abi_encoding"])
    assert encode([ORDER_ABI], [order]) == encoding and len(encoding) == 20 * 32  # all static: 20 words
    assert codec.order_hash(order) == keccak(encoding) == b(V2["order"]["hash"])
    ((terms, state),) = decode([ORDER_ABI], encoding)  # eth-abi gives addresses in lowercase
    assert Order(OrderTerms(*terms), OrderState(*state)) == Order(lowercase(TERMS_V2), lowercase(STATE_V2))


def test_the_packed_calldata_is_the_vector_and_unpacks_by_the_documented_layout() -> None:
    """docs/protocol.md §7.1: each field in its own bits of one word, read back here by the layout alone."""
    words = [b(w) for w in V2["calldata"]["order_packed"]]
    assert codec.pack_order(Order(TERMS_V2, STATE_V2)) == words
    w = [int.from_bytes(word, "big") for word in words]

    def addr(word: int) -> str:
        return to_checksum_address((word >> 96).to_bytes(20, "big"))

    m = (1 << 96) - 1
    terms = OrderTerms(addr(w[0]), addr(w[1]), w[0] & m, w[1] & m, addr(w[2]), (w[2] >> 56) & (2**40 - 1),
                       (w[2] >> 16) & (2**40 - 1), (w[3] >> 64) & (2**32 - 1), (w[3] >> 32) & (2**32 - 1),
                       w[3] & (2**32 - 1), w[2] & 0xFFFF, words[6])
    state = OrderState(w[5] >> 176, addr(w[3]), addr(w[4]), w[4] & m, (w[5] >> 80) & m, (w[5] >> 40) & (2**40 - 1),
                       w[5] & (2**40 - 1), words[7])
    assert (terms, state) == (TERMS_V2, STATE_V2)
    quote = quote_of(V2["eip712"]["quote"]["message"])
    q = [int.from_bytes(b(word), "big") for word in V2["calldata"]["quote_packed"]]
    assert codec.pack_quote(quote) == [b(word) for word in V2["calldata"]["quote_packed"]]
    assert Quote(quote.terms_hash, addr(q[0]), addr(q[1]), q[0] & m, q[1] & m, q[2] >> 40, q[2] & (2**40 - 1),
                 q[3]) == quote


def test_the_order_posted_event_packs_to_the_vector_and_back() -> None:
    posted = b(V2["order_posted"]["posted"])
    assert codec.posted_data(TERMS_V2, SPEC_V2, DOCS_V2) == posted
    assert len(posted) == codec.POSTED_HEAD_SIZE + 20 * len(SPEC_V2.inspectors)
    assert codec.decode_posted(V2["order_posted"]["buyer"], posted) == (TERMS_V2, SPEC_V2, DOCS_V2)
    with pytest.raises(ValueError, match="not 220"):
        codec.decode_posted(V2["order_posted"]["buyer"], posted[:-1])


def test_the_order_awarded_event_packs_the_state_to_the_vector_and_back() -> None:
    words = (b(V2["order_awarded"]["payee_price"]), b(V2["order_awarded"]["bond_due_by"]))
    assert codec.awarded_words(STATE_V2.payee, STATE_V2.price, STATE_V2.bond, STATE_V2.due_by) == words
    assert codec.decode_awarded(*words) == (STATE_V2.payee, STATE_V2.price, STATE_V2.bond, STATE_V2.due_by)
    with pytest.raises(ValueError, match="bondDueBy"):
        codec.decode_awarded(words[0], (1 << 136).to_bytes(32, "big"))


def lowercase(value: Any) -> Any:
    return type(value)(*(v.lower() if isinstance(v, str) else v for v in value))


def test_the_order_documents_are_the_vectors_documents() -> None:
    """Provenance from the vectors alone: the committed digests are those of the design, spec and report above."""
    assert DOCS_V2.design_cid == b(SEG["cases"][0]["digest_dag_pb"])
    assert DOCS_V2.design_sha256 == b(SEG["cases"][0]["plaintext_sha256"]) == CONTEXT.design_sha256
    assert DOCS_V2.spec_cid == b(DOCS["spec"]["digest_dag_pb"])
    assert quote_of(V2["eip712"]["quote"]["message"]).terms_hash == codec.terms_hash(TERMS_V2)
    attestation = V2["eip712"]["attestation"]["message"]
    assert (b(attestation["reportCid"]), b(attestation["reportHash"])) == (
        b(DOCS["quality_report"]["digest_raw"]), b(DOCS["quality_report"]["sha256"]))


@pytest.mark.parametrize("name", ["transition_chain", "record_chain"])
def test_both_chains_rebuild_from_their_genesis(name: str) -> None:
    chain = V2[name]
    genesis = keccak(encode(["uint256", "address", "uint256"], [V2["chain_id"], V2["order_book"], V2["order_id"]]))
    assert codec.genesis(V2["chain_id"], V2["order_book"], V2["order_id"]) == genesis == b(chain["genesis"])
    head = genesis
    for item in chain["links"]:
        head = keccak(encode(["bytes32", "uint8", "address", "bytes32", "uint40"],
                             [head, item["kind"], item["actor"], b(item["evidence"]), item["time"]]))
        assert head == b(item["head"])
    links = [codec.Link(i["kind"], i["actor"], b(i["evidence"]), i["time"]) for i in chain["links"]]
    assert codec.chain_heads(genesis, links) == [b(i["head"]) for i in chain["links"]]


def test_the_transition_head_is_the_one_in_the_orders_slot_and_evidence_recomputes() -> None:
    assert STATE_V2.head == b(V2["transition_chain"]["links"][-1]["head"])
    report = DOCS["quality_report"]
    passed = json.loads(report["document"])["passed"]
    attested = V2["record_chain"]["links"][1]
    assert b(attested["evidence"]) == codec.report_evidence(b(report["digest_raw"]), b(report["sha256"]), passed)
    posted, awarded, shipped = V2["transition_chain"]["links"]
    terms_hash = b(V2["terms"]["hash"])
    assert b(posted["evidence"]) == terms_hash
    quote_struct_hash = b(V2["eip712"]["quote"]["struct_hash"])
    envelope_cid = b(ENV["cases"][0]["digest_dag_pb"])
    assert b(awarded["evidence"]) == keccak(encode(["bytes32"] * 3, [terms_hash, quote_struct_hash, envelope_cid]))
    assert b(awarded["evidence"]) == codec.award_evidence(terms_hash, quote_struct_hash, envelope_cid)
    assert b(shipped["evidence"]) == codec.report_evidence(b(report["digest_raw"]), b(report["sha256"]), True)
    assert codec.split_evidence(1, 2, 3, True) == keccak(encode(["uint256"] * 3 + ["bool"], [1, 2, 3, True]))


TYPED = {"quote": Quote, "attestation": Attestation, "settlement": Settlement}


def typed_value(name: str) -> Any:
    return typed_of(TYPED[name], V2["eip712"][name]["message"])


def spec_domain_separator(domain: dict[str, Any]) -> bytes:
    typehash = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    return keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                         [typehash, keccak(text=domain["name"]), keccak(text=domain["version"]), domain["chainId"],
                          domain["verifyingContract"]]))


@pytest.mark.parametrize("name", TYPED)
def test_eip712_type_strings_hashes_and_digests(name: str) -> None:
    vector, value = V2["eip712"][name], typed_value(name)
    domain = domain_of(V2["eip712"]["domain"])
    cls = TYPED[name]
    assert eip712.type_string(cls) == vector["type_string"]
    assert keccak(text=vector["type_string"]) == eip712.type_hash(cls) == b(vector["type_hash"])
    # every v2 signed struct is static, so hashStruct = keccak256(typeHash | abi.encode(fields))
    struct_hash = keccak(b(vector["type_hash"]) + encode([kind for _, kind in FIELDS[cls]], list(value)))
    assert struct_hash == eip712.struct_hash(domain, value) == b(vector["struct_hash"])
    separator = spec_domain_separator(V2["eip712"]["domain"])
    assert separator == eip712.domain_separator(domain, value) == b(V2["eip712"]["domain_separator"])
    assert keccak(b"\x19\x01" + separator + struct_hash) == eip712.digest(domain, value) == b(vector["digest"])


@pytest.mark.parametrize("name", TYPED)
def test_eip712_signatures_sign_and_recover(name: str) -> None:
    vector, value = V2["eip712"][name], typed_value(name)
    domain = domain_of(V2["eip712"]["domain"])
    signer = Account.from_key(b(vector["signer_private_key"]))
    assert signer.address == vector["signer"]
    assert eip712.sign(signer, domain, value) == b(vector["signature"])  # RFC 6979: deterministic
    assert eip712.recover(domain, value, b(vector["signature"])) == vector["signer"]
    signature = b(vector["signature"])
    r, s, v = signature[:32], signature[32:64], signature[64]
    recovered = keys.Signature(vrs=(v - 27, int.from_bytes(r, "big"), int.from_bytes(s, "big")))
    assert recovered.recover_public_key_from_msg_hash(b(vector["digest"])).to_checksum_address() == vector["signer"]


def test_the_generator_reproduces_the_committed_vectors() -> None:
    from tools import make_vectors

    old = {p.name: json.loads(p.read_text()) for p in VECTORS.glob("*.json")}
    rebuilt = make_vectors.build(old)
    assert sorted(rebuilt) == sorted(old)
    for name, vector in rebuilt.items():
        assert make_vectors.render(vector) == (VECTORS / name).read_text(), name


def test_every_hash_docs_protocol_md_quotes_is_a_vector_value() -> None:
    """The specification's inline values (type hashes, domain separator, abbreviated digests) cannot drift."""
    text = (VECTORS.parent / "protocol.md").read_text()
    values = "\n".join((VECTORS / name).read_text() for name in ("segmented.json", "envelope.json",
                                                                 "documents.json", "v2.json"))
    full = re.findall(r"0x[0-9a-f]{64}\b", text)
    abbreviated = re.findall(r"`(0x[0-9a-f]{8})…([0-9a-f]{4})`", text)
    assert len(full) >= 4 and len(abbreviated) >= 3
    for value in full:
        assert value in values, value
    for head, tail in abbreviated:
        assert re.search(f"{head}[0-9a-f]{{52}}{tail}", values), (head, tail)
