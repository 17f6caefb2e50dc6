"""Griefing: floods of dust orders, loops, claim squatting and self-dealt reputation.

Each order is one storage slot keyed by its id and every account's credit its own slot, and nothing iterates
over orders or accounts, so 150 one-wei orders (posted, claimed and cancelled by several attackers) leave the
gas of every other user's operation exactly unchanged. The one loop in the production contracts runs over at
most four certification ids packed in a uint128.
"""

import itertools
import re
from pathlib import Path

import brownie
from brownie import accounts, chain

from adversaries import order_inputs
from conftest import CLAIM_BOND, DAY, MIN_BOND, PRICE, UNBONDING_DELAY, X25519_KEY, Orders, cid, err, now, profile
from pynode.chain.orders import CERT, ZERO_ADDRESS, OrderTracker
from pynode.protocol.types import Status

HOUR = 3600
CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
PRODUCTION = ("OrderBook.sol", "PartnerRegistry.sol")


def execution_gas(tx) -> int:
    """Gas used minus the intrinsic cost (21,000 + calldata at 4 / 16 per zero / non-zero byte), so two calls
    whose calldata differ only in values (deadlines, hashes, order ids) compare on execution alone."""
    data = bytes.fromhex(tx.input[2:])
    return tx.gas_used - 21_000 - sum(4 if b == 0 else 16 for b in data)


def fresh_account(admin, balance=10**18):
    account = accounts.add()
    admin.transfer(account, balance)
    return account


# ------------------------------------------------------------------ dust flood


class Victims:
    """The same set of pending operations of honest users, set up twice (a, b) before the flood, so one copy
    is measured before and the other after it."""

    def __init__(self, orders, registry, buyer, maker, stranger, certifier, admin):
        self.orders, self.registry, self.book = orders, registry, orders.book
        self.buyer, self.maker, self.stranger, self.certifier = buyer, maker, stranger, certifier
        self.partner = fresh_account(admin)
        long = dict(claim_in=30 * DAY, deliver_in=60 * DAY)
        self.open = orders.post(**long)
        self.claimed = orders.to_status(Status.CLAIMED, maker, **long)
        self.shipped = orders.to_status(Status.SHIPPED, maker, **long)
        self.completed = orders.to_status(Status.COMPLETED, maker, **long)
        self.cancellable = orders.post(**long)
        self.lapsing = orders.post(claim_in=HOUR)

    def run(self):
        """Every operation once, in an order that leaves each touched slot as it found it for the next copy;
        returns {operation: execution gas}."""
        o, r, maker, buyer = self.orders, self.registry, self.maker, self.buyer
        partner, certifier = self.partner, self.certifier
        txs = {
            "claim": o.claim(self.open, maker),
            "award": o.award(self.claimed),
            "confirm": o.confirm(self.shipped),
            "withdrawPayment": o.call(self.completed, "withdrawPayment", sender=maker),
            "cancel": o.call(self.cancellable, "cancel", sender=buyer),
            "refund": o.call(self.lapsing, "refund", sender=self.stranger),
            "withdraw": self.book.withdraw(ZERO_ADDRESS, {"from": buyer}),
            "post": o.post(claim_in=30 * DAY, deliver_in=60 * DAY).tx,
            "register": r.register(profile(), X25519_KEY, {"from": partner, "value": MIN_BOND}),
            "vet": r.vet(partner, cid("vetting"), {"from": certifier}),
            "certify": r.certify(partner, CERT["ISO_9001"], now() + 365 * DAY, cid("c"), {"from": certifier}),
            "revokeCertification": r.revokeCertification(partner, CERT["ISO_9001"], cid("r"), {"from": certifier}),
            "updateProfile": r.updateProfile(profile(capacity=7), {"from": partner}),
            "startUnbonding": r.startUnbonding({"from": partner}),
        }
        gas = {name: execution_gas(tx) for name, tx in txs.items()}
        gas["checkEligible (estimate)"] = r.checkEligible.estimate_gas(maker, 0, 0, 0)
        chain.sleep(UNBONDING_DELAY + 1)
        gas["withdrawBond"] = execution_gas(r.withdrawBond({"from": partner}))
        return gas


def flood(book, registry, certifier, admin, buyers=3, per_buyer=50, claimed=20, cancelled=20):
    """`buyers` attackers post `per_buyer` one-wei, bond-free orders each; a vetted sybil partner claims
    `claimed` of them and their buyers cancel `cancelled` others."""
    sybil = fresh_account(admin)
    registry.register(profile(), X25519_KEY, {"from": sybil, "value": MIN_BOND})
    registry.vet(sybil, cid("vetting"), {"from": certifier})
    dust = []
    for _ in range(buyers):
        attacker = fresh_account(admin)
        terms, spec, docs = order_inputs(attacker, Orders(book, attacker), price=1, claim_bond=0, claim_in=60 * DAY,
                                          deliver_in=90 * DAY)
        for _ in range(per_buyer):
            tx = book.post(terms, spec, docs, {"from": attacker, "value": 1})
            tracker = OrderTracker(tx.return_value)
            tracker.apply_tx(tx)
            dust.append((attacker, tracker))
    for _attacker, tracker in dust[:claimed]:
        book.claim(tracker.order_id, tracker.order, tracker.spec, {"from": sybil})
    for attacker, tracker in dust[claimed:claimed + cancelled]:
        book.cancel(tracker.order_id, tracker.order, {"from": attacker})
    return len(dust)


def test_dust_flood_leaves_every_other_users_gas_unchanged(book, registry, orders, buyer, maker, stranger,
                                                           certifier, admin, makers):
    """150 one-wei orders from three buyers (20 claimed by a sybil partner, 20 cancelled) between two runs of
    the same operations by honest users: execution gas is identical for each, to the unit. No tolerance is
    needed for cold/warm slots: every transaction starts cold (EIP-2929 warmth does not outlive it), each
    operation touches only its own order's slot, its own accounts' credit and partner slots and the
    `_orderCount` slot (already non-zero before either run), and the zero / non-zero state of each of those
    slots is the same in both runs (the order of `run` restores it). Calldata differences (deadlines,
    hashes, ids) are taken out by `execution_gas`."""
    a = Victims(orders, registry, buyer, maker, stranger, certifier, admin)
    b = Victims(orders, registry, buyer, maker, stranger, certifier, admin)
    chain.sleep(HOUR + 1)
    before = a.run()
    count = book.orderCount()
    assert flood(book, registry, certifier, admin) == 150
    assert book.orderCount() == count + 150
    after = b.run()
    assert after == before
    assert all(gas > 0 for gas in before.values())


# ------------------------------------------------------------------------ loops


def _code(path):
    """Solidity source without comments or string literals."""
    text = path.read_text()
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)


def test_the_only_loop_runs_over_at_most_four_certification_ids():
    """No production function loops over orders, accounts or a caller-sized array: the only loop is
    `checkEligible`'s fixed four iterations over the uint32 ids packed into the 128-bit `certIds`, and no
    function takes or stores a dynamic array (the only dynamic parameters are `bytes`, never iterated)."""
    loops = []
    for name in PRODUCTION:
        code = _code(CONTRACTS / name)
        assert "[]" not in code, f"{name} declares a dynamic array"
        loops += [(name, code[m.start():code.index("{", m.start())].strip())
                  for m in re.finditer(r"\b(?:for|while)\s*\(|\bdo\s*\{", code)]
    assert loops == [("PartnerRegistry.sol", "for (uint256 i; i < 4; ++i)")]
    assert re.search(r"\buint128 certIds;", _code(CONTRACTS / "Types.sol"))  # 4 × 32 bits, so 4 is the bound


def test_claim_gas_is_bounded_by_four_certifications(orders, register_partner, maker):
    """Claim execution gas with 0 to 4 required certifications (the largest ids included): each extra id costs
    one cold certification read and the same amount every time, so the worst case is four of them."""
    ids = (1, 2, 3, 2**32 - 1)
    register_partner(maker, certs=[(i, now() + 30 * DAY) for i in ids])
    gas = []
    for k in range(5):
        t = orders.post(cert_ids=ids[:k])
        gas.append(execution_gas(orders.claim(t, maker)))
    steps = [b - a for a, b in itertools.pairwise(gas)]
    assert len(set(steps)) == 1 and 2_100 < steps[0] < 2_400, steps


# --------------------------------------------------------------- claim squatting


def test_claim_squatter_locks_an_order_only_until_its_claim_deadline(book, registry, orders, buyer, maker, maker2,
                                                                    stranger, governor, makers):
    """What the contract does: a vetted partner may claim an open order it never means to make. The buyer
    cannot reject the claim, cancel, or award another claimant, and suspending the squatter does not
    release the order; after the claim deadline anyone refunds (NotAwarded): the buyer gets the price and
    the squatter its bond back, so squatting costs it only gas. The buyer's defences are a short claim
    window or reserving the order (`reservedFor`); a certifier can un-vet and governance suspend the squatter
    against further claims."""
    t = orders.post()
    reserved = orders.post(reserved_for=maker.address)
    orders.claim(t, maker2)
    registry.suspend(maker2, cid("squatting"), {"from": governor})
    with brownie.reverts(err("OrderNotOpen", t.order_id)):
        orders.call(t, "cancel", sender=buyer)
    with brownie.reverts(err("OrderNotOpen", t.order_id)):
        orders.claim(t, maker)
    with brownie.reverts(err("NotReservedPartner", reserved.order_id, maker)):
        orders.claim(reserved, maker2)
    chain.sleep(DAY + 1)
    orders.call(t, "refund", sender=stranger)
    assert book.credits(buyer, ZERO_ADDRESS) == PRICE and book.credits(maker2, ZERO_ADDRESS) == CLAIM_BOND


# ------------------------------------------------------------- self-dealt reputation


def test_self_dealt_dust_orders_raise_reputation_counters(book, registry, register_partner, admin):
    """What the contract does: reputation counts completed orders, not their value. A buyer and a vetted
    partner controlled by the same party complete five one-wei, bond-free orders and gain five `completed`
    and `onTime` for gas alone. Anything that trusts `completed` as a threshold (e.g. the watcher's
    `min_completed`) should weigh it by the orders' value, which the events carry."""
    sybil_buyer, sybil_partner = fresh_account(admin), fresh_account(admin)
    register_partner(sybil_partner)
    sybil_orders = Orders(book, sybil_buyer)
    for _ in range(5):
        sybil_orders.to_status(Status.COMPLETED, sybil_partner, price=1, claim_bond=0)
    info = registry.partnerInfo(sybil_partner).dict()
    assert (info["completed"], info["onTime"]) == (5, 5)
    assert book.balance() == 5
