"""Connecting to a JSON-RPC endpoint with retries on transient errors."""

from __future__ import annotations

import requests
from web3 import Web3
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from pynode.core.errors import FatalError, TransientError

RPC_TIMEOUT_S = 30


def connect(rpc_url: str, *, retries: int = 5) -> Web3:
    """A Web3 over HTTP whose idempotent calls (reads, raw-tx resends) retry with backoff."""
    provider = Web3.HTTPProvider(
        rpc_url,
        request_kwargs={"timeout": RPC_TIMEOUT_S},
        exception_retry_configuration=ExceptionRetryConfiguration(
            errors=(requests.ConnectionError, requests.Timeout), retries=retries, backoff_factor=0.25),
    )
    return Web3(provider)


def chain_id(w3: Web3) -> int:
    try:
        return w3.eth.chain_id
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(f"RPC endpoint {w3.provider.endpoint_uri} unreachable: {type(exc).__name__}") from exc


def check_chain(w3: Web3, expected: int) -> None:
    actual = chain_id(w3)
    if actual != expected:
        raise FatalError(f"RPC endpoint is chain {actual}, but the deployment is for chain {expected}")
