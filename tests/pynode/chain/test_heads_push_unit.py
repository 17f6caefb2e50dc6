"""The block clock with pushed heads (no sockets): a receipt or confirmation wait paced by the clock ends when a
head is pushed, at once when one was pushed before it began; without push, the wait is the stop event's own."""

from __future__ import annotations

import threading
import time

import pytest

from pynode.chain.heads import BlockClock
from pynode.core.stop import StopEvent, Stopping

HEAD = {"number": 7, "hash": b"\x07" * 32, "parentHash": b"\x06" * 32, "timestamp": 70}


def _timed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_without_push_a_wait_runs_its_length_and_a_stop_ends_it() -> None:
    clock, stop = BlockClock(), StopEvent()
    assert _timed(lambda: clock.pause(stop, 0.05)) >= 0.05
    threading.Timer(0.02, stop.set).start()
    with pytest.raises(Stopping):
        clock.pause(stop, 30.0, "waiting for a receipt")


def test_a_pushed_head_ends_the_wait() -> None:
    clock, stop = BlockClock(), StopEvent()
    clock.pushed()  # the subscription: the feed tells the clock heads may have come
    clock.saw(7, HEAD)  # read since: the head kept is current again
    assert clock.current_block() is HEAD
    threading.Timer(0.02, clock.pushed).start()
    assert _timed(lambda: clock.pause(stop, 30.0)) < 10
    assert clock.current_block() is None  # the kept head is not the head any more: read it


def test_a_head_pushed_before_the_wait_ends_it_at_once_until_a_head_is_read() -> None:
    clock, stop = BlockClock(), StopEvent()
    clock.pushed()  # the block holding our transaction came while it was being sent
    assert _timed(lambda: clock.pause(stop, 30.0)) < 10
    clock.saw(7, HEAD)
    assert _timed(lambda: clock.pause(stop, 0.05)) >= 0.05  # nothing new since that read: the wait runs


def test_a_stop_ends_a_push_paced_wait() -> None:
    clock, stop = BlockClock(), StopEvent()
    clock.pushed()
    clock.saw(7, HEAD)
    threading.Timer(0.02, stop.set).start()
    with pytest.raises(Stopping, match="waiting for a receipt"):
        clock.pause(stop, 30.0, "waiting for a receipt")
