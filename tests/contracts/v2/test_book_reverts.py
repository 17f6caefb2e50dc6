"""Every revert of every OrderBookV2 function, each asserting its custom error and arguments."""

import brownie
import pytest
from brownie import chain

from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import OrderStatus, Transition
from scripts.book_v2 import BOND, DAY, ENVELOPE, PRICE, REPORT, ZERO, cid
from tests.contracts.conftest import err
from tests.contracts.v2.book_fixtures import *  # noqa: F403 (fixtures)
from tests.contracts.v2.book_fixtures import container

COST = 10**17
OPEN, AWARDED, SHIPPED, DISPUTED, COMPLETED = 1, 2, 3, 4, 5


def rv(name, *args):
    return brownie.reverts(err(name, *args))


@pytest.fixture(scope="module")
def raw(admin):
    """An arbitrator without guards of its own (contracts/test/RawArbitrator.sol)."""
    return container("RawArbitrator").deploy(COST, {"from": admin})


def b32(x):
    return bytes(x)


# ----------------------------------------------------------------------------------------------- post

def test_post_reverts(v2, book, kleros, buyer, stranger, token, admin, governor):
    spec, docs = v2.spec()
    good = v2.terms(spec, kleros)

    def post(terms=good, value=PRICE, s=spec, d=docs, sender=buyer):
        return book.post(terms, s, d, {"from": sender, "value": value})

    with rv("BuyerNotSender", buyer.address):
        post(sender=stranger)
    with rv("ZeroPrice"):
        post(good._replace(price=0), value=0)
    with rv("AwardDeadlineNotInFuture", chain[-1].timestamp - 1):
        post(good._replace(award_deadline=chain[-1].timestamp - 1))
    with rv("DeliveryDeadlineNotAfterAwardDeadline", good.award_deadline, good.award_deadline):
        post(good._replace(delivery_deadline=good.award_deadline))
    for window in (0, 90 * DAY + 1):
        with rv("InspectionWindowOutOfRange", window):
            post(good._replace(inspection_window=window))
    with rv("ZeroAddress"):
        post(good._replace(arbitrator=ZERO))
    with rv("ArbitratorIsBuyer"):
        post(good._replace(arbitrator=buyer.address))
    many, many_docs = v2.spec(inspectors=[stranger.address] * 9)
    with rv("TooManyInspectors", 9):
        post(v2.terms(many, kleros), s=many, d=many_docs)
    other_docs = docs._replace(region=b"zzzz\0\0\0\0")
    with rv("DocsHashMismatch", b32(spec.docs_hash), codec.docs_hash(other_docs)):
        post(d=other_docs)
    with rv("SpecHashMismatch", cid("x"), codec.spec_hash(spec)):
        post(good._replace(spec_hash=cid("x")))
    with rv("SnapshotMismatch"):
        post(good._replace(fee_bps=good.fee_bps + 1))
    with rv("SnapshotMismatch"):
        post(good._replace(reject_window=good.reject_window + 1))
    with rv("IncorrectPayment", PRICE, PRICE - 1):
        post(value=PRICE - 1)
    with rv("IncorrectPayment", 0, 1):
        post(good._replace(token=token.address), value=1)
    unlisted = container("TestERC20").deploy({"from": admin})
    with rv("TokenNotAllowed", unlisted.address):
        post(good._replace(token=unlisted.address), value=0)
    fot = container("FeeOnTransferERC20").deploy({"from": admin})
    book.allowToken(fot, {"from": governor})
    fot.mint(buyer, PRICE, {"from": buyer})
    fot.approve(book, PRICE, {"from": buyer})
    with pytest.raises(brownie.exceptions.VirtualMachineError) as exc:
        post(good._replace(token=fot.address), value=0)
    assert str(exc.value.revert_msg).startswith("TransferAmountMismatch: ")


# ---------------------------------------------------------------------------------------- award, quotes

def test_award_reverts(v2, book, registry, kleros, partner, partners, buyer, stranger, arbitrator, accounts):
    t = v2.post(kleros)

    def award(q_sig, sender=buyer, spec=None, order=None):
        q, sig = q_sig
        return book.award(codec.pack_order(order or t.order), spec or t.spec, codec.pack_quote(q), sig, ENVELOPE,
                          {"from": sender})

    with rv("OrderMismatch", t.order_id):
        award(v2.quote(t.terms, partner), order=t.order._replace(state=t.state._replace(price=1)))
    with rv("CallerNotAllowed", stranger.address):
        award(v2.quote(t.terms, partner), sender=stranger)
    other_spec, _ = v2.spec(cert_ids=1)
    with rv("SpecHashMismatch", b32(t.terms.spec_hash), codec.spec_hash(other_spec)):
        award(v2.quote(t.terms, partner), spec=other_spec)
    other_terms = t.terms._replace(price=PRICE + 1)
    # the packed quote carries no terms hash: a quote for other terms is checked against these, where its
    # signature does not recover its partner
    with rv("InvalidSignature", partner.address):
        award(v2.quote(other_terms, partner, price=PRICE))
    for price in (0, PRICE + 1):
        with rv("QuotePriceOutOfRange", price, PRICE):
            award(v2.quote(t.terms, partner, price=price))
    with rv("QuoteBondBelowMinimum", BOND - 1, BOND):
        award(v2.quote(t.terms, partner, bond=BOND - 1))
    # its first argument is the award block's time + the lead time; one second more than the whole span from
    # post to the deadline, so it is past even when the award lands in the post's second
    with pytest.raises(brownie.exceptions.VirtualMachineError) as exc:
        award(v2.quote(t.terms, partner, lead=10 * DAY + 1))
    assert str(exc.value.revert_msg).startswith("LeadTimePastDeliveryDeadline: ")
    assert str(exc.value.revert_msg).endswith(f", {t.terms.delivery_deadline}")
    with rv("ZeroAddress"):
        award(v2.quote(t.terms, partner, payee=ZERO))
    q, sig = v2.quote(t.terms, partner, expiry_in=0)
    chain.sleep(2)
    with rv("SignatureExpired", q.expiry):
        award((q, sig))
    q, _ = v2.quote(t.terms, partner)
    with rv("InvalidSignature", partner.address):
        award((q, v2.sign(partners[1], q)))
    # the registry's eligibility errors reach the buyer (an unregistered signer)
    from tests.contracts.v2.book_fixtures import signer
    outsider = signer(accounts, accounts[0], "0x" + "a1" * 32)
    with rv("NotRegistered", outsider.address):
        award(v2.quote(t.terms, outsider))
    used = v2.quote(t.terms, partner)
    v2.award(t, partner, quote=used)
    with rv("WrongStatus", t.order_id, AWARDED):
        award(used)
    # the quote names its terms, the terms one order id: they post once, so the quote awards once
    with rv("OrderExists", t.order_id):
        book.post(t.terms, t.spec, t.docs, {"from": buyer, "value": PRICE})
    t2 = v2.post(kleros)
    with rv("InvalidSignature", partner.address):
        book.award(t2.packed, t2.spec, codec.pack_quote(used[0]), used[1], ENVELOPE, {"from": buyer})
    chain.sleep(DAY + 1)
    with rv("AwardDeadlinePassed", t2.terms.award_deadline):
        book.award(t2.packed, t2.spec, *v2.packed_quote(t2.terms, partner), ENVELOPE, {"from": buyer})


def test_partner_must_be_independent(v2, book, registry, kleros, buyer, arbitrator, admin, accounts, certifier,
                                     register_partner):
    from tests.contracts.v2.book_fixtures import signer
    # a vetted partner that is also the buyer, and one that is the order's arbitrator
    both = signer(accounts, admin, "0x" + "b1" * 32)
    register_partner(both.account)
    t = v2.post(kleros, buyer=both.account)
    with rv("PartnerNotIndependent", both.address):
        book.award(t.packed, t.spec, *v2.packed_quote(t.terms, both), ENVELOPE, {"from": both.account})
    t = v2.post(both.address)
    with rv("PartnerNotIndependent", both.address):
        book.award(t.packed, t.spec, *v2.packed_quote(t.terms, both), ENVELOPE, {"from": buyer})


def test_post_awarded_reverts(v2, book, kleros, partner, buyer):
    spec, docs = v2.spec()
    terms = v2.terms(spec, kleros)
    q, sig = v2.quote(terms, partner, price=PRICE + 1)
    with rv("QuotePriceOutOfRange", PRICE + 1, PRICE):
        book.postAwarded(terms, spec, docs, codec.pack_quote(q), sig, ENVELOPE, {"from": buyer, "value": PRICE})
    with rv("IncorrectPayment", PRICE, 0):
        book.postAwarded(terms, spec, docs, *v2.packed_quote(terms, partner), ENVELOPE, {"from": buyer})


# -------------------------------------------------------------------------------------- transitions

def test_cancel_confirm_ship_reject_reverts(v2, book, kleros, partner, buyer, stranger):
    t = v2.post(kleros)
    with rv("CallerNotAllowed", stranger.address):
        book.cancel(t.packed, {"from": stranger})
    with rv("WrongStatus", t.order_id, OPEN):
        book.confirm(t.packed, {"from": buyer})
    with rv("WrongStatus", t.order_id, OPEN):
        book.ship(t.packed, *REPORT, {"from": partner.account})
    with rv("WrongStatus", t.order_id, OPEN):
        book.reject(t.packed, cid("r"), {"from": partner.account})
    v2.award(t, partner)
    with rv("WrongStatus", t.order_id, AWARDED):
        book.cancel(t.packed, {"from": buyer})
    with rv("CallerNotAllowed", stranger.address):
        book.ship(t.packed, *REPORT, {"from": stranger})
    with rv("CallerNotAllowed", buyer.address):
        book.reject(t.packed, cid("r"), {"from": buyer})
    v2.ship(t)
    with rv("CallerNotAllowed", stranger.address):
        book.confirm(t.packed, {"from": stranger})
    with rv("InspectionWindowOpen", t.state.stamp + t.terms.inspection_window):
        book.finalize(t.packed, {"from": stranger})
    with rv("WrongStatus", t.order_id, SHIPPED):
        book.refund(t.packed, {"from": stranger})


def test_refund_reverts(v2, book, kleros, partner, stranger):
    t = v2.post(kleros)
    with rv("NotYetRefundable", t.terms.award_deadline):
        book.refund(t.packed, {"from": stranger})
    with rv("OrderMismatch", t.order_id):
        book.refund(codec.pack_order(t.order._replace(state=t.state._replace(price=1))), {"from": stranger})
    v2.award(t, partner)
    with rv("NotYetRefundable", t.state.due_by):
        book.refund(t.packed, {"from": stranger})


def test_dispute_and_fee_reverts(v2, book, kleros, partner, buyer, stranger):
    t = v2.post(kleros)
    v2.award(t, partner)
    with rv("WrongStatus", t.order_id, AWARDED):
        book.dispute(t.packed, cid("e"), {"from": buyer, "value": COST})
    v2.ship(t)
    with rv("CallerNotAllowed", stranger.address):
        book.dispute(t.packed, cid("e"), {"from": stranger, "value": COST})
    with rv("WrongStatus", t.order_id, SHIPPED):
        book.payArbitrationFee(t.packed, {"from": partner.account, "value": COST})
    v2.dispute(t, COST)
    with rv("CallerNotAllowed", buyer.address):
        book.payArbitrationFee(t.packed, {"from": buyer, "value": COST})
    with rv("ArbitrationFeeMismatch", COST, 1):
        book.payArbitrationFee(t.packed, {"from": partner.account, "value": 1})
    with rv("NotRuled", t.order_id):
        book.executeRuling(t.packed, {"from": stranger})
    with rv("CallerNotAllowed", stranger.address):
        book.submitEvidence(t.packed, cid("e"), {"from": stranger})
    v2.pay_fee(t, COST)
    with rv("ArbitrationAlreadyCreated", t.order_id):
        book.payArbitrationFee(t.packed, {"from": partner.account, "value": COST})
    with rv("DisputeTimeoutNotPassed", t.state.stamp + t.terms.dispute_timeout):
        book.settleExpired(t.packed, {"from": stranger})


def test_dispute_window_and_fee_window_close(v2, book, kleros, partner, buyer):
    t = v2.post(kleros)
    v2.award(t, partner)
    v2.ship(t)
    chain.sleep(t.terms.inspection_window + 1)
    with rv("InspectionWindowClosed", t.state.stamp + t.terms.inspection_window):
        book.dispute(t.packed, cid("e"), {"from": buyer, "value": COST})
    t = v2.post(kleros)
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST)
    chain.sleep(3 * DAY + 1)
    with rv("FeeResponseWindowClosed", t.state.stamp + 3 * DAY):
        book.payArbitrationFee(t.packed, {"from": partner.account, "value": COST})


def test_rule_guards(v2, book, raw, partner, stranger, admin):
    t = v2.post(raw)
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST)
    with rv("UnknownDispute", stranger.address, 0):
        book.rule(0, 1, {"from": stranger})
    raw.setCost(2 * COST + 1, {"from": admin})
    with rv("ArbitrationCostRose", 2 * COST + 1, 2 * COST):
        book.payArbitrationFee(t.packed, {"from": partner.account, "value": COST})
    raw.setCost(COST, {"from": admin})
    dispute_id = v2.pay_fee(t, COST).events["ArbitrationCreated"]["disputeId"]
    with rv("RulingOutOfRange", 102):
        raw.giveRuling(book, dispute_id, 102, {"from": admin})
    raw.giveRuling(book, dispute_id, 1, {"from": admin})
    with rv("AlreadyRuled", dispute_id):
        raw.giveRuling(book, dispute_id, 1, {"from": admin})
    chain.sleep(t.terms.dispute_timeout + 1)
    with rv("AlreadyRuled", t.order_id):
        book.settleExpired(t.packed, {"from": stranger})


def test_claim_default_reverts(v2, book, kleros, partner, stranger):
    t = v2.post(kleros)
    v2.award(t, partner)
    v2.ship(t)
    with rv("WrongStatus", t.order_id, SHIPPED):
        book.claimDefault(t.packed, {"from": stranger})


def test_settle_reverts(v2, book, kleros, partner, partners, buyer, stranger):
    t = v2.post(kleros)
    v2.award(t, partner)
    s, sig = v2.settlement(t, partner, PRICE // 2)
    with rv("WrongStatus", t.order_id, AWARDED):
        book.settle(t.packed, s, sig, {"from": buyer})
    v2.ship(t)
    with rv("CallerNotAllowed", stranger.address):
        book.settle(t.packed, s, sig, {"from": stranger})
    wrong, wrong_sig = v2.settlement(t, partner, PRICE // 2, order_id=t.order_id + 100)
    with rv("SettlementOrderMismatch", t.order_id + 100):
        book.settle(t.packed, wrong, wrong_sig, {"from": buyer})
    forged = v2.sign(partners[1], s)
    with rv("InvalidSignature", partner.address):
        book.settle(t.packed, s, forged, {"from": buyer})
    with rv("InvalidSignature", buyer.address):  # the partner cannot settle with its own signature
        book.settle(t.packed, s, sig, {"from": partner.account})
    too_much, too_much_sig = v2.settlement(t, partner, PRICE + 1)
    with rv("ShareAbovePrice", PRICE + 1, PRICE):
        book.settle(t.packed, too_much, too_much_sig, {"from": buyer})
    late, late_sig = v2.settlement(t, partner, 0, deadline_in=0)
    chain.sleep(2)
    with rv("SignatureExpired", late.deadline):
        book.settle(t.packed, late, late_sig, {"from": buyer})


def test_records_reverts(v2, book, kleros, partner, inspectors, buyer, stranger):
    spec, docs = v2.spec(inspectors=[inspectors[0].address])
    t = v2.post(kleros, spec=spec, docs=docs)
    with rv("WrongStatus", t.order_id, OPEN):
        book.attest(t.packed, t.spec, *REPORT, True, {"from": inspectors[0].account})
    with rv("WrongStatus", t.order_id, OPEN):
        book.recordSerials(t.packed, cid("s"), {"from": partner.account})
    with rv("WrongStatus", t.order_id, OPEN):
        book.submitEvidence(t.packed, cid("e"), {"from": buyer})
    v2.award(t, partner)
    with rv("CallerNotAllowed", stranger.address):
        book.recordSerials(t.packed, cid("s"), {"from": stranger})
    other, _ = v2.spec(inspectors=[inspectors[0].address, stranger.address])
    with rv("SpecHashMismatch", b32(t.terms.spec_hash), codec.spec_hash(other)):
        book.attest(t.packed, other, *REPORT, True, {"from": inspectors[0].account})
    att, _ = v2.attestation(t, inspectors[0])
    elsewhere = att._replace(order_id=t.order_id + 1)
    with rv("AttestationOrderMismatch", t.order_id + 1):
        book.attest(t.packed, t.spec, elsewhere, v2.sign(inspectors[0], elsewhere), {"from": stranger})
    with rv("InvalidSignature", inspectors[0].address):
        book.attest(t.packed, t.spec, att, v2.sign(inspectors[1], att), {"from": stranger})
    late, late_sig = v2.attestation(t, inspectors[0], deadline_in=0)
    chain.sleep(2)
    with rv("SignatureExpired", late.deadline):
        book.attest(t.packed, t.spec, late, late_sig, {"from": stranger})
    ahead, ahead_sig = v2.attestation(t, inspectors[0], nonce=5)
    with rv("InvalidAccountNonce", inspectors[0].address, t.order_id << 64):
        book.attest(t.packed, t.spec, ahead, ahead_sig, {"from": stranger})
    with rv("InvalidAccountNonce", inspectors[0].address, t.order_id << 64):
        book.cancelAttestation(t.order_id, 3, {"from": inspectors[0].account})


# ---------------------------------------------------------------------------------------- money

def test_payout_reverts(v2, book, kleros, buyer, stranger, admin):
    with rv("ZeroAddress"):
        book.withdraw(ZERO, ZERO, {"from": buyer})
    with rv("NothingToWithdraw", buyer.address, ZERO):
        book.withdraw(ZERO, buyer, {"from": buyer})
    t = v2.post(kleros)
    v2.cancel(t)
    rejecter = container("EthRejecter").deploy({"from": admin})
    with rv("EthTransferFailed", rejecter.address, PRICE):
        book.withdraw(ZERO, rejecter, {"from": buyer})
    with rv("NotAnErc20"):
        book.skim(ZERO, {"from": stranger})
    with rv("UnexpectedEth", stranger.address):
        stranger.transfer(book, 1)


def test_extension_only_by_delegatecall(v2, book, kleros, buyer):
    ext = container("OrderBookV2Disputes").at(book.disputes())
    t = v2.post(kleros)
    with rv("NotDelegated"):
        ext.claimDefault(t.packed, {"from": buyer})


# ------------------------------------------------------------------------------------ governance

def test_governance_reverts(book, governor, guardian, stranger, fee_recipient, token):
    unauthorized = f"AccessManagedUnauthorized: {stranger.address.lower()}"
    for call in (lambda: book.allowToken(token, {"from": stranger}),
                 lambda: book.delistToken(token, {"from": stranger}),
                 lambda: book.setFee(1, fee_recipient, {"from": stranger}),
                 lambda: book.setParameters(DAY, 14 * DAY, {"from": stranger}),
                 lambda: book.pause({"from": stranger}),
                 lambda: book.unpause({"from": stranger})):
        with brownie.reverts(unauthorized):
            call()
    with brownie.reverts(f"AccessManagedUnauthorized: {guardian.address.lower()}"):
        book.unpause({"from": guardian})  # the guardian only restricts
    with rv("ZeroAddress"):
        book.allowToken(ZERO, {"from": governor})
    with rv("FeeTooHigh", 501):
        book.setFee(501, fee_recipient, {"from": governor})
    with rv("ZeroAddress"):
        book.setFee(1, ZERO, {"from": governor})
    with rv("RejectWindowOutOfRange", 7 * DAY + 1):
        book.setParameters(7 * DAY + 1, 14 * DAY, {"from": governor})
    with rv("DisputeTimeoutOutOfRange", 90 * DAY + 1):
        book.setParameters(DAY, 90 * DAY + 1, {"from": governor})


def test_dispute_resolutions_need_a_dispute(v2, book, kleros, partner, stranger):
    t = v2.post(kleros)
    v2.award(t, partner)
    v2.ship(t)
    for fn in (book.executeRuling, book.settleExpired, book.claimDefault):
        with rv("WrongStatus", t.order_id, SHIPPED):
            fn(t.packed, {"from": stranger})
    with rv("WrongStatus", t.order_id, SHIPPED):
        book.submitEvidence(t.packed, cid("e"), {"from": t.terms.buyer})


def test_attestation_nonce_key_is_bounded(book, stranger):
    with rv("OrderIdTooLarge", 2**192):
        book.cancelAttestation(2**192, 0, {"from": stranger})


@pytest.mark.parametrize("word", [0, 2, 3, 5, 10])  # buyer, price, minBond, awardDeadline, feeBps
def test_dirty_terms_cannot_be_committed(v2, book, kleros, buyer, word):
    """post hashes the raw terms into the order's slot (OrderHashes.hashOrder): dirty high bits in any field
    must revert while the terms are decoded, so a stored commitment is always of a clean encoding."""
    spec, docs = v2.spec()
    terms = v2.terms(spec, kleros)
    data = bytearray(bytes.fromhex(book.post.encode_input(terms, spec, docs)[2:]))
    data[4 + 32 * word] |= 0x80  # the top byte of the field's word: above every field's width
    with brownie.reverts():
        buyer.transfer(book, PRICE, data="0x" + data.hex())
    book.post(terms, spec, docs, {"from": buyer, "value": PRICE})  # the clean encoding posts


# award(order, spec, quote, signature, envelope) calldata after the selector: the order's 8 words, the spec's
# offset, then the quote's 4 words. The bits above w5's status and above w2's leadTime belong to no field.
ORDER_W5, QUOTE_W2 = 5, 8 + 1 + 2


def test_bits_outside_the_packed_fields_change_nothing(v2, book, kleros, buyer, partner):
    """The book unpacks each field masked to its width (OrderHashes.unpackOrder, unpackQuote): bits outside every
    field are not part of the order or the quote, so the award checks and signs the same values and stores the
    commitment of the clean order."""
    t = v2.post(kleros)
    q, sig = v2.quote(t.terms, partner)
    data = bytearray(bytes.fromhex(book.award.encode_input(t.packed, t.spec, codec.pack_quote(q), sig,
                                                           ENVELOPE)[2:]))
    assert data[4 + 32 * ORDER_W5] == 0 and data[4 + 32 * QUOTE_W2] == 0
    data[4 + 32 * ORDER_W5] = data[4 + 32 * QUOTE_W2] = 0xff
    tx = buyer.transfer(book, 0, data="0x" + data.hex())
    assert tx.events["OrderAwarded"]["orderId"] == t.order_id
    evidence = codec.award_evidence(codec.terms_hash(t.terms), eip712.struct_hash(v2.domain, q), ENVELOPE)
    head = codec.link(t.state.head, Transition.AWARDED, buyer.address, evidence, chain[tx.block_number].timestamp)
    due = chain[tx.block_number].timestamp + q.lead_time
    awarded = t.state._replace(status=OrderStatus.AWARDED, partner=q.partner, payee=q.payee, price=q.price,
                               bond=q.bond, stamp=chain[tx.block_number].timestamp, due_by=due, head=head)
    assert bytes(book.orderHash(t.order_id)) == codec.order_hash(t.order._replace(state=awarded))


# post(terms, spec, docs) calldata after the selector: terms (12 words), the spec's offset, docs (4 words), then
# the spec: processes, materials, certIds, the inspectors' offset, docsHash, the inspectors' length and words.
SPEC_AT = 12 + 1 + 4


@pytest.mark.parametrize("word, byte, label", [
    (SPEC_AT + 1, 0, "materials"), (SPEC_AT + 2, 0, "certIds"), (SPEC_AT + 3, 31, "inspectors' offset"),
    (SPEC_AT + 6, 0, "an inspector"), (12 + 1 + 3, 31, "region"),
])
def test_dirty_spec_or_docs_cannot_be_committed(v2, book, kleros, buyer, accounts, word, byte, label):
    """post hashes the raw spec and docs into the terms' and spec's commitments (OrderHashes.hashSpec, hashDocs):
    a non-canonical encoding (dirty high bits, bits below a bytes8, the array not right after the head) reverts
    with NonCanonicalEncoding before anything is stored."""
    spec, docs = v2.spec(inspectors=[accounts[4].address])
    terms = v2.terms(spec, kleros)
    data = bytearray(bytes.fromhex(book.post.encode_input(terms, spec, docs)[2:]))
    if label == "inspectors' offset":  # 0xc0 with a spare word before the array: decodable, not canonical
        data[4 + 32 * word + byte] = 0xc0
        data[4 + 32 * (SPEC_AT + 5):4 + 32 * (SPEC_AT + 5)] = bytes(32)
    else:
        data[4 + 32 * word + byte] |= 0x40 if byte == 31 else 0x80
    with rv("NonCanonicalEncoding"):
        buyer.transfer(book, PRICE, data="0x" + data.hex())
    book.post(terms, spec, docs, {"from": buyer, "value": PRICE})  # the clean encoding posts
