"""OrderBookV2 lifecycles: every path from post to a terminal status, with ETH and an ERC-20, each transition
checked against the stored commitment and the transition chain replayed (scripts.book_v2.V2), money and
reputation checked at the end."""

import brownie
import pytest
from brownie import chain

from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderStatus, RecordKind, Transition
from scripts.book_v2 import BOND, DAY, PRICE, REPORT, ZERO, cid
from tests.contracts.conftest import X25519_KEY, err, profile
from tests.contracts.v2.book_fixtures import *  # noqa: F403 (fixtures)
from tests.contracts.v2.book_fixtures import container, signer
from tests.contracts.v2.conftest import MIN_BOND, profile_hash

COST = 10**17  # SimpleCentralizedArbitrator.arbitrationCost
COMPLETED, ONTIME, FAILED, LOST = 1, 2, 3, 4  # PartnerInfo indexes: completed, onTime, failedQa, disputesLost


def fee_of(t, amount):
    return amount * t.terms.fee_bps // 10_000


def test_escrow_first_eth_pays_payee_fee_and_releases_bond(v2, book, registry, kleros, partner, fee_recipient,
                                                           accounts):
    payee = accounts[9]
    t = v2.post(kleros)
    assert t.order_id == codec.order_id(t.terms)
    free = registry.freeBond(partner.address)
    v2.award(t, partner, payee=payee.address)
    assert registry.freeBond(partner.address) == free - BOND
    v2.ship(t)
    on_time = registry.partnerInfo(partner.address)[ONTIME]
    before = payee.balance()
    tx = v2.confirm(t)
    fee = fee_of(t, PRICE)
    assert payee.balance() == before + PRICE - fee
    assert registry.freeBond(partner.address) == free
    assert registry.partnerInfo(partner.address)[ONTIME] == on_time + 1
    assert dict(tx.events["OrderCompleted"]) == {"orderId": t.order_id, "kind": Transition.CONFIRMED}
    assert book.balance() == fee
    # the fee stays in the book until the fee recipient collects it, once
    assert book.credits(fee_recipient, ZERO) == 0
    tx = v2.collect_fees([t], fee_recipient)
    assert tx.events["Credited"]["amount"] == fee and tx.events["Credited"]["orderId"] == t.order_id
    assert book.credits(fee_recipient, ZERO) == fee
    with brownie.reverts(err("WrongStatus", t.order_id, int(OrderStatus.FEE_COLLECTED))):
        book.collectFees([t.packed], {"from": fee_recipient})
    book.withdraw(ZERO, fee_recipient, {"from": fee_recipient})
    assert book.balance() == 0


def test_collect_fees_batches_and_checks(v2, book, kleros, partner, fee_recipient, stranger):
    done = []
    for _ in range(3):
        t = v2.post_awarded(kleros, partner)
        v2.ship(t)
        v2.confirm(t)
        done.append(t)
    open_order = v2.post(kleros)
    with brownie.reverts(err("WrongStatus", open_order.order_id, int(OrderStatus.OPEN))):
        book.collectFees([open_order.packed], {"from": stranger})
    forged = done[1].order._replace(state=done[1].state._replace(price=1))  # its terms: its id
    with brownie.reverts(err("OrderMismatch", done[1].order_id)):
        book.collectFees([done[0].packed, codec.pack_order(forged)], {"from": stranger})
    # anyone may collect; the credit is the fee recipient's
    v2.collect_fees(done, stranger)
    fee = PRICE * done[0].terms.fee_bps // 10_000
    assert book.credits(fee_recipient, ZERO) == 3 * fee
    assert book.credits(stranger, ZERO) == 0


def test_collect_fees_zero_fee_leaves_no_silent_transition(v2, book, governor, kleros, partner, fee_recipient,
                                                           stranger):
    """A completed order with no fee (fee 0, or 1 % of 99 wei rounded down) has nothing to collect: collectFees,
    which anyone may call, skips it with no log, so its commitment stays the Completed order a tracker folds
    from the events; in a batch only the order with a fee moves."""
    paid = v2.post_awarded(kleros, partner)
    tiny = v2.post_awarded(kleros, partner, price=99)
    book.setFee(0, fee_recipient, {"from": governor})
    free = v2.post_awarded(kleros, partner)
    for t in (paid, tiny, free):
        v2.ship(t)
        v2.confirm(t)
    assert (fee_of(tiny, tiny.state.price), free.terms.fee_bps) == (0, 0)
    tx = book.collectFees([tiny.packed, free.packed], {"from": stranger})
    assert not tx.logs
    for t in (tiny, free):
        v2.check(t)  # the stored hash is still the Completed order's
    tx = v2.collect_fees([free, paid, tiny], stranger)
    fee = fee_of(paid, PRICE)
    assert [(e["orderId"], e["amount"]) for e in tx.events["Credited"]] == [(paid.order_id, fee)]
    assert (tiny.state.status, free.state.status, paid.state.status) == (
        OrderStatus.COMPLETED, OrderStatus.COMPLETED, OrderStatus.FEE_COLLECTED)
    assert book.credits(fee_recipient, ZERO) == fee


def test_escrow_first_token_with_lower_quote_credits_difference(v2, book, kleros, partner, token, buyer,
                                                                fee_recipient):
    token.mint(buyer, PRICE, {"from": buyer})
    token.approve(book, PRICE, {"from": buyer})
    t = v2.post(kleros, token=token)
    assert token.balanceOf(book) == book.liability(token) == PRICE
    v2.award(t, partner, price=PRICE * 3 // 4)
    assert book.credits(buyer, token) == PRICE // 4
    v2.ship(t)
    v2.confirm(t)
    paid = PRICE * 3 // 4 - fee_of(t, PRICE * 3 // 4)
    assert token.balanceOf(partner.address) == paid
    assert book.liability(token) == token.balanceOf(book) == PRICE // 4 + fee_of(t, PRICE * 3 // 4)
    book.withdraw(token, buyer, {"from": buyer})
    v2.collect_fees([t], fee_recipient)
    book.withdraw(token, fee_recipient, {"from": fee_recipient})
    assert token.balanceOf(book) == book.liability(token) == 0


def test_quote_first_three_transactions(v2, book, registry, kleros, partner):
    free = registry.freeBond(partner.address)
    t = v2.post_awarded(kleros, partner)
    assert registry.freeBond(partner.address) == free - BOND
    v2.ship(t)
    v2.confirm(t)
    assert registry.freeBond(partner.address) == free


def test_quote_first_token(v2, book, kleros, partner, token, buyer):
    token.mint(buyer, PRICE, {"from": buyer})
    token.approve(book, PRICE, {"from": buyer})
    v2.post_awarded(kleros, partner, token=token, quote_kw={"price": PRICE // 2})
    assert book.credits(buyer, token) == PRICE // 2
    assert book.liability(token) == PRICE


def test_late_shipment_completes_late(v2, book, registry, kleros, partner, stranger):
    t = v2.post(kleros)
    v2.award(t, partner, lead=DAY)
    chain.sleep(2 * DAY)
    v2.ship(t)
    chain.sleep(t.terms.inspection_window + 1)
    late = registry.partnerInfo(partner.address)[COMPLETED]
    on_time = registry.partnerInfo(partner.address)[ONTIME]
    tx = v2.finalize(t, stranger)
    assert dict(tx.events["OrderCompleted"]) == {"orderId": t.order_id, "kind": Transition.FINALIZED}
    assert t.state.stamp > t.state.due_by  # what OrderCompleted implies: late
    assert registry.partnerInfo(partner.address)[COMPLETED] == late + 1
    assert registry.partnerInfo(partner.address)[ONTIME] == on_time


def test_cancel_and_refunds(v2, book, registry, kleros, partner, buyer, stranger):
    a, b, c = v2.post(kleros), v2.post(kleros), v2.post(kleros)
    v2.cancel(a)
    v2.award(c, partner)
    abandoned = registry.partnerInfo(partner.address)[5]
    chain.sleep(10 * DAY + 1)
    v2.refund(b, stranger)
    v2.refund(c, stranger)
    assert book.credits(buyer, ZERO) == 3 * PRICE + BOND
    assert registry.partnerInfo(partner.address)[5] == abandoned + 1
    before = buyer.balance()
    book.withdraw(ZERO, buyer, {"from": buyer})
    assert buyer.balance() == before + 3 * PRICE + BOND
    assert book.credits(buyer, ZERO) == 0


@pytest.mark.parametrize("ruling, share, bond_to_buyer, deposit_to", [
    (81, PRICE * 80 // 100, True, "buyer"),
    (1, 0, False, "partner"),
    (51, PRICE // 2, False, "halves"),
    (0, PRICE // 2, False, "halves"),
])
def test_dispute_ruled(v2, book, registry, kleros, partner, buyer, arbitrator, stranger, ruling, share,
                       bond_to_buyer, deposit_to):
    t = v2.post(kleros)
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST)
    tx = v2.pay_fee(t, COST)
    dispute_id = tx.events["ArbitrationCreated"]["disputeId"]
    assert book.arbitration(t.order_id)[4]  # created
    lost = registry.partnerInfo(partner.address)[LOST]
    tx = kleros.rule(dispute_id, ruling, {"from": arbitrator})
    assert book.arbitration(t.order_id)[2] == ruling
    v2.execute_ruling(t, stranger, share, bond_to_buyer)
    held = 2 * COST - COST
    deposits = {"buyer": (held, 0), "partner": (0, held), "halves": (held - held // 2, held // 2)}[deposit_to]
    rest = PRICE - share
    assert book.credits(buyer, ZERO) == share + (BOND if bond_to_buyer else 0) + deposits[0]
    assert book.credits(partner.address, ZERO) == rest - fee_of(t, rest) + deposits[1]
    assert registry.partnerInfo(partner.address)[LOST] == lost + bond_to_buyer


def test_settle_shipped_by_partner_signature(v2, book, kleros, partner, buyer):
    t = v2.post(kleros)
    v2.award(t, partner)
    v2.ship(t)
    s, sig = v2.settlement(t, partner, PRICE // 4)
    v2.settle(t, s, sig, buyer)
    assert book.credits(buyer, ZERO) == PRICE // 4


def test_settle_disputed_by_buyer_signature_refunds_deposits(v2, book, kleros, partner, keyed_buyer):
    buyer = keyed_buyer.account
    t = v2.post(kleros, buyer=buyer)
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST)
    v2.pay_fee(t, COST)
    s, sig = v2.settlement(t, keyed_buyer, PRICE, bond_to_buyer=True)
    v2.settle(t, s, sig, partner.account)
    held = COST
    assert book.credits(buyer, ZERO) == PRICE + BOND + held - held // 2


def test_settle_before_fee_matched_returns_buyer_deposit(v2, book, kleros, partner, buyer):
    t = v2.post(kleros)
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST)
    s, sig = v2.settlement(t, partner, 0)
    v2.settle(t, s, sig, buyer)
    assert book.credits(buyer, ZERO) == COST


def test_erc1271_partner_quotes_ships_and_settles(v2, book, registry, kleros, admin, certifier, buyer, accounts):
    """A smart-account partner: its quote and its settlement signature are checked by ERC-1271."""
    owner = signer(accounts, admin, "0x" + "99" * 32)
    wallet = container("ERC1271Wallet").deploy(owner.address, {"from": admin})
    admin.transfer(wallet, MIN_BOND)
    p = profile()
    wallet.execute(registry, MIN_BOND, registry.register.encode_input(p, X25519_KEY), {"from": owner.account})
    registry.vet(wallet, profile_hash(p), cid("vet"), {"from": certifier})
    t = v2.post(kleros)
    v2.award(t, wallet, quote=v2.quote(t.terms, wallet, signer=owner))
    tx = wallet.execute(book, 0, book.ship.encode_input(t.packed, *REPORT), {"from": owner.account})
    v2._advance(t, tx, Transition.SHIPPED, codec.report_evidence(*REPORT, True), actor=wallet.address,
                status=OrderStatus.SHIPPED, stamp=chain[tx.block_number].timestamp)
    s, sig = v2.settlement(t, owner, PRICE // 2)
    v2.settle(t, s, sig, buyer)
    assert book.credits(wallet, ZERO) == PRICE // 2 - fee_of(t, PRICE // 2)


def test_records_extend_record_chain(v2, book, kleros, partner, inspectors, buyer, stranger):
    spec, docs = v2.spec(inspectors=[inspectors[0].address, inspectors[1].address])
    t = v2.post(kleros, spec=spec, docs=docs)
    v2.award(t, partner)
    head = codec.genesis(chain.id, book.address, t.order_id)
    tx = book.recordSerials(t.packed, cid("root"), {"from": partner.account})
    head = codec.link(head, RecordKind.SERIALS_RECORDED, partner.address, cid("root"), chain[tx.block_number].timestamp)
    assert book.recordHead(t.order_id) == "0x" + head.hex()
    att, sig = v2.attestation(t, inspectors[1], passed=True)
    tx = book.attest(t.packed, t.spec, att, sig, {"from": stranger})
    head = codec.link(head, RecordKind.QUALITY_ATTESTED, inspectors[1].address,
                      codec.report_evidence(att.report_cid, att.report_hash, True), chain[tx.block_number].timestamp)
    assert book.recordHead(t.order_id) == "0x" + head.hex()
    assert tx.events["QualityAttested"]["inspector"] == inspectors[1].address
    v2.ship(t)
    v2.dispute(t, COST)
    tx = book.submitEvidence(t.packed, cid("ev"), {"from": buyer})
    head = codec.link(head, RecordKind.EVIDENCE_SUBMITTED, buyer.address, cid("ev"), chain[tx.block_number].timestamp)
    assert book.recordHead(t.order_id) == "0x" + head.hex()
    tx = v2.pay_fee(t, COST)
    head = codec.link(head, RecordKind.ARBITRATION_FEE_PAID, partner.address, COST.to_bytes(32, "big"),
                      chain[tx.block_number].timestamp)
    assert book.recordHead(t.order_id) == "0x" + head.hex()


def test_governance_pause_delist_fee(v2, book, kleros, guardian, governor, token, buyer, fee_recipient):
    book.pause({"from": guardian})
    assert book.paused()
    with brownie.reverts("NewOrdersPaused: "):
        v2.post(kleros)
    book.unpause({"from": governor})
    book.delistToken(token, {"from": guardian})
    with brownie.reverts(f"TokenNotAllowed: {token.address.lower()}"):
        v2.post(kleros, token=token)
    book.setFee(250, fee_recipient, {"from": governor})
    assert book.feeBps() == 250 and book.feeRecipient() == fee_recipient
    t = v2.post(kleros)
    assert t.terms.fee_bps == 250
