"""One test per issue-14 finding the v2 order book fixes: each performs the attack on v2 and shows it fails.
(F1/F10 governance and F4 vetting are tested with the registry and the manager.)"""

import brownie
import pytest
from brownie import chain

from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import Transition
from scripts.book_v2 import BOND, PRICE, ZERO
from tests.contracts.conftest import DAY, cid, err
from tests.contracts.v2.book_fixtures import *  # noqa: F403 (fixtures)
from tests.contracts.v2.book_fixtures import container

COST = 10**17  # SimpleCentralizedArbitrator.arbitrationCost


@pytest.fixture
def shipped(v2, kleros, partner, inspectors):
    spec, docs = v2.spec(inspectors=[inspectors[0].address, inspectors[2].address])
    t = v2.post(kleros, spec=spec, docs=docs)
    v2.award(t, partner)
    v2.ship(t)
    return t


# ------------------------------------------------------------------------ F2

def test_F2_record_cannot_block_dispute(v2, book, shipped, inspectors, buyer):
    """An inspector's attestation lands right before the buyer's dispute: the dispute carrying the order as it
    was still goes through (records never touch the order's slot)."""
    t, before = shipped, shipped.order
    att, sig = v2.attestation(t, inspectors[0])
    head = book.recordHead(t.order_id)
    book.attest(t.packed, t.spec, att, sig, {"from": buyer})
    assert book.recordHead(t.order_id) != head
    assert t.order == before
    v2.check(t)
    v2.dispute(t, COST)


def test_F2_record_cannot_block_ship(v2, book, kleros, partner, inspectors):
    spec, docs = v2.spec(inspectors=[inspectors[0].address])
    t = v2.post(kleros, spec=spec, docs=docs)
    v2.award(t, partner)
    book.recordSerials(t.packed, cid("serials"), {"from": partner.account})
    book.attest(t.packed, t.spec, cid("r"), cid("h"), True, {"from": inspectors[0].account})
    v2.ship(t)


def test_F2_record_cannot_block_resolve(v2, book, shipped, kleros, arbitrator, partner, inspectors, buyer):
    t = shipped
    v2.dispute(t, COST)
    v2.pay_fee(t, COST)
    book.submitEvidence(t.packed, cid("partner-evidence"), {"from": partner.account})
    book.attest(t.packed, t.spec, cid("r"), cid("h"), True, {"from": inspectors[0].account})
    kleros.rule(0, 51, {"from": arbitrator})  # 50 % to the buyer
    v2.execute_ruling(t, buyer, PRICE // 2, False)


def test_F2_record_cannot_block_refund(v2, book, kleros, partner, stranger):
    """After the due time no serials can be recorded, so a late partner cannot keep the refund off chain."""
    t = v2.post(kleros)
    v2.award(t, partner)
    chain.sleep(t.state.due_by - chain[-1].timestamp + 1)
    with brownie.reverts(err("DueTimePassed", t.state.due_by)):
        book.recordSerials(t.packed, cid("serials"), {"from": partner.account})
    v2.refund(t, stranger)


def test_F2_records_close_at_the_inspection_window(v2, book, shipped, inspectors):
    t = shipped
    chain.sleep(t.terms.inspection_window + 1)
    closed = t.state.stamp + t.terms.inspection_window
    with brownie.reverts(err("InspectionWindowClosed", closed)):
        book.attest(t.packed, t.spec, cid("r"), cid("h"), False, {"from": inspectors[0].account})


# ------------------------------------------------------------------------ F3

def test_F3_partner_rejects_undecryptable_award(v2, book, registry, kleros, partner, buyer):
    """A buyer awards with an envelope the partner cannot open: the partner rejects, free; the buyer gets the
    price back, not the bond; after the reject window the partner can no longer walk away."""
    t = v2.post(kleros)
    free = registry.freeBond(partner.address)
    info = registry.partnerInfo(partner.address)
    v2.award(t, partner, envelope=cid("garbage"))
    assert registry.freeBond(partner.address) == free - BOND
    v2.reject(t)
    assert registry.freeBond(partner.address) == free
    assert registry.partnerInfo(partner.address) == info  # no reputation change
    assert book.credits(buyer, ZERO) == PRICE
    t2 = v2.post(kleros)
    v2.award(t2, partner)
    chain.sleep(t2.terms.reject_window + 1)
    with brownie.reverts(err("RejectWindowClosed", t2.state.stamp + t2.terms.reject_window)):
        book.reject(t2.packed, cid("late"), {"from": partner.account})


# ------------------------------------------------------------------------ F5

def test_F5_unnamed_inspector_cannot_fail_qa(v2, book, registry, kleros, partner, inspectors):
    spec, docs = v2.spec(inspectors=[inspectors[0].address, inspectors[2].address])
    t = v2.post(kleros, spec=spec, docs=docs)
    v2.award(t, partner)
    before = registry.partnerInfo(partner.address)
    # accredited, but not named by this order's spec
    with brownie.reverts(err("InspectorNotNamed", inspectors[1].address)):
        book.attest(t.packed, t.spec, cid("r"), cid("h"), False, {"from": inspectors[1].account})
    # named, but not accredited
    with brownie.reverts(err("InspectorNotAccredited", inspectors[2].address)):
        book.attest(t.packed, t.spec, cid("r"), cid("h"), False, {"from": inspectors[2].account})
    assert registry.partnerInfo(partner.address) == before


def test_F5_failed_qa_counts_once_per_order(v2, book, registry, kleros, partner, inspectors, stranger):
    spec, docs = v2.spec(inspectors=[inspectors[0].address])
    t = v2.post(kleros, spec=spec, docs=docs)
    v2.award(t, partner)
    failed = registry.partnerInfo(partner.address)[3]
    for _ in range(3):
        att, sig = v2.attestation(t, inspectors[0], passed=False)
        book.attest(t.packed, t.spec, att, sig, {"from": stranger})
    assert registry.partnerInfo(partner.address)[3] == failed + 1
    assert book.arbitration(t.order_id)[5]  # failedQaCounted


# ------------------------------------------------------------------------ F6

def test_F6_stale_attestation_does_not_block_other_orders(v2, book, kleros, partner, inspectors, stranger):
    """A signature for an order that left the attestable window never blocks the inspector's next one."""
    spec, docs = v2.spec(inspectors=[inspectors[0].address])
    a = v2.post(kleros, spec=spec, docs=docs)
    v2.cancel(a)  # order A can no longer be attested: its signature is stale for good
    stale, stale_sig = v2.attestation(a, inspectors[0])
    with brownie.reverts(err("WrongStatus", a.order_id, 9)):
        book.attest(a.packed, a.spec, stale, stale_sig, {"from": stranger})
    spec, docs = v2.spec(inspectors=[inspectors[0].address])
    b = v2.post(kleros, spec=spec, docs=docs)
    v2.award(b, partner)
    att, sig = v2.attestation(b, inspectors[0])
    assert att.nonce == 0
    book.attest(b.packed, b.spec, att, sig, {"from": stranger})


def test_F6_inspector_cancels_attestation(v2, book, kleros, partner, inspectors, stranger):
    spec, docs = v2.spec(inspectors=[inspectors[0].address])
    t = v2.post(kleros, spec=spec, docs=docs)
    v2.award(t, partner)
    att, sig = v2.attestation(t, inspectors[0], passed=False)
    tx = book.cancelAttestation(t.order_id, att.nonce, {"from": inspectors[0].account})
    assert tx.events["AttestationCancelled"]["nonce"] == att.nonce
    key_nonce = (t.order_id << 64) | (att.nonce + 1)
    with brownie.reverts(err("InvalidAccountNonce", inspectors[0].address, key_nonce)):
        book.attest(t.packed, t.spec, att, sig, {"from": stranger})


def test_F6_partner_cancels_quotes(v2, book, kleros, partner):
    t = v2.post(kleros)
    q, sig = v2.quote(t.terms, partner, nonce=(7 << 8) | 3)
    book.invalidateQuoteNonces(7, 1 << 3, {"from": partner.account})
    with brownie.reverts(err("QuoteNonceUsed", partner.address, q.nonce)):
        book.award(t.packed, t.spec, codec.pack_quote(q), sig, cid("env"), {"from": t.terms.buyer})


# ------------------------------------------------------------------------ F7

def test_F7_rebasing_token_refused_and_surplus_skimmed(v2, book, kleros, admin, governor, buyer, fee_recipient):
    rebasing = container("RebasingERC20").deploy({"from": admin})
    book.allowToken(rebasing, {"from": governor})
    rebasing.mint(buyer, 3 * PRICE, {"from": buyer})
    rebasing.approve(book, 3 * PRICE, {"from": buyer})
    t = v2.post(kleros, token=rebasing)
    assert book.liability(rebasing) == PRICE
    rebasing.rebaseDown(book, 1, {"from": admin})  # the book now holds less than it owes
    with brownie.reverts(err("TokenBalanceBelowLiability", rebasing.address, PRICE - 1, PRICE)):
        v2.post(kleros, token=rebasing)
    rebasing.mint(book, 1 + 5, {"from": admin})  # a positive rebase: 5 above what is owed
    tx = book.skim(rebasing, {"from": buyer})
    assert tx.events["Skimmed"]["amount"] == 5
    assert rebasing.balanceOf(fee_recipient) == 5
    assert rebasing.balanceOf(book) == book.liability(rebasing) == PRICE
    with brownie.reverts(err("NothingToSkim", rebasing.address)):
        book.skim(rebasing, {"from": buyer})
    v2.cancel(t)
    book.withdraw(rebasing, buyer, {"from": buyer})
    assert book.liability(rebasing) == 0 and rebasing.balanceOf(book) == 0


# ------------------------------------------------------------------------ F8

def test_F8_payment_goes_to_the_quoted_payee(v2, book, kleros, partner, accounts):
    payee = accounts[9]
    t = v2.post(kleros)
    v2.award(t, partner, payee=payee.address)
    v2.ship(t)
    balance = payee.balance()
    tx = v2.confirm(t)
    fee = PRICE * t.terms.fee_bps // 10_000
    assert payee.balance() == balance + PRICE - fee
    assert dict(tx.events["OrderCompleted"]) == {"orderId": t.order_id, "kind": Transition.CONFIRMED}
    assert "Credited" not in tx.events or all(e["account"] != payee.address for e in tx.events["Credited"])


def test_F8_eth_rejecting_payee_is_credited_and_withdraws_elsewhere(v2, book, registry, kleros, partner, admin,
                                                                     accounts):
    rejecter = container("EthRejecter").deploy({"from": admin})
    t = v2.post(kleros)
    v2.award(t, partner, payee=rejecter.address)
    v2.ship(t)
    free = registry.freeBond(partner.address)
    v2.confirm(t)  # the push fails; the confirm does not
    owed = PRICE - PRICE * t.terms.fee_bps // 10_000
    assert book.credits(rejecter, ZERO) == owed
    assert registry.freeBond(partner.address) == free + BOND  # the bond never rode along
    to = accounts[8]
    balance = to.balance()
    data = book.withdraw.encode_input(ZERO, to)
    rejecter.execute(book, data, {"from": admin})
    assert to.balance() == balance + owed


def test_F8_blacklisted_payee_credited_then_paid_to_another_address(v2, book, kleros, partner, admin, governor,
                                                                    buyer, accounts):
    usdc = container("BlacklistERC20").deploy({"from": admin})
    book.allowToken(usdc, {"from": governor})
    usdc.mint(buyer, PRICE, {"from": buyer})
    usdc.approve(book, PRICE, {"from": buyer})
    payee = accounts[7]
    t = v2.post(kleros, token=usdc)
    v2.award(t, partner, payee=payee.address)
    v2.ship(t)
    usdc.setBlacklisted(payee, True, {"from": admin})
    v2.confirm(t)
    owed = PRICE - PRICE * t.terms.fee_bps // 10_000
    assert book.credits(payee, usdc) == owed
    book.withdraw(usdc, accounts[6], {"from": payee})
    assert usdc.balanceOf(accounts[6]) == owed


# ------------------------------------------------------------------------ F9

def test_F9_dispute_is_not_free(v2, book, shipped, buyer):
    t = shipped
    with brownie.reverts(err("ArbitrationFeeMismatch", COST, 0)):
        book.dispute(t.packed, cid("e"), {"from": buyer})


def test_F9_partner_not_matching_the_fee_loses_by_default(v2, book, registry, shipped, partner, buyer, stranger):
    t = shipped
    v2.dispute(t, COST)
    with brownie.reverts(err("FeeResponseWindowOpen", t.state.stamp + 3 * DAY)):
        book.claimDefault(t.packed, {"from": stranger})
    with brownie.reverts(err("ArbitrationNotCreated", t.order_id)):
        book.settleExpired(t.packed, {"from": stranger})
    chain.sleep(3 * DAY + 1)
    disputes_lost = registry.partnerInfo(partner.address)[4]
    v2.claim_default(t, stranger)
    assert book.credits(buyer, ZERO) == PRICE + BOND + COST
    assert registry.partnerInfo(partner.address)[4] == disputes_lost + 1


def test_F9_slow_arbitration_costs_the_buyer_its_fee(v2, book, shipped, partner, buyer, stranger):
    """The expiry fallback still halves the price, but only after both paid the arbitrator."""
    t = shipped
    v2.dispute(t, COST)
    v2.pay_fee(t, COST)
    with brownie.reverts(err("ArbitrationAlreadyCreated", t.order_id)):
        book.claimDefault(t.packed, {"from": stranger})
    chain.sleep(t.terms.dispute_timeout + 1)
    v2.settle_expired(t, stranger)
    held = 2 * COST - COST  # the arbitrator kept one fee
    assert book.credits(buyer, ZERO) == PRICE // 2 + held - held // 2


# ------------------------------------------------------------------------ F11

def test_F11_dispute_timeout_bounded(book, governor):
    with brownie.reverts(err("DisputeTimeoutOutOfRange", 0)):
        book.setParameters(DAY, 0, {"from": governor})
    with brownie.reverts(err("RejectWindowOutOfRange", 0)):
        book.setParameters(0, 14 * DAY, {"from": governor})


def test_F11_parameters_snapshotted_at_post(v2, book, kleros, governor, partner, stranger):
    spec, docs = v2.spec()
    stale = v2.terms(spec, kleros, dispute_timeout=7 * DAY)
    with brownie.reverts(err("SnapshotMismatch")):
        book.post(stale, spec, docs, {"from": stale.buyer, "value": PRICE})
    t = v2.post(kleros)
    book.setParameters(DAY, 60 * DAY, {"from": governor})
    assert t.terms.dispute_timeout == 30 * DAY  # the order keeps its own
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST)
    v2.pay_fee(t, COST)
    chain.sleep(30 * DAY + 1)
    v2.settle_expired(t, stranger)


def test_F11_chains_bind_chain_book_and_order(v2, book, kleros):
    a, b = v2.post(kleros), v2.post(kleros)
    for t in (a, b):
        assert book.genesis(t.order_id) == "0x" + codec.genesis(chain.id, book.address, t.order_id).hex()
        assert book.recordHead(t.order_id) == book.genesis(t.order_id)
    assert book.genesis(a.order_id) != book.genesis(b.order_id)
    # the same terms posted twice give different heads (the chains cannot be replayed across orders)
    assert a.state.head != b.state.head
