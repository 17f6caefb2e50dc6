"""Shared by the benchmarks: result file handling and child-process measurement."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def record(values: dict, file: str = "latest.json") -> Path:
    """Merges `values` into bench/results/<file>, so each benchmark owns only its keys."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / file
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(values)
    data["machine"] = {"cpus": _cpus(), "python": platform.python_version(), "platform": platform.platform()}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def run_child(code: str, *args: str) -> dict:
    """Runs `code` in a fresh interpreter (so its peak RSS is its own) and returns its JSON output."""
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
