"""The vectors of the v2 documents that travel beside the signed quote (docs/protocol.md §6, §8, §12): the signed
attestation under the v2 domain, the order draft a quote-first partner quotes, the signed settlement one party hands
the other, the order announcement and its pubsub topics, and the governance Safe's proposal of the book's fee change.
Each from the story's structs (tools/make_vectors.py) through pynode's writer."""

from __future__ import annotations

import hashlib
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from pynode.chain.v2.safe_tx import SafeProposal
from pynode.documents.order_announcement import OrderAnnouncement
from pynode.documents.order_draft import OrderDraft
from pynode.documents.signed_attestation import SignedAttestation
from pynode.documents.signed_settlement import SignedSettlement
from pynode.ipfs.pubsub import multibase_encode
from pynode.orders.quote_channel import topics
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import Attestation, OrderDocs, OrderSpec, OrderTerms, Settlement
from tools.vector_inputs import BOOK, BUYER, CHAIN_ID, DESIGN, DOMAIN, INSPECTOR, account, b32, h

SAFE_OWNERS = [account(f"fabmesh vector safe owner {i}") for i in (1, 2, 3)]
SAFE = "0x" + keccak(b"fabmesh vector safe")[-20:].hex()
MANAGER = "0x" + keccak(b"fabmesh vector access manager")[-20:].hex()


def _bytes(document: bytes) -> dict[str, str]:
    """The canonical bytes and both hashes a reader may compare them by."""
    return {"document": document.decode(), "sha256": h(hashlib.sha256(document).digest()),
            "keccak256": h(keccak(document))}


def signed_attestation_v2_vector(attestation: Attestation) -> dict[str, Any]:
    """The story's relayed attestation (v2.json eip712.attestation) as the file `attest --sign-only` writes."""
    signed = SignedAttestation(CHAIN_ID, BOOK, *attestation, signature=eip712.sign(INSPECTOR, DOMAIN, attestation))
    return {"inspector_private_key": h(INSPECTOR.key), "domain": DOMAIN.as_dict(), "document": signed.to_json(),
            "digest": h(eip712.digest(DOMAIN, attestation)), "signer": INSPECTOR.address}


def order_draft_vector(terms: OrderTerms, spec: OrderSpec, docs: OrderDocs, design: dict[str, Any],
                       spec_document: dict[str, Any], key_backup: dict[str, Any]) -> dict[str, Any]:
    """The story's order as a draft: its design ciphertext, spec document and the buyer's key backup by CID."""
    public = {"cid": design["cid_dag_pb"], "plaintext_sha256": design["plaintext_sha256"],
              "plaintext_size": len(DESIGN), "ciphertext_size": design["ciphertext_size"]}
    parsed = {**public, "plaintext_sha256": b32(design["plaintext_sha256"])}  # as parse_order_draft gives it
    draft = OrderDraft(CHAIN_ID, BOOK, terms, spec, docs, parsed, spec_document["cid_dag_pb"], key_backup["cid_dag_pb"])
    return {"inputs": {"chain_id": CHAIN_ID, "order_book": BOOK, "terms_spec_docs": "v2.json terms, spec, docs",
                       "design": public, "spec_cid": draft.spec_cid, "key_backup_cid": draft.key_backup_cid},
            **_bytes(draft.to_json()), "terms_hash": h(codec.terms_hash(terms)), "order_id": draft.order_id}


def signed_settlement_vector(settlement: Settlement) -> dict[str, Any]:
    """The buyer's offer of the story's split (v2.json eip712.settlement), for the partner to send with settle."""
    signature = eip712.sign(BUYER, DOMAIN, settlement)
    signed = SignedSettlement(CHAIN_ID, BOOK, settlement, BUYER.address, signature)
    return {"signer_private_key": h(BUYER.key), "domain": DOMAIN.as_dict(), **_bytes(signed.to_json()),
            "digest": h(eip712.digest(DOMAIN, settlement)), "signer": BUYER.address}


def order_announcement_vector(terms: OrderTerms) -> dict[str, Any]:
    """The watcher's hint that the story's order is posted, and the deployment's topics as Kubo's RPC takes them."""
    announcement = OrderAnnouncement(CHAIN_ID, BOOK, codec.order_id(terms), codec.terms_hash(terms))
    quotes, orders = topics(CHAIN_ID, BOOK)
    return {**_bytes(announcement.to_json()),
            "topics": {"quotes": quotes, "quotes_multibase": multibase_encode(quotes.encode()),
                       "orders": orders, "orders_multibase": multibase_encode(orders.encode())}}


def _calldata(signature: str, types: list[str], values: list[Any]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


def safe_proposal_vector() -> dict[str, Any]:
    """The 2-of-3 governance Safe's first transaction: manager.schedule(book, setFee(100, SAFE), 0), signed by
    owners 1 and 3 (docs/protocol.md §8.3)."""
    set_fee = _calldata("setFee(uint16,address)", ["uint16", "address"], [100, SAFE])
    schedule = _calldata("schedule(address,bytes,uint48)", ["address", "bytes", "uint48"], [BOOK, set_fee, 0])
    proposal = SafeProposal(SAFE, CHAIN_ID, MANAGER, schedule, 0, label="schedule OrderBookV2.setFee")
    signable = proposal.signable()
    for owner in (SAFE_OWNERS[0], SAFE_OWNERS[2]):
        proposal = proposal.signed_by(owner)
    return {"inputs": {"safe": proposal.safe, "chain_id": CHAIN_ID, "manager": proposal.to, "book": BOOK,
                       "set_fee_calldata": h(set_fee), "owners": [o.address for o in SAFE_OWNERS],
                       "owner_private_keys": [h(o.key) for o in SAFE_OWNERS], "threshold": 2, "signed_by": [1, 3]},
            **_bytes(proposal.to_json()), "domain_separator": h(signable.header), "struct_hash": h(signable.body),
            "safe_tx_hash": h(proposal.hash()), "packed_signatures": h(proposal.packed_signatures())}
