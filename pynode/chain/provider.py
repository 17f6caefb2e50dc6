"""web3 on our error types: the provider every web3 call (signing, sending, receipts, blocks) goes through.

Reads that need no web3 take :class:`pynode.chain.jsonrpc.RpcClient` instead; both
map replies and retry with chain/rpc.py's functions, the one place that reads
provider wording.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import requests
from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from pynode.chain.jsonrpc import Retrying
from pynode.chain.rpc import RPC_TIMEOUT_S, HttpStatusError, checked_batch, http_reply
from pynode.core.backoff import Backoff

T = TypeVar("T")


def _posted(post: Callable[[], T]) -> T:
    """``post()``, with requests' status and timeout errors raised as the types chain/rpc.py maps for both
    transports (its other errors are OSErrors, which it maps as they are)."""
    try:
        return post()
    except requests.HTTPError as exc:
        if exc.response is None:
            raise HttpStatusError(0, {}, b"") from exc
        raise HttpStatusError(exc.response.status_code, exc.response.headers, exc.response.content) from exc
    except requests.Timeout as exc:
        raise TimeoutError(str(exc)) from exc


class FabmeshProvider(HTTPProvider, Retrying):
    """web3's HTTP provider with our error types and a bounded retry of rate limits and outages
    (see :class:`pynode.chain.jsonrpc.Retrying`)."""

    def __init__(self, endpoint_uri: str, *, timeout_s: float = RPC_TIMEOUT_S, retry_timeout_s: float = 0.0,
                 backoff: Backoff | None = None, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        extra: dict[str, Any] = {"session": session} if session is not None else {}
        # eth_chainId answered once per thread: web3's validation middleware asks before every eth_call and
        # eth_estimateGas, a third of all requests a metered provider billed (bench/rpc_bench.py)
        HTTPProvider.__init__(self, endpoint_uri, request_kwargs={"timeout": timeout_s},
                              exception_retry_configuration=None, cache_allowed_requests=True,
                              cacheable_requests={"eth_chainId"}, request_cache_validation_threshold=None, **extra)
        Retrying.__init__(self, retry_timeout_s=retry_timeout_s, backoff=backoff, sleep=sleep, clock=clock)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        def send() -> RPCResponse:
            return cast(RPCResponse, http_reply(method, lambda: _posted(
                lambda: super(FabmeshProvider, self).make_request(method, params))))

        return self._retrying(method, send)

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        def send() -> list[RPCResponse] | RPCResponse:
            replies = _posted(lambda: super(FabmeshProvider, self).make_batch_request(batch_requests))
            return cast("list[RPCResponse] | RPCResponse",
                        checked_batch(cast("list[tuple[str, Any]]", batch_requests), replies))

        return self._retrying(f"batch of {len(batch_requests)}", send)


def connect(rpc_url: str, *, retry_timeout_s: float = 0.0, session: requests.Session | None = None) -> Web3:
    """A Web3 whose every call raises our error types; throttling and outages retried for ``retry_timeout_s``.

    Without web3's validation middleware: it checks a ``chainId`` in eth_call/eth_estimateGas parameters, which
    ours never carry (transactions are signed here with the connection's checked chain id), and asked the node's
    chain id for it once per process, a request a metered provider bills for nothing."""
    w3 = Web3(FabmeshProvider(rpc_url, retry_timeout_s=retry_timeout_s, session=session))
    w3.middleware_onion.remove("validation")
    return w3


def chain_id(w3: Web3) -> int:
    return w3.eth.chain_id
