"""What one job does next: pure decisions, no sockets, no I/O.

:func:`decide` takes the job's local state, the order as the confirmed block shows it, chain time and
the facts it needs, and returns an :class:`Intent` the node carries out (:mod:`.steps`). A fact that
costs a request (the node's registry entry, a simulation against the pending state) is looked up only
when a decision needs it: until then it is ``UNKNOWN`` and :func:`decide` answers ``Do.NEED``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final

from pynode.chain.orders import ZERO_ADDRESS, OrderTracker
from pynode.core.errors import Kind, ProviderUnavailable
from pynode.daemon.store import Job, JobState
from pynode.protocol.types import Status

#: states that hold a slot of ``max_concurrent_jobs``
BUSY_STATES = (JobState.CLAIMING, JobState.CLAIMED, JobState.AWARDED, JobState.PRODUCING, JobState.REPORTING)
#: states with local work: stepped every cycle (the others only when an event touched them, or every REFRESH_S;
#: not COMPLETED: its withdrawal goes out in the step that stores it, then the job waits to be seen paid)
WORK_STATES = (JobState.SEEN, JobState.CLAIMING, JobState.AWARDED, JobState.PRODUCING, JobState.REPORTING)
REFRESH_S = 60.0  # orders only change by events; this catches timeouts (finalize, refunds)
MAX_JOB_ATTEMPTS = 20
RIVAL_WAIT_S = 1.0  # a rival's pending claim is mined (or dropped) within a block or two


class _Unknown(Enum):
    UNKNOWN = "unknown"


UNKNOWN: Final = _Unknown.UNKNOWN


class Do(Enum):
    NEED = "need"  # look up the fact ``Intent.need`` names, then decide again
    SKIP = "skip"  # not an order for this node: SKIPPED
    DEFER = "defer"  # at max_concurrent_jobs, or the shop floor is full: look again after a poll interval
    HOLD_BACK = "hold_back"  # a rival's claim is pending: look again after RIVAL_WAIT_S
    CLAIM = "claim"
    SET = "set"  # record ``Intent.state`` (the same state clears a reorg refresh flag)
    PRODUCE = "produce"  # awarded / in production: the production steps (:mod:`.production`)
    SHIPPED = "shipped"  # shipped or disputed: the design goes, the buyer has the next move
    FINALIZE = "finalize"  # shipped and the inspection window is over
    WITHDRAW = "withdraw"  # completed: take the payment
    ATTEST = "attest"  # a quality report is pinned: attest it
    SHIP = "ship"  # attested as passed: ship
    FINISH = "finish"  # a terminal ``Intent.state`` (the job's files are cleaned up)
    FATAL = "fatal"  # stop the node
    FAIL = "fail"  # the job failed
    RETRY = "retry"  # try the job again after a backoff


@dataclass(frozen=True)
class Intent:
    do: Do
    state: JobState | None = None
    reason: str = ""
    need: str = ""  # with Do.NEED: the Facts field to fill
    race_lost: bool = False  # counts a lost claim race
    forget: bool = False  # with Do.RETRY / FAIL: drop what the scanned events built of the order
    end_cycle: bool = False  # with Do.RETRY: the endpoint is down, end the cycle (back off, fail over)


@dataclass(frozen=True)
class Facts:
    """What a decision may need besides the job and the order; UNKNOWN ones are asked for (Do.NEED)."""

    mine: bool = False  # the order's partner is this node
    max_jobs: int = 1
    ineligible: str | _Unknown | None = UNKNOWN  # why the open order is not for this node (None: it is)
    busy: int | _Unknown = UNKNOWN  # jobs holding a slot of max_jobs
    #: how many more jobs the shop floor can start now (``ProductionAdapter.capacity``: idle printers), None
    #: when the adapter does not say
    capacity: int | _Unknown | None = UNKNOWN
    rival: str | _Unknown | None = UNKNOWN  # a rival's claim pending (why), or None
    attempted: bool | _Unknown = UNKNOWN  # this node tried to claim the order (a busy state or a journaled claim)
    wanted: bool | _Unknown = UNKNOWN  # this node could have claimed the order while it was open


def decide(job: JobState, order: OrderTracker, now: int, facts: Facts) -> Intent:
    """The next step of a job whose order the confirmed block shows as ``order``, at chain time ``now``."""
    status = order.status
    if status == Status.OPEN:
        return _consider(job, facts)
    if not facts.mine:
        return _not_ours(job, order, facts)
    if status == Status.CLAIMED:
        return Intent(Do.SET, JobState.CLAIMED)
    if status in (Status.AWARDED, Status.IN_PRODUCTION):
        return Intent(Do.PRODUCE)
    if status == Status.SHIPPED and now > order.state.stamp + order.terms.inspection_window:
        return Intent(Do.FINALIZE, JobState.SHIPPED)
    if status in (Status.SHIPPED, Status.DISPUTED):
        return Intent(Do.SHIPPED, JobState.SHIPPED)
    if status == Status.COMPLETED:
        return Intent(Do.WITHDRAW, JobState.COMPLETED)
    if status in (Status.PAID, Status.RESOLVED):
        return Intent(Do.FINISH, JobState.DONE, Status(status).name.lower())
    return Intent(Do.FINISH, JobState.CLOSED, Status(status).name.lower())  # refunded / cancelled: we were partner


def _consider(job: JobState, facts: Facts) -> Intent:
    if facts.ineligible is UNKNOWN:
        return Intent(Do.NEED, need="ineligible")
    if facts.ineligible is not None:
        return Intent(Do.SKIP, JobState.SKIPPED, facts.ineligible)
    if job not in BUSY_STATES:
        if facts.busy is UNKNOWN:
            return Intent(Do.NEED, need="busy")
        if facts.busy >= facts.max_jobs:
            return Intent(Do.DEFER, reason="at max_concurrent_jobs")
        if facts.capacity is UNKNOWN:
            return Intent(Do.NEED, need="capacity")
        if facts.capacity is not None and facts.capacity < 1:  # every printer busy: one may be free next poll
            return Intent(Do.DEFER, reason="the shop floor has no idle machine")
    if job is JobState.SEEN:  # a claim sent before (CLAIMING) is resolved by the journal, never held back
        if facts.rival is UNKNOWN:
            return Intent(Do.NEED, need="rival")
        if facts.rival is not None:
            return Intent(Do.HOLD_BACK, reason=facts.rival)
    return Intent(Do.CLAIM, JobState.CLAIMING)


def _not_ours(job: JobState, order: OrderTracker, facts: Facts) -> Intent:
    partner = order.state.partner
    if partner == ZERO_ADDRESS:  # cancelled / refunded while open
        return Intent(Do.FINISH, JobState.CLOSED, order.status.name.lower())
    if facts.attempted is UNKNOWN:
        return Intent(Do.NEED, need="attempted")
    went = f"order went to {partner}"
    if facts.attempted:
        return Intent(Do.FINISH, JobState.LOST, went, race_lost=job in (JobState.CLAIMING, JobState.SEEN))
    if job is JobState.SEEN:
        if facts.wanted is UNKNOWN:
            return Intent(Do.NEED, need="wanted")
        return Intent(Do.FINISH, JobState.LOST if facts.wanted else JobState.SKIPPED, went)
    return Intent(Do.SET, job)


def claim_refused(reason: str, *, race_lost: bool, fatal: bool) -> Intent:
    """A claim the simulation or the chain refused: a rival won the race, the node cannot work, or not for us."""
    if race_lost:
        return Intent(Do.SET, JobState.LOST, f"claim race lost: {reason}", race_lost=True)
    if fatal:
        return Intent(Do.FATAL, reason=f"claim refused: {reason}")
    return Intent(Do.SET, JobState.SKIPPED, f"claim refused: {reason}")


def after_report(*, attested: bool, passed: bool) -> Intent:
    """Which transaction follows a pinned quality report: the attestation, then the shipment (if it passed)."""
    if not attested:
        return Intent(Do.ATTEST, JobState.REPORTING)
    if not passed:
        return Intent(Do.FAIL, reason="quality check failed: attested as not passed")
    return Intent(Do.SHIP, JobState.SHIPPED)


def on_error(exc: BaseException, kind: Kind, attempts: int, *, chain_moved: bool) -> Intent:
    """One job's failure by type. ``chain_moved``: the order changed under the node (out of sync, reverted):
    re-read it next time, and fail the job only once the chain keeps refusing. Network trouble never fails
    a job (it may last hours); an unreachable endpoint ends the cycle."""
    if chain_moved:
        kind = Kind.TRANSIENT
    if kind is Kind.FATAL:
        return Intent(Do.FATAL)
    if kind is Kind.INPUT or (chain_moved and attempts + 1 >= MAX_JOB_ATTEMPTS):
        return Intent(Do.FAIL, forget=chain_moved)
    return Intent(Do.RETRY, forget=chain_moved, end_cycle=isinstance(exc, ProviderUnavailable))


def due(jobs: Iterable[Job], now: float, dirty: set[int], stepped_at: Mapping[int, float]) -> list[Job]:
    """The jobs to step this cycle, new orders first (a claim is a race; waiting jobs can wait a few ms more)."""
    picked = [job for job in jobs if job.next_attempt_at <= now and (
        job.state in WORK_STATES or job.needs_refresh or job.order_id in dirty
        or now - stepped_at.get(job.order_id, 0) > REFRESH_S)]
    return sorted(picked, key=lambda j: (j.state not in (JobState.SEEN, JobState.CLAIMING), j.order_id))
