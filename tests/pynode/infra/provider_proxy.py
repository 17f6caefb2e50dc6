"""A JSON-RPC proxy on 127.0.0.1 that answers like a hosted provider, in front of a real anvil.

Test scaffolding only (never shipped in pynode/). A hosted endpoint differs from
an own node by its ordinary rules, each configurable in :class:`ProviderRules`:

* ``eth_getLogs`` block-range limit (Alchemy's 2K, QuickNode's 10,000), refused
  with that provider's code and wording (:data:`REFUSALS`);
* a cap on the number of logs in one answer (Infura's 10,000, code -32005);
* random HTTP 429 (JSON-RPC -32005 body, ``Retry-After``) at a rate, from a
  seeded RNG so a run can be repeated;
* a token-bucket rate limit: HTTP 429 once the bucket is empty;
* node-operator methods absent: ``anvil_*``, ``evm_*``, ``hardhat_*`` get -32601.

Batches (a JSON array) are answered item by item, as providers do. Every call
is counted by client and method (:class:`Counts`): what a metered provider
bills. The client is the URL path (``http://127.0.0.1:PORT/daemon``), so one
proxy tells the daemon's requests from the watcher's and the CLI's.

:class:`ProviderRulesEngine` is the whole behaviour without sockets (the unit
tests drive it directly); :class:`ProviderProxy` serves it over HTTP with the
standard library's ThreadingHTTPServer.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

LOOPBACK = "127.0.0.1"
METHOD_NOT_FOUND = -32601


@dataclass(frozen=True)
class Refusal:
    """A provider's JSON-RPC error: code and message, the message formatted with the query's figures."""

    code: int
    message: str
    http_status: int = 200

    def error(self, **figures: object) -> dict:
        return {"code": self.code, "message": self.message.format(**figures)}


# The providers' own replies (code and wording as they send them), with the figures of the query.
REFUSALS = {
    "alchemy": Refusal(-32602, "Log response size exceeded. You can make eth_getLogs requests with up to a "
                               "{limit} block range and no limit on the response size, or you can request any "
                               "block range with a cap of 10K logs in the response. Based on your parameters and "
                               "the response size limit, this block range should work: [{first}, {last}]"),
    "alchemy-free": Refusal(-32600, "You can make eth_getLogs requests with up to a {limit} block range. Based on "
                                    "your parameters, this block range should work: [{first}, {last}]"),
    "infura": Refusal(-32005, "query returned more than {limit} results. Try with this block range "
                              "[{first}, {last}]."),
    "infura-range": Refusal(-32602, "range {span} exceeds limit of {limit}"),
    "quicknode": Refusal(-32614, "eth_getLogs is limited to a {limit:,} range", http_status=413),
    "reth": Refusal(-32602, "query exceeds max results {limit}, retry with the range {first_int}-{last_int}"),
}
# Infura's answer to a rate-limited call, sent with HTTP 429.
RATE_LIMITED = Refusal(-32005, "project ID request rate exceeded", http_status=429)


@dataclass(frozen=True)
class ProviderRules:
    max_block_range: int | None = 2000  # blocks per eth_getLogs, both ends included; None: unlimited
    range_refusal: Refusal = REFUSALS["alchemy"]
    max_results: int | None = 10_000  # logs per eth_getLogs answer; None: unlimited
    result_refusal: Refusal = REFUSALS["infura"]
    random_429_rate: float = 0.0  # share of HTTP requests answered 429 at random
    retry_after_s: int = 1  # Retry-After of a random 429
    bucket_size: int | None = None  # token bucket (one token per call); None: no rate limit
    bucket_refill_per_s: float = 0.0
    refused_prefixes: tuple[str, ...] = ("anvil_", "evm_", "hardhat_")
    seed: int = 0


class TokenBucket:
    """``size`` tokens, refilled continuously at ``refill_per_s``; a clock is injected for the unit tests."""

    def __init__(self, size: int, refill_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.refill_per_s = refill_per_s
        self.clock = clock
        self.tokens = float(size)
        self.stamp = clock()

    def take(self, n: int = 1) -> float:
        """Takes ``n`` tokens and returns 0, or takes none and returns the seconds until ``n`` are there."""
        now = self.clock()
        self.tokens = min(self.size, self.tokens + (now - self.stamp) * self.refill_per_s)
        self.stamp = now
        if self.tokens >= n:
            self.tokens -= n
            return 0.0
        if self.refill_per_s <= 0:
            return math.inf
        return (n - self.tokens) / self.refill_per_s


@dataclass
class Counts:
    """Calls by (client, method); HTTP requests answered 429 (each one a retry the client must make)."""

    calls: Counter = field(default_factory=Counter)
    rate_limited: Counter = field(default_factory=Counter)  # by client
    refused: Counter = field(default_factory=Counter)  # by rule name

    def total(self, client: str | None = None) -> int:
        return sum(n for (who, _), n in self.calls.items() if client in (None, who))

    def by_method(self, client: str | None = None) -> dict[str, int]:
        methods: Counter = Counter()
        for (who, method), n in self.calls.items():
            if client in (None, who):
                methods[method] += n
        return dict(methods.most_common())

    def by_client(self) -> dict[str, int]:
        clients: Counter = Counter()
        for (who, _), n in self.calls.items():
            clients[who] += n
        return dict(clients.most_common())


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


Upstream = Callable[[dict], dict]  # one JSON-RPC call to the real node, its reply


class ProviderRulesEngine:
    """Applies :class:`ProviderRules` to request bodies; forwards what passes to ``upstream``."""

    def __init__(self, rules: ProviderRules, upstream: Upstream, clock: Callable[[], float] = time.monotonic) -> None:
        self.rules = rules
        self.upstream = upstream
        self.counts = Counts()
        self._rng = random.Random(rules.seed)
        self._bucket = (TokenBucket(rules.bucket_size, rules.bucket_refill_per_s, clock)
                        if rules.bucket_size is not None else None)
        self._lock = threading.Lock()

    def reset_counts(self) -> Counts:
        """Starts counting afresh; returns what was counted so far."""
        with self._lock:
            counted, self.counts = self.counts, Counts()
        return counted

    def handle(self, body: bytes, client: str = "-") -> Reply:
        try:
            parsed = json.loads(body)
        except ValueError:
            return _json_reply(200, _error_reply(None, {"code": -32700, "message": "Parse error"}))
        calls = parsed if isinstance(parsed, list) else [parsed]
        if not calls or not all(isinstance(c, dict) for c in calls):
            return _json_reply(200, _error_reply(None, {"code": -32600, "message": "Invalid Request"}))
        with self._lock:
            for call in calls:
                self.counts.calls[client, str(call.get("method"))] += 1
            wait_s = self._rate_limit(len(calls))
            if wait_s is not None:
                self.counts.rate_limited[client] += 1
        if wait_s is not None:
            replies = [_error_reply(c.get("id"), RATE_LIMITED.error()) for c in calls]
            return _json_reply(RATE_LIMITED.http_status, replies if isinstance(parsed, list) else replies[0],
                               (("Retry-After", str(max(1, math.ceil(wait_s)))),))
        answered = [self._answer(call) for call in calls]
        status = max((s for s, _ in answered), default=200)
        replies = [reply for _, reply in answered]
        return _json_reply(status, replies if isinstance(parsed, list) else replies[0])

    def _rate_limit(self, calls: int) -> float | None:
        """Seconds to wait if this HTTP request is refused with 429, else None (lock held)."""
        if self.rules.random_429_rate and self._rng.random() < self.rules.random_429_rate:
            return float(self.rules.retry_after_s)
        if self._bucket is not None:
            wait_s = self._bucket.take(calls)
            if wait_s:
                return wait_s
        return None

    def _answer(self, call: dict) -> tuple[int, dict]:
        method, call_id = str(call.get("method")), call.get("id")
        if method.startswith(self.rules.refused_prefixes):
            self._refused("method")
            return 200, _error_reply(call_id, {"code": METHOD_NOT_FOUND,
                                               "message": f"the method {method} does not exist/is not available"})
        if method == "eth_getLogs":
            refusal = self._range_refusal(call)
            if refusal is not None:
                return refusal[0], _error_reply(call_id, refusal[1])
        reply = self.upstream(call)
        if method == "eth_getLogs" and isinstance(reply.get("result"), list):
            refusal = self._result_refusal(call, reply["result"])
            if refusal is not None:
                return refusal[0], _error_reply(call_id, refusal[1])
        return 200, reply

    def _range_refusal(self, call: dict) -> tuple[int, dict] | None:
        limit = self.rules.max_block_range
        query = _log_query(call)
        if limit is None or query is None or "blockHash" in query:
            return None
        first, last = (self._block_number(query.get(key, "latest")) for key in ("fromBlock", "toBlock"))
        span = last - first + 1
        if span <= limit:
            return None
        self._refused("range")
        rule = self.rules.range_refusal
        return rule.http_status, rule.error(limit=limit, span=span, **_suggested(first, first + limit - 1))

    def _result_refusal(self, call: dict, logs: list) -> tuple[int, dict] | None:
        cap = self.rules.max_results
        if cap is None or len(logs) <= cap:
            return None
        self._refused("results")
        first = self._block_number((_log_query(call) or {}).get("fromBlock", "latest"))
        last = max(first, int(logs[cap]["blockNumber"], 16) - 1)  # the blocks before the one that overflowed
        rule = self.rules.result_refusal
        return rule.http_status, rule.error(limit=cap, span=last - first + 1, **_suggested(first, last))

    def _block_number(self, block: object) -> int:
        if isinstance(block, str) and block.startswith("0x"):
            return int(block, 16)
        if isinstance(block, int):
            return block
        # a tag (latest, safe, finalized, pending, earliest): the node resolves it; not counted, not billed
        reply = self.upstream({"jsonrpc": "2.0", "id": 0, "method": "eth_getBlockByNumber", "params": [block, False]})
        return int(reply["result"]["number"], 16)

    def _refused(self, rule: str) -> None:
        with self._lock:
            self.counts.refused[rule] += 1


def _log_query(call: dict) -> dict | None:
    params = call.get("params")
    return params[0] if isinstance(params, list) and params and isinstance(params[0], dict) else None


def _suggested(first: int, last: int) -> dict:
    return {"first": hex(first), "last": hex(last), "first_int": first, "last_int": last}


def _error_reply(call_id: object, error: dict) -> dict:
    return {"jsonrpc": "2.0", "id": call_id, "error": error}


def _json_reply(status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as providers serve it (web3 reuses its connections)
    engine: ProviderRulesEngine

    def do_POST(self) -> None:  # http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        reply = self.engine.handle(body, self.path.strip("/") or "-")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, *args: Any) -> None:  # quiet: the counts are the record
        pass


class _Forwarder:
    """One keep-alive session per server thread to the real node."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    def __call__(self, call: dict) -> dict:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session.post(self.url, json=call, timeout=60).json()


class ProviderProxy:
    """:class:`ProviderRulesEngine` over HTTP on a free 127.0.0.1 port, in front of ``upstream_url``."""

    def __init__(self, upstream_url: str, rules: ProviderRules = ProviderRules()) -> None:
        self.engine = ProviderRulesEngine(rules, _Forwarder(upstream_url))
        handler = type("Handler", (_Handler,), {"engine": self.engine})
        self._server = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="provider-proxy", daemon=True)

    @property
    def counts(self) -> Counts:
        return self.engine.counts

    def url(self, client: str = "") -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}/{client}"

    def start(self) -> ProviderProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> ProviderProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
