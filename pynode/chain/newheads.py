"""New heads pushed over WebSocket (``eth_subscribe("newHeads")``) wake a loop that polls otherwise.

A loop (the daemon's cycle, the buyer's watcher) waits between polls on a :class:`Wake`. A
:class:`HeadFeed` thread holds a subscription and sets the wake on every head the endpoint pushes,
so the loop reads the chain at once instead of at its next poll. A push carries nothing the loop
uses: the loop reads the head, the logs (the same bounded log reader) and the confirmation depth as
it does without push, so a lost or late push costs time, never a block, and the poll interval stays
the safety net. Without a subscription (no ``ws_url``, an endpoint that offers none, a socket that
dropped) the loop polls at its interval as before; a dropped or refused socket is tried again with
backoff meanwhile, and the first cycle after a new subscription runs at once (heads pushed while it
was down were not heard).

WebSocket failures become our error types here, by type (``websockets``' exceptions, OSError); a
JSON-RPC error in the subscription's reply goes through :func:`pynode.chain.rpc.map_error` like any
other. Transient ones reconnect; anything else (a refused handshake, a bad key, an endpoint without
subscriptions) turns push off for this process with one warning, and polling carries on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from pynode.chain.heads import BlockClock
from pynode.chain.rpc import map_error, parse_retry_after
from pynode.core.backoff import Backoff
from pynode.core.errors import (
    FabmeshError,
    InputError,
    Kind,
    ProviderUnavailable,
    RateLimited,
    RpcRejected,
    classify,
    retry_after,
)

#: ``ws_url = "rpc"``: the RPC URL itself with ws(s)://, for nodes serving both on one port (anvil, hardhat,
#: geth with --ws.port equal to --http.port); hosted providers give a separate wss:// URL, set that instead
SAME_AS_RPC = "rpc"
OPEN_TIMEOUT_S = 10.0
CLOSE_WAIT_S = 1.0  # how long closing waits for the thread (a stop takes a few seconds at most)
SUBSCRIBE = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})


def ws_endpoint(ws_url: str | None, rpc_url: str) -> str | None:
    """Where to subscribe: ``ws_url`` as given, the RPC URL as ws(s):// for ``"rpc"``, None for no push."""
    if ws_url != SAME_AS_RPC:
        return ws_url
    parts = urlsplit(rpc_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


class Wake:
    """What a loop waits on between polls: set by a pushed head (or a stop), cleared by the wait it ends.

    A push during a cycle stays set, so the wait after that cycle returns at once; a push between a wait
    ending and its clearing is lost, harmlessly: the cycle that follows reads a head at least as new.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout_s: float) -> bool:
        """Up to ``timeout_s`` (the poll interval); True if woken before it ran out."""
        woken = self._event.wait(max(0.0, timeout_s))
        self._event.clear()
        return woken


class Connection(Protocol):
    """What the feed uses of a WebSocket client connection (``websockets.sync.client``'s)."""

    def send(self, message: str) -> None: ...
    def recv(self, timeout: float | None = None) -> str | bytes: ...
    def close(self) -> None: ...


def _open(url: str) -> Connection:
    from websockets.sync.client import connect  # only a process that subscribes pays for the import

    # the library's keepalive pings find a half-open socket (a peer gone without a FIN) within ~40 s
    return connect(url, open_timeout=OPEN_TIMEOUT_S, close_timeout=1.0, max_size=1 << 20)


def map_ws_error(exc: Exception) -> FabmeshError | None:
    """Our error for what the WebSocket client raised; None when it is none of its failures (a bug)."""
    from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

    if isinstance(exc, FabmeshError):
        return exc
    if isinstance(exc, InvalidStatus):
        status, headers = exc.response.status_code, exc.response.headers
        label = f"WebSocket handshake: HTTP {status}"
        if status == 429:
            return RateLimited(label, retry_after=parse_retry_after(headers.get("Retry-After")))
        if (status >= 500 and status != 501) or status == 408:  # 501: an HTTP server that speaks no WebSocket
            return ProviderUnavailable(label)
        return RpcRejected(f"the WebSocket endpoint refused the connection ({label})")
    if isinstance(exc, InvalidURI):
        return InputError(f"{exc.uri!r} is not a ws:// or wss:// URL")
    if isinstance(exc, WebSocketException | OSError | TimeoutError):
        return ProviderUnavailable(f"WebSocket endpoint unreachable or cut ({type(exc).__name__})")
    return None


def subscription_id(reply: Any) -> str:
    """The id an ``eth_subscribe`` reply names; a refusal as our error (no subscriptions: RpcRejected)."""
    if not isinstance(reply, Mapping) or ("error" not in reply and not isinstance(reply.get("result"), str)):
        raise ProviderUnavailable("eth_subscribe: the reply is not a subscription id")
    error = reply.get("error")
    if error:
        mapped = map_error("eth_subscribe", error)
        raise mapped or RpcRejected(f"eth_subscribe: the endpoint offers no newHeads subscription "
                                    f"(RPC error {error.get('code') if isinstance(error, Mapping) else error})")
    return str(reply["result"])


def is_head(message: Any, subscription: str) -> bool:
    """Whether a message is a head pushed on ``subscription``."""
    params = message.get("params") if isinstance(message, Mapping) else None
    return isinstance(params, Mapping) and message.get("method") == "eth_subscription" \
        and params.get("subscription") == subscription


def _parsed(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # a cut or garbled frame: the socket is not to be trusted
        raise ProviderUnavailable("WebSocket endpoint sent a message that is not JSON") from None


class HeadFeed:
    """A thread that keeps one ``newHeads`` subscription at ``url`` and sets ``wake`` on every head; ``clock``
    (the connection's, set when it connects) hears of each too, so a receipt or confirmation wait ends then.

    ``log(level, event, **fields)``: ``push_subscribed``, ``push_lost`` (reconnecting in ``retry_in_s``),
    ``push_unavailable`` (push off, polling only). ``connect`` makes the connection (tests of the schedule
    hand in their own; the default is ``websockets``' sync client).
    """

    def __init__(self, url: str, wake: Wake, *, log: Callable[..., None] | None = None,
                 backoff: Backoff | None = None, connect: Callable[[str], Connection] = _open) -> None:
        self.url = url
        self.wake = wake
        self.clock: BlockClock | None = None
        self.log = log or (lambda *a, **k: None)
        self.backoff = backoff or Backoff(base_s=0.5, cap_s=30.0)
        self._open = connect
        self._closed = threading.Event()
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self.live = False  # subscribed now: heads arrive by push
        self.pushes = 0
        self.failures = 0  # in a row, since the last subscription
        self.off: FabmeshError | None = None  # why push was turned off for good
        self._thread = threading.Thread(target=self.run, name="head-feed", daemon=True)

    def start(self) -> HeadFeed:
        self._thread.start()
        return self

    def close(self) -> None:
        """Ends the subscription and the thread (a recv in progress ends when its socket closes)."""
        self._closed.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            # a daemon thread: one still opening a socket to a silent host is left to its open timeout
            self._thread.join(timeout=CLOSE_WAIT_S)

    def run(self) -> None:
        """Subscribes, and again after every transient failure, until closed or push is refused for good."""
        while not self._closed.is_set():
            try:
                self._session()
            except Exception as exc:  # noqa: BLE001 - sorted by type in _failed; this thread never dies of one
                if self._closed.is_set():
                    return
                if not self._failed(exc):
                    return

    def _failed(self, exc: Exception) -> bool:
        """Notes a failure; True to try again (after its backoff), False when push is off for good."""
        self.live = False
        # not a WebSocket failure (a bug): push goes off loudly, polling goes on
        error = map_ws_error(exc) or RpcRejected(f"push failed: {type(exc).__name__}: {exc}")
        if classify(error) is not Kind.TRANSIENT:
            self.off = error
            self.log("warning", "push_unavailable", ws=self.url, error=str(error)[:300], polling=True)
            return False
        delay = self.backoff.delay(self.failures, retry_after(error))
        self.failures += 1
        self.log("warning", "push_lost", ws=self.url, error=str(error)[:300], retry_in_s=round(delay, 2))
        return not self._closed.wait(delay)

    def _session(self) -> None:
        conn = self._open(self.url)
        with self._lock:
            self._conn = conn
        try:
            if self._closed.is_set():
                return
            conn.send(SUBSCRIBE)
            subscription = subscription_id(self._reply(conn))
            self.live, self.failures = True, 0
            self.log("info", "push_subscribed", ws=self.url)
            self._heard()  # heads pushed while there was no subscription were not heard: look now
            while not self._closed.is_set():
                if is_head(_parsed(conn.recv()), subscription):
                    self.pushes += 1
                    self._heard()
        finally:
            self.live = False
            with self._lock:
                self._conn = None
            conn.close()

    def _heard(self) -> None:
        self.wake.set()
        clock = self.clock
        if clock is not None:
            clock.pushed()

    @staticmethod
    def _reply(conn: Connection) -> Any:
        """The reply to the subscribe request (id 1), within the open timeout (TimeoutError after it)."""
        while True:
            message = _parsed(conn.recv(timeout=OPEN_TIMEOUT_S))
            if isinstance(message, Mapping) and message.get("id") == 1:
                return message
