"""v2 lifecycles on a real anvil, only through the v2 wrappers and TxSender on pynode.dev.deploy.deploy_v2.

Escrow-first: a partner registered with a real HPKE key and vetted on the profile hash the certifier read, an
order posted, a quote signed as a fabmesh/signed-quote document and awarded with an envelope CID, serials
recorded, shipped, confirmed. Quote-first: postAwarded, shipped, disputed, the partner's matching fee, a 2-of-3
PanelArbitrator ruling executed by a stranger. An unawarded order refunded by anyone. A fee set through the
AccessManager, an inspector's own and relayed attestations, the fee recipient's collection. After every step the
tracker rebuilt from the chain's logs agrees with orderHash and recordHead; a stale commitment is out of sync."""

from __future__ import annotations

import dataclasses

import pytest
from eth_utils import keccak

from pynode.chain.contracts import OrderOutOfSync, region_bytes
from pynode.chain.deployment import load_deployment
from pynode.chain.orders import MATERIAL, PROCESS
from pynode.chain.provider import connect
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxReverted, TxSender
from pynode.chain.v2.arbitrator import DisputeStatus, PanelArbitrator, Phase
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.manager import AccessManager, restricted_call
from pynode.chain.v2.orders import ZERO_ADDRESS, OrderTracker
from pynode.chain.v2.registry import PartnerRegistryV2
from pynode.crypto.hpke import generate_keypair
from pynode.dev.accounts import DEV_GOVERNANCE_DELAY, v2_accounts
from pynode.dev.deploy import deploy_v2
from pynode.documents.quote import parse_signed_quote, sign_quote
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import Attestation, OrderDocs, OrderSpec, OrderStatus, OrderTerms, PartnerProfile, Quote

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


_PREVIOUS: dict[int, OrderTracker] = {}  # each order's tracker at its last check


class _Incremental(OrderBookV2):
    def load_order(self, *args: object, **kwargs: object) -> OrderTracker:
        raise AssertionError("update rebuilt the order from its post instead of folding the new logs")


def checked(book: OrderBookV2, order_id: int, from_block: int, status: OrderStatus) -> OrderTracker:
    """The tracker rebuilt from the logs (load_order compared it with orderHash and recordHead already), and the
    same order reached by updating the previous check's tracker with the logs since (that tracker untouched)."""
    t = book.load_order(order_id, from_block)
    assert codec.order_hash(t.order) == book.order_hash(order_id)
    assert t.record_head == book.record_head(order_id) and t.status == status
    previous = _PREVIOUS.get(order_id)
    if previous is not None:
        before = (previous.order, previous.seen)
        updated = _Incremental(book.w3, book.info, book.reader).update(previous, from_block)
        assert (updated.order, updated.transitions, updated.records, updated.seen) == (
            t.order, t.transitions, t.records, t.seen)
        assert (previous.order, previous.seen) == before
    _PREVIOUS[order_id] = t
    return t


def new_order(w3, book, panel, buyer, label: str, inspectors: tuple[str, ...] = ()):
    docs = OrderDocs(cid(f"design-{label}"), cid(f"sha-{label}"), cid(f"spec-{label}"), region_bytes("u33d"))
    spec = OrderSpec(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], 0, inspectors, codec.docs_hash(docs))
    now = w3.eth.get_block("latest")["timestamp"]
    terms = OrderTerms(buyer.address, ZERO_ADDRESS, PRICE, 10**16, panel.address, now + DAY, now + 10 * DAY, 3 * DAY,
                       book.reject_window(), book.dispute_timeout(), book.fee_bps(), codec.spec_hash(spec))
    return terms, spec, docs, now


def travel(anvil, seconds: int) -> None:
    anvil.rpc("evm_increaseTime", seconds)
    anvil.rpc("evm_mine")


@pytest.fixture(scope="module")
def vetted_maker(v2, dev_accounts):
    """The partner every award of this module goes to, registered with a real HPKE key and vetted on the profile
    hash the certifier read, by whichever test needs it first: each test runs alone or in any order."""
    _, _, _, registry, _, sender = v2
    maker = dev_accounts["maker"]
    key = generate_keypair()
    profile = PartnerProfile(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], region_bytes("u33d"), 40, cid("profile"))
    sender(maker).send(registry.register(profile, key.public_key, 5 * registry.min_bond()))
    sender(dev_accounts["certifier"]).send(registry.vet(maker.address, registry.profile_hash(maker.address),
                                                        cid("vetting")))
    return maker, key.public_key


@pytest.fixture
def fee_recipient(v2, anvil, dev_accounts):
    """A 1 % fee to the auditor's account, set through the AccessManager's delay, and none again afterwards, so
    the other tests' orders carry no fee whichever runs first."""
    deployment, w3, book, _, _, sender = v2
    admin, recipient = dev_accounts["admin"], dev_accounts["auditor"]
    manager = AccessManager(w3, deployment["AccessManager"])
    before = (book.fee_bps(), book.fee_recipient())

    def set_fee(bps: int, to: str) -> None:
        call = restricted_call(book, "setFee", bps, to)
        assert call.data == book.set_fee(bps, to).data
        sender(admin).send(manager.schedule(call))
        travel(anvil, DEV_GOVERNANCE_DELAY + 1)
        sender(admin).send(manager.execute(call))
        assert (book.fee_bps(), book.fee_recipient()) == (bps, to)

    set_fee(100, recipient.address)
    yield recipient
    set_fee(*before)


def test_escrow_first_lifecycle_through_the_wrappers(v2, dev_accounts, vetted_maker):
    deployment, w3, book, registry, panel, sender = v2
    (maker, public_key), buyer = vetted_maker, dev_accounts["buyer"]
    start = deployment.deploy_block

    # the partner registered with a real HPKE key is vetted on the profile the certifier read (the fixture)
    info = registry.partner_info(maker.address)
    assert info.registered and info.vetted and info.bond == 5 * registry.min_bond()
    assert registry.encryption_key(maker.address, start, info) == public_key
    credited = book.credits(buyer.address, ZERO_ADDRESS)  # other tests' credits stay unwithdrawn

    # the buyer posts, escrowing the price; the order id derives from the terms
    terms, spec, docs, now = new_order(w3, book, panel, buyer, "escrow-first")
    sent = sender(buyer).send(book.post(terms, spec, docs))
    order_id = codec.order_id(terms)
    assert book.genesis(order_id) == book.genesis_of(order_id)
    t = opened = checked(book, order_id, start, OrderStatus.OPEN)
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
    assert t.due_by == t.awarded_at + 5 * DAY and registry.free_bond(maker.address) == info.free_bond - 2 * 10**16
    assert book.credits(buyer.address, ZERO_ADDRESS) == credited + PRICE - QUOTED  # the quote's difference

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
    assert registry.free_bond(maker.address) == info.free_bond
    assert registry.partner_info(maker.address).on_time == info.on_time + 1
    orders = book.load_orders(start)  # with the other tests' orders, if they ran first
    assert order_id in orders and all(codec.order_hash(x.order) == book.order_hash(i) for i, x in orders.items())
    # no fee set (fee_recipient sets one only around its test): anyone's collection of it is a no-op with no log,
    # so the tracker stays in sync
    assert t.fee == 0
    sender(dev_accounts["stranger"]).send(book.collect_fees([t]))
    t = checked(book, order_id, start, OrderStatus.COMPLETED)
    sender(buyer).send(book.withdraw(ZERO_ADDRESS, buyer.address))
    assert book.credits(buyer.address, ZERO_ADDRESS) == 0
    # a tracker that claims to have seen logs it never folded does not match: update rebuilds it from the post
    skipped = dataclasses.replace(opened, seen=(w3.eth.block_number, 0))
    assert book.update(skipped, start).order == t.order


def test_quote_first_dispute_ruled_by_the_panel(v2, anvil, dev_accounts, vetted_maker):
    """postAwarded, ship, dispute with the panel's cost, the partner's matching fee, a 2-of-3 ruling executed by
    anyone: every step folds to orderHash and recordHead, and the panel's view of its dispute follows."""
    deployment, w3, book, _, panel, sender = v2
    (maker, _), buyer, stranger = vetted_maker, dev_accounts["buyer"], dev_accounts["stranger"]
    start = deployment.deploy_block
    terms, spec, docs, now = new_order(w3, book, panel, buyer, "quote-first")
    quote = Quote(codec.terms_hash(terms), maker.address, maker.address, PRICE, 2 * 10**16, 5 * DAY, now + DAY, 0)
    signed = sign_quote(maker, book.domain(), quote)
    sender(buyer).send(book.post_awarded(terms, spec, docs, signed.quote, signed.signature, cid("envelope-2")))
    order_id = codec.order_id(terms)
    t = checked(book, order_id, start, OrderStatus.AWARDED)
    assert [x.kind for x in t.transitions] == [1] and t.key_envelope_cid == cid("envelope-2")
    sender(maker).send(book.ship(t, cid("report-2"), cid("report-sha-2")))
    t = checked(book, order_id, start, OrderStatus.SHIPPED)

    cost = panel.arbitration_cost()
    sender(buyer).send(book.dispute(t, cid("evidence"), cost))
    t = checked(book, order_id, start, OrderStatus.DISPUTED)
    assert book.arbitration(order_id).buyer_fee == cost and not book.arbitration(order_id).created
    sender(maker).send(book.pay_arbitration_fee(t, book.arbitration(order_id).buyer_fee))
    t = checked(book, order_id, start, OrderStatus.DISPUTED)
    assert t.dispute_id is not None and book.arbitration(order_id).created
    assert [(r.kind, r.actor) for r in t.records] == [(2, maker.address)]  # ArbitrationFeePaid
    members = [dev_accounts["arbitrator"], v2_accounts()["panelist"]]
    for member in members:
        sender(member).send(panel.vote(t.dispute_id, 51))  # ruling 51: half of the price to the buyer
    assert panel.dispute(t.dispute_id).phase == Phase.APPEALABLE
    assert panel.dispute_status(t.dispute_id) == DisputeStatus.APPEALABLE and panel.current_ruling(t.dispute_id) == 51
    assert panel.vote_of(t.dispute_id, 0, members[0].address) == 51 and panel.votes_for(t.dispute_id, 0, 51) == 2
    travel(anvil, panel.appeal_window() + 1)
    sender(stranger).send(panel.execute_ruling(t.dispute_id))
    assert panel.phase(t.dispute_id) == Phase.EXECUTED and book.arbitration(order_id).ruling == 51
    sender(stranger).send(book.execute_ruling(t))
    t = checked(book, order_id, start, OrderStatus.RESOLVED)
    assert t.transitions[-1].actor == stranger.address and t.resolution == (PRICE // 2, PRICE // 2, 0, False)
    sender(members[0]).send(panel.claim_reward(t.dispute_id))
    assert panel.credit(members[0].address) > 0
    sender(members[0]).send(panel.withdraw(members[0].address))
    assert panel.credit(members[0].address) == 0


def test_an_unawarded_order_is_refunded_by_anyone_after_its_deadline(v2, anvil, dev_accounts):
    deployment, w3, book, _, panel, sender = v2
    buyer, stranger = dev_accounts["buyer"], dev_accounts["stranger"]
    terms, spec, docs, _ = new_order(w3, book, panel, buyer, "refund")
    sender(buyer).send(book.post(terms, spec, docs))
    t = checked(book, codec.order_id(terms), deployment.deploy_block, OrderStatus.OPEN)
    with pytest.raises(TxReverted, match="NotYetRefundable"):
        sender(stranger).send(book.refund(t))
    travel(anvil, DAY + 1)
    before = book.credits(buyer.address, ZERO_ADDRESS)  # earlier tests' credits stay unwithdrawn
    sender(stranger).send(book.refund(t))
    t = checked(book, t.order_id, deployment.deploy_block, OrderStatus.REFUNDED)
    assert t.transitions[-1].actor == stranger.address
    # a fresh wrapper asks the refund's sender in one batch before it folds; anvil sends each log's block time
    # with it (blockTimestamp), so no block is read
    fresh = OrderBookV2(w3, deployment["OrderBookV2"])
    logs = fresh.order_logs(t.order_id, deployment.deploy_block, w3.eth.block_number)
    fresh.prefetch(logs)
    assert all(log.block_time is not None for log in logs) and not fresh._block_times
    assert [fresh.block_time(log) for log in logs] == [int(w3.eth.get_block(log.block_number)["timestamp"])
                                                       for log in logs]
    bare = [log._replace(block_time=None) for log in logs]  # a node that sends no blockTimestamp: read in the batch
    fresh.prefetch(bare)
    assert set(fresh._block_times) == {log.block_hash for log in logs}
    assert set(fresh._senders) == {logs[-1].tx_hash} and fresh._senders[logs[-1].tx_hash] == stranger.address
    assert codec.order_hash(fresh.fold(t.order_id, logs, w3.eth.block_number).order) == book.order_hash(t.order_id)
    assert book.credits(buyer.address, ZERO_ADDRESS) == before + PRICE


def test_attested_order_with_a_fee_collected_by_the_fee_recipient(v2, dev_accounts, vetted_maker, fee_recipient):
    """A fee set through the manager's delay (the fixture), an order naming an accredited inspector: its own
    attestation and a relayed signed one (plus a cancelled nonce) on the record chain, completion, and the fee
    recipient's collection (Completed -> FeeCollected, folded from its Credited log and sender)."""
    deployment, w3, book, registry, panel, sender = v2
    (maker, _), buyer, recipient = vetted_maker, dev_accounts["buyer"], fee_recipient
    inspector, stranger = dev_accounts["inspector"], dev_accounts["stranger"]
    start = deployment.deploy_block
    failed_qa = registry.partner_info(maker.address).failed_qa
    now = w3.eth.get_block("latest")["timestamp"]
    sender(dev_accounts["certifier"]).send(registry.accredit_inspector(inspector.address, now + 365 * DAY, cid("acc")))
    assert registry.is_accredited_inspector(inspector.address)

    terms, spec, docs, now = new_order(w3, book, panel, buyer, "attested", (inspector.address,))
    quote = Quote(codec.terms_hash(terms), maker.address, maker.address, PRICE, 2 * 10**16, 5 * DAY, now + DAY, 0)
    signed = sign_quote(maker, book.domain(), quote)
    sender(buyer).send(book.post_awarded(terms, spec, docs, signed.quote, signed.signature, cid("envelope-3")))
    order_id = codec.order_id(terms)
    t = checked(book, order_id, start, OrderStatus.AWARDED)
    sender(inspector).send(book.attest(t, cid("qa-1"), cid("qa-1-sha"), True))
    nonce = book.attestation_nonce(inspector.address, order_id)
    att = Attestation(order_id, inspector.address, cid("qa-2"), cid("qa-2-sha"), False, nonce, now + DAY)
    sender(stranger).send(book.attest_by_sig(t, att, eip712.sign(inspector, book.domain(), att)))
    sender(inspector).send(book.cancel_attestation(order_id, nonce + 1))
    assert book.attestation_nonce(inspector.address, order_id) == nonce + 2
    t = checked(book, order_id, start, OrderStatus.AWARDED)
    assert [(a.inspector, a.passed) for a in t.attestations] == [(inspector.address, True), (inspector.address, False)]
    assert [r.actor for r in t.records] == [inspector.address] * 2  # the relayed one is the inspector's too
    assert registry.partner_info(maker.address).failed_qa == failed_qa + 1

    sender(maker).send(book.ship(t, cid("report-3"), cid("report-sha-3")))
    sender(buyer).send(book.confirm(checked(book, order_id, start, OrderStatus.SHIPPED)))
    t = checked(book, order_id, start, OrderStatus.COMPLETED)
    assert t.fee == PRICE // 100 and book.credits(recipient.address, ZERO_ADDRESS) == 0
    sender(recipient).send(book.collect_fees([t]))
    t = checked(book, order_id, start, OrderStatus.FEE_COLLECTED)
    assert t.transitions[-1] == (13, recipient.address, t.fee.to_bytes(32, "big"), t.transitions[-1].time)
    assert book.credits(recipient.address, ZERO_ADDRESS) == t.fee
    assert codec.order_hash(book.load_orders(start)[order_id].order) == book.order_hash(order_id)
