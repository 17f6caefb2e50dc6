"""A simulated shop: takes ``duration_s``, fails ``defect_rate`` of the orders, invents plausible measurements.

For demos, soak tests and nodes that only want to exercise the protocol. The
outcome is a pure function of (seed, order id), so a daemon restarted in the
middle of a job gets the same verdict and the same measurements it would have
got; the start time lives in the adapter's state file, so the wait survives
restarts too.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pynode.core.fsutil import write_json_atomic
from pynode.daemon.adapters.base import (
    ProductionAdapter,
    ProductionFailed,
    ProductionJob,
    ProductionResult,
    UnknownJob,
    read_state,
)
from pynode.documents.spec import Tolerance


class SimulatedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    adapter: Literal["simulated"] = "simulated"
    duration_s: float = Field(default=5.0, ge=0, description="how long each job 'runs'")
    defect_rate: float = Field(default=0.05, ge=0, le=1, description="share of orders that fail QA")
    seed: int = Field(default=0, description="changes every outcome; same seed, same outcomes")


def outcome(seed: int, order_id: int, defect_rate: float,
            tolerances: dict[str, Tolerance]) -> tuple[bool, dict[str, float], str]:
    """(passed, measurements, notes) for an order: deterministic in (seed, order_id)."""
    rng = random.Random(f"fabmesh-sim:{seed}:{order_id}")  # str seeds hash with SHA-512: stable across runs
    passed = rng.random() >= defect_rate
    names = sorted(tolerances)
    bad = {rng.choice(names)} if names and not passed else set()
    measurements = {}
    for name in names:
        tol = tolerances[name]
        if name in bad:  # beyond the limit of a random side by 10%..110% of that side's band
            above = rng.random() < 0.5
            over = max(tol.plus if above else tol.minus, 1e-6) * (1.1 + rng.random())
            measurements[name] = tol.nominal + over if above else tol.nominal - over
        else:  # well inside: 80% of the band at most, so rounding never lands on the limit
            measurements[name] = tol.nominal + rng.uniform(-0.8 * tol.minus, 0.8 * tol.plus)
    if passed:
        notes = "simulated run: all dimensions within tolerance"
    elif bad:
        notes = f"simulated defect: {next(iter(bad))} out of tolerance"
    else:
        notes = "simulated defect: visual inspection failed"
    return passed, measurements, notes


class SimulatedAdapter(ProductionAdapter):
    name = "simulated"

    def __init__(self, settings: SimulatedSettings, *, state_dir: Path,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.state_dir = Path(state_dir)
        self._clock = clock

    def submit(self, job: ProductionJob) -> None:
        if read_state(self.state_dir, job.order_id) is not None:
            return
        spec = job.parsed_spec()
        if not job.design_path.is_file():
            raise ProductionFailed(f"order {job.order_id}: design file {job.design_path} missing")
        write_json_atomic(self.state_dir / f"{job.order_id}.json", {
            "order_id": job.order_id, "started_at": self._clock(), "work_dir": str(job.work_dir),
            "tolerances": {name: tol.model_dump() for name, tol in spec.tolerances.items()},
        })

    def poll(self, order_id: int) -> ProductionResult | None:
        state = read_state(self.state_dir, order_id)
        if state is None:
            raise UnknownJob(f"order {order_id} was not submitted to the simulated adapter")
        if self._clock() - state["started_at"] < self.settings.duration_s:
            return None
        tolerances = {name: Tolerance.model_validate(t) for name, t in state["tolerances"].items()}
        passed, measurements, notes = outcome(self.settings.seed, order_id, self.settings.defect_rate, tolerances)
        evidence = Path(state["work_dir"]) / "evidence" / "measurements.csv"
        evidence.parent.mkdir(parents=True, exist_ok=True)
        lines = ["name,measured"] + [f"{name},{value!r}" for name, value in measurements.items()]
        evidence.write_text("\n".join(lines) + "\n")  # same content on every poll: deterministic
        return ProductionResult(passed=passed, measurements=measurements, evidence=(evidence,), notes=notes)

    def cleanup(self, order_id: int) -> None:
        state = read_state(self.state_dir, order_id)
        if state is not None:
            shutil.rmtree(Path(state["work_dir"]) / "evidence", ignore_errors=True)
        (self.state_dir / f"{order_id}.json").unlink(missing_ok=True)
