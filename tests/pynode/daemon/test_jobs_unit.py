"""The node's decisions (pynode.daemon.jobs), without sockets: every branch the node's subprocess tests reached.

Each test names the decision and, where one exercised it end to end, the subprocess test that did: the
two-daemon test_node_competing went when these came; test_rival_claim_node runs in process now and keeps
only what needs a real mempool (the pending-state simulation). The process tests (kill, stop, outage,
restart, exit codes) stay.
"""

from __future__ import annotations

import time

import pytest

from pynode.chain.orders import ZERO_ADDRESS, OrderTracker
from pynode.chain.tx import TxReverted
from pynode.core.errors import (
    FatalError,
    InputError,
    IpfsUnavailable,
    Kind,
    ProviderUnavailable,
    RateLimited,
    classify,
)
from pynode.daemon.jobs import (
    BUSY_STATES,
    MAX_JOB_ATTEMPTS,
    REFRESH_S,
    UNKNOWN,
    WORK_STATES,
    Do,
    Facts,
    Intent,
    after_report,
    claim_refused,
    decide,
    due,
    on_error,
)
from pynode.daemon.store import TERMINAL_STATES, Job, JobState
from pynode.orders.partner import is_fatal_revert, is_race_lost
from pynode.protocol.types import OrderDocs, OrderSpec, OrderState, OrderTerms, Status

ME = "0x" + "aa" * 20
RIVAL = "0x" + "bb" * 20
NOW = 10_000
SHIPPED_AT = 9_000
WINDOW = 600


def order(status: Status, partner: str = ZERO_ADDRESS, stamp: int = 0) -> OrderTracker:
    terms = OrderTerms("0x" + "11" * 20, ZERO_ADDRESS, 10, 1, NOW + 100, NOW + 1_000, WINDOW, 0, b"\x05" * 32)
    spec = OrderSpec(ZERO_ADDRESS, 1, 1, 0, b"\x06" * 32)
    docs = OrderDocs(b"\x07" * 32, b"\x08" * 32, b"\x09" * 32, b"u33" + b"\x00" * 5)
    return OrderTracker(7, terms, OrderState(int(status), partner, stamp, b"\x01" * 32), spec, docs)


def settle(job: JobState, tracker: OrderTracker, facts: Facts, known: dict[str, object]) -> tuple[Intent, list[str]]:
    """decide() as the node runs it: each fact it asks for is filled from ``known``, then it decides again."""
    asked = []
    intent = decide(job, tracker, NOW, facts)
    while intent.do is Do.NEED:
        asked.append(intent.need)
        facts = Facts(**{**facts.__dict__, intent.need: known[intent.need]})
        intent = decide(job, tracker, NOW, facts)
    return intent, asked


OPEN_FACTS = {"ineligible": None, "busy": 0, "capacity": None, "rival": None}


# -- an open order ---------------------------------------------------------------------------------


def test_an_open_order_for_this_node_is_claimed_after_the_eligibility_cap_and_rival_checks() -> None:
    intent, asked = settle(JobState.SEEN, order(Status.OPEN), Facts(max_jobs=2), OPEN_FACTS)
    assert intent == Intent(Do.CLAIM, JobState.CLAIMING)
    assert asked == ["ineligible", "busy", "capacity", "rival"]  # each looked up once it matters, in this order


def test_an_order_the_node_cannot_make_is_skipped_without_another_look_up() -> None:
    # test_node_competing: the printer never claims a milling order or the one reserved for nobody
    intent, asked = settle(JobState.SEEN, order(Status.OPEN), Facts(), {"ineligible": "process not offered"})
    assert intent == Intent(Do.SKIP, JobState.SKIPPED, "process not offered") and asked == ["ineligible"]


def test_at_the_concurrency_cap_a_new_claim_waits() -> None:
    intent, asked = settle(JobState.SEEN, order(Status.OPEN), Facts(max_jobs=2), {**OPEN_FACTS, "busy": 2})
    assert intent.do is Do.DEFER and intent.reason == "at max_concurrent_jobs" and "rival" not in asked


@pytest.mark.parametrize("state", BUSY_STATES)
def test_a_job_holding_a_slot_is_not_held_back_by_the_cap(state: JobState) -> None:
    intent, asked = settle(state, order(Status.OPEN), Facts(max_jobs=1), {**OPEN_FACTS, "busy": 5, "capacity": 0})
    assert "busy" not in asked and "capacity" not in asked
    assert intent.do is Do.CLAIM


def test_a_busy_farm_waits_and_looks_again_instead_of_claiming() -> None:
    """Every printer printing (the OctoPrint adapter's capacity 0) under max_concurrent_jobs: the claim waits a
    poll interval, the order stays SEEN (never SKIPPED), and the rival check's simulation is not paid for."""
    intent, asked = settle(JobState.SEEN, order(Status.OPEN), Facts(max_jobs=4), {**OPEN_FACTS, "capacity": 0})
    assert intent == Intent(Do.DEFER, reason="the shop floor has no idle machine")
    assert "rival" not in asked
    freed, _ = settle(JobState.SEEN, order(Status.OPEN), Facts(max_jobs=4), {**OPEN_FACTS, "capacity": 1})
    assert freed == Intent(Do.CLAIM, JobState.CLAIMING)  # a printer came free: the next look claims


def test_the_cap_is_checked_before_the_shop_floor_is_asked() -> None:
    intent, asked = settle(JobState.SEEN, order(Status.OPEN), Facts(max_jobs=2), {**OPEN_FACTS, "busy": 2})
    assert intent.reason == "at max_concurrent_jobs" and "capacity" not in asked  # no request to the printers


def test_an_adapter_that_does_not_say_leaves_the_cap_alone() -> None:
    intent, asked = settle(JobState.SEEN, order(Status.OPEN), Facts(max_jobs=2), {**OPEN_FACTS, "capacity": None})
    assert intent.do is Do.CLAIM and "capacity" in asked


def test_a_claim_already_sent_is_not_held_back_by_a_rival() -> None:
    # CLAIMING: the journal resolves our own claim; a second look at the mempool would only see it
    intent, asked = settle(JobState.CLAIMING, order(Status.OPEN), Facts(), {**OPEN_FACTS, "rival": "pending"})
    assert intent.do is Do.CLAIM and asked == ["ineligible"]


def test_a_rival_claim_pending_holds_the_claim_back() -> None:
    # test_rival_claim_node: no tx_sent while the rival's claim waited in the mempool
    rival = "a rival claim is pending: OrderNotOpen(orderId=7)"
    intent, _ = settle(JobState.SEEN, order(Status.OPEN), Facts(max_jobs=3), {**OPEN_FACTS, "rival": rival})
    assert intent == Intent(Do.HOLD_BACK, reason=rival)


# -- a claim refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("reason", "expected"), [
    ("OrderNotOpen(orderId=7)", Intent(Do.SET, JobState.LOST, "claim race lost: OrderNotOpen(orderId=7)",
                                       race_lost=True)),
    ("OrderMismatch(orderId=7)", Intent(Do.SET, JobState.LOST, "claim race lost: OrderMismatch(orderId=7)",
                                        race_lost=True)),
    ("PartnerIsSuspended(partner=0x..)", Intent(Do.FATAL, reason="claim refused: PartnerIsSuspended(partner=0x..)")),
    ("InsufficientBond(needed=1)", Intent(Do.SET, JobState.SKIPPED, "claim refused: InsufficientBond(needed=1)")),
])
def test_a_refused_claim_is_a_lost_race_a_fatal_standing_or_a_skip(reason: str, expected: Intent) -> None:
    # test_node_competing: the loser of each race ends "lost", never "skipped" or failed
    assert claim_refused(reason, race_lost=is_race_lost(reason), fatal=is_fatal_revert(reason)) == expected


# -- an order that is not (or no longer) this node's -----------------------------------------------------


def test_an_order_cancelled_or_refunded_while_open_is_closed() -> None:
    # test_node_competing: the order nobody could take is cancelled by its buyer
    for status in (Status.CANCELLED, Status.REFUNDED):
        intent, asked = settle(JobState.SEEN, order(status), Facts(), {})
        assert intent == Intent(Do.FINISH, JobState.CLOSED, status.name.lower()) and asked == []


@pytest.mark.parametrize("state", [JobState.SEEN, JobState.CLAIMING])
def test_an_order_won_by_a_rival_after_our_claim_is_a_lost_race(state: JobState) -> None:
    intent, _ = settle(state, order(Status.CLAIMED, RIVAL), Facts(), {"attempted": True})
    assert intent == Intent(Do.FINISH, JobState.LOST, f"order went to {RIVAL}", race_lost=True)


def test_an_order_lost_later_in_its_life_is_lost_but_no_race() -> None:
    # a reorg took our claim away after the job moved on: lost, and the race counter stays
    intent, asked = settle(JobState.CLAIMED, order(Status.AWARDED, RIVAL), Facts(), {"attempted": True})
    assert intent == Intent(Do.FINISH, JobState.LOST, f"order went to {RIVAL}") and asked == ["attempted"]


def test_an_order_taken_before_we_claimed_is_lost_if_we_wanted_it_else_skipped() -> None:
    # test_rival_claim_node: held back, the rival's claim mined -> lost; test_node_competing: skipped by the other
    tracker = order(Status.CLAIMED, RIVAL)
    wanted, asked = settle(JobState.SEEN, tracker, Facts(), {"attempted": False, "wanted": True})
    assert wanted == Intent(Do.FINISH, JobState.LOST, f"order went to {RIVAL}") and asked == ["attempted", "wanted"]
    unwanted, _ = settle(JobState.SEEN, tracker, Facts(), {"attempted": False, "wanted": False})
    assert unwanted == Intent(Do.FINISH, JobState.SKIPPED, f"order went to {RIVAL}")


def test_an_order_skipped_before_and_refreshed_keeps_its_state() -> None:
    intent, _ = settle(JobState.SKIPPED, order(Status.SHIPPED, RIVAL), Facts(), {"attempted": False})
    assert intent == Intent(Do.SET, JobState.SKIPPED)  # the upsert clears a reorg refresh flag, nothing else


# -- an order of this node's ----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "stamp", "expected"), [
    (Status.CLAIMED, 0, Intent(Do.SET, JobState.CLAIMED)),
    (Status.AWARDED, 0, Intent(Do.PRODUCE)),
    (Status.IN_PRODUCTION, 0, Intent(Do.PRODUCE)),
    (Status.SHIPPED, NOW - 10, Intent(Do.SHIPPED, JobState.SHIPPED)),  # inspection window still open
    (Status.SHIPPED, NOW - WINDOW, Intent(Do.SHIPPED, JobState.SHIPPED)),  # its last second: not over yet
    (Status.SHIPPED, NOW - WINDOW - 1, Intent(Do.FINALIZE, JobState.SHIPPED)),
    (Status.DISPUTED, 0, Intent(Do.SHIPPED, JobState.SHIPPED)),  # never finalized, however long ago
    (Status.COMPLETED, SHIPPED_AT, Intent(Do.WITHDRAW, JobState.COMPLETED)),
    (Status.PAID, SHIPPED_AT, Intent(Do.FINISH, JobState.DONE, "paid")),
    (Status.RESOLVED, SHIPPED_AT, Intent(Do.FINISH, JobState.DONE, "resolved")),
    (Status.REFUNDED, 0, Intent(Do.FINISH, JobState.CLOSED, "refunded")),
    (Status.CANCELLED, 0, Intent(Do.FINISH, JobState.CLOSED, "cancelled")),
])
def test_an_order_of_ours_takes_the_step_its_status_calls_for(status: Status, stamp: int, expected: Intent) -> None:
    intent, asked = settle(JobState.CLAIMED, order(status, ME, stamp), Facts(mine=True), {})
    assert intent == expected and asked == []  # no look-up: the order and chain time decide


@pytest.mark.parametrize("state", [JobState.SHIPPED, JobState.COMPLETED])
def test_a_completed_order_is_stored_as_completed_and_withdrawn(state: JobState) -> None:
    # SHIPPED: confirmed by the buyer or finalized; COMPLETED: a withdraw not yet mined (or a restart) tries again
    intent, asked = settle(state, order(Status.COMPLETED, ME, SHIPPED_AT), Facts(mine=True), {})
    assert intent == Intent(Do.WITHDRAW, JobState.COMPLETED) and asked == []
    assert state not in BUSY_STATES and state not in WORK_STATES and state not in TERMINAL_STATES


def test_a_completed_job_is_done_once_the_chain_shows_it_paid() -> None:
    intent, _ = settle(JobState.COMPLETED, order(Status.PAID, ME, SHIPPED_AT), Facts(mine=True), {})
    assert intent == Intent(Do.FINISH, JobState.DONE, "paid")


@pytest.mark.parametrize(("attested", "passed", "expected"), [
    (False, True, Intent(Do.ATTEST, JobState.REPORTING)),
    (False, False, Intent(Do.ATTEST, JobState.REPORTING)),  # a failed part is attested too, then not shipped
    (True, False, Intent(Do.FAIL, reason="quality check failed: attested as not passed")),
    (True, True, Intent(Do.SHIP, JobState.SHIPPED)),
])
def test_which_transaction_follows_the_quality_report(attested: bool, passed: bool, expected: Intent) -> None:
    assert after_report(attested=attested, passed=passed) == expected


# -- a failed step ------------------------------------------------------------------------------------


def _on(exc: Exception, attempts: int = 0) -> Intent:
    return on_error(exc, classify(exc), attempts, chain_moved=isinstance(exc, TxReverted))


def test_errors_are_sorted_by_type() -> None:
    assert _on(FatalError("partner suspended")).do is Do.FATAL
    assert _on(InputError("spec document is not JSON")) == Intent(Do.FAIL)
    assert _on(IpfsUnavailable("kubo down")) == Intent(Do.RETRY)
    assert _on(ProviderUnavailable("eth_call: unreachable")) == Intent(Do.RETRY, end_cycle=True)
    assert classify(RateLimited("HTTP 429", retry_after=30)) is Kind.TRANSIENT


def test_throttling_never_fails_a_job_however_often() -> None:
    assert _on(RateLimited("eth_call: HTTP 429", retry_after=30), attempts=10 * MAX_JOB_ATTEMPTS).do is Do.RETRY


def test_a_chain_that_keeps_refusing_fails_the_job_at_last() -> None:
    reverted = TxReverted("claim order 8", "OrderNotOpen(orderId=8)")
    assert _on(reverted, MAX_JOB_ATTEMPTS - 2) == Intent(Do.RETRY, forget=True)  # the order is read again
    assert _on(reverted, MAX_JOB_ATTEMPTS - 1) == Intent(Do.FAIL, forget=True)


# -- which jobs are due ---------------------------------------------------------------------------------


def job(order_id: int, state: JobState, *, retry_at: float = 0.0, refresh: bool = False) -> Job:
    return Job(order_id, state, {}, 0.0, 0.0, None, refresh, 0, None, retry_at)


def test_due_jobs_are_the_working_the_touched_and_the_stale_new_orders_first() -> None:
    now = time.time()
    jobs = [
        job(1, JobState.CLAIMED),  # waits for an event: stepped recently, not touched -> not due
        job(2, JobState.PRODUCING),  # local work every cycle
        job(3, JobState.SEEN, retry_at=now + 5),  # backing off
        job(4, JobState.SHIPPED),  # touched by an event
        job(5, JobState.CLAIMED, refresh=True),  # a reorg flagged it
        job(6, JobState.SHIPPED),  # not looked at for longer than REFRESH_S: a timeout may be due
        job(7, JobState.COMPLETED),  # withdraw sent: waits for the chain to show it paid -> not due
        job(9, JobState.SEEN),  # a new order: first, a claim is a race
    ]
    stepped = {1: now - 1, 2: now - 1, 4: now - 1, 5: now - 1, 6: now - REFRESH_S - 1, 7: now - 1, 9: now - 1}
    assert [j.order_id for j in due(jobs, now, {4}, stepped)] == [9, 2, 4, 5, 6]


def test_facts_start_unknown() -> None:
    facts = Facts()
    assert facts.ineligible is facts.busy is facts.rival is facts.attempted is facts.wanted is UNKNOWN
