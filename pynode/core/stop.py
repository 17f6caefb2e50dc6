"""Stopping promptly: one stop event that every wait honours.

The daemon's SIGTERM/SIGINT handler sets a :class:`StopEvent`. Every wait in a
cycle (a receipt poll, a retry's backoff) sleeps with :meth:`StopEvent.pause`,
which returns after the delay or raises :class:`Stopping` as soon as the event
is set, so a stop never waits out a timeout. What was in flight stays as the
journal has it (a sent transaction stays ``sent``) and the next start settles it.
"""

from __future__ import annotations

import threading


class Stopping(BaseException):
    """The process was asked to stop while it waited; the message says what was left in flight.

    A BaseException, like KeyboardInterrupt: the handlers that sort a job's errors
    (``except Exception``) let it through, so it ends the whole cycle and no job
    counts it as a failure.
    """


class StopEvent(threading.Event):
    """Set once, by a signal handler or another thread, to stop every wait that shares it."""

    def pause(self, seconds: float, doing: str = "waiting") -> None:
        """Sleeps ``seconds``; raises Stopping at once if the event is set before or during the sleep."""
        if self.wait(max(0.0, seconds)):
            raise Stopping(f"stopped while {doing}")

    def check(self, doing: str = "working") -> None:
        """Raises Stopping if the event is set (before starting something that may take a while)."""
        self.pause(0.0, doing)
