"""The ``octoprint`` adapter: a pool of OctoPrint servers (a print farm) prints the job's G-code.

``submit`` picks an idle printer (Operational, nothing printing) that no other unfinished order of this
node holds, uploads the decrypted design as ``fabmesh-<order id>.gcode`` and starts it in the same
request; an STL/3MF design is first sliced with the shop's PrusaSlicer profile when ``[production.slicer]``
is set (``slicer``: the evidence then also names the slicer, the design's and the profile's hashes).
``poll`` follows the print by polling ``/api/job`` and the file's print history (see ``model``) and, once
OctoPrint records a successful print, writes ``evidence/octoprint.json`` (print time, filament from
OctoPrint's analysis, the G-code's sha256, OctoPrint's record) and the result, kept in the order's state
file so a restarted node returns the same result without asking again.

Failures: a cancelled print, a printer error or a job that vanished (a restarted OctoPrint keeps no
print: the order fails once the server is back without it) fail the order; a server that does not
answer is transient -- each call retries it after full-jitter backoff -- until it has been unreachable
for ``reconnect_timeout_s``, which fails the order it holds; a wrong API key, a slicer that is not
installed or an unreadable profile stop the node at :meth:`check` with one line; a design the slicer
refuses fails its order.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pynode.core.backoff import Backoff
from pynode.core.fsutil import write_json_atomic
from pynode.daemon.adapters.base import (
    ProductionAdapter,
    ProductionFailed,
    ProductionJob,
    ProductionResult,
    UnknownJob,
    read_state,
    stored_result,
)
from pynode.daemon.adapters.octoprint import model, slicer
from pynode.daemon.adapters.octoprint.client import PrinterClient, PrinterRefused, PrinterUnavailable
from pynode.daemon.adapters.octoprint.settings import OctoprintSettings

T = TypeVar("T")
EVIDENCE_NAME = "octoprint.json"


class OctoprintAdapter(ProductionAdapter):
    name = "octoprint"

    def __init__(self, settings: OctoprintSettings, *, state_dir: Path, clock: Callable[[], float] = time.monotonic,
                 backoff: Backoff | None = None) -> None:
        self.settings = settings
        self.state_dir = Path(state_dir)
        self._clock = clock
        self._backoff = backoff or Backoff(base_s=0.5, cap_s=30.0)
        self._printers = {printer.name: printer for printer in settings.printers}
        self._clients: dict[str, PrinterClient] = {}
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._down_since: dict[str, float] = {}
        self._offline_since: dict[str, float] = {}  # the server answers, its printer is not connected

    # -- the printers --------------------------------------------------------------------------

    def _client(self, name: str) -> PrinterClient:
        if name not in self._clients:  # reads the key file: a missing one is a fatal config error
            self._clients[name] = PrinterClient(self._printers[name], self.settings.request_timeout_s)
        return self._clients[name]

    def _ask(self, name: str, call: Callable[[PrinterClient], T]) -> T:
        """One exchange with printer ``name``; an unreachable one is retried only after its backoff."""
        now = self._clock()
        if now < self._retry_at.get(name, 0.0):
            raise PrinterUnavailable(f"printer {name} unreachable; retrying in {self._retry_at[name] - now:.1f} s")
        try:
            answer = call(self._client(name))
        except PrinterUnavailable:
            self._down_since.setdefault(name, now)
            failures = self._failures.get(name, 0)
            self._retry_at[name] = now + self._backoff.delay(failures)
            self._failures[name] = failures + 1
            raise
        self._failures.pop(name, None)
        self._retry_at.pop(name, None)
        self._down_since.pop(name, None)
        return answer

    def check(self) -> None:
        """Asks every printer once at start-up: a wrong API key or URL stops the node at once; a printer
        that is off is no error yet (it is simply not idle)."""
        if self.settings.slicer is not None:
            slicer.check_slicer(self.settings.slicer)
        for name in self._printers:
            with contextlib.suppress(PrinterUnavailable):
                self._client(name).version()
                self._client(name).job()  # the key must reach the printer API, not just the version

    def capacity(self) -> int:
        """How many more jobs the farm can start now: idle printers no unfinished order holds."""
        held = self._held()
        return sum(1 for name in self._idle() if name not in held)

    def _idle(self) -> list[str]:
        idle = []
        for name in self._printers:
            with contextlib.suppress(PrinterUnavailable):
                if model.is_idle(self._ask(name, lambda c: c.printer_state())):
                    idle.append(name)
        return idle

    def _held(self, but: int | None = None) -> set[str]:
        held = set()
        for path in sorted(self.state_dir.glob("*.json")):
            if path.stem.isdigit() and int(path.stem) != but:
                state = read_state(self.state_dir, int(path.stem))
                if state is not None and state.get("result") is None:
                    held.add(state["printer"])
        return held

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    # -- the adapter contract --------------------------------------------------------------------

    def submit(self, job: ProductionJob) -> None:
        state = read_state(self.state_dir, job.order_id)
        if state is not None and state.get("started"):
            return
        gcode, slicing = self._gcode(job)
        name = model.file_name(job.order_id)
        if state is None:
            printer = model.choose_printer(self._idle(), self._held(but=job.order_id))
            if printer is None:
                raise PrinterUnavailable(f"order {job.order_id}: no idle printer among {len(self._printers)}")
            state = {"order_id": job.order_id, "printer": printer, "file": name, "work_dir": str(job.work_dir),
                     "gcode_size": len(gcode), "gcode_sha256": hashlib.sha256(gcode).hexdigest(),
                     "slicing": slicing, "submitted_at": time.time(), "started": False, "result": None}
            write_json_atomic(self._path(job.order_id), state)  # the printer is ours before the upload
        printer = state["printer"]
        if not self._started_before(printer, name, state["submitted_at"]):
            try:
                self._ask(printer, lambda c: c.upload_and_print(name, gcode))
            except PrinterRefused:  # taken or disconnected since we looked: choose again next time
                self._path(job.order_id).unlink(missing_ok=True)
                raise PrinterUnavailable(f"order {job.order_id}: printer {printer} could not start it") from None
        write_json_atomic(self._path(job.order_id), {**state, "started": True})

    def _started_before(self, printer: str, name: str, since: float) -> bool:
        """A node stopped between the upload and its state file's word: the print runs or has ended since."""
        selected = (self._ask(printer, lambda c: c.job()).get("job") or {}).get("file", {}).get("name")
        if selected == name and any(model.flags(self._ask(printer, lambda c: c.printer_state())).get(f)
                                    for f in model.BUSY_FLAGS):
            return True
        record = self._ask(printer, lambda c: c.file(name))
        last = ((record or {}).get("prints") or {}).get("last") or {}
        return bool(last) and float(last.get("date", 0)) >= since - 1

    def _gcode(self, job: ProductionJob) -> tuple[bytes, dict[str, Any] | None]:
        """The G-code to print: the design itself, or sliced from its mesh (with what the evidence says of it)."""
        design, slicing = job.design_path, None
        try:
            if not slicer.is_gcode(design):
                kind = slicer.mesh_kind(design)
                if kind is None or self.settings.slicer is None:
                    does = "STL/3MF with the [production.slicer] profile" if self.settings.slicer else \
                        "no STL/3MF: [production.slicer] is not set"
                    raise ProductionFailed(f"order {job.order_id}: design {design.name} is not G-code "
                                           f"({', '.join(model.GCODE_SUFFIXES)}); this node slices {does}")
                design = slicer.slice_design(self.settings.slicer, job.order_id, design, kind, job.work_dir)
                slicing = (self.settings.slicer, job.design_path, kind)
            size = design.stat().st_size
            if size > self.settings.max_gcode_bytes:
                raise ProductionFailed(f"order {job.order_id}: G-code of {size} bytes, more than max_gcode_bytes "
                                       f"{self.settings.max_gcode_bytes}")
            gcode = design.read_bytes()
            return gcode, None if slicing is None else slicer.slicing_record(*slicing, gcode)
        except FileNotFoundError:
            raise ProductionFailed(f"order {job.order_id}: design file {design} missing") from None

    def poll(self, order_id: int) -> ProductionResult | None:
        state = read_state(self.state_dir, order_id)
        if state is None or not state.get("started"):
            raise UnknownJob(f"order {order_id} was not started on an OctoPrint printer")
        if state.get("result") is not None:
            return stored_result(state["result"])
        printer, name = state["printer"], state["file"]
        try:
            job = self._ask(printer, lambda c: c.job())
            status = self._ask(printer, lambda c: c.printer_state())
            record = self._ask(printer, lambda c: c.file(name))
        except PrinterUnavailable as exc:
            down = self._clock() - self._down_since.get(printer, self._clock())
            if down > self.settings.reconnect_timeout_s:
                raise ProductionFailed(f"order {order_id}: printer {printer} unreachable for {down:.0f} s "
                                       f"(reconnect_timeout_s {self.settings.reconnect_timeout_s:g}): {exc}") from None
            raise
        age = time.time() - state["submitted_at"]
        verdict, reason = model.judge(name, job, status, record, submitted_at=state["submitted_at"], age_s=age,
                                      grace_s=self.settings.start_grace_s)
        if verdict is model.Verdict.FAILED:
            raise ProductionFailed(f"order {order_id} on printer {printer}: {reason}")
        if verdict is not model.Verdict.DONE:
            self._check_connected(order_id, printer, status)
            timeout = self.settings.job_timeout_s
            if timeout is not None and age > timeout:
                raise ProductionFailed(f"order {order_id}: printer {printer} has not finished {name} after "
                                       f"{timeout:g} s")
            return None
        assert record is not None
        ended = float(record["prints"]["last"]["date"])
        if not model.analysed(record) and time.time() - ended < self.settings.start_grace_s:
            return None  # its filament figures follow the print by a moment
        return self._finish(order_id, state, job, record)

    def _check_connected(self, order_id: int, printer: str, status: dict[str, Any] | None) -> None:
        """A server whose printer stays disconnected (no auto-connect after a restart) counts as unreachable."""
        if status is not None:
            self._offline_since.pop(printer, None)
            return
        now = self._clock()
        offline = now - self._offline_since.setdefault(printer, now)
        if offline > self.settings.reconnect_timeout_s:
            raise ProductionFailed(f"order {order_id}: printer {printer} not connected to its OctoPrint server for "
                                   f"{offline:.0f} s (reconnect_timeout_s {self.settings.reconnect_timeout_s:g})")

    def _finish(self, order_id: int, state: dict[str, Any], job: dict[str, Any],
                record: dict[str, Any]) -> ProductionResult:
        printer = state["printer"]
        document = model.evidence_document(order_id, printer, self._printers[printer].url, job, record,
                                           gcode_sha256=state["gcode_sha256"], gcode_size=state["gcode_size"],
                                           slicing=state.get("slicing"))
        evidence = Path(state["work_dir"]) / "evidence" / EVIDENCE_NAME
        evidence.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(evidence, document)
        values = model.measurements(document)
        result = {"passed": True, "measurements": values, "evidence": [str(evidence)],
                  "notes": f"printed on {printer} in {values['print_time_s']:.1f} s"}
        write_json_atomic(self._path(order_id), {**state, "result": result})
        return stored_result(result)

    def cleanup(self, order_id: int) -> None:
        state = read_state(self.state_dir, order_id)
        if state is not None:
            work_dir = Path(state["work_dir"])
            shutil.rmtree(work_dir / "evidence", ignore_errors=True)
            for name in (slicer.SLICED_NAME, slicer.SLICED_NAME + ".part", slicer.LOG_NAME):
                (work_dir / name).unlink(missing_ok=True)
            with contextlib.suppress(PrinterUnavailable, PrinterRefused):  # best effort: the farm's disk
                self._ask(state["printer"], lambda c: c.delete(state["file"]))
        self._path(order_id).unlink(missing_ok=True)

    def _path(self, order_id: int) -> Path:
        return self.state_dir / f"{order_id}.json"
