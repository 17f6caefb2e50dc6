"""The node's loop between cycles (no sockets): a pushed head starts the next cycle at once, silence waits out
the poll interval as without push, a failed cycle's backoff is not cut short by a push, a stop ends any wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from eth_account import Account

from pynode.core.errors import ProviderUnavailable
from pynode.daemon.config import NodeConfig
from pynode.daemon.node import Identity, Node

ACCOUNT = Account.from_key(b"\x01" * 32)


class Cycles:
    """Stands for the node's cycle (the chain part is tested elsewhere): counts, and fails when told to."""

    def __init__(self, fail: int = 0) -> None:
        self.times: list[float] = []
        self.fail = fail
        self.changed = threading.Condition()

    def __call__(self) -> None:
        with self.changed:
            self.times.append(time.monotonic())
            self.changed.notify_all()
        if len(self.times) <= self.fail:
            raise ProviderUnavailable("eth_getBlockByNumber: RPC endpoint unreachable (ConnectionRefusedError)")

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.times) >= count, timeout), self.times


def _running(tmp_path: Path, cycles: Cycles, poll_s: float, backoff_s: float = 1.0) -> tuple[Node, threading.Thread]:
    node = Node(NodeConfig(work_dir=tmp_path / "node", poll_interval_s=poll_s), Identity(ACCOUNT, {}))
    node.backoff.base_s = node.backoff.cap_s = backoff_s
    node.backoff.rng.uniform = lambda a, b: b  # type: ignore[method-assign]  # the ceiling, every time
    node.cycle = cycles  # type: ignore[method-assign]
    node._failover = lambda: None  # type: ignore[method-assign]  # no endpoint to reconnect to here
    thread = threading.Thread(target=node.run, daemon=True)
    thread.start()
    return node, thread


def _stopped(node: Node, thread: threading.Thread) -> None:
    node.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()  # a stop ends the wait at once, whichever it is
    node.close()


def test_a_pushed_head_starts_the_next_cycle_before_the_poll_interval(tmp_path: Path) -> None:
    cycles = Cycles()
    node, thread = _running(tmp_path, cycles, poll_s=3600.0)
    try:
        cycles.wait_for(1)
        node._push.set()  # what the head feed does on every pushed head
        cycles.wait_for(2)
        node._push.set()
        cycles.wait_for(3)
    finally:
        _stopped(node, thread)
    assert len(cycles.times) == 3


def test_without_a_push_the_node_polls_at_its_interval(tmp_path: Path) -> None:
    cycles = Cycles()
    node, thread = _running(tmp_path, cycles, poll_s=0.05)
    try:
        cycles.wait_for(4)
    finally:
        _stopped(node, thread)
    gaps = [b - a for a, b in zip(cycles.times, cycles.times[1:])]
    assert min(gaps) >= 0.045


def test_a_push_does_not_cut_a_failed_cycles_backoff(tmp_path: Path) -> None:
    cycles = Cycles(fail=1)
    node, thread = _running(tmp_path, cycles, poll_s=3600.0, backoff_s=0.3)
    try:
        cycles.wait_for(1)
        node._push.set()
        cycles.wait_for(2)
    finally:
        _stopped(node, thread)
    assert cycles.times[1] - cycles.times[0] >= 0.29  # the backoff, not the push
