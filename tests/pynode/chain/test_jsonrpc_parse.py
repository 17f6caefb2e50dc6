"""RpcClient reads a reply's body in one piece and parses it with msgspec: the same values as the standard parser,
the same typed errors."""

from __future__ import annotations

import gzip
import io
import json

import pytest
import requests
import urllib3

from pynode.chain.jsonrpc import RpcClient
from pynode.chain.rpc import request
from pynode.core.errors import ProviderUnavailable
from rpc_fakes import URL, RecordingTransport, http


def client(handler) -> RpcClient:
    session = requests.Session()
    session.mount("http://", RecordingTransport(handler))
    return RpcClient(URL, session=session)


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

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        response.raw = self.raw
        return response


def streamed(raw) -> RpcClient:
    session = requests.Session()
    session.mount("http://", StreamedTransport(raw))
    return RpcClient(URL, session=session)


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
