"""The order a v2 node's cycle steps its due jobs in (pynode.daemon.v2.node.in_turn, NodeV2.quoting), without
sockets: work, transactions and events first, then the quote decisions for at most the cycle's budget."""

from __future__ import annotations

from types import SimpleNamespace

from pynode.daemon.store import Job, JobState
from pynode.daemon.v2.node import QUOTE_BUDGET_S, NodeV2, in_turn
from pynode.daemon.v2.scan import Known
from pynode.protocol.v2.types import OrderStatus


def job(key: int, state: JobState) -> Job:
    return Job(key, state, {"order_id": str(key)}, 0.0, 0.0, None, False, 0, None, 0.0)


class Clock:
    """Each reading is ``step_s`` later than the one before (a quote decision's time)."""

    def __init__(self, step_s: float) -> None:
        self.now, self.step_s = 100.0, step_s

    def __call__(self) -> float:
        self.now += self.step_s
        return self.now


def seen(j: Job) -> bool:
    return j.state is JobState.SEEN


def test_work_goes_first_then_quotes_in_their_order() -> None:
    due = [job(1, JobState.SEEN), job(2, JobState.PRODUCING), job(3, JobState.SEEN), job(4, JobState.SHIPPED)]
    assert [j.order_id for j in in_turn(due, seen, Clock(0.0), QUOTE_BUDGET_S)] == [2, 4, 1, 3]


def test_quotes_stop_when_the_budget_is_spent_and_work_never_does() -> None:
    due = [job(k, JobState.SEEN) for k in range(1, 11)] + [job(k, JobState.AWARDED) for k in range(11, 14)]
    # each quote decision takes 0.3 s of a 1 s budget: the first starts at 0, the fourth at 0.9, the fifth is late
    stepped = [j.order_id for j in in_turn(due, seen, Clock(0.3), 1.0)]
    assert stepped == [11, 12, 13, 1, 2, 3, 4]
    assert [j.order_id for j in in_turn(due[:3], seen, Clock(5.0), 1.0)] == [1]  # one at least, however slow
    assert list(in_turn([], seen, Clock(0.0), 1.0)) == []


def test_a_seen_job_is_a_quote_decision_while_its_order_is_open_as_folded() -> None:
    def folded(status: OrderStatus) -> Known:
        return Known(SimpleNamespace(status=status), 0.0, False)  # type: ignore[arg-type]  # a tracker's status

    node = SimpleNamespace(trackers={1: folded(OrderStatus.OPEN), 2: folded(OrderStatus.AWARDED),
                                     3: folded(OrderStatus.CANCELLED)})
    quoting = [NodeV2.quoting(node, job(k, JobState.SEEN)) for k in (1, 2, 3, 4)]  # type: ignore[arg-type]
    assert quoting == [True, False, False, True]  # an award or a cancellation is work; unknown: a quote
    assert NodeV2.quoting(node, job(1, JobState.AWARDED)) is False  # type: ignore[arg-type]  # node stand-in
