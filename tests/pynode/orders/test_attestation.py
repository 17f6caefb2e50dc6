"""EIP-712 inspector attestations: signed off-chain, relayed by anyone, never replayable."""

from __future__ import annotations

import dataclasses

import pytest
from eth_utils import keccak

from pynode.chain.tx import TxReverted
from pynode.core.errors import InputError
from pynode.documents.signed_attestation import parse_signed_attestation, sign_attestation
from pynode.protocol.eip712 import ATTESTATION_TYPEHASH, Domain
from pynode.protocol.types import RecordKind
from support import chain_now, post_order

pytestmark = pytest.mark.integration


@pytest.fixture
def awarded(chain, dev_accounts, maker_ready):
    order_id, _ = post_order(chain, dev_accounts["buyer"])
    chain.send(maker_ready, chain.book.claim(chain.book.load_order(order_id, chain.from_block)))
    chain.send(dev_accounts["buyer"], chain.book.award(chain.book.load_order(order_id, chain.from_block),
                                                       keccak(b"envelope")))
    return order_id


def domain(chain) -> Domain:
    return Domain.from_eip5267(chain.book.call("eip712Domain"))


def signed(chain, inspector, order_id, **changes):
    fields = dict(domain=domain(chain), order_id=order_id,
                  report_cid=keccak(b"report-cid"), report_hash=keccak(b"report"), passed=True,
                  nonce=chain.book.call("nonces", inspector.address), deadline=chain_now(chain) + 3600)
    fields.update(changes)
    return sign_attestation(inspector, **fields)


def relay(chain, relayer, attestation):
    tracker = chain.book.load_order(attestation.order_id, chain.from_block)
    return chain.send(relayer, chain.book.attest_by_sig(tracker, attestation.as_tuple(), attestation.signature))


def test_the_typed_data_is_the_contracts(chain):
    """The type string kept once in protocol/eip712.py hashes to the contract's; the domain comes from the book."""
    assert bytes(chain.book.call("ATTESTATION_TYPEHASH")) == ATTESTATION_TYPEHASH
    assert domain(chain) == ("fabmesh OrderBook", "1", chain.chain_id, chain.book.address)


def test_relayed_attestation_is_recorded_for_the_inspector(chain, dev_accounts, awarded):
    inspector = dev_accounts["inspector"]
    document = signed(chain, inspector, awarded).to_json()  # travels as JSON, e.g. by mail
    relay(chain, dev_accounts["stranger"], parse_signed_attestation(document))
    record = chain.book.load_order(awarded, chain.from_block).records[-1]
    assert record.kind == RecordKind.QUALITY_ATTESTED and record.actor == inspector.address


def test_replay_is_refused(chain, dev_accounts, awarded):
    attestation = signed(chain, dev_accounts["inspector"], awarded)
    relay(chain, dev_accounts["stranger"], attestation)
    with pytest.raises(TxReverted, match="InvalidAccountNonce"):
        relay(chain, dev_accounts["stranger"], attestation)


def test_signature_by_someone_else_is_refused(chain, dev_accounts, awarded):
    forged = signed(chain, dev_accounts["stranger"], awarded)
    forged = dataclasses.replace(forged, inspector=dev_accounts["inspector"].address)
    assert forged.recover_signer(domain(chain)) != forged.inspector
    with pytest.raises(TxReverted, match="InvalidSignature"):
        relay(chain, dev_accounts["maker"], forged)


def test_signature_for_another_chain_is_refused(chain, dev_accounts, awarded):
    other_chain = signed(chain, dev_accounts["inspector"], awarded, domain=domain(chain)._replace(chain_id=1))
    with pytest.raises(TxReverted, match="InvalidSignature"):
        relay(chain, dev_accounts["stranger"], other_chain)


@pytest.mark.parametrize("document, message", [
    ("{}", "not a fabmesh/signed-attestation"),
    ("[1]", "not a fabmesh/signed-attestation"),
    ("garbage", "invalid JSON"),
    ('{"type": "fabmesh/signed-attestation"}', "fields differ"),
    ("x" * 5000, "larger than"),
])
def test_malformed_documents(document, message):
    with pytest.raises(InputError, match=message):
        parse_signed_attestation(document)
