"""dev.wait.wait_for's deadline on a clock the test drives: fixed from the start, or from the last change of
the observed progress (the demo's order waits)."""

from __future__ import annotations

import pytest

from pynode.dev import wait
from pynode.dev.wait import StallWindow


class Clock:
    """time.monotonic and time.sleep for pynode.dev.wait: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(wait, "time", fake)
    return fake


def test_a_window_expires_seconds_after_the_last_change_not_after_the_start() -> None:
    window = StallWindow(10.0, since=0.0)
    window.observe("OPEN", 0.0)
    window.observe("CLAIMED", 8.0)
    window.observe("CLAIMED", 15.0)  # the same state again is no progress
    assert not window.expired(17.9)
    assert window.expired(18.0)


def test_a_window_never_observed_counts_from_its_start() -> None:
    window = StallWindow(10.0, since=5.0)
    assert not window.expired(14.9) and window.expired(15.0)


def test_without_progress_the_deadline_is_fixed_from_the_start(clock: Clock) -> None:
    with pytest.raises(TimeoutError, match=r"^order 1 not reached after 10s$"):
        wait.wait_for(lambda: None, 10.0, interval=1.0, what="order 1")
    assert clock.now == pytest.approx(1010.0)


def test_a_progressing_wait_outlasts_its_window(clock: Clock) -> None:
    start = clock.now
    # a new state every 8 s, done after 100 s: ten windows of 10 s in all, never 10 s without a change
    done = wait.wait_for(lambda: clock.now - start >= 100 and "done", 10.0, interval=1.0,
                         progress=lambda: int((clock.now - start) // 8))
    assert done == "done" and clock.now - start == pytest.approx(100.0)


def test_a_stalled_wait_fails_a_window_after_its_last_change(clock: Clock) -> None:
    start = clock.now
    # progresses for 30 s, then stays put
    with pytest.raises(TimeoutError, match=r"^order 1 not reached: no progress for 10s$"):
        wait.wait_for(lambda: None, 10.0, interval=1.0, what="order 1",
                      progress=lambda: min(clock.now - start, 30.0))
    assert clock.now - start == pytest.approx(40.0)


def test_the_predicate_is_asked_at_the_deadline(clock: Clock) -> None:
    start = clock.now
    assert wait.wait_for(lambda: clock.now - start >= 10 and "late", 10.0, interval=1.0) == "late"
