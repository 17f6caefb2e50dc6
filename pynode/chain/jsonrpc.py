"""JSON-RPC over HTTP without web3, and the bounded retry both transports share.

A read command's views, logs and blocks need no web3, whose import alone costs
more than the command's start-up budget (bench/cli_bench.py); errors are mapped
by chain/rpc.py's functions, the same as under web3.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

import certifi
import msgspec
import urllib3

from pynode.chain.rpc import RPC_TIMEOUT_S, HttpStatusError, checked_batch, http_reply, map_exception, retried_here
from pynode.core.backoff import Backoff, retry
from pynode.core.errors import FabmeshError

T = TypeVar("T")


class Retrying:
    """A bounded retry of rate limits and outages around one request, raising only our types.

    ``retry_timeout_s`` bounds the retrying of one request (0: fail at once, the
    caller's loop retries). Re-sending is safe: reads are idempotent and a
    re-sent raw transaction is the same signed bytes ("already known").
    ``requests`` counts HTTP round trips, what a metered provider bills.
    """

    def __init__(self, *, retry_timeout_s: float = 0.0, backoff: Backoff | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_timeout_s = retry_timeout_s
        self.backoff = backoff or Backoff(base_s=0.25, cap_s=8.0)
        self.sleep = sleep
        self.clock = clock
        self.requests = 0
        self.retries = 0
        # the log reader's prefetch thread shares the client with its caller: `+=` is not atomic
        self._counting = threading.Lock()

    def _count_retry(self, *_: object) -> None:
        with self._counting:
            self.retries += 1

    def _retrying(self, method: str, send: Callable[[], T]) -> T:
        def once() -> T:
            with self._counting:
                self.requests += 1
            try:
                return send()
            except FabmeshError:
                raise
            except Exception as exc:  # mapped (or re-raised) by type
                raise map_exception(method, exc) from exc

        return retry(once, timeout_s=self.retry_timeout_s, backoff=self.backoff, transient=retried_here,
                     sleep=self.sleep, clock=self.clock, on_retry=self._count_retry)



def http_pool(endpoint_uri: str) -> urllib3.PoolManager:
    """Connections to ``endpoint_uri`` as requests would open them: through the proxy the environment names
    (``https_proxy``, ``all_proxy``, minus ``no_proxy``), TLS verified against certifi's bundle (or the one
    ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` names)."""
    tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED",
                           "ca_certs": os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
                           or certifi.where()}
    proxy = _proxy(urllib.parse.urlsplit(endpoint_uri))
    return urllib3.ProxyManager(proxy, **tls) if proxy else urllib3.PoolManager(**tls)


def _proxy(parts: urllib.parse.SplitResult) -> str | None:
    # on Linux the proxies are the environment's alone: urllib.request's import (a tenth of a read's
    # start-up) only when it names one
    if sys.platform == "linux" and not any(name.lower().endswith("_proxy") for name in os.environ):
        return None
    import urllib.request

    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    return proxy if proxy and not urllib.request.proxy_bypass(parts.hostname or "") else None


class RpcClient(Retrying):
    """JSON-RPC over HTTP without web3, with the same error types and retries as ``FabmeshProvider``.

    What a read needs (eth_call, eth_getLogs, blocks, the chain id) costs no web3
    import, and no requests either (its charset detection alone is a fifth of a read's
    start-up): urllib3, which requests runs on, carries it (bench/cli_bench.py).
    ``pool`` is the HTTP transport (default: :func:`http_pool`).
    """

    def __init__(self, endpoint_uri: str, *, timeout_s: float = RPC_TIMEOUT_S, retry_timeout_s: float = 0.0,
                 backoff: Backoff | None = None, pool: urllib3.PoolManager | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(retry_timeout_s=retry_timeout_s, backoff=backoff, sleep=sleep, clock=clock)
        self.endpoint_uri = endpoint_uri
        self.timeout_s = timeout_s
        self.pool = pool if pool is not None else http_pool(endpoint_uri)
        self._headers = {**urllib3.util.make_headers(accept_encoding=True), "Content-Type": "application/json"}
        self._ids = itertools.count(1)

    def _post(self, body: Any) -> Any:
        # no urllib3 retries or redirects: the retry is ours (by error type), and a redirect is a refusal
        response = self.pool.request("POST", self.endpoint_uri, body=msgspec.json.encode(body), headers=self._headers,
                                     timeout=urllib3.Timeout(connect=self.timeout_s, read=self.timeout_s),
                                     retries=False)
        # The body in one read, decoded and parsed by msgspec: on an eth_getLogs answer of 20,000 logs the
        # standard parser takes 1.3-1.8 times as long (a quarter of its time garbage collections).
        data = response.data
        if response.status >= 300:  # the error mapping reads an error reply's status, headers and body
            raise HttpStatusError(response.status, response.headers, data)
        return msgspec.json.decode(data)
    def make_request(self, method: str, params: Any) -> Any:
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}
        return self._retrying(method, lambda: http_reply(method, lambda: self._post(body)))

    def make_batch_request(self, batch_requests: list[tuple[str, Any]]) -> Any:
        body = [{"jsonrpc": "2.0", "method": m, "params": p, "id": next(self._ids)} for m, p in batch_requests]
        return self._retrying(f"batch of {len(batch_requests)}",
                              lambda: checked_batch(batch_requests, self._post(body)))
