"""ERC-20s that misbehave: `transfer`/`transferFrom` returning false, reverting, charging a fee (from the start
or switched on later), a token de-listed mid-order, and someone else's allowance.

Posting with a misbehaving token fails through SafeERC20 or the balance-delta check and leaves no trace (no
order id, no escrow). A token that breaks after posting cannot corrupt the ledger: settlements only credit,
and every payout reverts as a whole while the token is broken, leaving the credit or the Completed order as
it was, payable once the token works again. Other tokens and ETH keep paying out meanwhile.
"""

import brownie
import pytest
from brownie import FalseReturningERC20, FeeSwitchERC20, RevertingERC20

from adversaries import allow_listed, assert_book_holds
from conftest import CLAIM_BOND, DAY, PRICE, cid, err
from pynode.chain.orders import ZERO_ADDRESS
from pynode.protocol.types import Status


@pytest.fixture(scope="module")
def false_token(admin, book, governor):
    return allow_listed(FalseReturningERC20, admin, book, governor)


@pytest.fixture(scope="module")
def blocked_token(admin, book, governor):
    return allow_listed(RevertingERC20, admin, book, governor)


@pytest.fixture(scope="module")
def switch_token(admin, book, governor):
    return allow_listed(FeeSwitchERC20, admin, book, governor)


class Breakable:
    """An allow-listed token that can be broken and fixed at any time, and the revert its transfers then give."""

    def __init__(self, token, switch, error):
        self.token, self._switch, self.error = token, switch, error

    def break_(self):
        self._switch(True)

    def fix(self):
        self._switch(False)


@pytest.fixture(params=["returns-false", "reverts"])
def breakable(request, false_token, blocked_token, admin):
    if request.param == "returns-false":
        return Breakable(false_token, lambda on: false_token.setReturnFalse(on, {"from": admin}),
                         err("SafeERC20FailedOperation", false_token))
    return Breakable(blocked_token, lambda on: blocked_token.setBlocked(on, {"from": admin}),
                     err("TransfersBlocked"))


# ---------------------------------------------------------------------- post


def test_post_with_broken_token_fails_and_leaves_no_trace(book, orders, buyer, breakable):
    token = breakable.token
    breakable.break_()
    with brownie.reverts(breakable.error):
        orders.post(token=token)
    assert book.orderCount() == 0 and book.orderHash(1) == "0x" + "00" * 32
    assert token.balanceOf(buyer) == PRICE and token.allowance(buyer, book) == PRICE
    assert_book_holds(book, token, 0)
    breakable.fix()
    t = orders.post(token=token)
    assert t.order_id == 1 and token.balanceOf(buyer) == PRICE  # the first mint is still the buyer's
    assert_book_holds(book, token, PRICE)


@pytest.mark.parametrize("fee_bps", [1, 100, 10_000])
def test_post_with_fee_token_reverts_with_TransferAmountMismatch(book, orders, buyer, switch_token, admin,
                                                                  fee_bps):
    """A fee of one basis point, 1 %, or 100 % (the transfer reports success and delivers nothing): the
    balance-delta check rejects each, and nothing is escrowed."""
    switch_token.setFeeBps(fee_bps, {"from": admin})
    received = PRICE - PRICE * fee_bps // 10_000
    with brownie.reverts(err("TransferAmountMismatch", PRICE, received)):
        orders.post(token=switch_token)
    assert book.orderCount() == 0 and switch_token.balanceOf(buyer) == PRICE
    assert_book_holds(book, switch_token, 0)


def test_post_cannot_spend_another_buyers_allowance(book, orders, buyer, stranger, token):
    """A buyer that left the book a large allowance: nobody else can post on its behalf (the terms must name
    the sender) and `post` pulls only from the sender."""
    token.mint(buyer, 10 * PRICE, {"from": buyer})
    token.approve(book, 10 * PRICE, {"from": buyer})
    victim = orders.post(token=token)
    terms, _ = victim.order
    with brownie.reverts(err("BuyerNotSender", buyer)):
        book.post(terms, victim.spec, victim.docs, {"from": stranger})
    own = (str(stranger), *terms[1:])
    with brownie.reverts(err("ERC20InsufficientAllowance", book, 0, PRICE)):
        book.post(own, victim.spec, victim.docs, {"from": stranger})
    assert token.balanceOf(buyer) == 10 * PRICE and book.orderCount() == victim.order_id
    assert_book_holds(book, token, PRICE)


# ------------------------------------------------- token broken after posting


def test_withdrawPayment_with_token_broken_after_posting_reverts_and_keeps_the_order_payable(
    book, orders, maker, makers, breakable
):
    """The payout reverts as a whole, ETH bond included; the order stays Completed (same hash) and is paid in
    full once the token works again."""
    token = breakable.token
    t = orders.to_status(Status.COMPLETED, maker, token=token)
    breakable.break_()
    eth_before = maker.balance()
    with brownie.reverts(breakable.error):
        orders.call(t, "withdrawPayment", sender=maker)
    orders.check(t)
    assert t.status == Status.COMPLETED and maker.balance() == eth_before
    assert_book_holds(book, token, PRICE)
    assert_book_holds(book, None, CLAIM_BOND)
    breakable.fix()
    orders.call(t, "withdrawPayment", sender=maker)
    assert t.status == Status.PAID and token.balanceOf(maker) == PRICE and maker.balance() == eth_before + CLAIM_BOND
    assert_book_holds(book, token, 0)
    assert_book_holds(book, None, 0)


def test_settlements_with_token_broken_after_posting_credit_and_withdraw_later(
    book, orders, buyer, maker, maker2, arbitrator, stranger, makers, token, breakable, chain
):
    """While the token is broken: cancel, refund and resolve still settle (they only credit); withdrawing
    those token credits reverts and leaves them unchanged; ETH credits and another token still pay out.
    Once fixed, every credit is withdrawn and the book is empty."""
    broken = breakable.token
    cancelled = orders.post(token=broken)
    lapsed = orders.post(token=broken)
    disputed = orders.to_status(Status.DISPUTED, maker, token=broken)
    healthy = orders.to_status(Status.COMPLETED, maker2, token=token)
    breakable.break_()

    orders.call(cancelled, "cancel", sender=buyer)
    orders.call(disputed, "resolve", PRICE // 2, True, cid("ruling"), sender=arbitrator)
    chain.sleep(DAY + 1)
    orders.call(lapsed, "refund", sender=stranger)
    owed = {buyer: 2 * PRICE + PRICE // 2, maker: PRICE - PRICE // 2}
    for account, amount in owed.items():
        assert book.credits(account, broken) == amount
        with brownie.reverts(breakable.error):
            book.withdraw(broken, {"from": account})
        assert book.credits(account, broken) == amount
    assert_book_holds(book, broken, 3 * PRICE)

    book.withdraw(ZERO_ADDRESS, {"from": buyer})  # the slashed claim bond (partner lost)
    orders.call(healthy, "withdrawPayment", sender=maker2)
    assert token.balanceOf(maker2) == PRICE
    assert_book_holds(book, None, 0)

    breakable.fix()
    for account, amount in owed.items():
        before = broken.balanceOf(account)
        book.withdraw(broken, {"from": account})
        assert broken.balanceOf(account) == before + amount
    assert_book_holds(book, broken, 0)


def test_fee_switched_on_after_posting_costs_only_the_recipient(book, orders, buyer, maker, makers,
                                                                switch_token, admin):
    """A token that starts charging a fee after posting: the book is debited exactly what it pays out, so the
    recipient gets less but no other order's escrow pays for it; the book still holds exactly what it owes."""
    paid = orders.to_status(Status.COMPLETED, maker, token=switch_token)
    cancelled = orders.post(token=switch_token)
    switch_token.setFeeBps(100, {"from": admin})
    orders.call(paid, "withdrawPayment", sender=maker)
    assert switch_token.balanceOf(maker) == PRICE - PRICE // 100
    assert_book_holds(book, switch_token, PRICE)
    orders.call(cancelled, "cancel", sender=buyer)
    book.withdraw(switch_token, {"from": buyer})
    assert_book_holds(book, switch_token, 0)
    assert book.credits(buyer, switch_token) == 0


def test_delisted_token_still_settles_existing_orders(book, orders, buyer, maker, makers, token, governor):
    """Governance de-lists a token mid-order: new orders are refused, existing ones settle and pay out."""
    paid = orders.to_status(Status.SHIPPED, maker, token=token)
    cancelled = orders.post(token=token)
    book.setTokenAllowed(token, False, {"from": governor})
    with brownie.reverts(err("TokenNotAllowed", token)):
        orders.post(token=token)
    orders.confirm(paid)
    orders.call(paid, "withdrawPayment", sender=maker)
    orders.call(cancelled, "cancel", sender=buyer)
    book.withdraw(token, {"from": buyer})
    assert token.balanceOf(maker) == PRICE and token.balanceOf(buyer) == 2 * PRICE  # incl. the refused mint
    assert_book_holds(book, token, 0)
