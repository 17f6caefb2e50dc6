"""Backoff bounds and the transient/input/fatal classification."""

from __future__ import annotations

import random

import pytest
import requests
from web3.exceptions import ContractLogicError, ProviderConnectionError, Web3RPCError

from pynode.daemon.retry import Backoff, ErrorClass, classify, is_transient, retry
from pynode.core.errors import FatalError, InputError, TransientError


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(base_s=0.5, factor=2, cap_s=10, rng=random.Random(1))
    assert [backoff.ceiling(n) for n in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert backoff.ceiling(10_000) == 10  # no overflow
    delays = [backoff.delay(3) for _ in range(200)]
    assert all(0 <= d <= 4 for d in delays) and len(set(delays)) > 150 and max(delays) > 3


def http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(("exc", "expected"), [
    (TransientError("x"), ErrorClass.TRANSIENT),
    (requests.ConnectionError(), ErrorClass.TRANSIENT),
    (requests.ReadTimeout(), ErrorClass.TRANSIENT),
    (ProviderConnectionError("down"), ErrorClass.TRANSIENT),
    (ConnectionResetError(), ErrorClass.TRANSIENT),
    (TimeoutError(), ErrorClass.TRANSIENT),
    (http_error(503), ErrorClass.TRANSIENT),
    (http_error(429), ErrorClass.TRANSIENT),
    (http_error(401), ErrorClass.FATAL),
    (Web3RPCError("x", rpc_response={"error": {"code": -32000, "message": "header not found"}}), ErrorClass.TRANSIENT),
    (Web3RPCError("x", rpc_response={"error": {"code": -32005, "message": "limit exceeded"}}), ErrorClass.TRANSIENT),
    (Web3RPCError("x", rpc_response={"error": {"code": -32601, "message": "method not found"}}), ErrorClass.FATAL),
    (InputError("bad result.json"), ErrorClass.INPUT),
    (FatalError("wrong chain"), ErrorClass.FATAL),
    (ContractLogicError("reverted"), ErrorClass.FATAL),
    (KeyError("bug"), ErrorClass.FATAL),
])
def test_classification(exc: BaseException, expected: ErrorClass) -> None:
    assert classify(exc) is expected
    assert is_transient(exc) is (expected is ErrorClass.TRANSIENT)


def test_retry_retries_only_transient_errors() -> None:
    sleeps: list[float] = []
    calls = iter([requests.ConnectionError(), TransientError("again"), "done"])

    def flaky() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    seen = []
    assert retry(flaky, attempts=5, backoff=Backoff(rng=random.Random(0)), sleep=sleeps.append,
                 on_retry=lambda n, exc, wait: seen.append((n, type(exc).__name__))) == "done"
    assert len(sleeps) == 2 and seen == [(0, "ConnectionError"), (1, "TransientError")]

    def broken() -> None:
        raise InputError("no")

    with pytest.raises(InputError):
        retry(broken, sleep=sleeps.append)
    assert len(sleeps) == 2

    def down() -> None:
        raise TransientError("still down")

    with pytest.raises(TransientError, match="still down"):
        retry(down, attempts=3, sleep=sleeps.append)
    assert len(sleeps) == 4
