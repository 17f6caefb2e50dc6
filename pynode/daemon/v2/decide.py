"""What one v2 job does next: a pure decision, no sockets, no clock (``now`` is chain time, an argument).

:func:`decide` takes the job's local state, the order as the book commits to it (``OrderView``), chain time
and the facts it needs, and returns an :class:`Intent` the node carries out (:mod:`.node`). A fact that costs
a request (the quote policy's answer, the decrypted design's check, the quality report, the dispute's
deposits) is ``UNKNOWN`` until a decision needs it; :func:`decide` then answers ``Act.NEED`` naming it.

The v2 life of a job (docs/protocol.md): an open order is quoted by policy (``decide_quote``) or declined;
an award to this shop is checked first (the design must decrypt and its geometry match the spec), rejected
inside the reject window if it does not (issue 15 item 3's lying buyer: no penalty, buyer refunded), else
produced and shipped with the quality report; a dispute is answered by matching the arbitration fee when the
policy allows it; a completed, resolved, refunded or rejected order ends the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from pynode.chain.v2.orders import OrderView
from pynode.daemon.store import JobState
from pynode.orders.quote_policy import Decline, DeclineReason, Quoted
from pynode.protocol.v2.types import OrderStatus

#: an award whose job holds a slot of ``max_concurrent_jobs`` (and its machine: ShopState.jobs_in_flight)
BUSY_STATES = (JobState.AWARDED, JobState.PRODUCING, JobState.REPORTING)
#: declines that pass with time or load: looked at again, not SKIPPED for good
PASSING = frozenset({DeclineReason.OVER_CAPACITY, DeclineReason.BOND_UNAVAILABLE})


class _Unknown(Enum):
    UNKNOWN = "unknown"


UNKNOWN: Final = _Unknown.UNKNOWN


class Act(Enum):
    NEED = "need"  # look up the fact ``Intent.need`` names, then decide again
    QUOTE = "quote"  # sign ``Intent.quoted``, keep it with the job and publish it
    KEEP = "keep"  # our quote is open: republish it while it lives (the node paces the repeats)
    DEFER = "defer"  # a passing decline: look again after a poll interval
    SKIP = "skip"  # declined for good: SKIPPED with the reason
    REJECT = "reject"  # the award's design fails its check: reject inside the window
    PRODUCE = "produce"  # hand the design to the adapter / wait for its result
    SHIP = "ship"  # the quality report is pinned and passed: ship with it
    PAY_FEE = "pay_fee"  # disputed: match the buyer's arbitration deposit
    FINALIZE = "finalize"  # shipped and the inspection window is over: anyone may complete it
    WAIT = "wait"  # the other side or time has the next move: record ``Intent.state``
    FINISH = "finish"  # a terminal ``Intent.state``
    FAIL = "fail"  # give the job up with ``Intent.reason``


@dataclass(frozen=True)
class Intent:
    """A step: what to do, the job state to record and why (a decline's or rejection's reason)."""

    act: Act
    state: JobState | None = None
    reason: str = ""
    quoted: Quoted | None = None  # with Act.QUOTE
    need: str = ""  # with Act.NEED: the Facts field to fill


@dataclass(frozen=True)
class Facts:
    """What a decision may need besides the job and the order; UNKNOWN ones are asked for (Act.NEED)."""

    me: str = ""  # the node's account, checksummed
    quote_live: bool = False  # the job holds a signed quote for this order that has not expired
    quote: Quoted | Decline | _Unknown = UNKNOWN  # decide_quote's answer for the order now
    design: str | _Unknown | None = UNKNOWN  # why the awarded design fails its check (None: it passes)
    report: bool | _Unknown | None = UNKNOWN  # the pinned report passed (True / False), None: not yet built
    fee_due: int | _Unknown | None = UNKNOWN  # the deposit to match in a dispute, None: nothing to pay now
    max_fee: int | None = None  # [policy] max_arbitration_fee_wei (None: any)


def decide(job: JobState, order: OrderView, now: int, facts: Facts) -> Intent:
    """The next step of a job whose order the confirmed block shows as ``order``, at chain time ``now``."""
    status = order.status
    if status == OrderStatus.OPEN:
        return _open(job, facts)
    if order.partner != facts.me:
        if job in (JobState.SKIPPED, JobState.LOST, JobState.CLOSED):
            return Intent(Act.FINISH, job)
        went = "nobody" if order.partner is None else order.partner
        return Intent(Act.FINISH, JobState.LOST if order.partner else JobState.CLOSED,
                      f"order {status.name.lower()}, awarded to {went}")
    if status == OrderStatus.AWARDED:
        return _awarded(order, now, facts)
    if status == OrderStatus.SHIPPED:
        closes = order.inspection_closes
        if closes is not None and now > closes:
            return Intent(Act.FINALIZE, JobState.SHIPPED)
        return Intent(Act.WAIT, JobState.SHIPPED, "shipped: the buyer inspects")
    if status == OrderStatus.DISPUTED:
        return _disputed(facts)
    if status in (OrderStatus.COMPLETED, OrderStatus.FEE_COLLECTED, OrderStatus.RESOLVED):
        return Intent(Act.FINISH, JobState.DONE, status.name.lower())
    return Intent(Act.FINISH, JobState.CLOSED, status.name.lower())  # refunded, rejected: the bond is free again


def _open(job: JobState, facts: Facts) -> Intent:
    if facts.quote_live:
        return Intent(Act.KEEP, JobState.SEEN)
    if facts.quote is UNKNOWN:
        return Intent(Act.NEED, need="quote")
    if isinstance(facts.quote, Decline):
        if facts.quote.reason in PASSING:
            return Intent(Act.DEFER, JobState.SEEN, str(facts.quote))
        return Intent(Act.SKIP, JobState.SKIPPED, str(facts.quote))
    return Intent(Act.QUOTE, JobState.SEEN, quoted=facts.quote)


def _awarded(order: OrderView, now: int, facts: Facts) -> Intent:
    if facts.design is UNKNOWN:
        return Intent(Act.NEED, need="design")
    closes = order.reject_window_closes
    if facts.design is not None:
        if closes is not None and now <= closes:
            return Intent(Act.REJECT, JobState.AWARDED, facts.design)
        return Intent(Act.FAIL, reason=f"{facts.design} (found after the reject window)")
    if facts.report is UNKNOWN:
        return Intent(Act.NEED, need="report")
    if facts.report is None:
        return Intent(Act.PRODUCE, JobState.PRODUCING)
    if not facts.report:
        return Intent(Act.FAIL, reason="quality check failed: not shipped")
    return Intent(Act.SHIP, JobState.REPORTING)


def _disputed(facts: Facts) -> Intent:
    if facts.fee_due is UNKNOWN:
        return Intent(Act.NEED, need="fee_due")
    if facts.fee_due is None:
        return Intent(Act.WAIT, JobState.SHIPPED, "disputed: the arbitrator rules")
    if facts.max_fee is not None and facts.fee_due > facts.max_fee:
        return Intent(Act.WAIT, JobState.SHIPPED, f"disputed: arbitration fee {facts.fee_due} above "
                                                  f"max_arbitration_fee_wei {facts.max_fee}, not matched")
    return Intent(Act.PAY_FEE, JobState.SHIPPED)


def fee_due(buyer_fee: int, created: bool, paid: bool) -> int | None:
    """The deposit this partner still has to match in a dispute (None: the dispute exists or we paid)."""
    return None if created or paid or buyer_fee == 0 else buyer_fee
