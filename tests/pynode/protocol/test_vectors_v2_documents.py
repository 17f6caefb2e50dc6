"""docs/vectors' v2 documents beside the signed quote, both ways (as tests/pynode/protocol/test_vectors.py does for
the others): the order draft, the signed settlement, the order announcement with its topics, the buyer's key backup
the draft names, the signed attestation under the v2 domain and the governance Safe's proposal. pynode's writers
give the committed bytes from the inputs, its readers give the inputs back from the bytes, and the hashes, digests,
signatures and topics are rebuilt here from eth-abi, eth-keys, cryptography and base64 as docs/protocol.md spells
them out."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hpke as hpke_lib
from eth_abi import encode
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak

from pynode.chain.v2.safe_tx import SafeProposal, parse_safe_proposal
from pynode.crypto import hpke
from pynode.crypto.envelope import OrderContext, build_envelope, open_envelope
from pynode.documents.order_announcement import OrderAnnouncement, parse_order_announcement
from pynode.documents.order_draft import OrderDraft, parse_order_draft
from pynode.documents.signed_attestation import SignedAttestation, parse_signed_attestation
from pynode.documents.signed_settlement import SignedSettlement, parse_signed_settlement
from pynode.ipfs.cid import parse_cid
from pynode.ipfs.pubsub import multibase_decode, multibase_encode
from pynode.orders.design_keys import UNBOUND_ORDER
from pynode.orders.quote_channel import topics
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import FIELDS, Attestation, OrderDocs, OrderSpec, OrderTerms, abi_tuple
from vector_files import DOCS, DOCS_V2, ENV, SEG, SETTLEMENT_V2, SPEC_V2, TERMS_V2, V2, b, domain_of, typed_of

DRAFT, SETTLEMENT, ANNOUNCEMENT, BACKUP = (DOCS["order_draft"], DOCS["signed_settlement"], DOCS["order_announcement"],
                                           ENV["key_backup"])


def bytes_and_hashes(vector: dict[str, Any], document: bytes) -> None:
    assert document == vector["document"].encode()
    assert hashlib.sha256(document).digest() == b(vector["sha256"]) and keccak(document) == b(vector["keccak256"])


# --- order draft ---------------------------------------------------------------------------------------------------

def draft_of_inputs() -> OrderDraft:
    inputs = DRAFT["inputs"]
    design = dict(inputs["design"], plaintext_sha256=b(inputs["design"]["plaintext_sha256"]))
    return OrderDraft(inputs["chain_id"], inputs["order_book"], TERMS_V2, SPEC_V2, DOCS_V2, design, inputs["spec_cid"],
                      inputs["key_backup_cid"])


def test_the_order_draft_writes_to_the_vector_bytes_and_parses_back() -> None:
    draft = draft_of_inputs()
    bytes_and_hashes(DRAFT, draft.to_json())
    parsed = parse_order_draft(DRAFT["document"].encode())
    assert parsed == draft and (parsed.terms, parsed.spec, parsed.docs) == (TERMS_V2, SPEC_V2, DOCS_V2)
    assert parsed.order_id == DRAFT["order_id"] == V2["order_id"]


def _word(kind: str, value: Any) -> Any:
    """A draft's JSON value as the ABI takes it: decimal strings, 0x-hex bytes, addresses, lists."""
    if kind.endswith("[]"):
        return [_word(kind[:-2], v) for v in value]
    return value if kind == "address" else b(value) if kind.startswith("bytes") else int(value)


def test_the_spec_alone_rehashes_the_draft_to_its_order() -> None:
    """docs/protocol.md §7.1 from the draft's JSON: docs → spec.docsHash → terms.specHash → termsHash → order id."""
    document = json.loads(DRAFT["document"])

    def struct_hash(cls: type, name: str) -> bytes:
        value = tuple(_word(kind, document[name][field]) for field, kind in FIELDS[cls])
        return keccak(encode([abi_tuple(FIELDS[cls])], [value]))

    assert struct_hash(OrderDocs, "docs") == b(document["spec"]["docsHash"]) == b(V2["docs"]["hash"])
    assert struct_hash(OrderSpec, "spec") == b(document["terms"]["specHash"]) == b(V2["spec"]["hash"])
    terms_hash = struct_hash(OrderTerms, "terms")
    assert terms_hash == b(DRAFT["terms_hash"]) == b(V2["terms"]["hash"])
    assert int.from_bytes(terms_hash, "big") >> 64 == DRAFT["order_id"]
    # the CIDs name the vectors' files, whose digests are the order's documents
    design = SEG["cases"][0]
    assert document["design"]["cid"] == design["cid_dag_pb"] and document["spec_cid"] == DOCS["spec"]["cid_dag_pb"]
    assert parse_cid(document["design"]["cid"]).digest == b(document["docs"]["designCid"])
    assert parse_cid(document["spec_cid"]).digest == b(document["docs"]["specCid"])
    assert document["design"]["plaintext_sha256"] == design["plaintext_sha256"] == document["docs"]["designSha256"]
    assert document["key_backup_cid"] == BACKUP["cid_dag_pb"]


# --- the buyer's key backup ------------------------------------------------------------------------------------

BACKUP_CONTEXT = OrderContext(chain_id=BACKUP["context"]["chain_id"], contract=BACKUP["context"]["contract"],
                              order_id=BACKUP["context"]["order_id"], recipient=BACKUP["context"]["recipient"],
                              design_sha256=b(BACKUP["context"]["design_sha256"]))


def test_the_key_backup_is_the_buyers_envelope_for_order_zero_and_opens() -> None:
    pair = hpke.keypair_from_private_key(hpke.HpkeSuite(BACKUP["suite"]), b(BACKUP["recipient_private_key"]))
    assert pair.public_key == b(BACKUP["recipient_public_key"]) and pair.key_id == b(BACKUP["recipient_key_id"])
    assert BACKUP_CONTEXT.order_id == UNBOUND_ORDER and BACKUP_CONTEXT.recipient == V2["terms"]["value"]["buyer"]
    assert BACKUP_CONTEXT.design_sha256 == b(SEG["cases"][0]["plaintext_sha256"])
    assert open_envelope(BACKUP["envelope"].encode(), pair, BACKUP_CONTEXT) == b(ENV["content_key"])
    # RFC 9180 OpenBase with the info of docs/protocol.md §2.3
    fields = {k: v for k, v in json.loads(BACKUP["envelope"]).items() if k not in ("enc", "ciphertext")}
    info = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    assert info == BACKUP["info"].encode() and fields["order"]["order_id"] == 0
    suite = hpke_lib.Suite(hpke_lib.KEM.X25519, hpke_lib.KDF.HKDF_SHA256, hpke_lib.AEAD.AES_256_GCM)
    private = hpke._private_key_object(pair.suite, pair.private_key)
    assert suite.decrypt(b(BACKUP["enc"]) + b(BACKUP["ciphertext"]), private, info=info) == b(ENV["content_key"])
    # sealing direction: a fresh envelope (random ephemeral key) differs in enc and ciphertext only, and opens
    fresh = build_envelope(b(ENV["content_key"]), pair.public_key, BACKUP_CONTEXT)
    assert {k: v for k, v in json.loads(fresh).items() if k not in ("enc", "ciphertext")} == fields
    assert open_envelope(fresh, pair, BACKUP_CONTEXT) == b(ENV["content_key"])


# --- signed settlement ---------------------------------------------------------------------------------------------

def test_the_signed_settlement_signs_to_the_vector_and_recovers() -> None:
    domain, signer = domain_of(SETTLEMENT["domain"]), Account.from_key(b(SETTLEMENT["signer_private_key"]))
    signature = eip712.sign(signer, domain, SETTLEMENT_V2)  # RFC 6979: deterministic
    signed = SignedSettlement(domain.chain_id, domain.verifying_contract, SETTLEMENT_V2, signer.address, signature)
    bytes_and_hashes(SETTLEMENT, signed.to_json())
    parsed = parse_signed_settlement(SETTLEMENT["document"].encode())
    assert parsed == signed and parsed.signature == b(V2["eip712"]["settlement"]["signature"])
    assert (parsed.chain_id, parsed.order_book, parsed.settlement.order_id) == (V2["chain_id"], V2["order_book"],
                                                                               V2["order_id"])
    digest = eip712.digest(domain, parsed.settlement)
    assert digest == b(SETTLEMENT["digest"]) == b(V2["eip712"]["settlement"]["digest"])
    assert eip712.recover(domain, parsed.settlement, parsed.signature) == parsed.signer == SETTLEMENT["signer"]


def test_the_spec_alone_recovers_the_settlements_signer() -> None:
    """docs/protocol.md §7.4-§7.5 from the document: hashStruct, the digest under the domain, ECDSA recovery."""
    document = json.loads(SETTLEMENT["document"])
    type_hash = keccak(text="Settlement(uint256 orderId,uint96 buyerShare,bool bondToBuyer,uint40 deadline)")
    struct_hash = keccak(type_hash + encode(["uint256", "uint96", "bool", "uint40"], [
        int(document["order_id"]), int(document["buyer_share"]), document["bond_to_buyer"], document["deadline"]]))
    domain = SETTLEMENT["domain"]
    domain_type = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    separator = keccak(encode(["bytes32"] * 3 + ["uint256", "address"], [
        domain_type, keccak(text=domain["name"]), keccak(text=domain["version"]), document["chain_id"],
        document["order_book"]]))
    digest = keccak(b"\x19\x01" + separator + struct_hash)
    assert digest == b(SETTLEMENT["digest"])
    signature = b(document["signature"])
    vrs = (signature[64] - 27, int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"))
    public = keys.Signature(vrs=vrs).recover_public_key_from_msg_hash(digest)
    assert public.to_checksum_address() == document["signer"] == SETTLEMENT["signer"]


# --- signed attestation (v2 domain) ----------------------------------------------------------------------------

def test_the_v2_signed_attestation_signs_to_the_vector_and_recovers() -> None:
    vector = DOCS["signed_attestation_v2"]
    domain, inspector = domain_of(vector["domain"]), Account.from_key(b(vector["inspector_private_key"]))
    attestation = typed_of(Attestation, V2["eip712"]["attestation"]["message"])
    signed = SignedAttestation(domain.chain_id, domain.verifying_contract, *attestation,
                               signature=eip712.sign(inspector, domain, attestation))
    assert signed.to_json() == vector["document"]
    parsed = parse_signed_attestation(vector["document"])
    assert parsed == signed and Attestation(*parsed.as_tuple()) == attestation
    assert parsed.signature == b(V2["eip712"]["attestation"]["signature"])
    assert eip712.digest(domain, attestation) == b(vector["digest"]) == b(V2["eip712"]["attestation"]["digest"])
    assert eip712.recover(domain, attestation, parsed.signature) == parsed.inspector == vector["signer"]


# --- order announcement and topics -----------------------------------------------------------------------------

def test_the_order_announcement_writes_to_the_vector_and_parses_back() -> None:
    announcement = OrderAnnouncement(V2["chain_id"], V2["order_book"], V2["order_id"], b(V2["terms"]["hash"]))
    bytes_and_hashes(ANNOUNCEMENT, announcement.to_json())
    assert parse_order_announcement(ANNOUNCEMENT["document"].encode()) == announcement
    assert codec.order_id(TERMS_V2) == announcement.order_id


def test_the_deployments_topics_and_their_multibase_form() -> None:
    names = ANNOUNCEMENT["topics"]
    assert topics(V2["chain_id"], V2["order_book"]) == (names["quotes"], names["orders"])
    book = V2["order_book"].lower()
    for kind in ("quotes", "orders"):
        assert names[kind] == f"fabmesh/v2/{V2['chain_id']}/{book}/{kind}"
        spelled = "u" + base64.urlsafe_b64encode(names[kind].encode()).rstrip(b"=").decode()
        assert multibase_encode(names[kind].encode()) == spelled == names[f"{kind}_multibase"]
        assert multibase_decode(spelled) == names[kind].encode()


# --- Safe proposal ---------------------------------------------------------------------------------------------

SAFE_PROPOSAL = DOCS["safe_proposal"]


def test_the_safe_proposal_writes_to_the_vector_bytes_and_parses_back() -> None:
    inputs = SAFE_PROPOSAL["inputs"]
    owners = [Account.from_key(b(key)) for key in inputs["owner_private_keys"]]
    assert [o.address for o in owners] == inputs["owners"]
    document = json.loads(SAFE_PROPOSAL["document"])
    proposal = SafeProposal(inputs["safe"], inputs["chain_id"], inputs["manager"], b(document["data"]), 0,
                            label=document["label"])
    for index in inputs["signed_by"]:
        proposal = proposal.signed_by(owners[index - 1])  # RFC 6979: deterministic
    bytes_and_hashes(SAFE_PROPOSAL, proposal.to_json())
    parsed = parse_safe_proposal(SAFE_PROPOSAL["document"].encode())
    assert parsed == proposal and parsed.hash() == b(SAFE_PROPOSAL["safe_tx_hash"])
    assert parsed.packed_signatures() == b(SAFE_PROPOSAL["packed_signatures"])


def test_the_spec_alone_rebuilds_the_safe_tx_hash_and_its_signers() -> None:
    """docs/protocol.md §8.3 from the document: the calldata, Safe's EIP-712 SafeTx hash, ECDSA recovery of each
    owner, the packing by ascending owner address."""
    document, inputs = json.loads(SAFE_PROPOSAL["document"]), SAFE_PROPOSAL["inputs"]
    set_fee = keccak(text="setFee(uint16,address)")[:4] + encode(["uint16", "address"], [100, inputs["safe"]])
    assert set_fee == b(inputs["set_fee_calldata"])
    assert b(document["data"]) == keccak(text="schedule(address,bytes,uint48)")[:4] + encode(
        ["address", "bytes", "uint48"], [inputs["book"], set_fee, 0])
    separator = keccak(encode(["bytes32", "uint256", "address"], [
        keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)"), document["chain_id"],
        document["safe"]]))
    safe_tx = keccak(text="SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
                          "uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)")
    struct_hash = keccak(encode(["bytes32", "address", "uint256", "bytes32", "uint8", "uint256", "uint256", "uint256",
                                 "address", "address", "uint256"],
                                [safe_tx, document["to"], int(document["value"]), keccak(b(document["data"])),
                                 document["operation"], 0, 0, 0, "0x" + "00" * 20, "0x" + "00" * 20,
                                 int(document["nonce"])]))
    assert (separator, struct_hash) == (b(SAFE_PROPOSAL["domain_separator"]), b(SAFE_PROPOSAL["struct_hash"]))
    digest = keccak(b"\x19\x01" + separator + struct_hash)
    assert digest == b(document["safe_tx_hash"]) == b(SAFE_PROPOSAL["safe_tx_hash"])
    for owner, signature in document["signatures"].items():
        raw = b(signature)
        vrs = (raw[64] - 27, int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"))
        assert keys.Signature(vrs=vrs).recover_public_key_from_msg_hash(digest).to_checksum_address() == owner
    ordered = sorted(document["signatures"], key=lambda owner: int(owner, 16))
    assert b"".join(b(document["signatures"][o]) for o in ordered) == b(SAFE_PROPOSAL["packed_signatures"])
    assert sorted(document["signatures"]) == sorted(inputs["owners"][i - 1] for i in inputs["signed_by"])
