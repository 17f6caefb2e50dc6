"""An awarded job's production: the hand-over to the adapter, the spec, the quality report, attest and ship.

Every file of a job lives in its folder (``work_dir/jobs/<order id>``): the spec and the report are kept
and written once, so a restart re-pins the same bytes and never builds a new report; the decrypted design
and the adapter's files go when the job ends (:meth:`Production.cleanup`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pynode.chain.orders import OrderTracker
from pynode.core.errors import InputError
from pynode.core.fsutil import write_atomic, write_json_atomic
from pynode.daemon.adapters import ProductionJob, UnknownJob
from pynode.daemon.jobs import Do, after_report
from pynode.daemon.store import Job, JobState
from pynode.documents.quality_report import build_report, canonical_json, parse_report
from pynode.protocol.types import RecordKind, Status

if TYPE_CHECKING:
    from pynode.daemon.node import Node


class Production:
    def __init__(self, node: Node) -> None:
        self.node = node

    def job_dir(self, order_id: int) -> Path:
        return self.node.jobs_dir / str(order_id)

    def produce(self, job: Job, tracker: OrderTracker) -> None:
        node, steps = self.node, self.node.steps
        order_id = job.order_id
        folder = self.job_dir(order_id)
        meta = _read_json(folder / "report.meta.json")
        attested = node.partner.has_record(tracker, RecordKind.QUALITY_ATTESTED)
        if meta is None:
            if job.state not in (JobState.PRODUCING, JobState.REPORTING):
                job = steps.set(job, JobState.AWARDED)
            spec = self.spec(tracker, folder)
            result = None
            if job.state is JobState.PRODUCING and tracker.status == Status.IN_PRODUCTION:
                try:  # already handed over: just ask (no IPFS round trip per cycle)
                    result = node.adapter.poll(order_id)
                    if result is None:
                        return
                except UnknownJob:
                    result = None
            if result is None:
                result = self.hand_over(job, tracker, spec, folder)
                if result is None:
                    return
            job = node.store.get_job(order_id) or job
            meta = self.report(job, tracker, spec, result, folder)
            job = steps.set(job, JobState.REPORTING, report_cid=meta["cid"], passed=meta["passed"])
        digest = bytes.fromhex(meta["sha256"])
        intent = after_report(attested=attested, passed=meta["passed"])
        if intent.do is Do.ATTEST:
            outcome = steps.transact(job, "attest", node.partner.attest_request(tracker, meta["cid"], digest,
                                                                                meta["passed"]))
            if outcome is not None and outcome.ok:
                steps.set(job, JobState.REPORTING, block=outcome.block_number)
                node.dirty.add(order_id)
        elif intent.do is Do.FAIL:
            steps.finish_failed(job, intent.reason)
        else:
            outcome = steps.transact(job, "ship", node.partner.ship_request(tracker, meta["cid"], digest))
            if outcome is not None and outcome.ok:
                self.cleanup(order_id)
                steps.set(job, JobState.SHIPPED, block=outcome.block_number, ship_tx=outcome.tx_hash)

    def hand_over(self, job: Job, tracker: OrderTracker, spec: dict, folder: Path) -> Any:
        """Design decrypted, production started on chain, job submitted; the result if already there."""
        node, steps = self.node, self.node.steps
        order_id = job.order_id
        design = node.partner.fetch_design(order_id, folder / "design", tracker)
        if tracker.status == Status.AWARDED:
            outcome = steps.transact(job, "start", node.partner.start_request(tracker))
            if outcome is not None and outcome.ok:
                steps.set(job, JobState.PRODUCING, block=outcome.block_number)
                node.dirty.add(order_id)
            return None  # the next step reads the new state once it is confirmed
        if job.state is not JobState.PRODUCING:
            job = steps.set(job, JobState.PRODUCING)
        node.adapter.submit(ProductionJob(order_id, design, spec, folder))
        node.log.info("production_submitted", order_id=order_id, adapter=node.adapter.name)
        return node.adapter.poll(order_id)

    def spec(self, tracker: OrderTracker, folder: Path) -> dict:
        path = folder / "spec.json"
        spec = _read_json(path)
        if spec is None:
            spec = self.node.partner.spec_document(tracker).model_dump(mode="json")
            write_json_atomic(path, spec)
        return spec

    def report(self, job: Job, tracker: OrderTracker, spec: Mapping, result: Any, folder: Path) -> dict:
        """Builds, keeps and pins the report once: a restart re-pins the same bytes, never a new report."""
        node = self.node
        report_path = folder / "report.json"
        if report_path.is_file():
            data = report_path.read_bytes()
        else:
            started = next((rec.time for rec in tracker.records if rec.kind == RecordKind.PRODUCTION_STARTED),
                           int(time.time()))
            report = build_report(result, spec, order_id=job.order_id, chain_id=node.chain.chain_id,
                                  contract=node.chain.book.address, partner=node.address, started_at=started,
                                  finished_at=max(started, int(time.time())))
            data = canonical_json(report)
            write_atomic(report_path, data, mode=0o644)
        passed = parse_report(data).passed
        cid, digest = node.partner.pin_report(data)
        meta = {"cid": cid, "sha256": digest.hex(), "passed": passed}
        write_json_atomic(folder / "report.meta.json", meta)
        node.log.info("report_pinned", order_id=job.order_id, cid=cid, passed=passed)
        return meta

    def cleanup(self, order_id: int) -> None:
        """Drops the decrypted design and the adapter's files; keeps the report and spec."""
        with contextlib.suppress(InputError):
            self.node.adapter.cleanup(order_id)
        shutil.rmtree(self.job_dir(order_id) / "design", ignore_errors=True)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        path.unlink(missing_ok=True)  # torn by a crash: rebuild it
        return None
