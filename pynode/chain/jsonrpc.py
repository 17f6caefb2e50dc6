"""JSON-RPC over HTTP without web3, and the bounded retry both transports share.

A read command's views, logs and blocks need no web3, whose import alone costs
more than the command's start-up budget (bench/cli_bench.py); errors are mapped
by chain/rpc.py's functions, the same as under web3.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import requests

from pynode.chain.rpc import RPC_TIMEOUT_S, checked_batch, http_reply, map_exception, retried_here
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



class RpcClient(Retrying):
    """JSON-RPC over HTTP without web3, with the same error types and retries as ``FabmeshProvider``.

    What a read needs (eth_call, eth_getLogs, blocks, the chain id) costs no web3
    import: a read command starts in a fraction of the time (bench/cli_bench.py).
    ``Chain`` builds its web3 (for signing and sending) on this client's session.
    """

    def __init__(self, endpoint_uri: str, *, timeout_s: float = RPC_TIMEOUT_S, retry_timeout_s: float = 0.0,
                 backoff: Backoff | None = None, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(retry_timeout_s=retry_timeout_s, backoff=backoff, sleep=sleep, clock=clock)
        self.endpoint_uri = endpoint_uri
        self.timeout_s = timeout_s
        self.session = session if session is not None else requests.Session()
        self._ids = itertools.count(1)

    def _post(self, body: Any) -> Any:
        response = self.session.post(self.endpoint_uri, json=body, timeout=self.timeout_s, stream=True)
        response.raise_for_status()  # the error mapping reads an error reply's body itself
        # The body in one read, not requests' 10 kB chunks (each a wait for the GIL while the log reader
        # decodes in the other thread), parsed by msgspec: on an eth_getLogs answer of 20,000 logs the
        # standard parser takes 1.3-1.8 times as long (a quarter of its time garbage collections).
        return msgspec.json.decode(response.raw.read(decode_content=True))

    def make_request(self, method: str, params: Any) -> Any:
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}
        return self._retrying(method, lambda: http_reply(method, lambda: self._post(body)))

    def make_batch_request(self, batch_requests: list[tuple[str, Any]]) -> Any:
        body = [{"jsonrpc": "2.0", "method": m, "params": p, "id": next(self._ids)} for m, p in batch_requests]
        return self._retrying(f"batch of {len(batch_requests)}",
                              lambda: checked_batch(batch_requests, self._post(body)))
