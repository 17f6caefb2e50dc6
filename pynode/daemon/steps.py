"""Carrying out what :func:`pynode.daemon.jobs.decide` returns, for every job due this cycle.

Every job with something to do is re-read from the chain at the confirmed block (:meth:`Sync.load`) and
takes its next step. What the chain says decides, never the local state alone, so a restart at any point
neither repeats nor skips an action; transactions go through the journal (:mod:`.journal`). A job's
failure is sorted by type (:func:`.jobs.on_error`): it retries with backoff, fails, or stops the node.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.orders import ZERO_ADDRESS, OrderTracker
from pynode.chain.tx import TxRequest, TxReverted
from pynode.core.errors import FatalError, classify, retry_after
from pynode.daemon.jobs import BUSY_STATES, RIVAL_WAIT_S, Do, Facts, Intent, claim_refused, decide, due, on_error
from pynode.daemon.journal import Outcome
from pynode.daemon.store import Action, Job, JobState
from pynode.orders.partner import is_fatal_revert, is_race_lost
from pynode.protocol.types import OrderState, Status

if TYPE_CHECKING:
    from pynode.daemon.node import Node


class Steps:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.stepped_at: dict[int, float] = {}
        #: the claim encoded for the rival check, sent as is if the same order is claimed next (encoding the
        #: whole order costs several ms, on the way from a new order to its claim)
        self._claim_request: tuple[OrderTracker, TxRequest] | None = None

    def advance(self) -> int:
        """Steps every due job; returns how many."""
        node = self.node
        jobs = {j.order_id: j for j in node.store.active_jobs()}
        for job in node.store.jobs_needing_refresh():
            jobs[job.order_id] = job
        stepped = 0
        for job in due(jobs.values(), time.time(), node.dirty, self.stepped_at):
            if node.stopping:
                break
            stepped += 1
            node.dirty.discard(job.order_id)
            self.stepped_at[job.order_id] = time.time()
            try:
                self.step(job)
            except Exception as exc:  # noqa: BLE001 - sorted by type in job_error
                self.job_error(job, exc)
        return stepped

    def job_error(self, job: Job, exc: Exception) -> None:
        node = self.node
        current = node.store.get_job(job.order_id) or job
        intent = on_error(exc, classify(exc), current.attempts,
                          chain_moved=isinstance(exc, (OrderOutOfSync, TxReverted)))
        if intent.forget:
            node.sync.forget(job.order_id)
        if intent.do is Do.FATAL:
            raise exc
        if intent.do is Do.FAIL:
            self.finish_failed(current, brief(exc))
            return
        delay = node.backoff.delay(current.attempts, retry_after(exc))
        node.store.record_job_error(job.order_id, brief(exc), retry_at=time.time() + delay)
        node.log.warning("job_retry", order_id=job.order_id, state=current.state.value, error=brief(exc),
                         retry_in_s=round(delay, 2))
        if intent.end_cycle:
            raise exc

    def resolve_all_pending(self) -> None:
        node = self.node
        for action in node.store.actions(pending=True):
            try:
                outcome = self.resolve(action)
            except TxReverted:
                outcome = None
            node.dirty.add(action.order_id)
            node.log.info("action_resolved", order_id=action.order_id, action=action.kind, tx=action.tx_hash,
                          mined=None if outcome is None else outcome.ok)

    def resolve(self, action: Action) -> Outcome | None:
        """Settles a row an earlier run left in flight. One found mined waits for its confirmations like one
        sent now: its block may be the head, and the safe block still shows the order as before it (a claim
        mined at the head after a restart read the order OPEN there, was sent again, and the simulation's
        OrderMismatch stored the job LOST while the buyer awarded the order to this node)."""
        outcome = self.node.sender.resolve(action)
        if outcome is not None and outcome.ok:
            self.node.awaiting.add(action.order_id, action.kind, outcome)
        return outcome

    # -- one job -----------------------------------------------------------------------

    def step(self, job: Job) -> None:
        node = self.node
        for action in node.store.actions(job.order_id, pending=True):
            self.resolve(action)
        tracker = node.sync.load(job.order_id)
        if tracker is None:
            node.dirty.add(job.order_id)  # an unconfirmed change: look again next cycle
            return
        facts = Facts(mine=node.partner.is_mine(tracker), max_jobs=node.config.policy.max_concurrent_jobs)
        intent = decide(job.state, tracker, node.sync.now(), facts)
        while intent.do is Do.NEED:
            facts = dataclasses.replace(facts, **{intent.need: self._look_up(intent.need, job, tracker)})
            intent = decide(job.state, tracker, node.sync.now(), facts)
        self._carry_out(job, tracker, intent)

    def _look_up(self, fact: str, job: Job, tracker: OrderTracker) -> Any:
        node = self.node
        if fact == "ineligible":
            return node.partner.eligible(tracker, node.sync.now(), node.sync.info())
        if fact == "busy":
            counts = node.store.count_by_state()
            return sum(counts[s.value] for s in BUSY_STATES)
        if fact == "capacity":
            return node.adapter.capacity()
        if fact == "rival":
            self._claim_request = (tracker, node.partner.claim_request(tracker))
            return self._rival_claim_pending(self._claim_request[1])
        if fact == "attempted":
            return job.state in BUSY_STATES or any(a.kind == "claim" for a in node.store.actions(job.order_id))
        assert fact == "wanted", fact
        return node.partner.eligible(_as_open(tracker), tracker.terms.claim_deadline, node.sync.info()) is None

    def _carry_out(self, job: Job, tracker: OrderTracker, intent: Intent) -> None:
        node = self.node
        if intent.race_lost:
            node.metrics.claim_races_lost.inc()
        if intent.do is Do.SKIP or intent.do is Do.SET:
            self.set(job, intent.state or job.state, reason=intent.reason or None)
        elif intent.do is Do.DEFER:
            node.store.record_job_error(job.order_id, intent.reason,
                                        retry_at=time.time() + node.config.poll_interval_s)
        elif intent.do is Do.HOLD_BACK:
            node.metrics.claims_held_back.inc()
            node.log.info("claim_held_back", order_id=job.order_id, reason=intent.reason)
            node.store.record_job_error(job.order_id, intent.reason, retry_at=time.time() + RIVAL_WAIT_S)
        elif intent.do is Do.CLAIM:
            self._claim(job, tracker)
        elif intent.do is Do.PRODUCE:
            node.production.produce(job, tracker)
        elif intent.do is Do.FINISH:
            self.finish(job, intent.state or job.state, intent.reason)
        else:
            self._paid_steps(job, tracker, intent)

    def _paid_steps(self, job: Job, tracker: OrderTracker, intent: Intent) -> None:
        """Shipped, disputed (SHIPPED), completed (COMPLETED): the job waits for the buyer, finalizes or withdraws."""
        node = self.node
        job = self.set(job, intent.state or job.state)
        if intent.do is Do.WITHDRAW:
            outcome = self.transact(job, "withdraw", node.partner.withdraw_request(tracker))
            if outcome is not None and outcome.ok:
                node.dirty.add(job.order_id)  # done once the safe block shows it PAID, not on the receipt
            return
        node.production.cleanup(job.order_id)
        if intent.do is Do.FINALIZE:
            self.transact(job, "finalize", node.partner.finalize_request(tracker))
            node.dirty.add(job.order_id)  # completed: withdraw next

    def _claim(self, job: Job, tracker: OrderTracker) -> None:
        node = self.node
        job = self.set(job, JobState.CLAIMING)
        started = time.monotonic()
        prepared, self._claim_request = self._claim_request, None
        request = prepared[1] if prepared is not None and prepared[0] is tracker \
            else node.partner.claim_request(tracker)
        try:
            outcome = self.transact(job, "claim", request)
        except TxReverted as exc:
            self._claim_refused(job, exc.reason)
            return
        if not outcome.ok:
            self._claim_refused(job, outcome.reason)
            return
        node.log.info("claimed", order_id=job.order_id, tx=outcome.tx_hash,
                      claim_ms=round(1000 * (time.monotonic() - started), 1))
        self.set(job, JobState.CLAIMED, block=outcome.block_number, claim_tx=outcome.tx_hash)

    def _rival_claim_pending(self, request: TxRequest) -> str | None:
        """Why not to send a claim now: a rival's claim for the order waits in the mempool, so ours would only
        buy a revert. The job looks again shortly: lost if the rival's claim is mined, claimable if it is dropped."""
        try:
            self.node.sender.sender.simulate(request, "pending")
        except TxReverted as exc:
            if is_race_lost(exc.reason):
                return f"a rival claim is pending: {exc.reason}"
        return None

    def _claim_refused(self, job: Job, reason: str) -> None:
        intent = claim_refused(reason, race_lost=is_race_lost(reason), fatal=is_fatal_revert(reason))
        if intent.do is Do.FATAL:
            raise FatalError(intent.reason)
        if intent.race_lost:
            self.node.metrics.claim_races_lost.inc()
        self.set(job, intent.state or job.state, reason=intent.reason)

    # -- the job's record ------------------------------------------------------------------

    def set(self, job: Job, state: JobState, *, block: int | None = None, **info: Any) -> Job:
        node = self.node
        order = dict(job.order)
        order.update({k: v for k, v in info.items() if v is not None})
        new = node.store.upsert_job(job.order_id, state, order, block=block)
        if state != job.state:
            node.log.info("job_state", order_id=job.order_id, state=state.value, previous=job.state.value,
                          **{k: v for k, v in info.items() if v is not None})
        return new

    def finish(self, job: Job, state: JobState, reason: str) -> None:
        self.node.production.cleanup(job.order_id)
        self.set(job, state, reason=reason)

    def finish_failed(self, job: Job, reason: str) -> None:
        node = self.node
        node.log.error("job_failed", order_id=job.order_id, state=job.state.value, error=reason)
        node.production.cleanup(job.order_id)
        node.store.upsert_job(job.order_id, JobState.FAILED, {**job.order, "reason": reason})

    def transact(self, job: Job, kind: str, request: TxRequest) -> Outcome:
        node = self.node
        try:
            outcome = node.sender.send(job.order_id, kind, request)
        except TxReverted:
            node.metrics.tx_failed.labels(kind).inc()
            raise
        if not outcome.ok:
            node.metrics.tx_failed.labels(kind).inc()
            node.log.warning("tx_reverted", order_id=job.order_id, action=kind, tx=outcome.tx_hash,
                             reason=outcome.reason)
        else:
            node.log.info("tx_mined", order_id=job.order_id, action=kind, tx=outcome.tx_hash,
                          block=outcome.block_number)
            node.awaiting.add(job.order_id, kind, outcome)
        return outcome


def _as_open(tracker: OrderTracker) -> OrderTracker:
    """The order as it was while open: whether this node could have claimed it."""
    state = OrderState(int(Status.OPEN), ZERO_ADDRESS, 0, tracker.state.head)
    return OrderTracker(tracker.order_id, tracker.terms, state, tracker.spec, tracker.docs)


def brief(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
