"""Waiting on observed state: poll a condition until it holds or a deadline passes (never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_UNSEEN = object()


@dataclass
class StallWindow:
    """A deadline `seconds` after the last change of an observed state (after `since` until one is observed)."""

    seconds: float
    since: float
    state: Hashable = _UNSEEN

    def observe(self, state: Hashable, now: float) -> None:
        if state != self.state:
            self.state, self.since = state, now

    def expired(self, now: float) -> bool:
        return now - self.since >= self.seconds


def wait_for(predicate: Callable[[], T | None], timeout: float, interval: float = 0.25, what: str = "condition",
             progress: Callable[[], Hashable] | None = None) -> T:
    """Calls `predicate` every `interval` seconds until it returns a true value, and returns that value.

    TimeoutError names `what` once `timeout` seconds have passed; the predicate is asked one last time
    at the deadline, so a slow machine that got there late still counts. With `progress` (asked after each
    predicate), the `timeout` seconds count from its last change: a busy machine that is still getting
    somewhere is waited for, one that has stalled fails.
    """
    window = StallWindow(timeout, time.monotonic())
    while True:
        if value := predicate():
            return value
        now = time.monotonic()
        if progress is not None:
            window.observe(progress(), now)
        if window.expired(now):
            raise TimeoutError(f"{what} not reached: no progress for {timeout:.0f}s" if progress is not None
                               else f"{what} not reached after {timeout:.0f}s")
        time.sleep(interval)
