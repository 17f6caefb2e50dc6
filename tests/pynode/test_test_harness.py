"""The harness itself: unit tests really cannot reach the network; long waits fail on a stall only."""

from __future__ import annotations

import socket
import time

import pytest

from support import Stall, wait_progressing


def test_unit_tests_cannot_open_sockets():
    with socket.socket() as sock, pytest.raises(RuntimeError, match="mark it integration"):
        sock.connect(("127.0.0.1", 9))


@pytest.mark.integration
def test_integration_tests_can(anvil):
    with socket.create_connection(("127.0.0.1", anvil.port), timeout=2):
        pass


def test_a_stall_fails_only_once_progress_stops_for_its_time():
    stall = Stall(0.5, "orders paid")
    stall.check(1)
    stall.check(2)
    stall.check(1)  # a lower reading (an index lagging) is no progress, and no stall yet either
    time.sleep(0.55)
    with pytest.raises(AssertionError, match=r"orders paid: stuck at 2 for 0.5s; node log"):
        stall.check(2, lambda: "node log")


def test_a_wait_progressing_returns_at_its_target_however_long_it_takes():
    readings = iter([0, 1, 2, 3])
    wait_progressing(lambda: next(readings), 3, stall_s=5, what="steps", interval=0.01)
    assert next(readings, None) is None
    with pytest.raises(AssertionError, match=r"steps \(3 wanted\): stuck at 0"):
        wait_progressing(lambda: 0, 3, stall_s=0.05, what="steps", interval=0.01)
