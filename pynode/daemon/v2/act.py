"""Carrying out what :func:`.decide.decide` returns for one v2 job: the facts it asks for, then the step.

Every step starts from the order as the confirmed block shows it; what the chain says decides, never the
local state alone, so a restart at any point neither repeats nor skips an action. A quote's nonce is in the
job's row before the quote leaves the node (:mod:`.quoting`); the design check's verdict is kept in the row too,
so an award is decrypted and measured once.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.tx import TxRequest, TxReverted
from pynode.chain.v2.orders import OrderTracker
from pynode.core.errors import FatalError, InputError, classify, retry_after
from pynode.daemon.jobs import Do, on_error
from pynode.daemon.journal import Outcome
from pynode.daemon.steps import brief
from pynode.daemon.store import Job, JobState
from pynode.daemon.v2.decide import BUSY_STATES, Act, Facts, Intent, decide, fee_due
from pynode.daemon.v2.design import DesignCheck, spec_document
from pynode.daemon.v2.making import Making
from pynode.daemon.v2.quoting import Quotes, certifications_of, live_quote, shop_state
from pynode.documents.spec import ProductionSpec
from pynode.ipfs.cid import cid_to_digest
from pynode.orders.quote_policy import Decline, DeclineReason, decide_quote
from pynode.protocol.v2.types import RecordKind

if TYPE_CHECKING:
    from pynode.daemon.v2.node import NodeV2

REJECT_REASON_TYPE = "fabmesh/reject-reason"


class Acts:
    def __init__(self, node: NodeV2) -> None:
        self.node = node
        self.quotes = Quotes(node.account, node.channel, node.store, node.log.info)
        self.designs = DesignCheck(node.vault, node.chain_id, node.book.address, node.address,
                                   node.identity.hpke_keys)
        self.making = Making(node.adapter, node.ipfs, node.work_dir / "jobs", chain_id=node.chain_id,
                             book=node.book.address, partner=node.address, raw_leaves=node.config.ipfs_raw_leaves)
        self._info: tuple[int, Any] | None = None  # (safe block, the shop's registry entry there)

    def check_standing(self) -> None:
        """FatalError if this account cannot work as a v2 partner (unregistered, suspended, unbonding)."""
        info = self.node.registry.partner_info(self.node.address)
        if not info.registered:
            raise FatalError(f"{self.node.address} is not a registered partner of the v2 registry")
        if info.suspended or info.unbonding:
            raise FatalError(f"partner {self.node.address} is {'suspended' if info.suspended else 'unbonding'}")

    def quote_now(self) -> int:
        """The time quotes are made and kept live by: the later of the safe block's time and the wall clock. A
        chain that mines on demand can sit minutes behind, while its next block (the award's) and every
        receiver's expiry check go by the wall clock, so a quote valid from the stale block's time would arrive
        expired, and one the wall clock has expired would still be republished."""
        return max(self.node.now, int(time.time()))

    def quote_live(self, job: Job) -> bool:
        return live_quote(job, self.quote_now()) is not None

    # -- deciding --------------------------------------------------------------------------------

    def step(self, job: Job, order: OrderTracker) -> None:
        node = self.node
        facts = Facts(me=node.address, quote_live=self.quote_live(job),
                      max_fee=node.config.policy.max_arbitration_fee_wei)
        intent = decide(job.state, order, node.now, facts)
        while intent.act is Act.NEED:
            facts = dataclasses.replace(facts, **{intent.need: self._look_up(intent.need, job, order)})
            intent = decide(job.state, order, node.now, facts)
        if intent.act is Act.FINISH and not node.verified(job, order):
            return  # the order as folded from events is not the book's: the next step reads it from the chain
        self._carry_out(job, order, intent)

    def _look_up(self, fact: str, job: Job, order: OrderTracker) -> Any:
        if fact == "quote":
            return self._quote(job, order)
        if fact == "design":
            return self._design(job, order)
        if fact == "report":
            meta = self.making.report_meta(job.order_id)
            return None if meta is None else bool(meta["passed"])
        assert fact == "fee_due", fact
        arbitration = self.node.book.arbitration(order.order_id, self.node.safe)
        paid = any(r.kind == RecordKind.ARBITRATION_FEE_PAID and r.actor == self.node.address for r in order.records)
        return fee_due(arbitration.buyer_fee, arbitration.created, paid)

    def _quote(self, job: Job, order: OrderTracker) -> Any:
        node = self.node
        try:
            document = self._spec(job, order)
        except InputError as exc:
            return Decline(DeclineReason.SPEC_MISMATCH, f"spec document: {exc}")
        info = self._partner_info()
        certs = certifications_of(order.spec, lambda c: node.registry.certification_expiry(node.address, c, node.safe))
        now = self.quote_now()
        shop = shop_state(node.address, info, certs, node.store, BUSY_STATES,
                          node.config.policy.max_concurrent_jobs, node.adapter.capacity(), now)
        return decide_quote(node.config.quote, order.terms, order.spec, document, shop, now,
                            nonce=self.quotes.next_nonce(job))

    def _partner_info(self) -> Any:
        """The shop's registry entry at the safe block, read once per block however many orders it quotes."""
        node = self.node
        if self._info is None or self._info[0] != node.safe:
            self._info = node.safe, node.registry.partner_info(node.address, node.safe)
        return self._info[1]

    def _spec(self, job: Job, order: OrderTracker) -> ProductionSpec:
        kept = job.order.get("spec")
        if isinstance(kept, dict):
            return ProductionSpec.model_validate(kept)
        document = spec_document(self.node.vault, order)
        self.node.store.upsert_job(job.order_id, job.state, {**job.order, "spec": document.model_dump(mode="json")})
        return document

    def _design(self, job: Job, order: OrderTracker) -> str | None:
        kept = job.order.get("design_check")
        if isinstance(kept, dict):
            return kept.get("reason")
        folder = self.making.folder(job.order_id) / "design"
        checked = self.designs.check(order, self._spec(job, order), folder)
        current = self.node.store.get_job(job.order_id) or job
        self.node.store.upsert_job(job.order_id, current.state, {**current.order, "design_check": {
            "reason": checked.reason, "design": None if checked.design is None else str(checked.design)}})
        self.node.log.info("design_checked", order_id=job.order["order_id"], ok=checked.reason is None,
                           reason=checked.reason)
        return checked.reason

    # -- doing -------------------------------------------------------------------------------------

    def _carry_out(self, job: Job, order: OrderTracker, intent: Intent) -> None:
        node = self.node
        job = node.store.get_job(job.order_id) or job  # the look-ups may have kept facts in the row
        if intent.act is Act.QUOTE:
            assert intent.quoted is not None
            self.quotes.issue(job, intent.quoted)
        elif intent.act is Act.DEFER:
            node.store.record_job_error(job.order_id, intent.reason, retry_at=time.time() + node.config.poll_interval_s)
        elif intent.act in (Act.SKIP, Act.WAIT, Act.FINISH):
            if intent.act is Act.FINISH:
                self.making.cleanup(job.order_id)
            self.set(job, intent.state or job.state, reason=intent.reason or None)
        elif intent.act is Act.FAIL:
            self.fail(job, intent.reason)
        elif intent.act is Act.REJECT:
            self._reject(job, order, intent.reason)
        elif intent.act is Act.PRODUCE:
            self._produce(job, order)
        elif intent.act is Act.SHIP:
            self._ship(job, order)
        elif intent.act is Act.PAY_FEE:
            fee = node.book.arbitration(order.order_id, node.safe).buyer_fee
            self.transact(job, "pay_fee", node.book.pay_arbitration_fee(order, fee))
        elif intent.act is Act.FINALIZE:
            self.transact(job, "finalize", node.book.finalize(order))

    def _reject(self, job: Job, order: OrderTracker, reason: str) -> None:
        document = json.dumps({"type": REJECT_REASON_TYPE, "version": 1, "order_id": str(order.order_id),
                               "reason": reason}, sort_keys=True, separators=(",", ":")).encode()
        cid = self.node.ipfs.add_bytes(document)
        job = self.set(job, JobState.AWARDED, reason=reason, reason_cid=cid)
        self.transact(job, "reject", self.node.book.reject(order, cid_to_digest(cid)))

    def _produce(self, job: Job, order: OrderTracker) -> None:
        job = self.set(job, JobState.PRODUCING)
        design = job.order["design_check"]["design"]
        meta = self.making.advance(job.order_id, order, Path(design), job.order["spec"])
        if meta is not None:
            self.set(job, JobState.REPORTING, report_cid=meta["cid"], passed=meta["passed"])
            self.node.dirty.add(job.order_id)

    def _ship(self, job: Job, order: OrderTracker) -> None:
        meta = self.making.report_meta(job.order_id)
        assert meta is not None
        request = self.node.book.ship(order, cid_to_digest(meta["cid"]), bytes.fromhex(meta["sha256"]))
        self.transact(job, "ship", request)

    def transact(self, job: Job, kind: str, request: TxRequest) -> None:
        """Simulates, journals and broadcasts, without waiting: the node keeps the transactions of many jobs in
        flight at once, each job's one at a time (:meth:`settled` follows once it is mined)."""
        self.node.sender.submit(job.order_id, kind, request)
        self.node.dirty.add(job.order_id)

    def settled(self, job: Job, kind: str, outcome: Outcome) -> None:
        """One of the job's transactions was mined: the job waits for the safe block to show it; a revert on
        chain counts as the job's failure (retried, given up after MAX_JOB_ATTEMPTS)."""
        node = self.node
        node.settling[job.order_id] = outcome.block_number
        node.dirty.add(job.order_id)
        node.log.info("tx_mined" if outcome.ok else "tx_reverted", order_id=job.order["order_id"], action=kind,
                      tx=outcome.tx_hash, block=outcome.block_number, reason=outcome.reason or None)
        if not outcome.ok:
            node.metrics.tx_failed.labels(kind).inc()
            self.job_error(job, TxReverted(f"{kind} of order {job.order['order_id']}", outcome.reason))
        elif kind == "ship":
            self.making.cleanup(job.order_id)
            self.set(job, JobState.SHIPPED)
        elif kind == "reject":
            node.log.info("award_rejected", order_id=job.order["order_id"], reason=job.order.get("reason"))

    def job_error(self, job: Job, exc: Exception) -> None:
        current = self.node.store.get_job(job.order_id) or job
        intent = on_error(exc, classify(exc), current.attempts,
                          chain_moved=isinstance(exc, (OrderOutOfSync, TxReverted)))
        if intent.forget:
            self.node.trackers.pop(job.order_id, None)
        if intent.do is Do.FATAL:
            raise exc
        if intent.do is Do.FAIL:
            self.fail(current, brief(exc))
            return
        delay = self.node.backoff.delay(current.attempts, retry_after(exc))
        self.node.store.record_job_error(job.order_id, brief(exc), retry_at=time.time() + delay)
        self.node.log.warning("job_retry", order_id=job.order.get("order_id"), state=current.state.value,
                         error=brief(exc), retry_in_s=round(delay, 2))
        if intent.end_cycle:
            raise exc

    # -- the job's record ----------------------------------------------------------------------------

    def set(self, job: Job, state: JobState, **info: Any) -> Job:
        current = self.node.store.get_job(job.order_id) or job
        order = {**current.order, **{k: v for k, v in info.items() if v is not None}}
        new = self.node.store.upsert_job(job.order_id, state, order)
        if state != current.state:
            self.node.log.info("job_state", order_id=order["order_id"], state=state.value,
                               previous=current.state.value, **{k: v for k, v in info.items() if v is not None})
        return new

    def fail(self, job: Job, reason: str) -> None:
        self.node.log.error("job_failed", order_id=job.order.get("order_id"), state=job.state.value, error=reason)
        self.making.cleanup(job.order_id)
        self.set(job, JobState.FAILED, reason=reason)

