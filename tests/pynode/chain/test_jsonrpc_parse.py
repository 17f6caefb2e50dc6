"""RpcClient (urllib3) reads a reply's body in one piece and parses it with msgspec: the same values as the standard
parser, the same typed errors for urllib3's failures and HTTP statuses, the proxy and TLS requests would use."""

from __future__ import annotations

import gzip
import io
import json

import certifi
import pytest
import urllib3

from pynode.chain.jsonrpc import RpcClient, http_pool
from pynode.chain.rpc import request
from pynode.core.errors import ProviderUnavailable, RateLimited, RpcRejected
from rpc_fakes import URL, RecordingTransport, fake_client, http


def client(handler) -> RpcClient:
    return fake_client(handler)[0]


def test_replies_parse_to_what_the_standard_parser_gives() -> None:
    result = {"big": 2**300, "negative": -(2**70), "text": "Zürich \u2603", "nested": [{"a": None, "b": True}],
              "float": 1.5, "hex": "0x" + "ab" * 32}
    got = request(client(lambda method, params: {"result": result}), "eth_getLogs", [{}])
    assert got == json.loads(json.dumps(result)) == result


@pytest.mark.parametrize("body", [b"<html>captive portal</html>", b'{"jsonrpc": "2.0", "result": [1, 2', b"\xff\xfe"])
def test_a_body_that_is_not_json_is_an_outage(body: bytes) -> None:
    with pytest.raises(ProviderUnavailable, match="not JSON-RPC"):
        request(client(lambda method, params: http(200, body=body)), "eth_getLogs", [{}])


class StreamedTransport(RecordingTransport):
    """Answers with the body on the response's raw stream, as a socket would hand it over."""

    def __init__(self, raw) -> None:
        super().__init__(lambda method, params: {"result": None})
        self.raw = raw

    def answer(self, request_body):
        super().answer(request_body)  # recorded
        return self.raw


def streamed(raw) -> RpcClient:
    return RpcClient(URL, pool=StreamedTransport(raw).pool())


def test_a_gzip_body_is_read_in_one_piece_and_decoded() -> None:
    body = gzip.compress(json.dumps({"jsonrpc": "2.0", "id": 1, "result": ["0x" + "ab" * 32] * 1000}).encode())
    raw = urllib3.HTTPResponse(body=io.BytesIO(body), headers={"Content-Encoding": "gzip"}, preload_content=False)
    assert request(streamed(raw), "eth_getLogs", [{}]) == ["0x" + "ab" * 32] * 1000


class FailingBody(io.BytesIO):
    def __init__(self, failure: Exception) -> None:
        super().__init__(b'{"jsonrpc": "2.0", "id": 1, "result": [')
        self.failure = failure

    def read(self, *args, **kwargs):
        raise self.failure


@pytest.mark.parametrize(("failure", "words"), [
    (urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead"), "unreachable"),
    (urllib3.exceptions.ReadTimeoutError(None, URL, "Read timed out."), "timed out"),
])
def test_a_body_cut_or_stalled_mid_read_is_an_outage(failure: Exception, words: str) -> None:
    raw = urllib3.HTTPResponse(body=FailingBody(failure), preload_content=False)
    with pytest.raises(ProviderUnavailable, match=words):
        request(streamed(raw), "eth_getLogs", [{}])


class FailingPool(urllib3.PoolManager):
    """A pool whose connection fails as urllib3 reports it (retries off: the error itself, not MaxRetryError)."""

    def __init__(self, failure: Exception) -> None:
        super().__init__()
        self.failure = failure

    def urlopen(self, method, url, redirect=True, **kw):
        raise self.failure


@pytest.mark.parametrize(("failure", "words"), [
    (urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused"),
     "unreachable"),
    (urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")), "unreachable"),
    (urllib3.exceptions.ConnectTimeoutError(None, "Connection timed out"), "timed out"),
    (ConnectionRefusedError(111, "Connection refused"), "unreachable"),
])
def test_a_connection_refused_lost_or_timed_out_is_an_outage(failure: Exception, words: str) -> None:
    with pytest.raises(ProviderUnavailable, match=words):
        request(RpcClient(URL, pool=FailingPool(failure)), "eth_blockNumber", [])


@pytest.mark.parametrize(("answer", "expected"), [
    (http(429, headers={"Retry-After": "3"}), RateLimited),
    (http(503), ProviderUnavailable),
    (http(401, {"code": -32600, "message": "invalid project id"}), RpcRejected),
    (http(301, headers={"Location": "https://elsewhere.invalid/"}), RpcRejected),  # a redirect is not followed
])
def test_http_statuses_map_by_type(answer, expected) -> None:
    with pytest.raises(expected) as raised:
        request(client(lambda method, params: answer), "eth_blockNumber", [])
    if expected is RateLimited:
        assert raised.value.retry_after == 3.0


def test_the_pool_takes_the_environments_proxy_and_verifies_tls(monkeypatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:3128")
    pool = http_pool("https://rpc.example.invalid/v3/key")
    assert isinstance(pool, urllib3.ProxyManager) and pool.proxy.url == "http://127.0.0.1:3128"
    assert pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"
    assert pool.connection_pool_kw["ca_certs"] == certifi.where()
    monkeypatch.setenv("no_proxy", "rpc.example.invalid")
    assert not isinstance(http_pool("https://rpc.example.invalid/v3/key"), urllib3.ProxyManager)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert http_pool("https://rpc.example.invalid/").connection_pool_kw["ca_certs"] == \
        "/etc/ssl/certs/ca-certificates.crt"
