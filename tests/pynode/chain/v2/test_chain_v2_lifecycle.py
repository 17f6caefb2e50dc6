"""The escrow-first v2 lifecycle on a real anvil, only through the v2 wrappers and TxSender: v2 deployed by
pynode.dev.deploy.deploy_v2, a partner registered with a real HPKE key and vetted on the profile hash the
certifier read, an order posted, a quote signed as a fabmesh/signed-quote document and awarded with an envelope
CID, serials recorded, shipped and confirmed; after every step the tracker rebuilt from the chain's logs agrees
with orderHash and recordHead, and a stale commitment is reported as out of sync."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from pynode.chain.contracts import OrderOutOfSync, region_bytes
from pynode.chain.deployment import load_deployment
from pynode.chain.orders import MATERIAL, PROCESS
from pynode.chain.provider import connect
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxReverted, TxSender
from pynode.chain.v2.arbitrator import PanelArbitrator
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.orders import ZERO_ADDRESS
from pynode.chain.v2.registry import PartnerRegistryV2
from pynode.crypto.hpke import generate_keypair
from pynode.dev.deploy import deploy_v2
from pynode.documents.quote import parse_signed_quote, sign_quote
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderDocs, OrderSpec, OrderStatus, OrderTerms, PartnerProfile, Quote

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

DAY = 86400
PRICE, QUOTED = 10**17, 9 * 10**16


def cid(label: str) -> bytes:
    """A CID digest as the book stores it (the documents themselves are not this test's subject)."""
    return keccak(text=label)


@pytest.fixture(scope="module")
def v2(anvil, tmp_path_factory):
    directory = tmp_path_factory.mktemp("v2-deployments")
    deploy_v2(anvil.rpc_url, anvil.chain_id, directory)
    deployment = load_deployment(anvil.chain_id, directory, None, protocol=2)
    w3 = connect(anvil.rpc_url)
    decoder = RevertDecoder(*(info.abi for info in deployment.contracts.values()))
    return (deployment, w3, OrderBookV2(w3, deployment["OrderBookV2"]),
            PartnerRegistryV2(w3, deployment["PartnerRegistryV2"]), PanelArbitrator(w3, deployment["PanelArbitrator"]),
            lambda account: TxSender(w3, account, decoder, confirmations=0))


def checked(book: OrderBookV2, order_id: int, from_block: int, status: OrderStatus):
    """The tracker rebuilt from the logs; load_order compared it with orderHash and recordHead already."""
    t = book.load_order(order_id, from_block)
    assert codec.order_hash(t.order) == book.order_hash(order_id)
    assert t.record_head == book.record_head(order_id) and t.status == status
    return t


def test_escrow_first_lifecycle_through_the_wrappers(v2, dev_accounts):
    deployment, w3, book, registry, panel, sender = v2
    buyer, maker, certifier = dev_accounts["buyer"], dev_accounts["maker"], dev_accounts["certifier"]
    start = deployment.deploy_block

    # a partner registers with a real HPKE key and is vetted on the profile the certifier read
    key = generate_keypair()
    profile = PartnerProfile(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], region_bytes("u33d"), 40, cid("profile"))
    sender(maker).send(registry.register(profile, key.public_key, 5 * registry.min_bond()))
    sender(certifier).send(registry.vet(maker.address, registry.profile_hash(maker.address), cid("vetting")))
    info = registry.partner_info(maker.address)
    assert info.registered and info.vetted and info.free_bond == info.bond == 5 * registry.min_bond()
    assert registry.encryption_key(maker.address, start, info) == key.public_key

    # the buyer posts, escrowing the price; the order id derives from the terms
    docs = OrderDocs(cid("design"), cid("design-sha"), cid("spec"), region_bytes("u33d"))
    spec = OrderSpec(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], 0, (), codec.docs_hash(docs))
    now = w3.eth.get_block("latest")["timestamp"]
    terms = OrderTerms(buyer.address, ZERO_ADDRESS, PRICE, 10**16, panel.address, now + DAY, now + 10 * DAY, 3 * DAY,
                       book.reject_window(), book.dispute_timeout(), book.fee_bps(), codec.spec_hash(spec))
    sent = sender(buyer).send(book.post(terms, spec, docs))
    order_id = codec.order_id(terms)
    assert book.genesis(order_id) == book.genesis_of(order_id)
    t = checked(book, order_id, start, OrderStatus.OPEN)
    assert (t.terms, t.spec, t.docs, t.posted_block) == (terms, spec, docs, sent.block_number)

    # the partner signs a quote; the buyer reads the document and awards it with the key envelope's CID
    quote = Quote(codec.terms_hash(terms), maker.address, maker.address, QUOTED, 2 * 10**16, 5 * DAY, now + DAY, 1)
    document = sign_quote(maker, book.domain(), quote).to_json()
    signed = parse_signed_quote(document)
    assert signed.recover_signer(book.domain()) == maker.address
    sender(buyer).send(book.award(t, signed.quote, signed.signature, cid("envelope")))
    t = checked(book, order_id, start, OrderStatus.AWARDED)
    assert (t.partner, t.payee, t.price, t.bond, t.key_envelope_cid) == (
        maker.address, maker.address, QUOTED, 2 * 10**16, cid("envelope"))
    assert t.due_by == t.awarded_at + 5 * DAY and registry.free_bond(maker.address) == info.bond - 2 * 10**16
    assert book.credits(buyer.address, ZERO_ADDRESS) == PRICE - QUOTED  # the quote's difference, credited back

    # a record (serials) extends the record chain only; a stale order is refused by the book
    sender(maker).send(book.record_serials(t, cid("serials")))
    t = checked(book, order_id, start, OrderStatus.AWARDED)
    assert [(r.actor, r.evidence) for r in t.records] == [(maker.address, cid("serials"))]
    awarded_hash = book.order_hash(order_id)
    shipped = sender(maker).send(book.ship(t, cid("report"), cid("report-sha")))
    with pytest.raises(TxReverted, match="OrderMismatch"):
        sender(maker).send(book.ship(t, cid("report"), cid("report-sha")))
    t = checked(book, order_id, start, OrderStatus.SHIPPED)
    assert t.report == (cid("report"), cid("report-sha")) and t.inspection_closes == t.shipped_at + 3 * DAY
    with pytest.raises(OrderOutOfSync):
        book.load_order(order_id, start, shipped.block_number, expected=awarded_hash)

    # the buyer confirms: the payee is paid the price less the fee, the bond is free again
    before = w3.eth.get_balance(maker.address)
    sender(buyer).send(book.confirm(t))
    t = checked(book, order_id, start, OrderStatus.COMPLETED)
    assert w3.eth.get_balance(maker.address) == before + QUOTED - t.fee
    assert registry.free_bond(maker.address) == info.bond and registry.partner_info(maker.address).on_time == 1
    assert {i: codec.order_hash(x.order) for i, x in book.load_orders(start).items()} == {
        order_id: book.order_hash(order_id)}
    sender(buyer).send(book.withdraw(ZERO_ADDRESS, buyer.address))
    assert book.credits(buyer.address, ZERO_ADDRESS) == 0
