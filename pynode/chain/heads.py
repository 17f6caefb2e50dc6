"""When to look at the chain again: polls paced by the arrival of new heads.

A metered provider bills every request, and between two blocks nothing a node
reads can change. :class:`BlockClock` learns, from the heads a process sees
anyway (no extra request), when blocks arrive by the local clock, and times the
next poll to land just after the next block is due instead of every few
milliseconds. A late block is looked for again at a fraction of the block time;
a chain whose pace is not known yet is polled at ``unknown_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

MARGIN = 0.1  # of a block time: poll this long after a block is due (its propagation, our clock's skew)
LATE = 0.125  # of a block time: how often a late block is looked for
SMOOTHING = 0.3  # weight of a new block-time sample
UNKNOWN_POLL_S = 0.5  # before two heads were seen
MAX_POLL_S = 2.0  # never longer between polls (a chain whose blocks come on demand has no pace)


class BlockClock:
    """The heads one connection has seen and when (shared by its waits: one process, one pace)."""

    def __init__(self, *, min_s: float = 0.05, max_s: float = MAX_POLL_S, unknown_s: float = UNKNOWN_POLL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.min_s = min_s
        self.max_s = max(max_s, min_s)
        self.unknown_s = unknown_s
        self._clock = clock
        self._lock = threading.Lock()
        self.head: int | None = None
        self.seen_at = 0.0  # when ``head`` was first seen
        self.block_s: float | None = None
        self.block: Mapping[str, Any] | None = None  # the head block itself, when it was read whole

    def saw(self, head: int, block: Mapping[str, Any] | None = None) -> bool:
        """Notes a head read from the chain (``block``: the head block, if read whole); True if it is new
        (a different height than the last one)."""
        now = self._clock()
        with self._lock:
            if head == self.head:
                self.block = block or self.block
                return False
            if self.head is not None and head > self.head:
                sample = (now - self.seen_at) / (head - self.head)
                self.block_s = sample if self.block_s is None else \
                    (1 - SMOOTHING) * self.block_s + SMOOTHING * sample
            self.head, self.seen_at, self.block = head, now, block
            return True

    def current_block(self) -> Mapping[str, Any] | None:
        """The head block last read, while no newer block is due yet (it is still the head, or one behind
        at most); None if there is none or it may be older."""
        with self._lock:
            if self.block is None or self.block_s is None or self._clock() >= self.seen_at + self.block_s:
                return None
            return self.block

    def delay(self, floor_s: float | None = None) -> float:
        """Seconds until the next poll is worth it (at least ``floor_s``, or the clock's ``min_s``)."""
        low = self.min_s if floor_s is None else max(floor_s, 0.0)
        with self._lock:
            if self.block_s is None or self.head is None:
                return min(max(low, self.unknown_s), self.max_s)
            wait = self.seen_at + self.block_s * (1 + MARGIN) - self._clock()
            if wait <= 0:  # the block is late: look again soon
                wait = self.block_s * LATE
            return min(max(low, wait), self.max_s)
