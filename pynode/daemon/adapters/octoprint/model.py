"""What OctoPrint's replies mean for one order (pure: no sockets), and the evidence they make.

A print is followed by polling: ``GET /api/job`` says what the printer is doing, and the order's own
G-code file's print history (``prints.last`` of ``GET /api/files/local/<file>``, which OctoPrint writes
when a print is done, cancelled or stopped by an error) says how it ended. The file name is the order's
own, so any history after the upload is this order's.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

GCODE_SUFFIXES = (".gcode", ".gco", ".g")
# printer flags under which the selected file is still on its way (OctoPrint's /api/printer state.flags)
BUSY_FLAGS = ("printing", "paused", "pausing", "cancelling", "finishing", "resuming")


class Verdict(enum.Enum):
    RUNNING = "running"
    WAITING = "waiting"  # no word yet (just started, printer reconnecting): ask again
    DONE = "done"
    FAILED = "failed"


def file_name(order_id: int) -> str:
    return f"fabmesh-{order_id}.gcode"


def flags(printer: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return {} if printer is None else dict(printer.get("state", {}).get("flags", {}))


def is_idle(printer: Mapping[str, Any] | None) -> bool:
    """Operational, ready and not printing (nor pausing, cancelling…): a job can start now."""
    state = flags(printer)
    return bool(state.get("operational") and state.get("ready")) and not any(state.get(f) for f in BUSY_FLAGS) \
        and not state.get("error")


def choose_printer(idle: Iterable[str], held: Iterable[str]) -> str | None:
    """The first idle printer (settings order) no unfinished order of this node holds."""
    taken = set(held)
    return next((name for name in idle if name not in taken), None)


def judge(name: str, job: Mapping[str, Any], printer: Mapping[str, Any] | None, record: Mapping[str, Any] | None,
          *, submitted_at: float, age_s: float, grace_s: float) -> tuple[Verdict, str]:
    """How the order printing ``name`` stands, and why in one line when it failed."""
    selected = (job.get("job") or {}).get("file", {}).get("name")
    state = flags(printer)
    if selected == name and any(state.get(f) for f in BUSY_FLAGS):
        return Verdict.RUNNING, ""
    if record is None:
        return Verdict.FAILED, f"file {name} is gone from OctoPrint"
    last = (record.get("prints") or {}).get("last") or {}
    if last and float(last.get("date", 0)) >= submitted_at - 1:
        if last.get("success"):
            return Verdict.DONE, ""
        return Verdict.FAILED, f"OctoPrint ended {name} unsuccessfully (cancelled or stopped by a printer error" \
                               f"{': ' + str(job.get('error')) if job.get('error') else ''})"
    if state.get("error"):
        error = (printer or {}).get("state", {}).get("error") or job.get("state")
        return Verdict.FAILED, f"the printer is in error ({error}) with no print record for {name}"
    if printer is None or not state.get("operational"):
        return Verdict.WAITING, ""  # not connected (yet): a restarted server reconnects its printer
    if age_s < grace_s:
        return Verdict.WAITING, ""
    shown = f"shows {selected}" if selected else "shows no job"
    return Verdict.FAILED, (f"the job vanished: OctoPrint {shown} and has no print record for {name} "
                            "(a restarted server does not resume a print)")


def analysed(record: Mapping[str, Any]) -> bool:
    """OctoPrint analyses an upload in the background, paused while a print runs: done when it has filament."""
    return bool((record.get("gcodeAnalysis") or {}).get("filament"))


def filament(job: Mapping[str, Any], record: Mapping[str, Any]) -> tuple[float, float]:
    """(length mm, volume cm³) summed over the tools of OctoPrint's G-code analysis (the file's, else the job's)."""
    tools = (record.get("gcodeAnalysis") or {}).get("filament") or (job.get("job") or {}).get("filament") or {}
    length = sum(float(t.get("length") or 0) for t in tools.values() if isinstance(t, Mapping))
    volume = sum(float(t.get("volume") or 0) for t in tools.values() if isinstance(t, Mapping))
    return length, volume


def evidence_document(order_id: int, printer: str, url: str, job: Mapping[str, Any], record: Mapping[str, Any],
                      *, gcode_sha256: str, gcode_size: int, slicing: Mapping[str, Any] | None = None
                      ) -> dict[str, Any]:
    """The evidence of a finished print; ``slicing`` (what ``slicer.slicing_record`` says) when the node sliced
    the G-code from the order's mesh design."""
    last = (record.get("prints") or {}).get("last") or {}
    length, volume = filament(job, record)
    return {
        "adapter": "octoprint", "order_id": order_id, "printer": printer, "url": url, "file": record.get("name"),
        "gcode_sha256": gcode_sha256, "gcode_size": gcode_size,
        "result": {"success": bool(last.get("success")), "ended_at": last.get("date"),
                   "print_time_s": last.get("printTime"), "state": job.get("state")},
        "filament": {"length_mm": length, "volume_cm3": volume},
        "estimated_print_time_s": (job.get("job") or {}).get("estimatedPrintTime"),
        "analysis": record.get("gcodeAnalysis"),
        "octoprint_hash": record.get("hash"),
        "slicing": None if slicing is None else dict(slicing),
    }


def measurements(document: Mapping[str, Any]) -> dict[str, float]:
    result, used = document["result"], document["filament"]
    return {"print_time_s": float(result["print_time_s"] or 0), "filament_length_mm": float(used["length_mm"]),
            "filament_volume_cm3": float(used["volume_cm3"])}
