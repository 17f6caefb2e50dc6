"""Stopping promptly, without a network: every wait in a cycle ends at once when the stop event is set.

Receipt waits (TxSender, JournaledSender.send and .resolve) poll a node that
never mines; backoffs are long; the stop comes from another thread or a
signal. Each must end in well under a second with ``Stopping``, leave the
journal row ``sent`` and let the node's loop return 0.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from pynode.chain.tx import TxRequest, TxSender
from pynode.core.backoff import Backoff, retry
from pynode.core.errors import TransientError
from pynode.core.stop import StopEvent, Stopping
from pynode.daemon.config import NodeConfig
from pynode.daemon.journal import JournaledSender
from pynode.daemon.jsonlog import JsonLogger
from pynode.daemon.node import Identity, Node, install_signal_handlers
from pynode.daemon.store import ActionStatus, Store

ACCOUNT = Account.from_key(b"\x02" * 32)
REQUEST = TxRequest("0x" + "11" * 20, b"\x01\x02", "claim(7)")
PROMPT_S = 1.0  # a stop must end any wait within this (the waits poll every 50 ms)


class NeverMines:
    """An eth namespace whose node accepts every transaction into its mempool and never mines one."""

    chain_id = 31337
    max_priority_fee = 1
    block_number = 5

    def __init__(self) -> None:
        self.broadcast: list[bytes] = []

    def call(self, params, block):
        return b""

    def estimate_gas(self, params):
        return 50_000

    def get_block(self, block):
        return {"baseFeePerGas": 7, "number": 1}

    def get_transaction_count(self, address, block):
        return 3

    def send_raw_transaction(self, raw):
        self.broadcast.append(bytes(raw))
        return HexBytes(keccak(bytes(raw)))

    def get_transaction(self, tx_hash):
        return {"hash": tx_hash}

    def get_transaction_receipt(self, tx_hash):
        raise TransactionNotFound(f"{tx_hash} is pending")


class FakeW3:
    def __init__(self) -> None:
        self.eth = NeverMines()


def stop_soon(stop: StopEvent, after_s: float = 0.2) -> threading.Timer:
    timer = threading.Timer(after_s, stop.set)
    timer.start()
    return timer


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "node.db") as db:
        yield db


def journal(store: Store, stop: StopEvent, w3: FakeW3 | None = None) -> JournaledSender:
    w3 = w3 or FakeW3()
    return JournaledSender(w3, ACCOUNT, TxSender(w3, ACCOUNT, decoder=None), store, replace_after_s=3600,
                           wait_s=120, poll_s=0.05, stop=stop)


def test_pause_sleeps_the_delay_unless_stopped() -> None:
    stop = StopEvent()
    started = time.monotonic()
    stop.pause(0.1)
    assert 0.1 <= time.monotonic() - started < PROMPT_S
    stop_soon(stop, 0.1)
    with pytest.raises(Stopping, match="stopped while backing off"):
        stop.pause(60, "backing off")
    assert time.monotonic() - started < PROMPT_S
    with pytest.raises(Stopping):
        stop.check()  # once set, stays set


def test_a_receipt_wait_ends_at_once_and_the_tx_stays_sent(store) -> None:
    stop = StopEvent()
    sender = journal(store, stop)
    stop_soon(stop)
    started = time.monotonic()
    with pytest.raises(Stopping, match="journaled as sent"):
        sender.send(7, "claim", REQUEST)
    assert time.monotonic() - started < PROMPT_S
    (action,) = store.actions(7)
    assert action.status is ActionStatus.SENT and action.tx_hash and action.raw_tx
    assert len(sender.w3.eth.broadcast) == 1


def test_resolving_a_pending_tx_after_a_restart_ends_at_once(store) -> None:
    planned = store.plan_action(7, "claim")
    action = store.mark_sent(planned.id, "0x" + "cd" * 32, nonce=3, raw_tx="0x02f8aa")
    stop = StopEvent()
    sender = journal(store, stop)
    stop_soon(stop)
    started = time.monotonic()
    with pytest.raises(Stopping):
        sender.resolve(action)
    assert time.monotonic() - started < PROMPT_S
    assert store.get_action(action.id).status is ActionStatus.SENT  # the next start resolves it again
    assert not sender.w3.eth.broadcast  # the node still had it: nothing resent


def test_a_plain_sender_receipt_wait_ends_at_once() -> None:
    stop = StopEvent()
    w3 = FakeW3()
    sender = TxSender(w3, ACCOUNT, decoder=None, replace_after_s=3600, give_up_after_s=120, poll_s=0.05, stop=stop)
    stop_soon(stop)
    started = time.monotonic()
    with pytest.raises(Stopping, match="receipt of nonce 3"):
        sender.send(REQUEST)
    assert time.monotonic() - started < PROMPT_S and len(w3.eth.broadcast) == 1


def test_retry_backoff_aborts_on_stop() -> None:
    calls = []

    def down() -> None:
        calls.append(time.monotonic())
        raise TransientError("RPC down")

    stop = StopEvent()
    stop_soon(stop)
    started = time.monotonic()
    with pytest.raises(Stopping, match="backing off"):
        retry(down, timeout_s=600, backoff=Backoff(base_s=60, cap_s=60, rng=random.Random(3)),
              sleep=lambda s: stop.pause(s, "backing off before a retry"))
    assert time.monotonic() - started < PROMPT_S and len(calls) == 1  # no attempt after the stop


def test_retry_with_its_own_sleep_still_stops_before_the_next_attempt() -> None:
    stop = StopEvent()
    calls = []

    def down() -> None:
        calls.append(1)
        raise TransientError("RPC down")

    def sleep(_: float) -> None:
        stop.set()
        stop.check("backing off before a retry")

    with pytest.raises(Stopping):
        retry(down, timeout_s=60, sleep=sleep)
    assert len(calls) == 1


# -- the node's loop and its signal handlers --------------------------------------------------


class Log(JsonLogger):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def log(self, level: str, event: str, **fields) -> None:
        self.events.append(event)


@pytest.fixture
def node(tmp_path: Path):
    config = NodeConfig(work_dir=tmp_path / "work", poll_interval_s=0.05)
    node = Node(config, Identity(ACCOUNT, {}), log=Log())
    yield node
    node.close()


@pytest.fixture
def own_signals():
    """Restores the process's SIGTERM/SIGINT/SIGALRM handlers (and cancels the grace timer) after the test."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM)}
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_the_loop_returns_0_when_a_cycle_is_stopped_mid_wait(node, monkeypatch) -> None:
    def waiting_cycle() -> None:
        node.stop()
        node._stop.pause(60, "waiting for a receipt")

    monkeypatch.setattr(node, "cycle", waiting_cycle)
    assert node.run() == 0
    assert node.log.events == ["node_started", "stopping", "cycle_interrupted", "node_stopped"]


def test_a_stop_signal_cuts_a_blocking_request_after_the_grace_period(node, own_signals, monkeypatch) -> None:
    monkeypatch.setattr(node, "cycle", lambda: time.sleep(30))  # a request that does not answer
    install_signal_handlers(node, grace_s=0.3)
    threading.Timer(0.2, signal.pthread_kill, (threading.main_thread().ident, signal.SIGTERM)).start()
    started = time.monotonic()
    assert node.run() == 0
    assert 0.3 <= time.monotonic() - started < 0.5 + PROMPT_S  # signal after ~0.2 s, cut 0.3 s later
    assert node.log.events == ["node_started", "stopping", "cycle_interrupted", "node_stopped"]
    node.interrupt()  # out of the loop, the grace timer cuts nothing (close() runs next)


def test_a_second_stop_signal_exits_at_once(node, own_signals, monkeypatch) -> None:
    killed = []
    monkeypatch.setattr(os, "kill", lambda pid, signum: killed.append((pid, signum)))
    install_signal_handlers(node, grace_s=60)
    handler = signal.getsignal(signal.SIGTERM)
    handler(signal.SIGTERM, None)
    assert node.stopping and not killed
    handler(signal.SIGINT, None)  # Ctrl-C after systemctl stop: die of it, as an unhandled SIGINT does
    assert killed == [(os.getpid(), signal.SIGINT)] and signal.getsignal(signal.SIGINT) == signal.SIG_DFL
