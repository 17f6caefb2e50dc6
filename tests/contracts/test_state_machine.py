"""Stateful fuzzing: random sequences of order, payout and bond actions by several accounts, with the
money and transition invariants checked after every step.

Step budget: max_examples × stateful_step_count from brownie-config.yaml (40 × 100), overridable with
FABMESH_SM_EXAMPLES / FABMESH_SM_STEPS; further batches are drawn (at most 3 in all) until
FABMESH_SM_MIN_STEPS (2,000) steps ran, and the test fails if they did not."""

import os
from collections import Counter
from typing import ClassVar

import brownie
import hypothesis
from brownie import TestERC20, chain
from brownie.test import strategy

from conftest import DAY, MIN_BOND, X25519_KEY, cid, profile
from pynode.chain.orders import ORDER_EVENTS, ZERO_ADDRESS, OrderTracker, make_docs, make_spec, make_terms, order_hash
from pynode.protocol.types import TERMINAL, Status

HOUR = 3600
# Deadlines sit half an hour off the one-hour grid of sleeps, so no step lands within seconds of one.
CLAIM_IN = DAY + HOUR // 2
DELIVER_IN = 5 * DAY + HOUR // 2
INSPECTION = 2 * DAY + HOUR // 2
# Mostly short sleeps, so orders live long enough to progress; sometimes past every deadline.
SLEEPS = [HOUR] * 8 + [5 * HOUR] * 4 + [25 * HOUR] * 2 + [72 * HOUR, 360 * HOUR]
FEE_BPS = [0, 100, 500]
LIVE = {Status.OPEN, Status.CLAIMED, Status.AWARDED, Status.IN_PRODUCTION, Status.SHIPPED, Status.DISPUTED}
BONDED = {Status.CLAIMED, Status.AWARDED, Status.IN_PRODUCTION, Status.SHIPPED, Status.DISPUTED}
ALLOWED = {
    (Status.OPEN, Status.CLAIMED), (Status.OPEN, Status.CANCELLED), (Status.OPEN, Status.REFUNDED),
    (Status.CLAIMED, Status.AWARDED), (Status.CLAIMED, Status.REFUNDED),
    (Status.AWARDED, Status.IN_PRODUCTION), (Status.AWARDED, Status.SHIPPED), (Status.AWARDED, Status.REFUNDED),
    (Status.IN_PRODUCTION, Status.SHIPPED), (Status.IN_PRODUCTION, Status.REFUNDED),
    (Status.SHIPPED, Status.COMPLETED), (Status.SHIPPED, Status.DISPUTED),
    (Status.DISPUTED, Status.RESOLVED), (Status.COMPLETED, Status.PAID),
}


class Model:
    """One order as the fuzzer expects it, next to its event-folded tracker."""

    def __init__(self, tracker, token):
        self.t = tracker
        self.token = token  # address
        self.transitions = []  # (from, to)
        self.accounted = {}  # asset -> amount credited or paid out for this order

    @property
    def terms(self):
        return self.t.terms

    @property
    def status(self):
        return self.t.status


class StateMachine:
    checks = 0
    reached: ClassVar[Counter] = Counter()  # (from, to) transitions seen over all runs
    st_i = strategy("uint8")
    st_bool = strategy("bool")
    st_price = strategy("uint256", min_value=1, max_value=10**18)
    st_bond = strategy("uint256", max_value=10**17)

    def __init__(cls, book, registry, token, accounts, roles):  # noqa: N805 - brownie runs it once on the class
        cls.book, cls.registry, cls.token = book, registry, token
        cls.buyers = roles["buyers"]
        cls.partners = roles["partners"]  # maker, maker2 (bonded, vetted); stranger (unregistered)
        cls.inspector, cls.arbitrator, cls.governor, cls.anyone = roles["others"]
        cls.fee_recipient = roles["fee_recipient"]

    def setup(self):
        self.orders = []
        self.credits = {}  # (account, asset) -> model credit
        self.bonds = {p.address: MIN_BOND for p in self.partners[:2]}
        self.unbonding = {}  # partner -> readyAt
        self.touched = set()
        self.seed = 0
        chain.mine()
        self.now = chain[-1].timestamp

    # ------------------------------------------------------------- helpers

    def _pick(self, i):
        """One of the three most recent orders, so actions concentrate enough to reach deep states."""
        return self.orders[-1 - i % min(3, len(self.orders))] if self.orders else None

    def _claimant(self, m):
        """Who claimed the order; for one cancelled or refunded unclaimed (status above CLAIMED, no claimant)
        an unregistered partner, whose call must revert as well: brownie signs only for its own accounts."""
        return m.t.state.partner if m.t.state.partner != ZERO_ADDRESS else self.partners[-1]

    def _send(self, ok, fn, *args, sender, value=0):
        """Sends; asserts it succeeded iff the model said so; folds events. Returns tx or None."""
        if not ok:
            with brownie.reverts():
                fn(*args, {"from": sender, "value": value})
            return None
        tx = fn(*args, {"from": sender, "value": value})
        self.now = tx.timestamp
        self._fold(tx)
        return tx

    def _fold(self, tx):
        for ev in tx.events:
            if ev.name in ORDER_EVENTS and ev.name != "OrderPosted":
                m = self.orders[int(ev["orderId"]) - 1]
                before = m.status
                m.t.apply(ev.name, ev)
                if m.status != before:
                    m.transitions.append((before, m.status))
                if ev.name == "PaymentWithdrawn":
                    self._account(m, m.token, ev["amount"])
                    self._account(m, ZERO_ADDRESS, ev["bond"])
            elif ev.name == "Credited":
                key = (ev["account"], ev["token"])
                self.credits[key] = self.credits.get(key, 0) + ev["amount"]
                self.touched.add(key)
                self._account(self.orders[int(ev["orderId"]) - 1], ev["token"], ev["amount"])
            elif ev.name == "CreditWithdrawn":
                key = (ev["account"], ev["token"])
                self.credits[key] -= ev["amount"]
                self.touched.add(key)

    @staticmethod
    def _account(m, asset, amount):
        m.accounted[asset] = m.accounted.get(asset, 0) + amount

    def _order_call(self, m, ok, name, *args, sender, value=0):
        return self._send(ok, getattr(self.book, name), m.t.order_id, m.t.order, *args, sender=sender, value=value)

    def _eligible(self, partner):
        return partner.address in self.bonds and partner.address not in self.unbonding

    # --------------------------------------------------------------- rules

    def initialize_orders(self, price="st_price", bond="st_bond"):
        self.rule_post(0, False, price, bond, 1)
        self.rule_post(1, True, price, bond, 2)

    def rule_post(self, buyer_i="st_i", use_token="st_bool", price="st_price", bond="st_bond", partner_i="st_i"):
        buyer = self.buyers[buyer_i % len(self.buyers)]
        self.seed += 1
        docs = make_docs(self.seed)
        # one order in four is reserved for a partner
        reserved = self.partners[partner_i // 4 % len(self.partners)].address if partner_i % 4 == 0 else ZERO_ADDRESS
        spec = make_spec(docs, reserved_for=reserved)
        token = self.token if use_token else None
        terms = make_terms(
            buyer, spec, token=token.address if token else ZERO_ADDRESS, price=price, claim_bond=bond,
            claim_deadline=self.now + CLAIM_IN, delivery_deadline=self.now + DELIVER_IN,
            inspection_window=INSPECTION, fee_bps=self.book.feeBps(),
        )
        if token:
            token.mint(buyer, price, {"from": buyer})
            token.approve(self.book, price, {"from": buyer})
        tx = self._send(True, self.book.post, terms, spec, docs, sender=buyer, value=0 if token else price)
        tracker = OrderTracker(tx.return_value)
        tracker.apply_tx(tx)
        assert tracker.order_id == len(self.orders) + 1
        self.orders.append(Model(tracker, terms.token))

    def rule_advance(self, i="st_i", partner_i="st_i", happy="st_bool"):
        """The next lifecycle step of an order, so runs reach shipment, disputes and payouts."""
        m = self._pick(i)
        if not m:
            return
        step = {
            Status.OPEN: lambda: self.rule_claim(i, partner_i),
            Status.CLAIMED: lambda: self.rule_award(i),
            Status.AWARDED: lambda: self.rule_ship(i) if happy else self.rule_start_production(i),
            Status.IN_PRODUCTION: lambda: self.rule_ship(i),
            Status.SHIPPED: lambda: self.rule_confirm(i) if happy else self.rule_dispute(i),
            Status.DISPUTED: lambda: self.rule_resolve(i, partner_i, happy),
            Status.COMPLETED: lambda: self.rule_withdraw_payment(i),
        }.get(m.status)
        if step:
            step()

    # hypothesis picks rules uniformly: aliases weight lifecycle progress and new orders up
    rule_advance_again = rule_advance
    rule_advance_once_more = rule_advance

    def rule_claim(self, i="st_i", partner_i="st_i"):
        m = self._pick(i)
        if not m:
            return
        partner = self.partners[partner_i % len(self.partners)]
        reserved = m.t.spec.reserved_for
        ok = (m.status == Status.OPEN and self.now < m.terms.claim_deadline and partner != m.terms.buyer
              and reserved in (ZERO_ADDRESS, partner.address) and self._eligible(partner))
        self._order_call(m, ok, "claim", m.t.spec, sender=partner, value=m.terms.claim_bond)

    def rule_award(self, i="st_i"):
        m = self._pick(i)
        if m:
            ok = m.status == Status.CLAIMED and self.now < m.terms.claim_deadline
            self._order_call(m, ok, "award", cid("envelope"), sender=m.terms.buyer)

    def rule_start_production(self, i="st_i"):
        m = self._pick(i)
        if m and m.status >= Status.CLAIMED:
            self._order_call(m, m.status == Status.AWARDED, "startProduction", sender=self._claimant(m))

    def rule_attest(self, i="st_i", by_inspector="st_bool", passed="st_bool"):
        m = self._pick(i)
        if not m or m.status < Status.CLAIMED:
            return
        if by_inspector:
            sender, ok = self.inspector, Status.AWARDED <= m.status <= Status.DISPUTED
        else:
            sender, ok = self._claimant(m), m.status in (Status.AWARDED, Status.IN_PRODUCTION)
        self._order_call(m, ok, "attest", cid("r"), cid("h"), passed, sender=sender)

    def rule_ship(self, i="st_i"):
        m = self._pick(i)
        if m and m.status >= Status.CLAIMED:
            ok = m.status in (Status.AWARDED, Status.IN_PRODUCTION)
            self._order_call(m, ok, "ship", cid("r"), cid("h"), sender=self._claimant(m))

    def rule_confirm(self, i="st_i"):
        m = self._pick(i)
        if m:
            self._order_call(m, m.status == Status.SHIPPED, "confirm", sender=m.terms.buyer)

    def rule_finalize(self, i="st_i"):
        m = self._pick(i)
        if m:
            ok = m.status == Status.SHIPPED and self.now > m.t.state.stamp + m.terms.inspection_window
            self._order_call(m, ok, "finalize", sender=self.anyone)

    def rule_dispute(self, i="st_i"):
        m = self._pick(i)
        if m:
            ok = m.status == Status.SHIPPED and self.now < m.t.state.stamp + m.terms.inspection_window
            self._order_call(m, ok, "dispute", cid("evidence"), sender=m.terms.buyer)

    def rule_resolve(self, i="st_i", share="st_i", lost="st_bool"):
        m = self._pick(i)
        if m:
            buyer_share = m.terms.price * (share % 5) // 4
            self._order_call(m, m.status == Status.DISPUTED, "resolve", buyer_share, lost, cid("ruling"),
                             sender=self.arbitrator)

    def rule_settle_expired_dispute(self, i="st_i"):
        m = self._pick(i)
        if m:
            ok = m.status == Status.DISPUTED and self.now > m.t.state.stamp + self.book.disputeTimeout()
            self._order_call(m, ok, "settleExpiredDispute", sender=self.anyone)

    def rule_refund(self, i="st_i"):
        m = self._pick(i)
        if m:
            ok = (m.status in (Status.OPEN, Status.CLAIMED) and self.now > m.terms.claim_deadline) or (
                m.status in (Status.AWARDED, Status.IN_PRODUCTION) and self.now > m.terms.delivery_deadline)
            self._order_call(m, ok, "refund", sender=self.anyone)

    def rule_cancel(self, i="st_i"):
        m = self._pick(i)
        if m:
            self._order_call(m, m.status == Status.OPEN, "cancel", sender=m.terms.buyer)

    def rule_withdraw_payment(self, i="st_i"):
        m = self._pick(i)
        if m and m.status >= Status.CLAIMED:
            self._order_call(m, m.status == Status.COMPLETED, "withdrawPayment", sender=self._claimant(m))

    def rule_withdraw(self, account_i="st_i", use_token="st_bool"):
        everyone = self.buyers + self.partners[:2] + [self.fee_recipient]
        account = everyone[account_i % len(everyone)]
        asset = self.token.address if use_token else ZERO_ADDRESS
        ok = self.credits.get((account.address, asset), 0) > 0
        self._send(ok, self.book.withdraw, asset, sender=account)

    def rule_set_fee(self, fee_i="st_i"):
        self._send(True, self.book.setFee, FEE_BPS[fee_i % len(FEE_BPS)], self.fee_recipient, sender=self.governor)

    def rule_sleep(self, sleep_i="st_i"):
        chain.sleep(SLEEPS[sleep_i % len(SLEEPS)])
        chain.mine()
        self.now = chain[-1].timestamp

    # bond actions on maker2 (maker stays bonded so orders keep moving)

    def rule_start_unbonding(self):
        partner = self.partners[1]
        ok = partner.address in self.bonds and partner.address not in self.unbonding
        tx = self._send(ok, self.registry.startUnbonding, sender=partner)
        if tx:
            self.unbonding[partner.address] = tx.events["UnbondingStarted"]["readyAt"]

    def rule_withdraw_bond(self):
        partner = self.partners[1]
        ready = self.unbonding.get(partner.address)
        tx = self._send(ready is not None and self.now >= ready, self.registry.withdrawBond, sender=partner)
        if tx:
            assert tx.events["BondWithdrawn"]["amount"] == self.bonds.pop(partner.address)
            del self.unbonding[partner.address]

    def rule_register(self):
        partner = self.partners[1]
        ok = partner.address not in self.bonds
        if self._send(ok, self.registry.register, profile(), X25519_KEY, sender=partner, value=MIN_BOND):
            self.registry.vet(partner, cid("vet"), {"from": self.inspector_certifier})
            self.bonds[partner.address] = MIN_BOND

    # ---------------------------------------------------------- invariants

    def invariant_balances_equal_liabilities(self):
        owed = {ZERO_ADDRESS: 0, self.token.address: 0}
        for m in self.orders:
            price, bond, fee_bps = m.terms.price, m.terms.claim_bond, m.terms.fee_bps
            if m.status in LIVE:
                owed[m.token] += price
            if m.status in BONDED:
                owed[ZERO_ADDRESS] += bond
            if m.status == Status.COMPLETED:
                owed[m.token] += price - price * fee_bps // 10_000
                owed[ZERO_ADDRESS] += bond
        for (_, asset), amount in self.credits.items():
            assert amount >= 0
            owed[asset] += amount
        assert self.book.balance() == owed[ZERO_ADDRESS]
        assert self.token.balanceOf(self.book) == owed[self.token.address]
        assert self.registry.balance() == sum(self.bonds.values())

    def invariant_credits_match_contract(self):
        StateMachine.checks += 1  # runs once after setup and once after every step
        for account, asset in self.touched:
            assert self.book.credits(account, asset) == self.credits[(account, asset)]
        self.touched.clear()

    def invariant_orders_consistent(self):
        for m in self.orders:
            assert all(step in ALLOWED for step in m.transitions), m.transitions
            ends = [to for _, to in m.transitions if to in TERMINAL | {Status.COMPLETED}]
            # at most one settlement, and Paid only ever follows Completed
            assert ends in ([], [Status.COMPLETED], [Status.COMPLETED, Status.PAID]) or (
                len(ends) == 1 and ends[0] in TERMINAL and ends[0] != Status.PAID), ends
            price, bond = m.terms.price, m.terms.claim_bond
            claimed = any(to == Status.CLAIMED for _, to in m.transitions)
            if m.status in TERMINAL:
                expected = {m.token: price}
                if claimed:
                    expected[ZERO_ADDRESS] = expected.get(ZERO_ADDRESS, 0) + bond
                got = {a: v for a, v in m.accounted.items() if v}
                assert got == {a: v for a, v in expected.items() if v}, (m.status, got, expected)

    def teardown(self):
        for m in self.orders:
            StateMachine.reached.update(m.transitions)
            assert self.book.orderHash(m.t.order_id) == "0x" + order_hash(m.t.order).hex()


def test_order_book_state_machine(state_machine, book, registry, admin, buyer, auditor, maker, maker2, stranger,
                                  inspector, arbitrator, governor, certifier, register_partner):
    token = TestERC20.deploy({"from": admin})
    book.setTokenAllowed(token, True, {"from": governor})
    register_partner(maker)
    register_partner(maker2)
    StateMachine.inspector_certifier = certifier
    roles = {
        "buyers": [buyer, auditor],
        "partners": [maker, maker2, stranger],
        "others": [inspector, arbitrator, governor, stranger],
        "fee_recipient": governor,
    }
    settings = {
        key: int(os.environ[env])
        for key, env in (("max_examples", "FABMESH_SM_EXAMPLES"), ("stateful_step_count", "FABMESH_SM_STEPS"))
        if env in os.environ
    }
    examples = settings.get("max_examples", hypothesis.settings().max_examples)
    settings["database"] = None  # no replayed examples: every CI run draws fresh full-length sequences
    floor = int(os.environ.get("FABMESH_SM_MIN_STEPS", "2000"))
    StateMachine.checks = 0
    StateMachine.reached.clear()
    # Hypothesis ends sequences early at random, so one batch of runs may fall short of the floor: draw
    # further fresh batches until it is reached (a bounded number, so a broken machine still fails).
    runs = 0
    for _ in range(3):
        if runs:
            chain.revert()  # back to the snapshot the first batch took: each run's model starts from a fresh book
        state_machine(StateMachine, book, registry, token, None, roles, settings=settings)
        runs += examples
        steps_run = StateMachine.checks - runs  # minus the check after each run's setup
        if steps_run >= floor:
            break
    print(f"state machine: {steps_run} steps in {runs} runs")
    for (src, dst), count in sorted(StateMachine.reached.items()):
        print(f"  {src.name:>13} -> {dst.name:<13} {count}")
    assert steps_run >= floor
