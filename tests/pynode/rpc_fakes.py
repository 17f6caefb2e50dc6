"""An in-process JSON-RPC endpoint for unit tests: a requests transport adapter, no sockets.

The real FabmeshProvider (and so the real error mapping, retries and web3's own
reply handling) runs on top; only the HTTP hop is replaced. Every request body
is recorded, so tests can assert what went over the wire.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import requests
import urllib3
from hexbytes import HexBytes
from requests.adapters import BaseAdapter
from web3 import Web3

from pynode.chain.jsonrpc import RpcClient
from pynode.chain.provider import FabmeshProvider

URL = "http://rpc.invalid:8545"

# A handler gets (method, params) and returns a JSON-RPC reply dict ({"result": ...} or {"error": ...}),
# or an (HTTP status, headers, body) tuple for transport-level answers.
Handler = Callable[[str, list], Any]


class RecordingTransport(BaseAdapter):
    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler
        self.calls: list[tuple[str, list]] = []

    def methods(self, name: str) -> list[list]:
        return [params for method, params in self.calls if method == name]

    def _answer(self, body: dict) -> tuple[int, dict, Any]:
        method, params = body["method"], body.get("params", [])
        self.calls.append((method, params))
        answer = self.handler(method, params)
        if isinstance(answer, tuple):
            return answer
        return 200, {}, {"jsonrpc": "2.0", "id": body.get("id"), **answer}

    def reply(self, request_body: bytes | str) -> tuple[int, dict, bytes]:
        """The endpoint's answer to one POST body (a request or a batch): status, headers, body bytes."""
        payload = json.loads(request_body)
        if isinstance(payload, list):
            answers = [self._answer(entry) for entry in payload]
            status, headers = 200, {}
            body: Any = [answer[2] for answer in answers]
            for answer in answers:
                if answer[0] != 200:
                    status, headers, body = answer
                    break
        else:
            status, headers, body = self._answer(payload)
        return status, headers, body if isinstance(body, bytes) else json.dumps(body).encode()

    def answer(self, request_body: bytes) -> urllib3.HTTPResponse:
        """What RpcClient's urllib3 gets: the answer on the response's stream, as a socket would hand it over."""
        status, headers, body = self.reply(request_body)
        return urllib3.HTTPResponse(body=io.BytesIO(body), headers=headers, status=status, preload_content=False)

    def pool(self) -> urllib3.PoolManager:
        """A urllib3 pool whose requests this transport answers (RpcClient's transport)."""
        return RecordingPool(self)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        status, headers, body = self.reply(request.body)
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = body
        response.url = request.url
        response.request = request
        response.reason = {200: "OK", 429: "Too Many Requests"}.get(status, "Error")
        return response

    def close(self) -> None:
        pass


class RecordingPool(urllib3.PoolManager):
    """urllib3's pool with the wire replaced: each request goes to the transport, not a socket."""

    def __init__(self, transport: RecordingTransport) -> None:
        super().__init__()
        self.transport = transport

    def urlopen(self, method: str, url: str, redirect: bool = True, **kw: Any) -> urllib3.HTTPResponse:
        return self.transport.answer(kw["body"])


def fake_client(handler: Handler) -> tuple[RpcClient, RecordingTransport]:
    """The real RpcClient over a recording in-process transport."""
    transport = RecordingTransport(handler)
    return RpcClient(URL, pool=transport.pool()), transport


class FakeTime:
    """A clock that only moves when the code under test sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def fake_web3(handler: Handler, *, retry_timeout_s: float = 0.0, time: FakeTime | None = None,
              **provider: Any) -> tuple[Web3, RecordingTransport]:
    """A Web3 over the real provider and a recording in-process transport; waits move a fake clock."""
    transport = RecordingTransport(handler)
    session = requests.Session()
    session.mount("http://", transport)
    time = time or FakeTime()
    w3 = Web3(FabmeshProvider(URL, retry_timeout_s=retry_timeout_s, session=session, sleep=time.sleep,
                              clock=time.clock, **provider))
    return w3, transport


def http(status: int, error: dict | None = None, headers: dict | None = None, body: Any = None) -> tuple:
    """An HTTP-level answer: ``status``, its headers, and a JSON-RPC error body (or ``body`` as given)."""
    if body is None:
        body = {"jsonrpc": "2.0", "id": 1, "error": error} if error is not None else b""
    return status, headers or {}, body


# Real eth_getLogs refusals, as providers and clients send them (sources: pynode/chain/rpc.py's docstring).
# name -> (reply or HTTP answer, expected type name, allowed block span the refusal names)
LOG_REFUSALS: dict[str, tuple[Any, str, int | None]] = {
    "alchemy_result_cap": ({"error": {"code": -32602, "message": (
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on "
        "the response size, or you can request any block range with a cap of 10K logs in the response. Based on "
        "your parameters and the response size limit, this block range should work: [0x0, 0x87fe9]")}},
        "ResultTooLarge", 0x87fe9 + 1),
    "alchemy_issue_12": ({"error": {"code": -32602, "message": (
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2000 block range.")}},
        "ResultTooLarge", 2000),
    "alchemy_free_500": ({"error": {"code": -32600, "message": (
        "You can make eth_getLogs requests with up to a 500 block range. Based on your parameters, this block "
        "range should work: [0x123c9b2, 0x123cba5]")}}, "RangeTooLarge", 500),
    "alchemy_free_500_http_400": (http(400, {"code": -32600, "message": (
        "You can make eth_getLogs requests with up to a 500 block range. Based on your parameters, this block "
        "range should work: [0x1a30dfd, 0x1a30ff0]")}), "RangeTooLarge", 500),
    "infura_result_cap": ({"error": {"code": -32005, "data": {"from": "0xBDE5F8", "limit": 10000, "to": "0x102DBCC"},
                                     "message": "query returned more than 10000 results. Try with this block range "
                                                "[0xBDE5F8, 0x102DBCC]."}},
                          "ResultTooLarge", 0x102DBCC - 0xBDE5F8 + 1),
    "infura_range_cap": ({"error": {"code": -32602, "message": "range 1000000 exceeds limit of 10000"}},
                         "RangeTooLarge", 10000),
    "quicknode_http_413": (http(413, {"code": -32614, "message": "eth_getLogs is limited to a 10,000 range"}),
                           "RangeTooLarge", 10000),
    "ankr": ({"error": {"code": -32602, "message": "maximum [from, to] blocks distance: 10000"}}, "RangeTooLarge",
             10000),
    "tenderly": ({"error": {"code": -32602, "message": "invalid params", "data": {
        "error_id": "4ed94073-0317-4648-a167-107fba5f44b3",
        "payload": "range 9009594 is bigger than range limit 2000"}}},
        "RangeTooLarge", 2000),
    "erigon_range": ({"error": {"code": -32602, "message": "query block range exceeds server limit, narrow your "
                                                           "filter: 5"}}, "RangeTooLarge", 5),
    "erigon_results": ({"error": {"code": -32000, "message": "query returns too many logs, narrow your filter: 20000"}},
                       "ResultTooLarge", None),
    "cdk_erigon": ({"error": {"code": -32005, "message": "block range too large, max range: 1000"}}, "RangeTooLarge",
                   1000),
    "reth_range": ({"error": {"code": -32602, "message": "query exceeds max block range 5000"}}, "RangeTooLarge", 5000),
    "reth_results": ({"error": {"code": -32602, "message": "query exceeds max results 20000, retry with the range "
                                                           "25766988-25775072"}}, "ResultTooLarge", 8085),
    "moonbeam": ({"error": {"code": -32000, "message": "block range is too wide (maximum 1024)"}}, "RangeTooLarge",
                 1024),
    "scroll": ({"error": {"code": -32000, "message": "block range is bigger than maxBlockRange"}}, "RangeTooLarge",
               None),
    "morph": ({"error": {"code": -32000, "message": "block range is larger than max block range, block range = 5120, "
                                                    "max block range = 5000"}}, "RangeTooLarge", 5000),
    "zksync_results": ({"error": {"code": -32602, "message": "Query returned more than 10000 results. Try with this "
                                                             "block range [0x0, 0x30f]."}}, "ResultTooLarge", 0x310),
    "zksync_too_big": ({"error": {"code": -32008, "message": "Response is too big",
                                  "data": "Exceeded max limit of 10485760"}}, "ResultTooLarge", None),
    "polygon_zkevm": ({"error": {"code": -32602, "message": "logs are limited to a 10000 block range"}},
                      "RangeTooLarge", 10000),
    "candle": ({"error": {"code": -32600, "message": "block range too high"}}, "RangeTooLarge", None),
}

# Real throttling answers: name -> (reply or HTTP answer, Retry-After seconds we should honour)
RATE_LIMITS: dict[str, tuple[Any, float | None]] = {
    "alchemy_json_429": ({"error": {"code": 429, "message": (
        "Your app has exceeded its compute units per second capacity. If you have retries enabled, you can safely "
        "ignore this message. If not, check out https://docs.alchemy.com/reference/throughput")}}, None),
    "alchemy_http_429": (http(429, {"code": 429, "message": "Your app has exceeded its compute units per second "
                                                            "capacity."}, {"Retry-After": "2"}), 2.0),
    "infura_http_429": (http(429, {"code": -32005, "message": "daily request count exceeded, request rate limited",
                                   "data": {"rate": {"allowed_rps": 1, "backoff_seconds": 0, "current_rps": 2.2},
                                            "see": "https://infura.io/dashboard"}}), None),
    "infura_backoff_hint": ({"error": {"code": -32005, "message": "project ID request rate exceeded",
                                       "data": {"rate": {"backoff_seconds": 3}, "see": "https://infura.io/dashboard"}}},
                            3.0),
    "infura_rate_200": ({"error": {"code": -32005, "message": "project ID request rate exceeded",
                                   "data": {"see": "https://infura.io/dashboard"}}}, None),
    "quicknode_credits": ({"error": {"code": -32012, "message": "credits limited to 6000/sec"}}, None),
    "base_public_node": ({"error": {"code": -32000, "message": "429 Too Many Requests: {\"jsonrpc\":\"2.0\",\"error\":"
                                                               "{\"code\":-32016,\"message\":\"over rate limit\"}}"}},
                         None),
    "chainstack_html_429": (http(429, body=b"<html><head><title>429 Too Many Requests</title></head></html>",
                                 headers={"Retry-After": "1"}), 1.0),
    "alchemy_monthly_403": (http(403, {"code": -32600, "message": (
        "Monthly capacity limit exceeded. Visit https://dashboard.alchemyapi.io/settings/billing to upgrade your "
        "scaling policy for continued service.")}), None),
}


class SigningAccount:
    """An account whose signed transaction is its nonce: the raw bytes carry it, the hash repeats it."""

    address = "0x" + "22" * 20

    def sign_transaction(self, tx: dict) -> SimpleNamespace:
        return SimpleNamespace(raw_transaction=b"\x02" + bytes([tx["nonce"]]), hash=HexBytes(bytes([tx["nonce"]]) * 32))


class PendingCountNode:
    """A node for one :class:`SigningAccount`: its pending count, a broadcast below it refused as nonce too low
    (another sender of the account took it), one block at head, no receipt ever."""

    def __init__(self, pending: int) -> None:
        self.pending = pending
        self.sent: list[int] = []

    def __call__(self, method: str, params: list) -> dict:
        answers = {"eth_chainId": "0x1", "eth_getTransactionCount": hex(self.pending), "eth_estimateGas": hex(21_000),
                   "eth_maxPriorityFeePerGas": "0x1", "eth_getTransactionReceipt": None,
                   "eth_getBlockByNumber": {"number": "0xa", "hash": "0x" + "aa" * 32, "parentHash": "0x" + "99" * 32,
                                            "timestamp": "0x1", "baseFeePerGas": "0x7"}}
        if method in answers:
            return {"result": answers[method]}
        assert method == "eth_sendRawTransaction", method
        nonce = int(params[0][4:6], 16)
        if nonce < self.pending:
            return {"error": {"code": -32000, "message": "nonce too low"}}
        self.sent.append(nonce)
        self.pending = nonce + 1
        return {"result": "0x" + bytes([nonce]).hex() * 32}
