"""RpcClient parses replies with msgspec: the same values as the standard parser, the same typed errors."""

from __future__ import annotations

import json

import pytest
import requests

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
