"""The wait between a daemon's cycles, shared by the v1 and v2 nodes: the poll interval, cut short by a head
pushed over WebSocket (:mod:`pynode.chain.newheads`, ``ws_url`` in node.toml) or by a stop.

A push carries nothing the cycle uses, so without a subscription (no ``ws_url``, ``--once``, a socket that
dropped and is reconnecting) the loop behaves exactly as it does polling.
"""

from __future__ import annotations

from collections.abc import Callable

from pynode.chain.heads import BlockClock
from pynode.chain.newheads import HeadFeed, Wake


class HeadPush:
    """One head feed at most (``follow``), and the wake a loop waits on between cycles (``wait``)."""

    def __init__(self, log: Callable[..., None]) -> None:
        self.log = log
        self.wake = Wake()
        self.feed: HeadFeed | None = None

    def follow(self, ws: str | None, clock: BlockClock) -> None:
        """Keeps one feed on ``ws`` (a new one when failover moved a derived URL; none without push); ``clock``
        (the connection's) hears of each pushed head too, so a receipt or confirmation wait ends then."""
        if self.feed is not None and self.feed.url != ws:
            self.feed.close()
            self.feed = None
        if self.feed is None and ws is not None:
            self.feed = HeadFeed(ws, self.wake, log=self.log)
            self.feed.clock = clock
            self.feed.start()
        elif self.feed is not None:
            self.feed.clock = clock

    def wait(self, timeout_s: float) -> bool:
        """Between cycles: up to ``timeout_s`` (the poll interval); True if a head or a stop ended it sooner."""
        return self.wake.wait(timeout_s)

    def set(self) -> None:
        """Ends the current or next wait at once (a stop)."""
        self.wake.set()

    def close(self) -> None:
        if self.feed is not None:
            self.feed.close()
            self.feed = None
