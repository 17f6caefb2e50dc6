"""The v2 job decision (pynode.daemon.v2.decide) for every order status, without sockets: quote or decline,
check an award, reject inside the window, produce, ship, answer a dispute, finish."""

from __future__ import annotations

import pytest

from pynode.chain.v2.orders import ZERO_ADDRESS, OrderView
from pynode.daemon.store import JobState
from pynode.daemon.v2.decide import UNKNOWN, Act, Facts, decide, fee_due
from pynode.daemon.v2.design import geometry_reason
from pynode.daemon.v2.quoting import quote_nonce
from pynode.orders.quote_policy import Decline, DeclineReason, Quoted
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderState, OrderStatus, OrderTerms, Quote, Transition

ME = "0x" + "11" * 20
RIVAL = "0x" + "22" * 20
BUYER = "0x" + "33" * 20
AWARDED_AT, REJECT_WINDOW, INSPECTION = 1_000, 3_600, 86_400
FACTS = Facts(me=ME)


def order(status: OrderStatus, partner: str = ME) -> OrderView:
    terms = OrderTerms(BUYER, ZERO_ADDRESS, 10**15, 0, "0x" + "44" * 20, 5_000, 900_000, INSPECTION, REJECT_WINDOW,
                       30 * 86_400, 0, b"\x00" * 32)
    open_ = status in (OrderStatus.OPEN, OrderStatus.CANCELLED) or partner == ZERO_ADDRESS
    state = OrderState(status, ZERO_ADDRESS if open_ else partner, ZERO_ADDRESS if open_ else partner, 10**15, 0,
                       AWARDED_AT, AWARDED_AT + 10_000, b"\x01" * 32)
    view = OrderView(1, b"\x00" * 32, terms, state)
    if status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        view.transitions.append(codec.Link(Transition.SHIPPED, partner, b"", AWARDED_AT + 100))
    return view


QUOTED = Quoted(Quote(b"\x00" * 32, ME, ME, 10**15, 0, 100, 4_000, 7), ZERO_ADDRESS, 10**14, 100)


def test_an_open_order_asks_the_quote_policy_then_quotes():
    assert decide(JobState.SEEN, order(OrderStatus.OPEN), 10, FACTS).need == "quote"
    intent = decide(JobState.SEEN, order(OrderStatus.OPEN), 10, Facts(me=ME, quote=QUOTED))
    assert (intent.act, intent.state, intent.quoted) == (Act.QUOTE, JobState.SEEN, QUOTED)


def test_a_live_quote_is_kept_not_signed_again():
    assert decide(JobState.SEEN, order(OrderStatus.OPEN), 10, Facts(me=ME, quote_live=True)).act is Act.KEEP


@pytest.mark.parametrize(("reason", "act", "state"), [
    (DeclineReason.PRICE_ABOVE_CAP, Act.SKIP, JobState.SKIPPED),
    (DeclineReason.NOT_CAPABLE, Act.SKIP, JobState.SKIPPED),
    (DeclineReason.OVER_CAPACITY, Act.DEFER, JobState.SEEN),  # a machine frees up: look again
    (DeclineReason.BOND_UNAVAILABLE, Act.DEFER, JobState.SEEN),  # a bond is released: look again
])
def test_a_decline_skips_for_good_or_defers_when_it_passes(reason, act, state):
    intent = decide(JobState.SEEN, order(OrderStatus.OPEN), 10, Facts(me=ME, quote=Decline(reason, "why")))
    assert (intent.act, intent.state) == (act, state) and intent.reason == f"{reason.value}: why"


def test_an_award_to_a_rival_loses_the_job_and_a_closed_open_order_closes_it():
    lost = decide(JobState.SEEN, order(OrderStatus.AWARDED, RIVAL), 10, FACTS)
    assert (lost.act, lost.state) == (Act.FINISH, JobState.LOST) and RIVAL in lost.reason
    cancelled = decide(JobState.SEEN, order(OrderStatus.CANCELLED), 10, FACTS)
    assert (cancelled.act, cancelled.state) == (Act.FINISH, JobState.CLOSED)
    skipped = decide(JobState.SKIPPED, order(OrderStatus.AWARDED, RIVAL), 10, FACTS)
    assert (skipped.act, skipped.state) == (Act.FINISH, JobState.SKIPPED)


def test_an_award_to_us_checks_the_design_first():
    assert decide(JobState.SEEN, order(OrderStatus.AWARDED), AWARDED_AT, FACTS).need == "design"


def test_a_bad_design_is_rejected_inside_the_window_up_to_its_last_second():
    facts = Facts(me=ME, design="design geometry disagrees with the spec: volume_mm3")
    for now in (AWARDED_AT, AWARDED_AT + REJECT_WINDOW):
        intent = decide(JobState.AWARDED, order(OrderStatus.AWARDED), now, facts)
        assert (intent.act, intent.reason) == (Act.REJECT, facts.design)
    late = decide(JobState.AWARDED, order(OrderStatus.AWARDED), AWARDED_AT + REJECT_WINDOW + 1, facts)
    assert late.act is Act.FAIL and "after the reject window" in late.reason


def test_a_good_design_is_produced_then_shipped_with_a_passed_report():
    good = Facts(me=ME, design=None)
    assert decide(JobState.AWARDED, order(OrderStatus.AWARDED), AWARDED_AT, good).need == "report"
    producing = decide(JobState.AWARDED, order(OrderStatus.AWARDED), AWARDED_AT, Facts(me=ME, design=None, report=None))
    assert (producing.act, producing.state) == (Act.PRODUCE, JobState.PRODUCING)
    ship = decide(JobState.PRODUCING, order(OrderStatus.AWARDED), AWARDED_AT, Facts(me=ME, design=None, report=True))
    assert ship.act is Act.SHIP
    failed = decide(JobState.REPORTING, order(OrderStatus.AWARDED), AWARDED_AT,
                    Facts(me=ME, design=None, report=False))
    assert failed.act is Act.FAIL and "quality check failed" in failed.reason


def test_shipped_waits_for_the_buyer_then_finalizes_after_the_inspection_window():
    closes = AWARDED_AT + 100 + INSPECTION
    waiting = decide(JobState.SHIPPED, order(OrderStatus.SHIPPED), closes, FACTS)
    assert (waiting.act, waiting.state) == (Act.WAIT, JobState.SHIPPED)
    assert decide(JobState.SHIPPED, order(OrderStatus.SHIPPED), closes + 1, FACTS).act is Act.FINALIZE


def test_a_dispute_is_answered_by_policy():
    disputed = order(OrderStatus.DISPUTED)
    assert decide(JobState.SHIPPED, disputed, 10, FACTS).need == "fee_due"
    assert decide(JobState.SHIPPED, disputed, 10, Facts(me=ME, fee_due=10**15)).act is Act.PAY_FEE
    assert decide(JobState.SHIPPED, disputed, 10, Facts(me=ME, fee_due=10**15, max_fee=10**15)).act is Act.PAY_FEE
    over = decide(JobState.SHIPPED, disputed, 10, Facts(me=ME, fee_due=10**15 + 1, max_fee=10**15))
    assert over.act is Act.WAIT and "above max_arbitration_fee_wei" in over.reason
    assert decide(JobState.SHIPPED, disputed, 10, Facts(me=ME, fee_due=None)).act is Act.WAIT
    assert fee_due(10**15, created=False, paid=False) == 10**15
    assert fee_due(10**15, created=True, paid=False) is None and fee_due(10**15, created=False, paid=True) is None


@pytest.mark.parametrize(("status", "state"), [
    (OrderStatus.COMPLETED, JobState.DONE), (OrderStatus.FEE_COLLECTED, JobState.DONE),
    (OrderStatus.RESOLVED, JobState.DONE), (OrderStatus.REFUNDED, JobState.CLOSED),
    (OrderStatus.REJECTED, JobState.CLOSED),
])
def test_settled_orders_end_the_job(status, state):
    intent = decide(JobState.SHIPPED, order(status), 10, FACTS)
    assert (intent.act, intent.state) == (Act.FINISH, state)


def test_facts_start_unknown():
    assert FACTS.quote is UNKNOWN and FACTS.design is UNKNOWN and FACTS.report is UNKNOWN


def test_quote_nonces_are_keyed_by_order_and_never_zero():
    assert quote_nonce(5, 1) == 5 << 64 | 1 and quote_nonce(5, 1) != quote_nonce(6, 1) != 0
    assert quote_nonce(2**192 + 5, 2) == quote_nonce(5, 2)  # only the low 192 bits of the id key it
    assert quote_nonce(2**192 - 1, 2**64 - 1) < 2**256


def test_geometry_reason_names_the_disagreement_or_none():
    published = {"format": "stl", "volume_mm3": 1000.0, "extents_mm": {"x": 10.0}}
    assert geometry_reason(published, published) is None
    assert geometry_reason(None, published) is None  # the spec published none: nothing to compare
    assert geometry_reason(published, {**published, "volume_mm3": 1005.0}) is None  # within 1 %
    reason = geometry_reason(published, {**published, "volume_mm3": 8000.0})
    assert reason is not None and "volume_mm3: published 1000.0, recomputed 8000.0" in reason
