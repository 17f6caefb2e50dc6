"""The contract between the daemon and a production adapter.

An adapter is polled, never awaited: the daemon calls ``submit`` once it has
the decrypted design, then ``poll`` every cycle until a result comes back,
then ``cleanup``. Each call must be safe to repeat after a crash or restart,
so adapters keep their per-order state on disk (in ``state_dir``) and never
in memory only.

Failure contract: ``poll`` raises ``ProductionFailed`` (an ``InputError``)
when the job cannot produce a usable result (a malformed result file, a
timeout); the daemon marks that job failed with the one-line reason and goes
on. A ``TransientError`` (a share not mounted) is retried. Anything else is a
bug.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pynode.core.errors import InputError
from pynode.documents.quality_report import ProductionResult  # adapters return it; the report reads it
from pynode.documents.spec import ProductionSpec, parse_spec


class ProductionFailed(InputError):
    """The job will not produce a usable result; the message says why in one line."""


class UnknownJob(InputError):
    """``poll``/``cleanup`` for an order this adapter was never given (or already cleaned up)."""


@dataclass(frozen=True)
class ProductionJob:
    """What to make: the decrypted design file, the order's spec, and the job's own folder."""

    order_id: int
    design_path: Path
    spec: Mapping[str, Any]  # process, material, quantity, tolerances {name: {nominal, plus, minus, unit}}
    work_dir: Path

    def parsed_spec(self) -> ProductionSpec:
        return parse_spec(self.spec)


class ProductionAdapter(ABC):
    name: str = "abstract"

    @abstractmethod
    def submit(self, job: ProductionJob) -> None:
        """Hands the job over. Submitting an order already submitted is a no-op."""

    @abstractmethod
    def poll(self, order_id: int) -> ProductionResult | None:
        """The result, or None while production is still running."""

    @abstractmethod
    def cleanup(self, order_id: int) -> None:
        """Forgets the order and removes the adapter's files for it (idempotent)."""

    def capacity(self) -> int | None:
        """How many more jobs the shop floor can start now (a quote's ``ShopState.capacity``); None: it does
        not say, and ``[policy] max_concurrent_jobs`` alone bounds the node."""
        return None

    def check(self) -> None:  # noqa: B027 - most adapters have nothing to reach at start-up
        """At start-up: a FatalError when the settings cannot work (a login the shop floor refuses); a shop
        floor that is only unreachable right now is no error here."""

    def close(self) -> None:  # noqa: B027 - most adapters hold nothing to release
        """Releases what the adapter holds open (a machine session, its thread); the daemon calls it on the way out."""


def read_state(state_dir: Path, order_id: int) -> dict[str, Any] | None:
    path = state_dir / f"{order_id}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ProductionFailed(f"order {order_id}: adapter state {path} unreadable: {exc}") from None


def stored_result(stored: dict[str, Any]) -> ProductionResult:
    """The result an adapter kept in its state file (plain JSON) as the report reads it."""
    return ProductionResult(passed=stored["passed"], measurements=dict(stored["measurements"]),
                            evidence=tuple(Path(p) for p in stored["evidence"]), notes=stored["notes"])
