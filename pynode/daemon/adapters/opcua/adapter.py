"""The ``opcua`` adapter: a CNC machine behind an OPC UA server runs the job's NC program.

``submit`` loads the decrypted design (the NC program's bytes) on the machine as job
``fabmesh-<order id>`` and starts it; ``poll`` follows the job's CurrentState (a subscription,
or a read each poll when the server offers none) and, once the machine says Ended, reads the part
counter and the Measurements folder into the result and ``evidence/machine.json``. The result is
kept in the order's state file the moment it is read, so a restart (or the machine loading its next
job) never loses it.

Failures: a machine alarm or an aborted job fails the order with the machine's words; a lost
connection is transient -- the next call reconnects (full-jitter backoff) and follows the same job,
which the machine kept running -- until the machine has been unreachable for ``reconnect_timeout_s``,
which stops the node; settings that do not fit the machine stop it at once with one line.

One machine runs one job at a time: a second order waits (transient "machine busy") until the first
one's result has been read. The asyncua client runs in one private event-loop thread, joined by
``close``.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pynode.core.aioloop import LoopThread
from pynode.core.backoff import Backoff
from pynode.core.errors import FatalError
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
from pynode.daemon.adapters.opcua import model
from pynode.daemon.adapters.opcua.session import MachineRefused, MachineSession, MachineUnavailable
from pynode.daemon.adapters.opcua.settings import OpcuaSettings

T = TypeVar("T")

MAX_PROGRAM_BYTES = 16 << 20
EVIDENCE_NAME = "machine.json"


class MachineUnreachable(FatalError):
    """The machine has not answered for longer than ``reconnect_timeout_s``."""


class OpcuaAdapter(ProductionAdapter):
    name = "opcua"

    def __init__(self, settings: OpcuaSettings, *, state_dir: Path, clock: Callable[[], float] = time.monotonic,
                 backoff: Backoff | None = None) -> None:
        self.settings = settings
        self.state_dir = Path(state_dir)
        self._clock = clock
        self._backoff = backoff or Backoff(base_s=0.5, cap_s=30.0)
        self._loop = LoopThread("opcua-client")
        self._session: MachineSession | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._down_since: float | None = None

    # -- the machine connection ------------------------------------------------------------

    def _run(self, make: Callable[[MachineSession], Coroutine[Any, Any, T]]) -> T:
        """Runs one exchange on the session (connecting first if needed); a lost machine is noted and re-raised."""
        session = self._connected()
        try:
            return self._loop.run(make(session), self.settings.request_timeout_s * 2)
        except TimeoutError:
            raise self._lost(MachineUnavailable(f"{self.settings.endpoint}: no answer in time")) from None
        except MachineUnavailable as exc:
            raise self._lost(exc) from None

    def _connected(self) -> MachineSession:
        if self._session is not None:
            return self._session
        now = self._clock()
        if now < self._retry_at:
            raise MachineUnavailable(f"{self.settings.endpoint} unreachable; reconnecting in "
                                     f"{self._retry_at - now:.1f} s")
        session = MachineSession(self.settings)
        try:
            self._loop.run(session.open(), self.settings.request_timeout_s * 3)
        except TimeoutError:
            raise self._lost(MachineUnavailable(f"{self.settings.endpoint}: connecting took too long")) from None
        except MachineUnavailable as exc:
            raise self._lost(exc) from None
        self._session, self._failures, self._down_since = session, 0, None
        return session

    def _lost(self, exc: MachineUnavailable) -> Exception:
        """Drops the session and schedules the next attempt; the error to raise: past the timeout, a fatal one."""
        self._drop()
        now = self._clock()
        if self._down_since is None:
            self._down_since = now
        elif now - self._down_since > self.settings.reconnect_timeout_s:
            return MachineUnreachable(f"{self.settings.endpoint} unreachable for {now - self._down_since:.0f} s "
                                      f"(reconnect_timeout_s {self.settings.reconnect_timeout_s:g}): {exc}")
        self._retry_at = now + self._backoff.delay(self._failures)
        self._failures += 1
        return exc

    def _drop(self) -> None:
        session, self._session = self._session, None
        if session is not None and self._loop.alive:
            with contextlib.suppress(TimeoutError):  # the socket goes with the session; the loop stays usable
                self._loop.run(session.close(), self.settings.request_timeout_s * 2)

    def check(self) -> None:
        """Connects once at start-up, so a wrong endpoint, namespace, login or certificate stops the node at
        once; a machine that is off is no error yet: its outage counts from the first job that needs it."""
        try:
            self._connected()
        except MachineUnavailable:
            self._down_since, self._retry_at, self._failures = None, 0.0, 0

    def close(self) -> None:
        """Ends the session and joins the client's thread (the daemon calls it on the way out)."""
        self._drop()
        self._loop.close()

    # -- the adapter contract ----------------------------------------------------------------

    def submit(self, job: ProductionJob) -> None:
        if read_state(self.state_dir, job.order_id) is not None:
            return
        spec = job.parsed_spec()
        program = self._program(job)
        self._check_idle(job.order_id)
        ours = model.job_id(job.order_id)
        snapshot = self._run(lambda s: s.snapshot(fresh=True))
        loaded = snapshot.identifier == ours  # before a crash: follow it, start it if it never was
        if not loaded and snapshot.state in (model.JobState.RUNNING, model.JobState.INTERRUPTED):
            raise MachineUnavailable(f"order {job.order_id}: machine busy with job {snapshot.identifier}")
        try:
            if not loaded:
                self._run(lambda s: s.load(ours, job.design_path.name, program, spec.quantity))
            if not loaded or snapshot.state is model.JobState.INITIALIZING:
                self._run(lambda s: s.start(ours))
        except MachineRefused as exc:
            raise ProductionFailed(f"order {job.order_id}: {exc}") from None
        write_json_atomic(self.state_dir / f"{job.order_id}.json", {
            "order_id": job.order_id, "job": ours, "work_dir": str(job.work_dir), "quantity": spec.quantity,
            "program_size": len(program), "program_sha256": hashlib.sha256(program).hexdigest(),
            "submitted_at": time.time(), "result": None})

    def _program(self, job: ProductionJob) -> bytes:
        try:
            size = job.design_path.stat().st_size
            if size > MAX_PROGRAM_BYTES:
                raise ProductionFailed(f"order {job.order_id}: NC program of {size} bytes, more than the "
                                       f"{MAX_PROGRAM_BYTES} this adapter hands to a machine")
            return job.design_path.read_bytes()
        except FileNotFoundError:
            raise ProductionFailed(f"order {job.order_id}: design file {job.design_path} missing") from None

    def _check_idle(self, order_id: int) -> None:
        """Another order still on the machine (its result not yet read): this one waits its turn."""
        for path in sorted(self.state_dir.glob("*.json")):
            if path.stem.isdigit() and int(path.stem) != order_id:
                other = read_state(self.state_dir, int(path.stem))
                if other is not None and other.get("result") is None:
                    raise MachineUnavailable(f"order {order_id}: machine busy with order {path.stem}")

    def poll(self, order_id: int) -> ProductionResult | None:
        state = read_state(self.state_dir, order_id)
        if state is None:
            raise UnknownJob(f"order {order_id} was not submitted to the OPC UA machine")
        if state.get("result") is not None:
            return stored_result(state["result"])
        verdict, reason = model.judge(self._run(lambda s: s.snapshot()), order_id)
        if verdict is model.Verdict.FAILED:  # the subscription may lag our own load: the machine confirms
            verdict, reason = model.judge(self._run(lambda s: s.snapshot(fresh=True)), order_id)
        if verdict is model.Verdict.FAILED:
            raise ProductionFailed(reason)
        if verdict is model.Verdict.WAITING:
            timeout = self.settings.job_timeout_s
            if timeout is not None and time.time() - state["submitted_at"] > timeout:
                raise ProductionFailed(f"order {order_id}: the machine has not ended job {state['job']} "
                                       f"after {timeout:g} s")
            return None
        return self._finish(order_id, state)

    def _finish(self, order_id: int, state: dict[str, Any]) -> ProductionResult:
        """Reads the counter and the measurements once the machine says Ended; keeps them in the state file."""
        snapshot = self._run(lambda s: s.snapshot(fresh=True))
        verdict, reason = model.judge(snapshot, order_id)
        if verdict is model.Verdict.FAILED:
            raise ProductionFailed(reason)
        measurements = self._run(lambda s: s.measurements())
        values, skipped = model.measured_values(measurements)
        document = model.evidence_document(order_id, snapshot, measurements, endpoint=self.settings.endpoint,
                                           program_size=state["program_size"],
                                           program_sha256=state["program_sha256"], quantity=state["quantity"])
        evidence = Path(state["work_dir"]) / "evidence" / EVIDENCE_NAME
        evidence.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(evidence, document)
        passed, notes = model.verdict_notes(snapshot, state["quantity"], skipped)
        values["parts_produced"] = float(snapshot.runs_completed)
        result = {"passed": passed, "measurements": values, "evidence": [str(evidence)], "notes": notes}
        write_json_atomic(self.state_dir / f"{order_id}.json", {**state, "result": result})
        return stored_result(result)

    def cleanup(self, order_id: int) -> None:
        state = read_state(self.state_dir, order_id)
        if state is not None:
            shutil.rmtree(Path(state["work_dir"]) / "evidence", ignore_errors=True)
        (self.state_dir / f"{order_id}.json").unlink(missing_ok=True)
