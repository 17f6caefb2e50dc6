"""OrderBook: finalization, disputes, arbitration and every timeout path."""

import brownie
import pytest

from conftest import CLAIM_BOND, DAY, DISPUTE_TIMEOUT, PRICE, cid, err
from pynode.chain.orders import ZERO_ADDRESS
from pynode.protocol.types import RefundReason, Status


def credits(book, account, token=ZERO_ADDRESS):
    return book.credits(account, token)


# ------------------------------------------------------------------ finalize


def test_finalize_succeeds_after_inspection_window(registry, orders, maker, stranger, makers, chain):
    t = orders.to_status(Status.SHIPPED, maker)
    chain.sleep(3 * DAY + 1)
    tx = orders.call(t, "finalize", sender=stranger)
    assert tx.events["OrderFinalized"]["caller"] == stranger
    assert t.status == Status.COMPLETED
    assert registry.partnerInfo(maker).dict()["completed"] == 1


def test_finalize_reverts_with_InspectionWindowOpen(orders, maker, stranger, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    with brownie.reverts(err("InspectionWindowOpen", t.order_id, t.state.stamp + 3 * DAY)):
        orders.call(t, "finalize", sender=stranger)


def test_finalize_reverts_with_OrderNotShipped(orders, maker, stranger, makers, chain):
    t = orders.to_status(Status.DISPUTED, maker)
    chain.sleep(3 * DAY + 1)
    with brownie.reverts(err("OrderNotShipped", t.order_id)):
        orders.call(t, "finalize", sender=stranger)


# ------------------------------------------------------------------- dispute


def test_dispute_succeeds(orders, buyer, maker, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    tx = orders.dispute(t, cid("photos"))
    ev = tx.events["OrderDisputed"]
    assert ev["buyer"] == buyer and ev["evidenceCid"] == "0x" + cid("photos").hex()
    assert t.status == Status.DISPUTED and t.state.stamp == tx.timestamp


def test_dispute_reverts_with_InspectionWindowClosed(orders, maker, makers, chain):
    t = orders.to_status(Status.SHIPPED, maker)
    chain.sleep(3 * DAY + 1)
    with brownie.reverts(err("InspectionWindowClosed", t.order_id, t.state.stamp + 3 * DAY)):
        orders.dispute(t)


def test_dispute_reverts_with_NotBuyer(orders, maker, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    with brownie.reverts(err("NotBuyer", t.order_id, maker)):
        orders.call(t, "dispute", cid("e"), sender=maker)


def test_dispute_reverts_with_OrderNotShipped(orders, maker, makers):
    t = orders.to_status(Status.COMPLETED, maker)
    with brownie.reverts(err("OrderNotShipped", t.order_id)):
        orders.dispute(t)


# ------------------------------------------------------------------- resolve


@pytest.mark.parametrize("buyer_share,partner_lost", [(PRICE, True), (PRICE // 4, False), (0, False)])
def test_resolve_succeeds(book, registry, orders, buyer, maker, arbitrator, makers, buyer_share, partner_lost):
    t = orders.to_status(Status.DISPUTED, maker)
    tx = orders.call(t, "resolve", buyer_share, partner_lost, cid("ruling"), sender=arbitrator)
    ev = tx.events["DisputeResolved"]
    assert (ev["arbitrator"], ev["buyerShare"], ev["partnerLost"]) == (arbitrator, buyer_share, partner_lost)
    assert t.status == Status.RESOLVED
    bond_to_buyer = CLAIM_BOND if partner_lost else 0
    assert credits(book, buyer) == buyer_share + bond_to_buyer
    assert credits(book, maker) == PRICE - buyer_share + CLAIM_BOND - bond_to_buyer
    assert registry.partnerInfo(maker).dict()["disputesLost"] == (1 if partner_lost else 0)
    assert book.balance() == credits(book, buyer) + credits(book, maker)


def test_resolve_succeeds_with_fee_on_partner_share(book, orders, buyer, maker, arbitrator, makers, governor,
                                                     auditor, token):
    book.setFee(200, auditor, {"from": governor})
    t = orders.to_status(Status.DISPUTED, maker, token=token)
    orders.call(t, "resolve", PRICE // 2, False, cid("ruling"), sender=arbitrator)
    fee = (PRICE // 2) * 200 // 10_000
    assert credits(book, buyer, token) == PRICE // 2
    assert credits(book, maker, token) == PRICE // 2 - fee
    assert credits(book, auditor, token) == fee
    assert credits(book, maker) == CLAIM_BOND


def test_resolve_reverts_with_AccessControlUnauthorizedAccount(book, orders, maker, governor, makers):
    t = orders.to_status(Status.DISPUTED, maker)
    with brownie.reverts(err("AccessControlUnauthorizedAccount", governor, book.ARBITRATOR_ROLE())):
        orders.call(t, "resolve", 0, False, cid("r"), sender=governor)


def test_resolve_reverts_with_OrderNotDisputed(orders, maker, arbitrator, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    with brownie.reverts(err("OrderNotDisputed", t.order_id)):
        orders.call(t, "resolve", 0, False, cid("r"), sender=arbitrator)


def test_resolve_reverts_with_ShareExceedsPrice(orders, maker, arbitrator, makers):
    t = orders.to_status(Status.DISPUTED, maker)
    with brownie.reverts(err("ShareExceedsPrice", PRICE + 1, PRICE)):
        orders.call(t, "resolve", PRICE + 1, False, cid("r"), sender=arbitrator)


# ------------------------------------------------------ settleExpiredDispute


def test_settleExpiredDispute_succeeds(book, orders, buyer, maker, stranger, makers, chain):
    t = orders.to_status(Status.DISPUTED, maker, price=PRICE + 1)
    chain.sleep(DISPUTE_TIMEOUT + 1)
    tx = orders.call(t, "settleExpiredDispute", sender=stranger)
    assert tx.events["DisputeExpired"]["buyerShare"] == (PRICE + 1) // 2
    assert credits(book, buyer) == (PRICE + 1) // 2
    assert credits(book, maker) == PRICE + 1 - (PRICE + 1) // 2 + CLAIM_BOND
    assert t.status == Status.RESOLVED


def test_settleExpiredDispute_reverts_with_DisputeTimeoutNotReached(orders, maker, stranger, makers):
    t = orders.to_status(Status.DISPUTED, maker)
    with brownie.reverts(err("DisputeTimeoutNotReached", t.order_id, t.state.stamp + DISPUTE_TIMEOUT)):
        orders.call(t, "settleExpiredDispute", sender=stranger)


def test_settleExpiredDispute_reverts_with_OrderNotDisputed(orders, maker, stranger, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    with brownie.reverts(err("OrderNotDisputed", t.order_id)):
        orders.call(t, "settleExpiredDispute", sender=stranger)


# -------------------------------------------------------------------- refund


def test_refund_succeeds_when_not_claimed(book, orders, buyer, stranger, chain):
    t = orders.post()
    chain.sleep(DAY + 1)
    tx = orders.call(t, "refund", sender=stranger)
    assert tx.events["OrderRefunded"]["reason"] == RefundReason.NOT_CLAIMED
    assert credits(book, buyer) == PRICE and t.status == Status.REFUNDED


def test_refund_succeeds_when_not_awarded(book, orders, buyer, maker, stranger, makers, chain):
    t = orders.to_status(Status.CLAIMED, maker)
    chain.sleep(DAY + 1)
    tx = orders.call(t, "refund", sender=stranger)
    assert tx.events["OrderRefunded"]["reason"] == RefundReason.NOT_AWARDED
    assert credits(book, buyer) == PRICE and credits(book, maker) == CLAIM_BOND


@pytest.mark.parametrize("start", [Status.AWARDED, Status.IN_PRODUCTION])
def test_refund_succeeds_when_not_shipped_and_slashes_bond(book, registry, orders, buyer, maker, stranger,
                                                            makers, chain, start, token):
    t = orders.to_status(start, maker, token=token)
    chain.sleep(10 * DAY + 1)
    tx = orders.call(t, "refund", sender=stranger)
    assert tx.events["OrderRefunded"]["reason"] == RefundReason.NOT_SHIPPED
    assert credits(book, buyer, token) == PRICE and credits(book, buyer) == CLAIM_BOND
    assert credits(book, maker) == 0
    book.withdraw(token, {"from": buyer})
    book.withdraw(ZERO_ADDRESS, {"from": buyer})
    assert book.balance() == 0 and token.balanceOf(book) == 0


def test_refund_reverts_with_ClaimDeadlineNotPassed(orders, maker, stranger, makers):
    t = orders.post()
    with brownie.reverts(err("ClaimDeadlineNotPassed", t.order_id, t.terms.claim_deadline)):
        orders.call(t, "refund", sender=stranger)
    orders.claim(t, maker)
    with brownie.reverts(err("ClaimDeadlineNotPassed", t.order_id, t.terms.claim_deadline)):
        orders.call(t, "refund", sender=stranger)


def test_refund_reverts_with_DeliveryDeadlineNotPassed(orders, maker, stranger, makers, chain):
    t = orders.to_status(Status.AWARDED, maker)
    chain.sleep(DAY + 1)
    with brownie.reverts(err("DeliveryDeadlineNotPassed", t.order_id, t.terms.delivery_deadline)):
        orders.call(t, "refund", sender=stranger)


@pytest.mark.parametrize("status", [Status.SHIPPED, Status.DISPUTED, Status.COMPLETED])
def test_refund_reverts_with_OrderNotRefundable(orders, maker, stranger, makers, chain, status):
    t = orders.to_status(status, maker)
    chain.sleep(30 * DAY)
    with brownie.reverts(err("OrderNotRefundable", t.order_id)):
        orders.call(t, "refund", sender=stranger)


def test_refund_reverts_with_OrderNotRefundable_after_cancel(orders, buyer, stranger, chain):
    t = orders.post()
    orders.call(t, "cancel", sender=buyer)
    chain.sleep(DAY + 1)
    with brownie.reverts(err("OrderNotRefundable", t.order_id)):
        orders.call(t, "refund", sender=stranger)
