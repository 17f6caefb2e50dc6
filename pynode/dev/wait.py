"""Waiting on observed state: poll a condition until it holds or a deadline passes (never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T | None], timeout: float, interval: float = 0.25, what: str = "condition") -> T:
    """Calls `predicate` every `interval` seconds until it returns a true value, and returns that value.

    TimeoutError names `what` once `timeout` seconds have passed; the predicate is asked one last time
    at the deadline, so a slow machine that got there late still counts.
    """
    deadline = time.monotonic() + timeout
    while True:
        if value := predicate():
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached after {timeout:.0f}s")
        time.sleep(interval)
