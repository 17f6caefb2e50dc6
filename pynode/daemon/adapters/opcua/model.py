"""The machine's OPC UA node model, how its states read, and what a finished job's evidence holds (no I/O).

In the spirit of OPC 40501 (Machine Tools / umati): under ``Objects`` the machine object (its browse
name is the ``machine`` setting, every name in the server's ``namespace_uri``) holds::

    <machine>/Production/LoadProgram(JobId: String, Name: String, Program: ByteString, RunsPlanned: UInt32)
    <machine>/Production/Start(JobId: String)
    <machine>/Production/ActiveJob/Identifier       String: the job loaded (ours: "fabmesh-<order id>")
    <machine>/Production/ActiveJob/ProgramName      String
    <machine>/Production/ActiveJob/CurrentState     LocalizedText: the ProductionJobStateMachineType's
                                                    Initializing, Running, Interrupted, Ended or Aborted
    <machine>/Production/ActiveJob/RunsCompleted    UInt32: the part counter
    <machine>/Production/ActiveJob/RunsPlanned      UInt32
    <machine>/Production/ActiveJob/Measurements/<dimension>   Double, with optional properties
                                                    Nominal, TolerancePlus, ToleranceMinus (Double), Unit (String)
    <machine>/Notification/Alarm/Active             Boolean
    <machine>/Notification/Alarm/Message            String: what the machine says is wrong

Interrupted (feed hold, door open) keeps the job waiting like Running; an active alarm or Aborted
fails it; Ended completes it.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pynode.documents.spec import NAME_PATTERN

DEFAULT_NAMESPACE = "urn:fabmesh:machine-tool"
DEFAULT_MACHINE = "MachineTool"

PRODUCTION = "Production"
LOAD_PROGRAM = "LoadProgram"
START = "Start"
ACTIVE_JOB = "ActiveJob"
IDENTIFIER = "Identifier"
PROGRAM_NAME = "ProgramName"
CURRENT_STATE = "CurrentState"
RUNS_COMPLETED = "RunsCompleted"
RUNS_PLANNED = "RunsPlanned"
MEASUREMENTS = "Measurements"
NOTIFICATION = "Notification"
ALARM = "Alarm"
ALARM_ACTIVE = "Active"
ALARM_MESSAGE = "Message"
MEASUREMENT_PROPERTIES = ("Nominal", "TolerancePlus", "ToleranceMinus", "Unit")

#: the variables a job is followed by, as paths below the machine object
JOB_PATHS: dict[str, tuple[str, ...]] = {
    "identifier": (PRODUCTION, ACTIVE_JOB, IDENTIFIER),
    "program_name": (PRODUCTION, ACTIVE_JOB, PROGRAM_NAME),
    "state": (PRODUCTION, ACTIVE_JOB, CURRENT_STATE),
    "runs_completed": (PRODUCTION, ACTIVE_JOB, RUNS_COMPLETED),
    "runs_planned": (PRODUCTION, ACTIVE_JOB, RUNS_PLANNED),
    "alarm_active": (NOTIFICATION, ALARM, ALARM_ACTIVE),
    "alarm_message": (NOTIFICATION, ALARM, ALARM_MESSAGE),
}


class JobState(enum.Enum):
    """ProductionJobStateMachineType's states (OPC 40501-1, 8.4.8)."""

    INITIALIZING = "Initializing"
    RUNNING = "Running"
    INTERRUPTED = "Interrupted"
    ENDED = "Ended"
    ABORTED = "Aborted"


def job_id(order_id: int) -> str:
    """The machine's job identifier for an order: the same after any restart, so following resumes."""
    return f"fabmesh-{order_id}"


def parse_state(value: Any) -> JobState | None:
    """A CurrentState value (LocalizedText text or a plain string) as a state; None for one we do not know."""
    text = getattr(value, "Text", value)
    if not isinstance(text, str):
        return None
    try:
        return JobState(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class Snapshot:
    """What the machine reports about its active job and its alarm, at one moment."""

    identifier: str | None
    state: JobState | None
    runs_completed: int = 0
    runs_planned: int = 0
    alarm_active: bool = False
    alarm_message: str = ""
    program_name: str = ""
    raw_state: str = ""

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Snapshot:
        """From {JOB_PATHS key: value read}; missing or mistyped values read as empty."""
        state_value = values.get("state")
        raw = getattr(state_value, "Text", state_value)
        return cls(identifier=_text(values.get("identifier")) or None, state=parse_state(state_value),
                   runs_completed=_count(values.get("runs_completed")), runs_planned=_count(values.get("runs_planned")),
                   alarm_active=values.get("alarm_active") is True, alarm_message=_text(values.get("alarm_message")),
                   program_name=_text(values.get("program_name")), raw_state=raw if isinstance(raw, str) else "")


class Verdict(enum.Enum):
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"


def judge(snapshot: Snapshot, order_id: int) -> tuple[Verdict, str]:
    """Where our job stands on the machine, and the one-line reason when it failed."""
    ours = job_id(order_id)
    if snapshot.identifier != ours:
        loaded = snapshot.identifier or "nothing"
        return Verdict.FAILED, f"order {order_id}: the machine lost job {ours} (it has {loaded} loaded)"
    if snapshot.alarm_active:
        return Verdict.FAILED, f"order {order_id}: machine alarm: {_clip(snapshot.alarm_message) or 'no message'}"
    if snapshot.state is JobState.ABORTED:
        return Verdict.FAILED, f"order {order_id}: the machine aborted job {ours}"
    if snapshot.state is JobState.ENDED:
        return Verdict.DONE, ""
    if snapshot.state is None:
        return Verdict.FAILED, f"order {order_id}: unknown machine state {_clip(snapshot.raw_state)!r}"
    return Verdict.WAITING, ""


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    properties: dict[str, Any] = field(default_factory=dict)


def measured_values(measurements: list[Measurement]) -> tuple[dict[str, float], list[str]]:
    """{name: value} of the usable measurements, and a note for each one left out (bad name or value)."""
    values: dict[str, float] = {}
    skipped = []
    for item in measurements:
        if not re.match(NAME_PATTERN, item.name):
            skipped.append(f"measurement {_clip(item.name)!r} has a name a report cannot carry")
        elif isinstance(item.value, bool) or not isinstance(item.value, int | float) or not math.isfinite(item.value):
            skipped.append(f"measurement {item.name} is not a finite number")
        else:
            values[item.name] = float(item.value)
    return values, skipped


def evidence_document(order_id: int, snapshot: Snapshot, measurements: list[Measurement], *, endpoint: str,
                      program_size: int, program_sha256: str, quantity: int) -> dict[str, Any]:
    """machine.json: the machine's own account of the job, hashed into the quality report."""
    return {
        "order_id": order_id, "machine_job": job_id(order_id), "endpoint": endpoint,
        "program": {"name": snapshot.program_name, "size": program_size, "sha256": program_sha256},
        "state": snapshot.raw_state, "runs_completed": snapshot.runs_completed,
        "runs_planned": snapshot.runs_planned, "quantity": quantity,
        "measurements": [{"name": m.name, "value": m.value if _finite(m.value) else None,
                          **{k: v for k, v in sorted(m.properties.items()) if _plain(v)}}
                         for m in sorted(measurements, key=lambda m: m.name)],
    }


def verdict_notes(snapshot: Snapshot, quantity: int, skipped: list[str]) -> tuple[bool, str]:
    """(passed, notes) for a job the machine ended: every planned part made is the machine's own pass."""
    made = snapshot.runs_completed
    passed = made >= quantity
    notes = f"machine ended job {snapshot.identifier}: {made} of {quantity} parts"
    if not passed:
        notes += " (short)"
    if skipped:
        notes += "; " + "; ".join(skipped)
    return passed, notes


def _text(value: Any) -> str:
    value = getattr(value, "Text", value)
    return value if isinstance(value, str) else ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _plain(value: Any) -> bool:
    return isinstance(value, str) or _finite(value)


def _clip(text: str, limit: int = 200) -> str:
    """Machine text kept to one short line: it goes into a log line and an order's failure reason."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
