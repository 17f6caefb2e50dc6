"""Backoff for transient failures, and the one place that decides what counts as transient.

The daemon loop sorts every exception with :func:`classify`:

* ``TRANSIENT``: the network or a node hiccuped (connection refused/reset,
  timeouts, HTTP 429/5xx, our ``TransientError``): retry with backoff.
* ``INPUT``: one job's outside data is bad (``InputError``): fail that job,
  keep running.
* ``FATAL``: anything else, including ``FatalError`` and unknown exceptions
  (bugs): stop loudly and let the supervisor restart us, rather than spin.
"""

from __future__ import annotations

import http.client
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

import requests
from web3.exceptions import ProviderConnectionError, TimeExhausted, TooManyRequests, Web3RPCError

from pynode.core.errors import FatalError, InputError, TransientError
from pynode.stop import StopEvent

T = TypeVar("T")

# JSON-RPC error codes that mean "later": -32005 limit exceeded / rate limit, -32603 internal
# (a node restarting), -32000 with "header not found" (a load-balanced node behind its peers).
_TRANSIENT_RPC_CODES = {-32005, -32603, 429}
_TRANSIENT_RPC_WORDS = ("header not found", "rate limit", "timeout", "timed out", "try again", "busy",
                        "unavailable", "too many requests")


class ErrorClass(Enum):
    TRANSIENT = "transient"
    INPUT = "input"
    FATAL = "fatal"


def classify(exc: BaseException) -> ErrorClass:
    if isinstance(exc, FatalError):
        return ErrorClass.FATAL
    if isinstance(exc, TransientError):
        return ErrorClass.TRANSIENT
    if isinstance(exc, InputError):
        return ErrorClass.INPUT
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return ErrorClass.TRANSIENT if status == 429 or status >= 500 or status == 0 else ErrorClass.FATAL
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, ProviderConnectionError, TooManyRequests,
                        TimeExhausted, ConnectionError, TimeoutError, socket.timeout, http.client.RemoteDisconnected,
                        http.client.IncompleteRead)):
        return ErrorClass.TRANSIENT
    if isinstance(exc, Web3RPCError):
        error = exc.rpc_response.get("error", {}) if isinstance(exc.rpc_response, dict) else {}
        message = str(error.get("message", exc)).lower() if isinstance(error, dict) else str(exc).lower()
        code = error.get("code") if isinstance(error, dict) else None
        if code in _TRANSIENT_RPC_CODES or any(word in message for word in _TRANSIENT_RPC_WORDS):
            return ErrorClass.TRANSIENT
        return ErrorClass.FATAL
    return ErrorClass.FATAL


def is_transient(exc: BaseException) -> bool:
    return classify(exc) is ErrorClass.TRANSIENT


@dataclass
class Backoff:
    """Exponential backoff with "full jitter" (AWS architecture blog): uniform in [0, min(cap, base * factor**n)].

    Jitter keeps many nodes that lost the same RPC endpoint from coming back in lockstep.
    """

    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, attempt: int) -> float:
        """The largest delay after the ``attempt``-th failure (0-based)."""
        return min(self.cap_s, self.base_s * self.factor ** min(attempt, 64))

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, self.ceiling(attempt))


def retry(call: Callable[[], T], *, attempts: int = 5, backoff: Backoff | None = None,
          stop: StopEvent | None = None, sleep: Callable[[float], None] | None = None,
          on_retry: Callable[[int, BaseException, float], None] | None = None) -> T:
    """Calls ``call`` until it succeeds, retrying only transient errors, at most ``attempts`` times.

    The last transient error is re-raised as is; input/fatal errors are raised at once.
    Once ``stop`` is set, the backoff ends early and no further attempt starts: Stopping is raised.
    """
    backoff = backoff or Backoff()
    stop = stop or StopEvent()
    sleep = sleep or (lambda seconds: stop.pause(seconds, "backing off before a retry"))
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc) or attempt == attempts - 1:
                raise
            wait = backoff.delay(attempt)
            if on_retry is not None:
                on_retry(attempt, exc, wait)
            sleep(wait)
            stop.check("backing off before a retry")
    raise AssertionError("unreachable")  # pragma: no cover
