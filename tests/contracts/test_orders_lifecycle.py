"""OrderBook: posting, claiming, awarding, production, shipment, confirmation and payment."""

import brownie
import pytest
from brownie import EthRejecter, OrderBook

from conftest import CLAIM_BOND, DAY, MIN_BOND, PRICE, X25519_KEY, cid, err, now, profile
from pynode.chain.orders import (
    CERT,
    MATERIAL,
    PROCESS,
    ZERO_ADDRESS,
    docs_hash,
    make_docs,
    make_spec,
    make_terms,
    next_head,
    order_hash,
    spec_hash,
    terms_hash,
)
from pynode.protocol.types import RecordKind, Status


def fresh_terms(buyer, **kwargs):
    docs = make_docs(99)
    spec = make_spec(docs)
    t = now()
    defaults = dict(claim_deadline=t + DAY, delivery_deadline=t + 10 * DAY)
    defaults.update(kwargs)
    return make_terms(buyer, spec, **defaults), spec, docs


# -------------------------------------------------------------------- deploy


def test_constructor_reverts_with_ZeroAddress(admin, registry):
    with brownie.reverts(err("ZeroAddress")):
        OrderBook.deploy(ZERO_ADDRESS, registry, DAY, {"from": admin})
    with brownie.reverts(err("ZeroAddress")):
        OrderBook.deploy(admin, ZERO_ADDRESS, DAY, {"from": admin})


def test_constructor_succeeds(book, registry, admin):
    assert book.registry() == registry
    assert book.feeRecipient() == admin and book.feeBps() == 0 and book.orderCount() == 0
    assert book.hasRole(book.DEFAULT_ADMIN_ROLE(), admin)


# ---------------------------------------------------------------------- post


def test_post_succeeds_with_eth(book, orders, buyer):
    before = buyer.balance()
    t = orders.post()
    assert t.order_id == 1 and book.orderCount() == 1
    assert buyer.balance() == before - PRICE and book.balance() == PRICE
    ev = t.tx.events["OrderPosted"]
    assert ev["orderId"] == 1 and ev["buyer"] == buyer and ev["reservedFor"] == ZERO_ADDRESS
    assert ev["time"] == t.tx.timestamp
    assert t.status == Status.OPEN
    assert t.head == next_head(b"\0" * 32, RecordKind.POSTED, buyer.address, terms_hash(t.terms), t.tx.timestamp)


def test_post_succeeds_with_token(book, orders, buyer, token):
    t = orders.post(token=token)
    assert token.balanceOf(book) == PRICE and token.balanceOf(buyer) == 0 and book.balance() == 0
    assert t.terms.token == token.address


def test_post_reverts_with_BuyerNotSender(book, buyer, stranger):
    terms, spec, docs = fresh_terms(buyer)
    with brownie.reverts(err("BuyerNotSender", buyer)):
        book.post(terms, spec, docs, {"from": stranger, "value": PRICE})


def test_post_reverts_with_ZeroPrice(book, buyer):
    terms, spec, docs = fresh_terms(buyer, price=0)
    with brownie.reverts(err("ZeroPrice")):
        book.post(terms, spec, docs, {"from": buyer})


def test_post_reverts_with_ClaimDeadlineNotInFuture(book, buyer):
    t = now()
    terms, spec, docs = fresh_terms(buyer, claim_deadline=t - 1, delivery_deadline=t + DAY)
    with brownie.reverts(err("ClaimDeadlineNotInFuture", t - 1)):
        book.post(terms, spec, docs, {"from": buyer, "value": PRICE})


def test_post_reverts_with_DeliveryDeadlineNotAfterClaimDeadline(book, buyer):
    t = now()
    terms, spec, docs = fresh_terms(buyer, claim_deadline=t + DAY, delivery_deadline=t + DAY)
    with brownie.reverts(err("DeliveryDeadlineNotAfterClaimDeadline", t + DAY, t + DAY)):
        book.post(terms, spec, docs, {"from": buyer, "value": PRICE})


def test_post_reverts_with_ZeroInspectionWindow(book, buyer):
    terms, spec, docs = fresh_terms(buyer, inspection_window=0)
    with brownie.reverts(err("ZeroInspectionWindow")):
        book.post(terms, spec, docs, {"from": buyer, "value": PRICE})


def test_post_reverts_with_DocsHashMismatch(book, buyer):
    terms, spec, _docs = fresh_terms(buyer)
    other = make_docs(100)
    with brownie.reverts(err("DocsHashMismatch", docs_hash(other), spec.docs_hash)):
        book.post(terms, spec, other, {"from": buyer, "value": PRICE})


def test_post_reverts_with_SpecHashMismatch(book, buyer):
    terms, _spec, docs = fresh_terms(buyer)
    other = make_spec(docs, processes=PROCESS["SLA"])
    with brownie.reverts(err("SpecHashMismatch", spec_hash(other), terms.spec_hash)):
        book.post(terms, other, docs, {"from": buyer, "value": PRICE})


def test_post_reverts_with_FeeMismatch(book, buyer):
    terms, spec, docs = fresh_terms(buyer, fee_bps=100)
    with brownie.reverts(err("FeeMismatch", 0, 100)):
        book.post(terms, spec, docs, {"from": buyer, "value": PRICE})


def test_post_reverts_with_IncorrectPayment(book, buyer, token):
    terms, spec, docs = fresh_terms(buyer)
    with brownie.reverts(err("IncorrectPayment", PRICE, PRICE - 1)):
        book.post(terms, spec, docs, {"from": buyer, "value": PRICE - 1})
    terms, spec, docs = fresh_terms(buyer, token=token.address)
    with brownie.reverts(err("IncorrectPayment", 0, 1)):
        book.post(terms, spec, docs, {"from": buyer, "value": 1})


def test_post_reverts_with_TokenNotAllowed(book, buyer, token, governor):
    book.setTokenAllowed(token, False, {"from": governor})
    terms, spec, docs = fresh_terms(buyer, token=token.address)
    with brownie.reverts(err("TokenNotAllowed", token)):
        book.post(terms, spec, docs, {"from": buyer})


def test_post_reverts_with_TransferAmountMismatch(book, buyer, fee_token):
    terms, spec, docs = fresh_terms(buyer, token=fee_token.address)
    fee_token.mint(buyer, PRICE, {"from": buyer})
    fee_token.approve(book, PRICE, {"from": buyer})
    with brownie.reverts(err("TransferAmountMismatch", PRICE, PRICE - PRICE // 100)):
        book.post(terms, spec, docs, {"from": buyer})


def test_post_reverts_with_ERC20InsufficientAllowance(book, buyer, token):
    terms, spec, docs = fresh_terms(buyer, token=token.address)
    token.mint(buyer, PRICE, {"from": buyer})
    with brownie.reverts(err("ERC20InsufficientAllowance", book, 0, PRICE)):
        book.post(terms, spec, docs, {"from": buyer})


# -------------------------------------------------------------------- cancel


def test_cancel_succeeds(book, orders, buyer):
    t = orders.post()
    tx = orders.call(t, "cancel", sender=buyer)
    assert t.status == Status.CANCELLED
    assert tx.events["OrderCancelled"]["buyer"] == buyer
    assert tx.events["Credited"]["amount"] == PRICE
    assert book.credits(buyer, ZERO_ADDRESS) == PRICE


def test_cancel_reverts_with_OrderMismatch(book, orders, buyer):
    t = orders.post()
    with brownie.reverts(err("OrderMismatch", 2)):
        book.cancel(2, t.order, {"from": buyer})
    tampered = ((*t.terms[:2], PRICE * 10, *t.terms[3:]), t.state)
    with brownie.reverts(err("OrderMismatch", t.order_id)):
        book.cancel(t.order_id, tampered, {"from": buyer})


def test_cancel_reverts_with_OrderNotOpen(book, orders, buyer, maker, makers):
    t = orders.to_status(Status.CLAIMED, maker)
    with brownie.reverts(err("OrderNotOpen", t.order_id)):
        book.cancel(t.order_id, t.order, {"from": buyer})


def test_cancel_reverts_with_NotBuyer(book, orders, stranger):
    t = orders.post()
    with brownie.reverts(err("NotBuyer", t.order_id, stranger)):
        book.cancel(t.order_id, t.order, {"from": stranger})


# --------------------------------------------------------------------- claim


def test_claim_succeeds(book, orders, maker, makers):
    t = orders.post()
    tx = orders.claim(t, maker)
    assert t.status == Status.CLAIMED and t.state.partner == maker
    ev = tx.events["OrderClaimed"]
    assert ev["partner"] == maker and ev["time"] == tx.timestamp
    assert book.balance() == PRICE + CLAIM_BOND


def test_claim_succeeds_for_reserved_partner(book, orders, maker, maker2, makers):
    t = orders.post(reserved_for=maker2.address)
    assert t.tx.events["OrderPosted"]["reservedFor"] == maker2
    with brownie.reverts(err("NotReservedPartner", t.order_id, maker2)):
        orders.claim(t, maker)
    orders.claim(t, maker2)
    assert t.state.partner == maker2


def test_claim_succeeds_with_certifications(orders, register_partner, maker):
    register_partner(maker, certs=[(CERT["ISO_9001"], now() + 30 * DAY)])
    t = orders.post(cert_ids=(CERT["ISO_9001"],))
    orders.claim(t, maker)
    assert t.status == Status.CLAIMED


def test_claim_reverts_with_OrderNotOpen(book, orders, maker, maker2, makers):
    t = orders.to_status(Status.CLAIMED, maker)
    with brownie.reverts(err("OrderNotOpen", t.order_id)):
        orders.claim(t, maker2)


def test_claim_reverts_with_BuyerCannotClaim(orders, buyer):
    t = orders.post()
    with brownie.reverts(err("BuyerCannotClaim", t.order_id)):
        orders.claim(t, buyer)


def test_claim_reverts_with_ClaimDeadlinePassed(orders, maker, makers, chain):
    t = orders.post()
    chain.sleep(DAY + 1)
    with brownie.reverts(err("ClaimDeadlinePassed", t.order_id, t.terms.claim_deadline)):
        orders.claim(t, maker)


def test_claim_reverts_with_IncorrectPayment(book, orders, maker, makers):
    t = orders.post()
    with brownie.reverts(err("IncorrectPayment", CLAIM_BOND, 0)):
        book.claim(t.order_id, t.order, t.spec, {"from": maker})


def test_claim_reverts_with_SpecHashMismatch(book, orders, maker, makers):
    t = orders.post()
    lax = make_spec(t.docs, processes=0, materials=0)
    with brownie.reverts(err("SpecHashMismatch", t.terms.spec_hash, spec_hash(lax))):
        book.claim(t.order_id, t.order, lax, {"from": maker, "value": CLAIM_BOND})


def test_claim_reverts_with_NotVetted(orders, register_partner, maker):
    register_partner(maker, vet=False)
    t = orders.post()
    with brownie.reverts(err("NotVetted", maker)):
        orders.claim(t, maker)


def test_claim_reverts_with_NotRegistered(orders, stranger):
    t = orders.post()
    with brownie.reverts(err("NotRegistered", stranger)):
        orders.claim(t, stranger)


def test_claim_reverts_with_CapabilityMismatch(orders, maker, makers):
    t = orders.post(processes=PROCESS["INJECTION_MOLDING"], materials=MATERIAL["PEEK"])
    with brownie.reverts(err("CapabilityMismatch", maker, PROCESS["INJECTION_MOLDING"], MATERIAL["PEEK"])):
        orders.claim(t, maker)


def test_claim_reverts_with_CertificationMissing_when_expired(orders, register_partner, maker, chain):
    register_partner(maker, certs=[(CERT["AS9100"], now() + DAY // 2)])
    t = orders.post(cert_ids=(CERT["AS9100"],))
    chain.sleep(DAY // 2 + 1)
    with brownie.reverts(err("CertificationMissing", maker, CERT["AS9100"])):
        orders.claim(t, maker)


def test_claim_reverts_with_PartnerIsSuspended(orders, registry, maker, makers, governor):
    registry.suspend(maker, cid("reason"), {"from": governor})
    t = orders.post()
    with brownie.reverts(err("PartnerIsSuspended", maker)):
        orders.claim(t, maker)


# --------------------------------------------------------------------- award


def test_award_succeeds(orders, buyer, maker, makers):
    t = orders.to_status(Status.CLAIMED, maker)
    tx = orders.award(t, cid("envelope"))
    ev = tx.events["OrderAwarded"]
    assert (ev["buyer"], ev["partner"]) == (buyer, maker)
    assert ev["keyEnvelopeCid"] == "0x" + cid("envelope").hex()
    assert t.status == Status.AWARDED


def test_award_reverts_with_OrderNotClaimed(orders, buyer):
    t = orders.post()
    with brownie.reverts(err("OrderNotClaimed", t.order_id)):
        orders.award(t)


def test_award_reverts_with_NotBuyer(book, orders, maker, makers):
    t = orders.to_status(Status.CLAIMED, maker)
    with brownie.reverts(err("NotBuyer", t.order_id, maker)):
        book.award(t.order_id, t.order, cid("envelope"), {"from": maker})


def test_award_reverts_with_ClaimDeadlinePassed(orders, maker, makers, chain):
    t = orders.to_status(Status.CLAIMED, maker)
    chain.sleep(DAY + 1)
    with brownie.reverts(err("ClaimDeadlinePassed", t.order_id, t.terms.claim_deadline)):
        orders.award(t)


# ----------------------------------------------------------- startProduction


def test_startProduction_succeeds(orders, maker, makers):
    t = orders.to_status(Status.AWARDED, maker)
    tx = orders.call(t, "startProduction", sender=maker)
    assert tx.events["ProductionStarted"]["partner"] == maker
    assert t.status == Status.IN_PRODUCTION


def test_startProduction_reverts_with_OrderNotAwarded(orders, maker, makers):
    t = orders.to_status(Status.CLAIMED, maker)
    with brownie.reverts(err("OrderNotAwarded", t.order_id)):
        orders.call(t, "startProduction", sender=maker)


def test_startProduction_reverts_with_NotPartner(orders, maker, maker2, makers):
    t = orders.to_status(Status.AWARDED, maker)
    with brownie.reverts(err("NotPartner", t.order_id, maker2)):
        orders.call(t, "startProduction", sender=maker2)


# ------------------------------------------------------------- recordSerials


def test_recordSerials_succeeds(orders, maker, makers):
    t = orders.to_status(Status.IN_PRODUCTION, maker)
    tx = orders.call(t, "recordSerials", cid("serials-root"), sender=maker)
    assert tx.events["SerialsRecorded"]["serialsRoot"] == "0x" + cid("serials-root").hex()
    assert t.status == Status.IN_PRODUCTION


def test_recordSerials_reverts_with_OrderNotInProgress(orders, maker, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    with brownie.reverts(err("OrderNotInProgress", t.order_id)):
        orders.call(t, "recordSerials", cid("serials-root"), sender=maker)


def test_recordSerials_reverts_with_NotPartner(orders, maker, stranger, makers):
    t = orders.to_status(Status.AWARDED, maker)
    with brownie.reverts(err("NotPartner", t.order_id, stranger)):
        orders.call(t, "recordSerials", cid("serials-root"), sender=stranger)


# ---------------------------------------------------------------------- ship


@pytest.mark.parametrize("start", [Status.AWARDED, Status.IN_PRODUCTION])
def test_ship_succeeds(orders, maker, makers, start):
    t = orders.to_status(start, maker)
    tx = orders.ship(t, cid("report"))
    ev = tx.events["OrderShipped"]
    assert ev["partner"] == maker and ev["reportCid"] == "0x" + cid("report").hex()
    assert t.status == Status.SHIPPED and t.state.stamp == tx.timestamp


def test_ship_succeeds_after_delivery_deadline(orders, maker, makers, chain):
    t = orders.to_status(Status.AWARDED, maker)
    chain.sleep(11 * DAY)
    orders.ship(t)
    assert t.status == Status.SHIPPED and t.state.stamp > t.terms.delivery_deadline


def test_ship_reverts_with_OrderNotInProgress(orders, maker, makers):
    t = orders.to_status(Status.CLAIMED, maker)
    with brownie.reverts(err("OrderNotInProgress", t.order_id)):
        orders.call(t, "ship", cid("r"), cid("h"), sender=maker)


def test_ship_reverts_with_NotPartner(orders, maker, buyer, makers):
    t = orders.to_status(Status.AWARDED, maker)
    with brownie.reverts(err("NotPartner", t.order_id, buyer)):
        orders.call(t, "ship", cid("r"), cid("h"), sender=buyer)


# ------------------------------------------------------------------- confirm


def test_confirm_succeeds(book, registry, orders, buyer, maker, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    tx = orders.confirm(t)
    assert tx.events["OrderConfirmed"]["buyer"] == buyer
    assert "Credited" not in tx.events  # no fee configured
    assert t.status == Status.COMPLETED
    rep = registry.partnerInfo(maker).dict()
    assert (rep["completed"], rep["onTime"], rep["failedQa"], rep["disputesLost"]) == (1, 1, 0, 0)


def test_confirm_succeeds_late_shipment_counts_not_on_time(registry, orders, maker, makers, chain):
    t = orders.to_status(Status.AWARDED, maker)
    chain.sleep(11 * DAY)
    orders.ship(t)
    orders.confirm(t)
    rep = registry.partnerInfo(maker).dict()
    assert (rep["completed"], rep["onTime"]) == (1, 0)


def test_confirm_succeeds_and_credits_fee(book, orders, maker, makers, governor, auditor):
    book.setFee(250, auditor, {"from": governor})
    t = orders.to_status(Status.SHIPPED, maker)
    assert t.terms.fee_bps == 250
    tx = orders.confirm(t)
    fee = PRICE * 250 // 10_000
    assert tx.events["Credited"]["account"] == auditor and tx.events["Credited"]["amount"] == fee
    assert book.credits(auditor, ZERO_ADDRESS) == fee


def test_confirm_reverts_with_OrderNotShipped(orders, maker, makers):
    t = orders.to_status(Status.AWARDED, maker)
    with brownie.reverts(err("OrderNotShipped", t.order_id)):
        orders.confirm(t)


def test_confirm_reverts_with_NotBuyer(orders, maker, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    with brownie.reverts(err("NotBuyer", t.order_id, maker)):
        orders.call(t, "confirm", sender=maker)


# ----------------------------------------------------------- withdrawPayment


def test_withdrawPayment_succeeds_with_eth(book, orders, maker, makers):
    t = orders.to_status(Status.COMPLETED, maker)
    before = maker.balance()
    tx = orders.call(t, "withdrawPayment", sender=maker)
    ev = tx.events["PaymentWithdrawn"]
    assert (ev["amount"], ev["bond"]) == (PRICE, CLAIM_BOND)
    assert maker.balance() == before + PRICE + CLAIM_BOND
    assert book.balance() == 0 and t.status == Status.PAID


def test_withdrawPayment_succeeds_with_token_and_fee(book, orders, maker, makers, token, governor, auditor):
    book.setFee(100, auditor, {"from": governor})
    t = orders.to_status(Status.COMPLETED, maker, token=token)
    before = maker.balance()
    orders.call(t, "withdrawPayment", sender=maker)
    fee = PRICE // 100
    assert token.balanceOf(maker) == PRICE - fee and maker.balance() == before + CLAIM_BOND
    assert token.balanceOf(book) == fee == book.credits(auditor, token)
    book.withdraw(token, {"from": auditor})
    assert token.balanceOf(book) == 0 and token.balanceOf(auditor) == fee


def test_withdrawPayment_reverts_with_OrderNotCompleted(orders, maker, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    with brownie.reverts(err("OrderNotCompleted", t.order_id)):
        orders.call(t, "withdrawPayment", sender=maker)


def test_withdrawPayment_reverts_with_NotPartner(orders, maker, buyer, makers):
    t = orders.to_status(Status.COMPLETED, maker)
    with brownie.reverts(err("NotPartner", t.order_id, buyer)):
        orders.call(t, "withdrawPayment", sender=buyer)


def test_withdrawPayment_reverts_with_OrderNotCompleted_twice(orders, maker, makers):
    t = orders.to_status(Status.COMPLETED, maker)
    orders.call(t, "withdrawPayment", sender=maker)
    with brownie.reverts(err("OrderNotCompleted", t.order_id)):
        orders.call(t, "withdrawPayment", sender=maker)


def test_withdrawPayment_reverts_with_EthTransferFailed(book, registry, orders, admin, certifier, buyer):
    rejecter = EthRejecter.deploy({"from": admin})
    rejecter.execute(registry, registry.register.encode_input(profile(), X25519_KEY), {"value": MIN_BOND})
    registry.vet(rejecter, cid("vet"), {"from": certifier})
    t = orders.post()
    tx = rejecter.execute(book, book.claim.encode_input(t.order_id, t.order, t.spec), {"value": CLAIM_BOND})
    t.apply_tx(tx)
    orders.award(t)
    t.apply_tx(rejecter.execute(book, book.ship.encode_input(t.order_id, t.order, cid("r"), cid("h"))))
    orders.confirm(t)
    with brownie.reverts(err("EthTransferFailed", rejecter, PRICE + CLAIM_BOND)):
        rejecter.execute(book, book.withdrawPayment.encode_input(t.order_id, t.order))
    # the buyer's side is unaffected: a refund-only credit elsewhere still pays out
    t2 = orders.post()
    orders.call(t2, "cancel", sender=buyer)
    book.withdraw(ZERO_ADDRESS, {"from": buyer})


# ------------------------------------------------------------------ withdraw


def test_withdraw_succeeds(book, orders, buyer):
    t = orders.post()
    orders.call(t, "cancel", sender=buyer)
    before = buyer.balance()
    tx = book.withdraw(ZERO_ADDRESS, {"from": buyer})
    assert tx.events["CreditWithdrawn"]["amount"] == PRICE
    assert buyer.balance() == before + PRICE and book.credits(buyer, ZERO_ADDRESS) == 0


def test_withdraw_reverts_with_NothingToWithdraw(book, stranger, token):
    with brownie.reverts(err("NothingToWithdraw", stranger, token)):
        book.withdraw(token, {"from": stranger})


def test_withdraw_reverts_with_EthTransferFailed(book, admin):
    rejecter = EthRejecter.deploy({"from": admin})
    t = now()
    docs = make_docs(7)
    spec = make_spec(docs)
    terms = make_terms(rejecter, spec, claim_deadline=t + DAY, delivery_deadline=t + 2 * DAY)
    tx = rejecter.execute(book, book.post.encode_input(terms, spec, docs), {"value": PRICE})
    order_id = book.orderCount()
    state = (Status.OPEN, ZERO_ADDRESS, 0, next_head(b"\0" * 32, RecordKind.POSTED, rejecter.address,
                                                     terms_hash(terms), tx.timestamp))
    rejecter.execute(book, book.cancel.encode_input(order_id, (terms, state)))
    with brownie.reverts(err("EthTransferFailed", rejecter, PRICE)):
        rejecter.execute(book, book.withdraw.encode_input(ZERO_ADDRESS))


# ---------------------------------------------------------------- governance


def test_setTokenAllowed_succeeds(book, token, governor):
    tx = book.setTokenAllowed(token, False, {"from": governor})
    assert tx.events["TokenAllowed"]["allowed"] is False and not book.tokenAllowed(token)


def test_setTokenAllowed_reverts_with_AccessControlUnauthorizedAccount(book, token, admin):
    with brownie.reverts(err("AccessControlUnauthorizedAccount", admin, book.GOVERNANCE_ROLE())):
        book.setTokenAllowed(token, True, {"from": admin})


def test_setTokenAllowed_reverts_with_ZeroAddress(book, governor):
    with brownie.reverts(err("ZeroAddress")):
        book.setTokenAllowed(ZERO_ADDRESS, True, {"from": governor})


def test_setFee_succeeds(book, governor, auditor):
    tx = book.setFee(500, auditor, {"from": governor})
    assert tx.events["FeeUpdated"]["feeBps"] == 500
    assert book.feeBps() == 500 and book.feeRecipient() == auditor


def test_setFee_reverts_with_FeeTooHigh(book, governor, auditor):
    with brownie.reverts(err("FeeTooHigh", 501, 500)):
        book.setFee(501, auditor, {"from": governor})


def test_setFee_reverts_with_ZeroAddress(book, governor):
    with brownie.reverts(err("ZeroAddress")):
        book.setFee(0, ZERO_ADDRESS, {"from": governor})


def test_setFee_reverts_with_AccessControlUnauthorizedAccount(book, arbitrator, auditor):
    with brownie.reverts(err("AccessControlUnauthorizedAccount", arbitrator, book.GOVERNANCE_ROLE())):
        book.setFee(1, auditor, {"from": arbitrator})


def test_fee_change_does_not_affect_existing_orders(book, orders, maker, makers, governor, auditor):
    t = orders.to_status(Status.SHIPPED, maker)
    book.setFee(500, auditor, {"from": governor})
    orders.confirm(t)
    before = maker.balance()
    orders.call(t, "withdrawPayment", sender=maker)
    assert maker.balance() == before + PRICE + CLAIM_BOND and book.credits(auditor, ZERO_ADDRESS) == 0


# --------------------------------------------------------------------- views


def test_hashOrder_and_orderHash_match_codec(book, orders):
    t = orders.post()
    assert book.hashOrder(t.order) == book.orderHash(t.order_id) == "0x" + order_hash(t.order).hex()
    assert book.orderHash(999) == "0x" + "00" * 32


def test_nextHead_matches_codec(book, buyer):
    args = (cid("prev"), RecordKind.SHIPPED, buyer.address, cid("evidence"), 1_700_000_000)
    assert book.nextHead(*args) == "0x" + next_head(*args).hex()
