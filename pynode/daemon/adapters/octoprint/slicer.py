"""Slicing a mesh design (STL/3MF) into G-code with PrusaSlicer's command line, before it is uploaded.

``prusa-slicer --export-gcode --load <profile> --output <out> <model>``: the shop's profile (printer,
filament and print settings in one PrusaSlicer config, File > Export > Export Config) decides everything.
The format comes from the design's bytes (``designs.geometry.detect``: a file name can lie), and the model
is handed over under a name of the job's own with the suffix PrusaSlicer reads it by. A design is sliced
once per order into the job's folder (``sliced.gcode``, renamed into place whole), so a restarted node
uploads the bytes its evidence already hashes. The slicer's own output goes to ``slicer.log`` beside it:
an error names the exit status and that log in one line, never the slicer's text.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from pynode.core.errors import FatalError
from pynode.daemon.adapters.base import ProductionFailed
from pynode.daemon.adapters.octoprint.model import GCODE_SUFFIXES
from pynode.daemon.adapters.octoprint.settings import SlicerSettings
from pynode.designs.geometry.detect import detect

#: detect()'s mesh kinds, and the suffix PrusaSlicer picks its reader by
MESH_SUFFIX = {"stl-binary": ".stl", "stl-ascii": ".stl", "3mf": ".3mf"}
SLICED_NAME = "sliced.gcode"
LOG_NAME = "slicer.log"


class SlicerConfigError(FatalError):
    """The slicer settings cannot work (no such binary, an unreadable profile): the node stops."""


def is_gcode(design: Path) -> bool:
    """Printed as it is: named as G-code, or told as G-code by its bytes (the v2 node names a decrypted design
    design.bin: its content is detected, not named)."""
    return design.suffix.lower() in GCODE_SUFFIXES or detect(design.read_bytes()) == "gcode"


def mesh_kind(design: Path) -> str | None:
    """The design's mesh format ("stl-binary", "stl-ascii", "3mf"), or None when it is no mesh. The whole
    file: a binary STL is told by its length, a 3MF by its zip directory at the end."""
    kind = detect(design.read_bytes())
    return kind if kind in MESH_SUFFIX else None


def binary_path(settings: SlicerSettings) -> str:
    found = shutil.which(settings.binary)
    if found is None:
        raise SlicerConfigError(f"production: slicer {settings.binary!r} not found or not executable "
                                "(install prusa-slicer, or set production.slicer.binary)")
    return found


def check_slicer(settings: SlicerSettings) -> None:
    """At start-up: the binary runs from PATH and the profile is a readable file."""
    binary_path(settings)
    try:
        with settings.profile.open("rb"):
            pass
    except OSError as exc:
        raise SlicerConfigError(f"production: slicer profile {settings.profile} unreadable: "
                                f"{exc.strerror or type(exc).__name__}") from None


def command(binary: str, profile: Path, model: Path, out: Path) -> list[str]:
    """The slicer's argv: absolute paths only, so no argument can read as an option."""
    return [binary, "--export-gcode", "--load", str(profile.absolute()), "--output", str(out.absolute()),
            str(model.absolute())]


def slice_design(settings: SlicerSettings, order_id: int, design: Path, kind: str, work_dir: Path) -> Path:
    """The order's G-code sliced from ``design`` (a ``kind`` mesh) in ``work_dir``; sliced before: that file."""
    out = work_dir / SLICED_NAME
    if out.is_file():
        return out
    binary = binary_path(settings)
    work_dir.mkdir(parents=True, exist_ok=True)
    model = work_dir / f"model{MESH_SUFFIX[kind]}"
    shutil.copyfile(design, model)
    partial, log = work_dir / (SLICED_NAME + ".part"), work_dir / LOG_NAME
    partial.unlink(missing_ok=True)
    what = f"order {order_id}: slicing {design.name} with {settings.binary}"
    try:
        with log.open("wb") as sink:
            done = subprocess.run(command(binary, settings.profile, model, partial),
                                  stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                  timeout=settings.timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ProductionFailed(f"{what}: not done after timeout_s {settings.timeout_s:g} (its output: {log})") \
            from None
    except OSError as exc:  # the binary went away or lost its execute bit since start-up
        raise SlicerConfigError(f"production: slicer {settings.binary!r} cannot run: "
                                f"{exc.strerror or type(exc).__name__}") from None
    finally:
        model.unlink(missing_ok=True)
    if done.returncode != 0:
        status = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        raise ProductionFailed(f"{what}: failed ({status}; its output: {log})")
    if not partial.is_file() or partial.stat().st_size == 0:
        raise ProductionFailed(f"{what}: it wrote no G-code (its output: {log})")
    os.replace(partial, out)
    return out


def slicing_record(settings: SlicerSettings, design: Path, kind: str, gcode: bytes) -> dict[str, Any]:
    """What the evidence says of the slicing: the design and profile hashed, the slicer's own header line."""
    header = gcode[:200].split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("; ").strip()
    return {"slicer": settings.binary, "generated_by": header, "design": design.name, "design_format": kind,
            "design_sha256": _sha256(design), "profile": settings.profile.name,
            "profile_sha256": _sha256(settings.profile)}


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
