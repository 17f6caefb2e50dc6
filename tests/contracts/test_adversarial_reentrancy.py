"""Adversarial payout recipients: a contract that re-enters the book or the registry from `receive` /
`fallback` (ETH payouts and ERC-777-style token hooks), and a contract that rejects ETH.

Re-entry into a guarded function (`withdraw`, `withdrawPayment`, `post`, `withdrawBond`) reverts with
`ReentrancyGuardReentrantCall()`; re-entry into an unguarded one (`cancel`, `refund`, `claim`) only makes
that call's own, normal transition, because every payout zeroes or advances its source before sending. After
each attack the book (and registry) hold exactly what they still owe. A recipient that rejects ETH only
strands its own credit: the buyer's refund and everyone else's withdrawals are pull payments it cannot touch.
"""

import brownie
import pytest
from brownie import CallbackERC20, EthRejecter, ReentrantAttacker, chain, web3

from adversaries import (
    REENTRANT_CALL,
    ContractAccount,
    allow_listed,
    assert_book_holds,
    error_data,
    order_inputs,
    reentries,
)
from conftest import CLAIM_BOND, DAY, MIN_BOND, PRICE, UNBONDING_DELAY, cid, err, now
from pynode.chain.orders import ZERO_ADDRESS, OrderTracker, next_head, terms_hash
from pynode.protocol.types import RecordKind, Status

GUARD = error_data(REENTRANT_CALL)


@pytest.fixture(scope="module")
def attacker_contract(admin):
    return ReentrantAttacker.deploy({"from": admin})


@pytest.fixture
def attacker(attacker_contract, orders):
    """The attacker as a buyer (not registered)."""
    return ContractAccount(attacker_contract, orders)


@pytest.fixture
def partner_attacker(attacker, registry, certifier):
    """The attacker registered, bonded and vetted: it can claim any uncertified order."""
    attacker.register(registry, certifier)
    return attacker


@pytest.fixture(scope="module")
def hook_token(admin, book, governor):
    """An allow-listed token with transfer hooks (governance allow-listed an ERC-777-like token)."""
    return allow_listed(CallbackERC20, admin, book, governor)


def arm(attacker, target, fn, *args, value=0, times=1):
    attacker.contract.arm(target, getattr(target, fn).encode_input(*args), value, times,
                          {"from": attacker.contract.tx.sender})


def completed(orders, partner, **post_kwargs):
    """An order posted by the buyer and driven to Completed by the contract partner."""
    t = orders.post(**post_kwargs)
    partner.claim(t)
    orders.award(t)
    partner.ship(t)
    orders.confirm(t)
    return t


# ------------------------------------------------------- ETH re-entry, partner


@pytest.mark.parametrize("target", ["withdrawPayment-same", "withdrawPayment-other", "withdraw"])
def test_withdrawPayment_reentry_reverts_with_ReentrancyGuardReentrantCall(
    book, orders, buyer, stranger, partner_attacker, chain, target
):
    """The partner re-enters from `receive` while being paid: into the same payout (stale calldata), another
    completed order's payout, or its credit. Each re-entry reverts; it is paid once, and what the re-entry
    aimed at stays owed and is paid by a later, ordinary call."""
    first = completed(orders, partner_attacker)
    second = completed(orders, partner_attacker)
    lapsed = orders.post()
    partner_attacker.claim(lapsed)
    chain.sleep(DAY + 1)
    orders.call(lapsed, "refund", sender=stranger)  # the lapsed claim's bond is credited to the attacker
    reentry = {
        "withdrawPayment-same": ("withdrawPayment", first.order_id, first.order),
        "withdrawPayment-other": ("withdrawPayment", second.order_id, second.order),
        "withdraw": ("withdraw", ZERO_ADDRESS),
    }[target]
    arm(partner_attacker, book, *reentry)

    tx = partner_attacker.act(first, "withdrawPayment")

    assert reentries(tx) == [(False, GUARD)]
    assert first.status == Status.PAID and tx.events["PaymentWithdrawn"]["amount"] == PRICE
    assert partner_attacker.contract.ethReceived() == PRICE + CLAIM_BOND
    orders.check(second)  # still Completed, its hash untouched
    assert book.credits(partner_attacker.address, ZERO_ADDRESS) == CLAIM_BOND
    assert_book_holds(book, None, (PRICE + CLAIM_BOND) + CLAIM_BOND + PRICE)  # second, bond credit, buyer
    partner_attacker.act(second, "withdrawPayment")
    partner_attacker.send(book, "withdraw", ZERO_ADDRESS)
    book.withdraw(ZERO_ADDRESS, {"from": buyer})
    assert partner_attacker.contract.ethReceived() == 2 * (PRICE + CLAIM_BOND) + CLAIM_BOND
    assert_book_holds(book, None, 0)


def test_claim_reentered_from_withdrawPayment_only_locks_its_bond(book, orders, partner_attacker):
    """`claim` is unguarded: re-entered from the payout it succeeds, but only as an ordinary claim that locks
    the claim bond (paid out of the ETH just received). Nothing extra leaves the book."""
    paid = completed(orders, partner_attacker)
    target = orders.post()
    arm(partner_attacker, book, "claim", target.order_id, target.order, target.spec, value=CLAIM_BOND)

    tx = partner_attacker.act(paid, "withdrawPayment")

    assert reentries(tx) == [(True, "0x")]
    target.apply_tx(tx)
    orders.check(target)
    assert target.status == Status.CLAIMED and target.state.partner == partner_attacker.address
    assert partner_attacker.contract.ethReceived() == PRICE + CLAIM_BOND
    assert partner_attacker.contract.balance() == PRICE  # the bond went straight back in as the new claim's
    assert_book_holds(book, None, PRICE + CLAIM_BOND)  # exactly the new order's escrow and bond


# --------------------------------------------------------- ETH re-entry, buyer


@pytest.mark.parametrize("target", ["withdraw", "post"])
def test_withdraw_reentry_reverts_with_ReentrancyGuardReentrantCall(book, attacker, target):
    """The buyer re-enters from `receive` while withdrawing its refund: into `withdraw` again, or into `post`
    (a fresh order paid with the refund). Both are guarded; the refund is paid once and no order appears."""
    cancelled = attacker.post()
    attacker.act(cancelled, "cancel")
    if target == "withdraw":
        arm(attacker, book, "withdraw", ZERO_ADDRESS)
    else:
        terms, _state = cancelled.order
        arm(attacker, book, "post", terms, cancelled.spec, cancelled.docs, value=PRICE)

    tx = attacker.send(book, "withdraw", ZERO_ADDRESS)

    assert reentries(tx) == [(False, GUARD)]
    assert tx.events["CreditWithdrawn"]["amount"] == PRICE and attacker.contract.ethReceived() == PRICE
    assert book.credits(attacker.address, ZERO_ADDRESS) == 0 and book.orderCount() == cancelled.order_id
    assert_book_holds(book, None, 0)
    with brownie.reverts(err("NothingToWithdraw", attacker.address, ZERO_ADDRESS)):
        attacker.send(book, "withdraw", ZERO_ADDRESS)


@pytest.mark.parametrize("target", ["cancel", "refund"])
def test_unguarded_reentry_from_withdraw_credits_only_its_own_order(book, orders, attacker, chain, target):
    """`cancel` and `refund` are unguarded: re-entered while the buyer's credit is being paid, they settle
    another of its orders normally. The credit was zeroed before the payout, so the outer withdrawal pays the
    old credit only and the new one is exactly the other order's price, withdrawable later."""
    cancelled = attacker.post()
    other = attacker.post()
    attacker.act(cancelled, "cancel")
    if target == "refund":
        chain.sleep(DAY + 1)
    arm(attacker, book, target, other.order_id, other.order)

    tx = attacker.send(book, "withdraw", ZERO_ADDRESS)

    assert reentries(tx) == [(True, "0x")]
    other.apply_tx(tx)
    orders.check(other)
    assert other.status == (Status.CANCELLED if target == "cancel" else Status.REFUNDED)
    assert tx.events["CreditWithdrawn"]["amount"] == PRICE and attacker.contract.ethReceived() == PRICE
    assert book.credits(attacker.address, ZERO_ADDRESS) == PRICE
    assert_book_holds(book, None, PRICE)
    attacker.send(book, "withdraw", ZERO_ADDRESS)
    assert attacker.contract.ethReceived() == 2 * PRICE
    assert_book_holds(book, None, 0)


# ------------------------------------------------------ ETH re-entry, registry


@pytest.mark.parametrize("target", ["withdrawBond", "startUnbonding", "claim"])
def test_withdrawBond_reentry_fails_and_pays_the_bond_once(book, registry, orders, register_partner, maker,
                                                          partner_attacker, target):
    """The partner re-enters while its bond is paid back: `withdrawBond` is guarded; `startUnbonding` and a
    `claim` on the book fail because the registration was cleared before the payout. The registry keeps
    exactly the other partner's bond."""
    register_partner(maker)
    open_order = orders.post(claim_in=UNBONDING_DELAY + DAY, deliver_in=UNBONDING_DELAY + 10 * DAY)
    partner_attacker.send(registry, "startUnbonding")
    chain.sleep(UNBONDING_DELAY + 1)
    expected = {
        "withdrawBond": ((registry, "withdrawBond"), GUARD),
        "startUnbonding": ((registry, "startUnbonding"), error_data("NotRegistered(address)", partner_attacker)),
        "claim": ((book, "claim", open_order.order_id, open_order.order, open_order.spec),
                  error_data("NotRegistered(address)", partner_attacker)),
    }
    (contract, fn, *args), revert_data = expected[target]
    arm(partner_attacker, contract, fn, *args, value=CLAIM_BOND if target == "claim" else 0)

    tx = partner_attacker.send(registry, "withdrawBond")

    assert reentries(tx) == [(False, revert_data)]
    assert tx.events["BondWithdrawn"]["amount"] == MIN_BOND
    assert partner_attacker.contract.ethReceived() == MIN_BOND
    assert registry.balance() == MIN_BOND == registry.partnerInfo(maker).dict()["bond"]
    info = registry.partnerInfo(partner_attacker.address).dict()
    assert (info["flags"], info["bond"]) == (0, 0)
    orders.check(open_order)
    assert_book_holds(book, None, PRICE)


# ---------------------------------------------------------- token hook re-entry


@pytest.mark.parametrize("target", ["withdrawPayment", "withdraw"])
def test_token_hook_reentry_from_payout_reverts_with_ReentrancyGuardReentrantCall(
    book, orders, partner_attacker, hook_token, target
):
    """An allow-listed token calls the recipient's `tokensReceived` hook mid-transfer. From there the partner
    re-enters another completed order's payout or its token credit: both are guarded, the transfer completes,
    and the token ledger stays exact."""
    first = completed(orders, partner_attacker, token=hook_token)
    second = completed(orders, partner_attacker, token=hook_token)
    refunded = partner_attacker.post(token=hook_token)
    partner_attacker.act(refunded, "cancel")  # a token credit of PRICE
    hook_token.setHooked(partner_attacker.address, True, {"from": partner_attacker.contract.tx.sender})
    if target == "withdrawPayment":
        arm(partner_attacker, book, "withdrawPayment", second.order_id, second.order)
    else:
        arm(partner_attacker, book, "withdraw", hook_token)

    tx = partner_attacker.act(first, "withdrawPayment")

    assert reentries(tx) == [(False, GUARD)]
    assert hook_token.balanceOf(partner_attacker.address) == PRICE
    assert partner_attacker.contract.ethReceived() == CLAIM_BOND
    orders.check(second)
    assert book.credits(partner_attacker.address, hook_token) == PRICE
    assert_book_holds(book, hook_token, 2 * PRICE)
    assert_book_holds(book, None, CLAIM_BOND)
    partner_attacker.act(second, "withdrawPayment")
    partner_attacker.send(book, "withdraw", hook_token)
    assert hook_token.balanceOf(partner_attacker.address) == 3 * PRICE
    assert_book_holds(book, hook_token, 0)


def test_token_hook_reentry_into_post_reverts_with_ReentrancyGuardReentrantCall(book, attacker, hook_token):
    """The buyer's `tokensToSend` hook runs while `post` pulls the price and tries to post a second order:
    guarded. One order exists and the book holds its price."""
    cancelled = attacker.post(token=hook_token)
    attacker.act(cancelled, "cancel")
    hook_token.mint(attacker.address, PRICE, {"from": attacker.contract.tx.sender})
    attacker.send(hook_token, "approve", book, 2 * PRICE)
    hook_token.setHooked(attacker.address, True, {"from": attacker.contract.tx.sender})
    terms, _ = cancelled.order
    arm(attacker, book, "post", terms, cancelled.spec, cancelled.docs)
    tx = attacker.send(book, "post", terms, cancelled.spec, cancelled.docs)
    assert reentries(tx) == [(False, GUARD)]
    assert book.orderCount() == cancelled.order_id + 1
    assert_book_holds(book, hook_token, 2 * PRICE)  # the cancelled order's credit + the new escrow


def test_token_hook_cancel_during_post_pull_keeps_the_ledger_exact(book, orders, attacker, hook_token, admin):
    """`post` stores the order before pulling the price, so the buyer's `tokensToSend` hook can cancel the
    very order being posted (its id and head are predictable). The cancel only credits the price; `withdraw`
    is blocked by post's guard, and the pull still has to deliver exactly the price (balance-delta check).
    End state: order Cancelled, credit = price = the book's balance; the buyer gets back what it paid."""
    terms, spec, docs = order_inputs(attacker.address, orders, token=hook_token)
    hook_token.mint(attacker.address, PRICE, {"from": admin})
    attacker.send(hook_token, "approve", book, PRICE)
    hook_token.setHooked(attacker.address, True, {"from": admin})
    order_id = book.orderCount() + 1
    posted_at = now() + 100
    head = next_head(b"\0" * 32, RecordKind.POSTED, attacker.address, terms_hash(terms), posted_at)
    arm(attacker, book, "cancel", order_id, (terms, (Status.OPEN, ZERO_ADDRESS, 0, head)))
    web3.provider.make_request("evm_setNextBlockTimestamp", [posted_at])

    tx = attacker.contract.execute(book, book.post.encode_input(terms, spec, docs),
                                   {"from": admin, "gas_limit": 1_000_000})

    assert tx.timestamp == posted_at and reentries(tx) == [(True, "0x")]
    tracker = OrderTracker(order_id)
    tracker.apply_tx(tx)
    orders.check(tracker)
    assert tracker.status == Status.CANCELLED
    assert book.credits(attacker.address, hook_token) == PRICE
    assert_book_holds(book, hook_token, PRICE)
    hook_token.setHooked(attacker.address, False, {"from": admin})
    attacker.send(book, "withdraw", hook_token)
    assert hook_token.balanceOf(attacker.address) == PRICE
    assert_book_holds(book, hook_token, 0)


# ------------------------------------------------------ ETH-rejecting partner


@pytest.fixture(scope="module")
def rejecter_contract(admin):
    return EthRejecter.deploy({"from": admin})


@pytest.fixture
def rejecter(rejecter_contract, orders, registry, certifier):
    """A registered, vetted partner contract without a receive function."""
    account = ContractAccount(rejecter_contract, orders)
    account.register(registry, certifier)
    return account


def test_rejecting_partner_cannot_block_refund_or_other_withdrawals(book, orders, buyer, maker2, stranger,
                                                                   makers, rejecter):
    """The rejecter's claim lapses (not awarded): anyone refunds, the buyer withdraws its refund and another
    partner is paid, while the rejecter's own withdrawal fails and its bond credit stays, unchanged."""
    lapsed = orders.post()
    rejecter.claim(lapsed)
    other = orders.to_status(Status.COMPLETED, maker2)
    chain.sleep(DAY + 1)
    orders.call(lapsed, "refund", sender=stranger)

    before = buyer.balance()
    book.withdraw(ZERO_ADDRESS, {"from": buyer})
    assert buyer.balance() == before + PRICE
    before = maker2.balance()
    orders.call(other, "withdrawPayment", sender=maker2)
    assert maker2.balance() == before + PRICE + CLAIM_BOND
    with brownie.reverts(err("EthTransferFailed", rejecter.address, CLAIM_BOND)):
        rejecter.send(book, "withdraw", ZERO_ADDRESS)
    assert book.credits(rejecter.address, ZERO_ADDRESS) == CLAIM_BOND
    assert_book_holds(book, None, CLAIM_BOND)


def test_rejecting_partner_cannot_block_dispute_settlement(book, orders, buyer, arbitrator, governor, auditor,
                                                          rejecter):
    """A disputed order of the rejecter is split by the arbitrator: buyer and fee recipient withdraw their
    shares; only the rejecter's share and returned bond stay credited to it."""
    book.setFee(100, auditor, {"from": governor})
    t = orders.post()
    rejecter.claim(t)
    orders.award(t)
    rejecter.ship(t)
    orders.dispute(t)
    orders.call(t, "resolve", PRICE // 4, False, cid("ruling"), sender=arbitrator)
    partner_share = PRICE - PRICE // 4
    fee = partner_share * 100 // 10_000

    book.withdraw(ZERO_ADDRESS, {"from": buyer})
    book.withdraw(ZERO_ADDRESS, {"from": auditor})
    owed = partner_share - fee + CLAIM_BOND
    with brownie.reverts(err("EthTransferFailed", rejecter.address, owed)):
        rejecter.send(book, "withdraw", ZERO_ADDRESS)
    assert book.credits(rejecter.address, ZERO_ADDRESS) == owed
    assert book.credits(buyer, ZERO_ADDRESS) == book.credits(auditor, ZERO_ADDRESS) == 0
    assert_book_holds(book, None, owed)


def test_rejecting_partner_abandoning_cannot_block_the_buyers_refund(book, orders, buyer, stranger, rejecter):
    """The rejecter is awarded and never ships: after the delivery deadline the buyer is refunded the price
    and the slashed bond, and withdraws both; nothing is owed to the rejecter."""
    t = orders.post()
    rejecter.claim(t)
    orders.award(t)
    chain.sleep(10 * DAY + 1)
    orders.call(t, "refund", sender=stranger)
    before = buyer.balance()
    book.withdraw(ZERO_ADDRESS, {"from": buyer})
    assert buyer.balance() == before + PRICE + CLAIM_BOND
    with brownie.reverts(err("NothingToWithdraw", rejecter.address, ZERO_ADDRESS)):
        rejecter.send(book, "withdraw", ZERO_ADDRESS)
    assert_book_holds(book, None, 0)


@pytest.mark.parametrize("claim_bond", [0, CLAIM_BOND])
def test_rejecting_partner_token_payment_needs_eth_only_for_the_bond(book, orders, rejecter, token, claim_bond):
    """A token order's payment reaches a rejecter as tokens. Without a claim bond it is paid; with one, the
    ETH leg fails and the whole payout reverts (all or nothing): the order stays Completed, still payable."""
    t = completed(orders, rejecter, token=token, claim_bond=claim_bond)
    if claim_bond == 0:
        rejecter.act(t, "withdrawPayment")
        assert t.status == Status.PAID and token.balanceOf(rejecter.address) == PRICE
        assert_book_holds(book, token, 0)
    else:
        with brownie.reverts(err("EthTransferFailed", rejecter.address, CLAIM_BOND)):
            rejecter.act(t, "withdrawPayment")
        orders.check(t)
        assert t.status == Status.COMPLETED and token.balanceOf(rejecter.address) == 0
        assert_book_holds(book, token, PRICE)
        assert_book_holds(book, None, CLAIM_BOND)


def test_rejecting_fee_recipient_cannot_block_the_partners_payment(book, orders, maker, governor, makers,
                                                                  rejecter_contract):
    """Governance points the fee at a contract that rejects ETH: completion only credits the fee, so the
    partner is paid in full; the fee stays credited to the recipient."""
    book.setFee(500, rejecter_contract, {"from": governor})
    t = orders.to_status(Status.COMPLETED, maker)
    fee = PRICE * 500 // 10_000
    before = maker.balance()
    orders.call(t, "withdrawPayment", sender=maker)
    assert maker.balance() == before + PRICE - fee + CLAIM_BOND
    with brownie.reverts(err("EthTransferFailed", rejecter_contract, fee)):
        rejecter_contract.execute(book, book.withdraw.encode_input(ZERO_ADDRESS))
    assert book.credits(rejecter_contract, ZERO_ADDRESS) == fee
    assert_book_holds(book, None, fee)
