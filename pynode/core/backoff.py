"""Exponential backoff with full jitter, and a retry bounded by a deadline.

Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): the wait
after the n-th failure is uniform in [0, min(cap, base * factor**n)], so many
clients that lost the same endpoint do not come back in lockstep. A server's
``Retry-After`` is a floor: we wait the larger of the two.

:func:`retry` serves the CLI (a command gives up after ``FABMESH_RETRY_TIMEOUT``
seconds), the RPC provider and the IPFS client; the daemon's loop uses
:class:`Backoff` between cycles and per job.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pynode.core.errors import Kind, classify, retry_after

T = TypeVar("T")


@dataclass
class Backoff:
    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, attempt: int) -> float:
        """The largest jittered delay after the ``attempt``-th failure (0-based)."""
        return min(self.cap_s, self.base_s * self.factor ** min(attempt, 64))

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        jittered = self.rng.uniform(0, self.ceiling(attempt))
        return max(jittered, retry_after_s or 0.0)


def retry(call: Callable[[], T], *, timeout_s: float, backoff: Backoff | None = None,
          transient: Callable[[BaseException], bool] | None = None,
          sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
          on_retry: Callable[[int, BaseException, float], None] | None = None) -> T:
    """Calls ``call`` until it succeeds, retrying transient errors while ``timeout_s`` allows.

    A wait is cut to the time left; when none is left, or the server asks for a longer wait
    than remains, the last error is raised as is, so the caller still sees its type (and the CLI its one line).
    ``transient`` narrows what is retried (default: :func:`classify` says TRANSIENT).
    """
    backoff = backoff or Backoff()
    is_transient = transient or (lambda exc: classify(exc) is Kind.TRANSIENT)
    deadline = clock() + max(0.0, timeout_s)
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            asked = retry_after(exc) or 0.0
            left = deadline - clock()
            if left <= 0 or asked > left:
                raise
            wait = min(backoff.delay(attempt, asked), left)
            if on_retry is not None:
                on_retry(attempt, exc, wait)
            sleep(wait)
            attempt += 1
