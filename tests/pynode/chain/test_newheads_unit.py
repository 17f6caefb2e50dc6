"""Pushed heads (chain/newheads.py) without sockets: the wake, the replies, the error types, the reconnect schedule.

The feed's connection is handed in: :class:`ScriptedSocket` stands for one WebSocket connection (a unit test
opens no socket); tests/pynode/daemon/test_push_node.py runs the same feed against anvil's real WebSocket.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedError, InvalidMessage, InvalidStatus, InvalidURI
from websockets.http11 import Response

from pynode.chain.heads import BlockClock
from pynode.chain.newheads import HeadFeed, Wake, is_head, map_ws_error, subscription_id, ws_endpoint
from pynode.core.backoff import Backoff
from pynode.core.errors import InputError, ProviderUnavailable, RateLimited, RpcRejected

SUB = "0x9cef478923ff08bf67fde6c64013158d"


def head(number: int, subscription: str = SUB) -> str:
    return json.dumps({"jsonrpc": "2.0", "method": "eth_subscription",
                       "params": {"subscription": subscription, "result": {"number": hex(number)}}})


SUBSCRIBED = json.dumps({"jsonrpc": "2.0", "id": 1, "result": SUB})
CUT = ConnectionClosedError(None, None)


class ScriptedSocket:
    """One connection: what it receives, in order (an exception is raised where it stands); then it blocks
    until closed, as a live subscription with no new block does."""

    def __init__(self, *script: str | Exception) -> None:
        self.sent: list[str] = []
        self.inbox: queue.Queue = queue.Queue()
        for item in script:
            self.inbox.put(item)
        self.closed = False

    def send(self, message: str) -> None:
        self.sent.append(message)

    def recv(self, timeout: float | None = None) -> str:
        item = self.inbox.get(timeout=timeout)
        if isinstance(item, Exception):
            raise item
        return item

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.inbox.put(ConnectionClosedError(None, None))


class Opener:
    """Hands out the next connection (or raises the next failure) each time the feed opens one."""

    def __init__(self, *results: ScriptedSocket | Exception) -> None:
        self.results = list(results)
        self.opened = 0

    def __call__(self, url: str) -> ScriptedSocket:
        self.opened += 1
        result = self.results.pop(0) if self.results else ScriptedSocket()
        if isinstance(result, Exception):
            raise result
        return result


class Highest(random.Random):
    """Full jitter at its ceiling, so the schedule is the backoff's ceilings."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Events:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def __call__(self, level: str, event: str, **fields: object) -> None:
        with self.lock:
            self.records.append((event, fields))

    def names(self) -> list[str]:
        with self.lock:
            return [name for name, _ in self.records]

    def delays(self) -> list[float]:
        with self.lock:
            return [f["retry_in_s"] for name, f in self.records if name == "push_lost"]


def until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def feed_on(opener: Opener, events: Events, wake: Wake | None = None) -> HeadFeed:
    backoff = Backoff(base_s=0.01, factor=2.0, cap_s=0.04, rng=Highest())
    return HeadFeed("ws://127.0.0.1:8546", wake or Wake(), log=events, backoff=backoff, connect=opener)


# -- where to subscribe -----------------------------------------------------------------------------------

def test_the_ws_url_is_used_as_given_and_derived_from_the_rpc_url_only_when_asked() -> None:
    assert ws_endpoint(None, "http://127.0.0.1:8545") is None  # polling only
    assert ws_endpoint("wss://eth.example/ws/key", "https://eth.example/v3/key") == "wss://eth.example/ws/key"
    assert ws_endpoint("rpc", "http://127.0.0.1:8545") == "ws://127.0.0.1:8545"
    assert ws_endpoint("rpc", "https://node.example:8443/v1/key?x=1") == "wss://node.example:8443/v1/key?x=1"


# -- the wake ----------------------------------------------------------------------------------------------

def test_a_push_ends_the_wait_and_silence_lets_it_run_out() -> None:
    wake = Wake()
    threading.Timer(0.02, wake.set).start()
    started = time.monotonic()
    assert wake.wait(30.0) is True  # woken long before the poll interval
    assert time.monotonic() - started < 10
    started = time.monotonic()
    assert wake.wait(0.05) is False  # no push: the poll interval runs out, as without push
    assert time.monotonic() - started >= 0.05


def test_a_push_during_a_cycle_is_kept_for_the_wait_after_it() -> None:
    wake = Wake()
    wake.set()  # a head pushed while the cycle ran
    assert wake.wait(30.0) is True
    assert wake.wait(0.0) is False  # consumed by that wait


# -- replies and errors, by type ------------------------------------------------------------------------------

def test_a_subscription_reply_gives_its_id_and_a_refusal_its_type() -> None:
    assert subscription_id(json.loads(SUBSCRIBED)) == SUB
    with pytest.raises(RpcRejected, match="offers no newHeads subscription"):
        subscription_id({"id": 1, "error": {"code": -32601, "message": "the method eth_subscribe does not exist"}})
    with pytest.raises(RateLimited):
        subscription_id({"id": 1, "error": {"code": 429, "message": "Too Many Requests"}})
    with pytest.raises(ProviderUnavailable):
        subscription_id({"id": 1})


def test_only_a_head_of_our_subscription_counts() -> None:
    assert is_head(json.loads(head(5)), SUB)
    assert not is_head(json.loads(head(5, "0x1")), SUB)
    assert not is_head({"id": 2, "result": True}, SUB)
    assert not is_head([1, 2], SUB)


def _status(code: int, **headers: str) -> InvalidStatus:
    return InvalidStatus(Response(code, "x", Headers(**headers)))


@pytest.mark.parametrize(("exc", "kind"), [
    (ConnectionRefusedError(111, "refused"), ProviderUnavailable),
    (CUT, ProviderUnavailable),
    (TimeoutError(), ProviderUnavailable),
    (InvalidMessage("did not receive a valid HTTP response"), ProviderUnavailable),
    (_status(503), ProviderUnavailable),
    (_status(401), RpcRejected),
    (_status(403), RpcRejected),
    (_status(501), RpcRejected),  # an HTTP server without WebSocket
    (InvalidURI("http://x", "scheme isn't ws or wss"), InputError),
])
def test_websocket_failures_map_to_our_types(exc: Exception, kind: type) -> None:
    assert type(map_ws_error(exc)) is kind


def test_a_throttled_handshake_keeps_its_retry_after_and_a_bug_is_no_websocket_failure() -> None:
    mapped = map_ws_error(_status(429, **{"Retry-After": "7"}))
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 7.0
    assert map_ws_error(KeyError("x")) is None


# -- the feed: push wakes, reconnect schedule ---------------------------------------------------------------

def test_pushed_heads_wake_the_loop() -> None:
    wake, events = Wake(), Events()
    socket = ScriptedSocket(head(3, "0xother"), SUBSCRIBED, head(4), head(5))
    feed = feed_on(Opener(socket), events, wake)
    feed.clock = BlockClock()
    feed.start()
    try:
        until(lambda: feed.pushes == 2)
        assert feed.live and json.loads(socket.sent[0])["params"] == ["newHeads"]
        assert wake.wait(0.0) is True
        assert feed.clock.pushes == 3  # the subscription and each head: its paced waits end on them
    finally:
        feed.close()
    assert socket.closed and not feed.live
    assert events.names() == ["push_subscribed"]


def test_failures_reconnect_on_the_backoff_schedule_which_a_subscription_resets() -> None:
    events = Events()
    refused = ConnectionRefusedError(111, "refused")
    dropped = ScriptedSocket(SUBSCRIBED, head(1), CUT)
    last = ScriptedSocket(SUBSCRIBED)
    opener = Opener(refused, refused, refused, refused, dropped, refused, last)
    feed = feed_on(opener, events).start()
    try:
        until(lambda: events.names().count("push_subscribed") == 2)
        assert feed.live and feed.failures == 0
    finally:
        feed.close()
    # doubling ceilings capped at 0.04, back to the first after the subscription that then dropped
    assert events.delays() == [0.01, 0.02, 0.04, 0.04, 0.01, 0.02]
    assert events.names() == ["push_lost"] * 4 + ["push_subscribed"] + ["push_lost"] * 2 + ["push_subscribed"]
    assert opener.opened == 7


def test_an_endpoint_without_subscriptions_turns_push_off_for_good() -> None:
    events = Events()
    refusal = json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "method not found"}})
    opener = Opener(ScriptedSocket(refusal))
    feed = feed_on(opener, events).start()
    until(lambda: not feed._thread.is_alive())
    assert isinstance(feed.off, RpcRejected) and not feed.live
    assert events.names() == ["push_unavailable"] and opener.opened == 1


def test_a_garbled_message_is_a_transient_cut() -> None:
    events = Events()
    feed = feed_on(Opener(ScriptedSocket(SUBSCRIBED, "{not json"), ScriptedSocket(SUBSCRIBED)), events).start()
    try:
        until(lambda: events.names().count("push_subscribed") == 2)
    finally:
        feed.close()
    assert "not JSON" in str(dict(events.records[1][1])["error"])
