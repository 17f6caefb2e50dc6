"""A hot folder: the shop's own software picks jobs up from ``inbox`` and answers in ``outbox``.

Protocol (documented for shop integrators):

* For each job the node creates ``<inbox>/<order-id>/`` holding the decrypted
  design (its original file name) and ``job.json`` ({"order_id", "design",
  "spec"}). The folder appears atomically: it is built under a hidden temp
  name (``.<order-id>.*``) and renamed, so a watcher that skips names
  starting with ``.`` never sees half a job.
* When done, the shop writes ``<outbox>/<order-id>/result.json`` -- ideally by
  writing a temp file and renaming it; the node also waits until the file has
  not changed for ``settle_s`` seconds -- plus any evidence files in the same
  folder::

      {"order_id": 12, "passed": true, "measurements": {"bore_d": 10.02},
       "evidence": ["photos/top.jpg", "cmm.csv"], "notes": "free text"}

* result.json is checked strictly (size cap, UTF-8 JSON, exact schema,
  finite numbers, evidence paths relative and inside the folder, existing
  regular files). A bad one fails the job with a one-line reason naming the
  problem; it never stops the daemon.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pynode.core.errors import InputError, TransientError
from pynode.core.fsutil import fsync_dir, write_json_atomic
from pynode.core.strict_json import strict_json_loads
from pynode.daemon.adapters.base import (
    ProductionAdapter,
    ProductionFailed,
    ProductionJob,
    ProductionResult,
    UnknownJob,
    read_state,
)
from pynode.documents.spec import NAME_PATTERN
from pynode.documents.validation import one_line

MAX_RESULT_BYTES = 1 << 20


class HotfolderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    adapter: Literal["hotfolder"] = "hotfolder"
    inbox: Path
    outbox: Path
    max_result_bytes: int = Field(default=MAX_RESULT_BYTES, ge=1024, le=64 << 20)
    max_evidence_files: int = Field(default=100, ge=0, le=10_000)
    settle_s: float = Field(default=2.0, ge=0, description="result.json must be this old before it is read")
    timeout_s: float | None = Field(default=None, gt=0, description="fail the job if no result by then")


class HotfolderResult(BaseModel):
    """result.json: exactly these keys, strict types."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    order_id: int = Field(ge=0)
    passed: bool
    measurements: dict[str, float] = Field(max_length=1000)
    evidence: list[str] = Field(default_factory=list)
    notes: str = Field(default="", max_length=10_000)

    @field_validator("measurements")
    @classmethod
    def _names(cls, value: dict[str, float]) -> dict[str, float]:
        import re

        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"measurement name {name!r} must match {NAME_PATTERN}")
        return value


class HotfolderAdapter(ProductionAdapter):
    name = "hotfolder"

    def __init__(self, settings: HotfolderSettings, *, state_dir: Path,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.state_dir = Path(state_dir)
        self._clock = clock

    def _folders(self) -> tuple[Path, Path]:
        inbox, outbox = self.settings.inbox, self.settings.outbox
        for folder in (inbox, outbox):
            if not folder.is_dir():
                raise TransientError(f"hot folder {folder} is not there (share not mounted?)")
        return inbox, outbox

    def submit(self, job: ProductionJob) -> None:
        if read_state(self.state_dir, job.order_id) is not None:
            return
        spec = job.parsed_spec()
        inbox, _ = self._folders()
        if not job.design_path.is_file():
            raise ProductionFailed(f"order {job.order_id}: design file {job.design_path} missing")
        final = inbox / str(job.order_id)
        if not final.exists():  # exists: we crashed between the rename and the state file
            staging = Path(tempfile.mkdtemp(prefix=f".{job.order_id}.", dir=inbox))
            try:
                design_name = job.design_path.name if job.design_path.name != "job.json" else "design.bin"
                shutil.copyfile(job.design_path, staging / design_name)
                write_json_atomic(staging / "job.json", {
                    "order_id": job.order_id, "design": design_name,
                    "spec": {**dict(job.spec), **spec.model_dump(mode="json")}})
                with open(staging / design_name, "rb") as copied:
                    os.fsync(copied.fileno())
                os.rename(staging, final)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            fsync_dir(inbox)
        write_json_atomic(self.state_dir / f"{job.order_id}.json",
                          {"order_id": job.order_id, "submitted_at": self._clock()})

    def poll(self, order_id: int) -> ProductionResult | None:
        state = read_state(self.state_dir, order_id)
        if state is None:
            raise UnknownJob(f"order {order_id} was not submitted to the hot folder")
        _, outbox = self._folders()
        folder = outbox / str(order_id)
        path = folder / "result.json"
        try:
            info = path.lstat()
        except FileNotFoundError:
            timeout = self.settings.timeout_s
            if timeout is not None and self._clock() - state["submitted_at"] > timeout:
                raise ProductionFailed(f"order {order_id}: no result.json in {folder} after {timeout:g} s") from None
            return None
        if self._clock() - info.st_mtime < self.settings.settle_s:
            return None  # the shop may still be writing it
        return self._read_result(order_id, folder, path)

    def _read_result(self, order_id: int, folder: Path, path: Path) -> ProductionResult:
        what = f"order {order_id}: result.json"
        try:
            folder_real = folder.resolve(strict=True)
            if path.is_symlink() or not path.is_file():
                raise ProductionFailed(f"{what}: not a regular file")
            with open(path, "rb") as src:
                data = src.read(self.settings.max_result_bytes + 1)
            document = strict_json_loads(data, what, self.settings.max_result_bytes)
            if not isinstance(document, dict):
                raise ProductionFailed(f"{what}: must be a JSON object, not {type(document).__name__}")
            result = HotfolderResult.model_validate(document)
        except ProductionFailed:
            raise
        except InputError as exc:
            raise ProductionFailed(str(exc)) from None
        except ValidationError as exc:
            raise ProductionFailed(one_line(exc, what)) from None
        except OSError as exc:
            raise ProductionFailed(f"{what}: unreadable: {exc.strerror or exc}") from None
        if result.order_id != order_id:
            raise ProductionFailed(f"{what}: order_id is {result.order_id}, expected {order_id}")
        if len(result.evidence) > self.settings.max_evidence_files:
            raise ProductionFailed(f"{what}: {len(result.evidence)} evidence files, more than the "
                                   f"{self.settings.max_evidence_files} allowed")
        evidence = tuple(self._evidence(what, folder_real, name) for name in result.evidence)
        if len(set(evidence)) != len(evidence):
            raise ProductionFailed(f"{what}: evidence lists a file twice")
        return ProductionResult(passed=result.passed, measurements=dict(result.measurements),
                                evidence=evidence, notes=result.notes)

    @staticmethod
    def _evidence(what: str, folder_real: Path, name: str) -> Path:
        """An evidence entry must name an existing regular file inside the result folder."""
        pure = PurePosixPath(name)
        if not name or "\\" in name or "\0" in name or pure.is_absolute() or ".." in pure.parts:
            raise ProductionFailed(f"{what}: evidence path {name!r} must be relative, inside the result folder")
        candidate = folder_real.joinpath(*pure.parts)
        real = candidate.resolve()
        if not real.is_relative_to(folder_real) or real == folder_real:
            raise ProductionFailed(f"{what}: evidence path {name!r} leads outside the result folder")
        if not real.is_file():
            raise ProductionFailed(f"{what}: evidence file {name!r} does not exist")
        return real

    def cleanup(self, order_id: int) -> None:
        """Removes the inbox and outbox folders of the order (after the daemon has hashed the evidence)."""
        for root in (self.settings.inbox, self.settings.outbox):
            shutil.rmtree(root / str(order_id), ignore_errors=True)
        (self.state_dir / f"{order_id}.json").unlink(missing_ok=True)
