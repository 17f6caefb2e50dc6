"""An accepted v2 award's production: the hand-over to the adapter, the quality report, pinned once.

The job's folder (``work_dir/jobs/<key>``) keeps the spec and the report, written once, so a restart re-pins
the same bytes and never builds a new report; the decrypted design and the adapter's files go when the job
ends (:meth:`Making.cleanup`). The report's (CID, SHA-256) is what ``ship`` commits to.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from pynode.chain.v2.orders import OrderView
from pynode.core.errors import InputError
from pynode.core.fsutil import write_atomic, write_json_atomic
from pynode.daemon.adapters import ProductionAdapter, ProductionJob, UnknownJob
from pynode.documents.quality_report import build_report, canonical_json, parse_report
from pynode.ipfs.client import IpfsClient


class Making:
    def __init__(self, adapter: ProductionAdapter, ipfs: IpfsClient, jobs_dir: Path, *, chain_id: int, book: str,
                 partner: str, raw_leaves: bool = False) -> None:
        self.adapter = adapter
        self.ipfs = ipfs
        self.jobs_dir = jobs_dir
        self.chain_id, self.book, self.partner = chain_id, book, partner
        self.raw_leaves = raw_leaves

    def folder(self, key: int) -> Path:
        return self.jobs_dir / str(key)

    def report_meta(self, key: int) -> dict[str, Any] | None:
        """The pinned report's {cid, sha256, passed}, once built."""
        path = self.folder(key) / "report.meta.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            path.unlink(missing_ok=True)  # torn by a crash: pinned again from report.json
            return None

    def advance(self, key: int, order: OrderView, design: Path, spec: dict[str, Any]) -> dict[str, Any] | None:
        """Submits the job (once) and polls it; with its result, the report pinned (its meta), else None."""
        try:
            result = self.adapter.poll(key)
        except UnknownJob:
            self.adapter.submit(ProductionJob(key, design, spec, self.folder(key)))
            result = self.adapter.poll(key)
        return None if result is None else self._pin(key, order, spec, result)

    def _pin(self, key: int, order: OrderView, spec: dict[str, Any], result: Any) -> dict[str, Any]:
        folder = self.folder(key)
        path = folder / "report.json"
        if not path.is_file():
            started = order.awarded_at or int(time.time())
            report = build_report(result, spec, order_id=order.order_id, chain_id=self.chain_id, contract=self.book,
                                  partner=self.partner, started_at=started, finished_at=max(started, int(time.time())))
            write_atomic(path, canonical_json(report), mode=0o644)
        data = path.read_bytes()
        meta = {"cid": self.ipfs.add_bytes(data, raw_leaves=self.raw_leaves),
                "sha256": hashlib.sha256(data).hexdigest(), "passed": parse_report(data).passed}
        write_json_atomic(folder / "report.meta.json", meta)
        return meta

    def cleanup(self, key: int) -> None:
        """Drops the decrypted design and the adapter's files; keeps the report and the spec."""
        with contextlib.suppress(InputError):
            self.adapter.cleanup(key)
        shutil.rmtree(self.folder(key) / "design", ignore_errors=True)
