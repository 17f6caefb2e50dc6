"""The buyer's award policy (pynode/orders/award_policy.py): every rejection rule at its boundary, the window,
both modes, ties, give-ups, and properties over random quote sets. Pure: no chain, no Kubo."""

from __future__ import annotations

import random

import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from pynode.chain.orders import CERT, MATERIAL, PROCESS, ZERO_ADDRESS
from pynode.orders.award_policy import (
    Award,
    AwardSettings,
    GiveUp,
    GiveUpReason,
    PartnerFacts,
    RejectReason,
    Wait,
    decide_award,
    rank,
    rejection,
)
from pynode.protocol.types import PartnerFlags
from pynode.protocol.v2.codec import terms_hash
from pynode.protocol.v2.types import OrderSpec, OrderTerms, Quote

BUYER = to_checksum_address("0x" + "b0" * 20)
ARBITRATOR = to_checksum_address("0x" + "a1" * 20)
SHOPS = [to_checksum_address("0x" + f"{i:02x}" * 20) for i in (0x11, 0x22, 0x33, 0x44)]
A, B, C, D = SHOPS
POSTED = 1_800_000_000
NOW = POSTED + 120  # past the default 60 s window
DAY = 86_400
AWARDABLE = PartnerFlags.REGISTERED | PartnerFlags.VETTED
ISO = CERT["ISO_9001"]
BPS = 10_000

TERMS = OrderTerms(BUYER, ZERO_ADDRESS, 10**18, 10**15, ARBITRATOR, POSTED + DAY, POSTED + 30 * DAY, DAY, 3600,
                   7 * DAY, 100, b"\x51" * 32)
SPEC = OrderSpec(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], ISO, (), b"\xd0" * 32)
SETTINGS = AwardSettings()


def facts(**changes) -> PartnerFacts:
    base = PartnerFacts(int(AWARDABLE), PROCESS["CNC_MILLING"] | PROCESS["FDM"], MATERIAL["AL_6061"],
                        {ISO: POSTED + 365 * DAY}, free_bond=10**18, completed=10, failed_qa=0)
    return base._replace(**changes)


FACTS = {shop: facts() for shop in SHOPS}


def q(partner: str = A, *, price=5 * 10**17, lead=5 * DAY, bond=10**15, expiry=NOW + 3600, nonce=0, payee=None,
      terms: OrderTerms = TERMS) -> Quote:
    return Quote(terms_hash(terms), partner, payee or partner, price, bond, lead, expiry, nonce)


def decide(quotes, *, policy=SETTINGS, now=NOW, facts_=None, terms=TERMS, posted=POSTED):
    return decide_award(policy, terms, SPEC, posted, quotes, FACTS if facts_ is None else facts_, now)


def why(quote: Quote, *, policy=SETTINGS, partner: PartnerFacts | None = None, at=NOW + 30):
    return rejection(policy, TERMS, SPEC, quote, facts() if partner is None else partner, at)


def test_the_cheapest_qualified_quote_wins_after_the_window() -> None:
    cheap, dear = q(A, price=4 * 10**17), q(B, price=6 * 10**17)
    result = decide([dear, cheap])
    assert isinstance(result, Award) and result.quote == cheap
    assert [(r.quote, r.reason) for r in result.rejected] == [(dear, RejectReason.OUTBID)]


def test_ties_break_on_lead_time_then_reputation_then_bond_then_address() -> None:
    slow, quick = q(A, lead=6 * DAY), q(B, lead=5 * DAY)
    assert decide([slow, quick]).quote == quick
    worse = {A: facts(completed=9, failed_qa=1), B: facts(completed=10)}
    assert decide([q(A), q(B)], facts_=worse).quote.partner == B  # 10 % failed QA loses to 0 %
    fewer = {A: facts(completed=3), B: facts(completed=30)}
    assert decide([q(A), q(B)], facts_=fewer).quote.partner == B  # same rate: more completed orders
    assert decide([q(A, bond=10**15), q(B, bond=2 * 10**15)]).quote.partner == B  # a larger bond
    assert decide([q(B), q(A)]).quote.partner == A  # all equal: the lower address, whatever the arrival order
    assert decide([q(A, nonce=9), q(A, nonce=3)]).quote.nonce == 3


def test_the_choice_does_not_depend_on_arrival_order() -> None:
    quotes = [q(s, price=p, lead=lead) for s, p, lead in
              [(A, 5, 3 * DAY), (B, 5, 2 * DAY), (C, 4, 9 * DAY), (D, 4, 9 * DAY), (A, 4, 9 * DAY)]]
    chosen = {decide(random.Random(seed).sample(quotes, len(quotes))).quote for seed in range(20)}
    assert chosen == {q(A, price=4, lead=9 * DAY)}


def test_the_window_waits_then_chooses() -> None:
    early = decide([q(A)], now=POSTED + 59)
    assert isinstance(early, Wait) and early.until == POSTED + 60 and early.qualified == (q(A),)
    assert isinstance(decide([q(A)], now=POSTED + 60), Award)  # the window's last second decides
    # a window longer than the award deadline allows closes when the last safe award is due
    long = AwardSettings(wait_s=10 * DAY)
    assert decide([q(A)], policy=long, now=POSTED).until == POSTED + DAY - 30
    assert isinstance(decide([q(A, expiry=POSTED + DAY)], policy=long, now=POSTED + DAY - 30), Award)


def test_first_mode_awards_the_first_qualified_arrival_at_once() -> None:
    first = AwardSettings(mode="first")
    late_cheap, early_dear = q(A, price=1), q(B, price=10**18)  # at the order's price
    bad = q(C, expiry=POSTED + 29)  # expires before the award would land
    result = decide([bad, early_dear, late_cheap], policy=first, now=POSTED)
    assert isinstance(result, Award) and result.quote == early_dear
    assert [r.reason for r in result.rejected] == [RejectReason.EXPIRED, RejectReason.OUTBID]
    assert result.rejected[1].detail == "an earlier qualified quote"


def test_with_nothing_qualified_it_waits_until_giving_up() -> None:
    for policy in (SETTINGS, AwardSettings(mode="first")):
        none = decide([], policy=policy)
        assert none == Wait(POSTED + DAY - 30 + 1, (), ())
        rejected = decide([q(A, price=2 * 10**18)], policy=policy)
        assert isinstance(rejected, Wait) and rejected.rejected[0].reason is RejectReason.PRICE_OUT_OF_RANGE


def test_it_gives_up_when_no_award_can_land_in_time() -> None:
    last = POSTED + DAY - 30  # the award lands 30 s later: exactly at the award deadline
    assert isinstance(decide([q(A, expiry=POSTED + DAY)], now=last), Award)
    gave_up = decide([q(A, expiry=POSTED + DAY)], now=last + 1)
    assert isinstance(gave_up, GiveUp) and gave_up.reason is GiveUpReason.AWARD_DEADLINE_PASSED
    assert "past the award deadline" in gave_up.detail and gave_up.rejected[0].reason is RejectReason.EXPIRED
    short = TERMS._replace(award_deadline=POSTED + 60 * DAY, delivery_deadline=POSTED + 100)
    assert decide([], terms=short, now=POSTED + 71).reason is GiveUpReason.DELIVERY_DEADLINE_UNREACHABLE
    assert isinstance(decide([], terms=short, now=POSTED + 70, policy=AwardSettings(mode="first")), Wait)


def test_the_book_rules_at_their_boundaries() -> None:
    at = NOW + 30
    assert why(q(price=TERMS.price)) is None  # exactly the cap
    assert why(q(price=TERMS.price + 1))[0] is RejectReason.PRICE_OUT_OF_RANGE
    assert why(q(price=0))[0] is RejectReason.PRICE_OUT_OF_RANGE
    assert why(q(expiry=at)) is None and why(q(expiry=at - 1))[0] is RejectReason.EXPIRED
    assert why(q(bond=TERMS.min_bond)) is None and why(q(bond=TERMS.min_bond - 1))[0] is RejectReason.BOND_BELOW_MINIMUM
    exact = TERMS.delivery_deadline - at
    assert why(q(lead=exact)) is None  # delivery exactly reachable
    late = why(q(lead=exact + 1))
    assert late[0] is RejectReason.LATE and f"after the delivery deadline {TERMS.delivery_deadline}" in late[1]
    other = TERMS._replace(price=TERMS.price + 1)
    assert why(q(terms=other))[0] is RejectReason.WRONG_ORDER
    assert why(q(BUYER))[0] is RejectReason.NOT_INDEPENDENT and why(q(ARBITRATOR))[0] is RejectReason.NOT_INDEPENDENT
    assert why(q(payee=ZERO_ADDRESS))[0] is RejectReason.NO_PAYEE


def test_the_buyers_lists_and_limits() -> None:
    assert why(q(A), policy=AwardSettings(deny=[A]))[0] is RejectReason.DENIED
    assert why(q(A), policy=AwardSettings(allow=[B]))[0] is RejectReason.NOT_ALLOWED
    assert why(q(A), policy=AwardSettings(allow=[B, A.lower()])) is None  # addresses compare checksummed
    capped = AwardSettings(max_price=10**17)
    assert why(q(price=10**17), policy=capped) is None and why(q(price=10**17 + 1), policy=capped)[0] is \
        RejectReason.ABOVE_MAX_PRICE
    quick = AwardSettings(max_lead_time_s=DAY)
    assert why(q(lead=DAY), policy=quick) is None and why(q(lead=DAY + 1), policy=quick)[0] is \
        RejectReason.ABOVE_MAX_LEAD_TIME


@pytest.mark.parametrize(("partner", "reason"), [
    (facts(flags=int(PartnerFlags.REGISTERED)), RejectReason.NOT_AWARDABLE),
    (facts(flags=int(AWARDABLE | PartnerFlags.SUSPENDED)), RejectReason.NOT_AWARDABLE),
    (facts(flags=int(AWARDABLE | PartnerFlags.UNBONDING)), RejectReason.NOT_AWARDABLE),
    (facts(processes=PROCESS["FDM"]), RejectReason.NOT_CAPABLE),
    (facts(materials=MATERIAL["PLA"]), RejectReason.NOT_CAPABLE),
    (facts(certifications={}), RejectReason.NOT_CERTIFIED),
    (facts(certifications={ISO: NOW + 30}), RejectReason.NOT_CERTIFIED),  # expires as the award lands
    (facts(free_bond=10**15 - 1), RejectReason.BOND_UNAVAILABLE),
])
def test_the_registry_rules(partner: PartnerFacts, reason: RejectReason) -> None:
    assert why(q(), partner=partner)[0] is reason


def test_the_registry_and_reputation_boundaries() -> None:
    assert why(q(), partner=facts(certifications={ISO: NOW + 31}, free_bond=10**15)) is None
    assert why(q(), partner=facts(flags=int(AWARDABLE | 16))) is None  # bits the registry does not check
    floor = AwardSettings(min_completed=10, max_failed_qa_bps=1000)
    assert why(q(), policy=floor, partner=facts(completed=10, failed_qa=1)) is None  # 1/11 < 10 %
    assert why(q(), policy=floor, partner=facts(completed=9, failed_qa=1))[0] is RejectReason.TOO_FEW_COMPLETED
    strict = AwardSettings(max_failed_qa_bps=1000)
    assert why(q(), policy=strict, partner=facts(completed=9, failed_qa=1)) is None  # exactly 10 %
    rate = why(q(), policy=strict, partner=facts(completed=8, failed_qa=1))
    assert rate == (RejectReason.FAILED_QA_RATE, "1 failed QA in 9 settled, above 1000 bps")
    assert why(q(), policy=AwardSettings(max_failed_qa_bps=0), partner=facts(completed=0, failed_qa=0)) is None
    unknown = decide([q(A)], facts_={})
    assert isinstance(unknown, Wait) and unknown.rejected[0].reason is RejectReason.UNKNOWN_PARTNER


def test_every_rejection_is_listed_once_with_its_quote() -> None:
    good, dear, late = q(A), q(B, price=2 * 10**18), q(C, lead=60 * DAY)
    result = decide([dear, good, late, q(D, price=6 * 10**17)])
    assert isinstance(result, Award) and result.quote == good
    assert {(r.quote.partner, r.reason) for r in result.rejected} == {
        (B, RejectReason.PRICE_OUT_OF_RANGE), (C, RejectReason.LATE), (D, RejectReason.OUTBID)}


def test_a_busy_partner_is_passed_over_for_one_with_room_and_with_all_busy_the_order_waits() -> None:
    """``busy``: the partners at max_awarded_per_partner (the watcher counts them): the cheapest shop's quote waits
    while a dearer shop has room; with every qualified shop busy the order is decided again next block."""
    cheap, mid, dear = q(A, price=4 * 10**17), q(B, price=5 * 10**17), q(C, price=6 * 10**17)
    result = decide_award(SETTINGS, TERMS, SPEC, POSTED, [cheap, mid, dear], FACTS, NOW, busy={A})
    assert isinstance(result, Award) and result.quote == mid
    assert sorted((r.quote.partner, r.reason) for r in result.rejected) == [
        (A, RejectReason.PARTNER_BUSY), (C, RejectReason.OUTBID)]
    waiting = decide_award(SETTINGS, TERMS, SPEC, POSTED, [cheap, mid], FACTS, NOW, busy={A, B})
    assert isinstance(waiting, Wait) and waiting.until == NOW + 1 and set(waiting.qualified) == {cheap, mid}
    assert {r.reason for r in waiting.rejected} == {RejectReason.PARTNER_BUSY}
    assert decide_award(SETTINGS, TERMS, SPEC, POSTED, [cheap, mid], FACTS, NOW, busy={D}).quote == cheap


@pytest.mark.parametrize(("table", "says"), [
    ({"mode": "cheapest"}, "'best' or 'first'"),
    ({"wait_s": -1}, "greater than or equal to 0"),
    ({"max_price": 1.5}, "must be an integer"),
    ({"max_failed_qa_bps": 10_001}, "less than or equal to 10000"),
    ({"allow": ["0xnope"]}, "is not a 0x address"),
    ({"allow": [A], "deny": [A.lower()]}, "is in both allow and deny"),
    ({"min_completed": 1 << 24}, "less than 16777216"),
    ({"max_awarded_per_partner": 0}, "greater than or equal to 1"),
    ({"auto": True}, "Extra inputs are not permitted"),
])
def test_bad_settings_are_refused(table: dict, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        AwardSettings.model_validate(table)
    assert says in str(raised.value)


# a valid base with at most one field redrawn from a range where its rule can bite: hypothesis favours small
# values, which drawn independently for every field would disqualify nearly every quote
WIDE = {"price": st.integers(0, 2 * 10**18), "lead_time": st.integers(0, 40 * DAY),
        "bond": st.integers(0, 3 * 10**15), "expiry": st.integers(NOW - 60, NOW + DAY)}


def _spoil(base: Quote, spoiled: tuple[str, int] | None) -> Quote:
    return base if spoiled is None else base._replace(**{spoiled[0]: spoiled[1]})


quote_sets = st.lists(st.builds(
    _spoil,
    st.builds(lambda s, price, lead, extra, n: q(s, price=price, lead=lead, bond=10**15 + extra, nonce=n,
                                                 expiry=POSTED + 2 * DAY),
              st.sampled_from(SHOPS), st.integers(1, 10**18), st.integers(0, 20 * DAY), st.integers(0, 10**15),
              st.integers(0, 3)),
    st.none() | st.one_of(*(wide.map(lambda value, name=name: (name, value)) for name, wide in WIDE.items()))),
    min_size=1, max_size=8)  # no quotes at all: test_with_nothing_qualified_it_waits_until_giving_up
partner_facts = st.builds(
    lambda flags, bond, completed, failed, cert: facts(flags=flags, free_bond=bond, completed=completed,
                                                       failed_qa=failed, certifications={ISO: cert}),
    st.sampled_from([int(AWARDABLE)] * 6 + [1, 3 | 4, 3 | 8]),
    st.sampled_from([3 * 10**15] * 3 + [0, 10**15, 15 * 10**14]), st.integers(0, 10) | st.integers(20, 50),
    st.integers(0, 3), st.sampled_from([POSTED + 2 * DAY] * 3 + [NOW, NOW + 200]))
policies = st.builds(AwardSettings, mode=st.sampled_from(["best", "first"]), wait_s=st.integers(0, 300),
                     max_price=st.none() | st.integers(10**17, 2 * 10**18),
                     max_lead_time_s=st.none() | st.integers(DAY, 40 * DAY),
                     min_completed=st.integers(0, 10),
                     max_failed_qa_bps=st.none() | st.integers(0, BPS),
                     deny=st.lists(st.sampled_from(SHOPS[2:]), max_size=1))


@settings(max_examples=400, deadline=None)
@given(quote_sets, st.fixed_dictionaries({s: partner_facts for s in SHOPS}), policies,
       st.integers(300, DAY - 60) | st.integers(0, DAY))
def test_an_award_always_meets_every_constraint(quotes, facts_, policy, elapsed) -> None:
    """Whatever the quotes, facts and policy: an awarded quote satisfies the book, the registry and every
    policy limit at the award time, never exceeds the cap, and is the best-ranked qualified quote (best) or the
    first qualified arrival (first); every quote is accounted for exactly once."""
    now = POSTED + elapsed
    result = decide(quotes, policy=policy, now=now, facts_=facts_)
    at = now + policy.award_margin_s
    ok = [x for x in quotes if rejection(policy, TERMS, SPEC, x, facts_[x.partner], at) is None]
    closes = min(POSTED + policy.wait_s, TERMS.award_deadline - policy.award_margin_s)
    if isinstance(result, GiveUp):
        assert at > TERMS.award_deadline or at > TERMS.delivery_deadline
        return
    if isinstance(result, Wait):  # only for more quotes, or for the window to close
        assert not ok or (policy.mode == "best" and now < closes and set(result.qualified) == set(ok))
        return
    chosen, partner = result.quote, facts_[result.quote.partner]
    assert chosen in ok and 0 < chosen.price <= TERMS.price
    assert policy.max_price is None or chosen.price <= policy.max_price
    assert policy.max_lead_time_s is None or chosen.lead_time <= policy.max_lead_time_s
    assert at <= chosen.expiry and at + chosen.lead_time <= TERMS.delivery_deadline and at <= TERMS.award_deadline
    assert chosen.bond >= TERMS.min_bond and partner.free_bond >= chosen.bond and partner.flags == AWARDABLE
    assert partner.completed >= policy.min_completed and chosen.partner not in policy.deny
    if policy.max_failed_qa_bps is not None:
        assert partner.failed_qa * BPS <= policy.max_failed_qa_bps * (partner.completed + partner.failed_qa)
    if policy.mode == "best":
        assert rank(chosen, partner) == min(rank(x, facts_[x.partner]) for x in ok)
        assert now >= closes
    else:
        assert chosen == ok[0]
    assert sorted(map(tuple, [chosen, *(r.quote for r in result.rejected)])) == sorted(map(tuple, quotes))
    assert all(r.reason is RejectReason.OUTBID for r in result.rejected if r.quote in ok)
