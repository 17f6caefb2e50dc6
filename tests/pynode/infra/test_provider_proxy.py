"""The provider-rules proxy's rules: in-process without sockets, then over HTTP in front of a real anvil."""

from __future__ import annotations

import json

import pytest
import requests

from provider_proxy import REFUSALS, ProviderProxy, ProviderRules, ProviderRulesEngine, TokenBucket
from pynode.dev.net import post_json


def never_forwarded(call: dict) -> dict:
    raise AssertionError(f"{call['method']} should have been answered by the proxy itself")


def body(method: str, *params: object, call_id: int = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": call_id, "method": method, "params": list(params)}).encode()


def logs_query(first: int, last: int) -> bytes:
    return body("eth_getLogs", {"fromBlock": hex(first), "toBlock": hex(last), "address": "0x" + "11" * 20})


# ---------------------------------------------------------------- unit: rules answered by the proxy alone


def test_a_range_over_the_limit_gets_alchemys_refusal_and_is_not_forwarded():
    engine = ProviderRulesEngine(ProviderRules(max_block_range=2000), never_forwarded)
    reply = engine.handle(logs_query(100, 2100))  # 2,001 blocks
    error = json.loads(reply.body)["error"]
    assert reply.status == 200 and error["code"] == -32602
    assert error["message"].startswith("Log response size exceeded. You can make eth_getLogs requests with up to a "
                                       "2000 block range")
    assert error["message"].endswith("this block range should work: [0x64, 0x833]")  # 100 .. 2099
    assert engine.counts.refused == {"range": 1} and engine.counts.by_method() == {"eth_getLogs": 1}


@pytest.mark.parametrize(("style", "code", "status", "text"), [
    ("infura-range", -32602, 200, "range 30001 exceeds limit of 10000"),
    ("quicknode", -32614, 413, "eth_getLogs is limited to a 10,000 range"),
    ("alchemy-free", -32600, 200, "You can make eth_getLogs requests with up to a 10000 block range. Based on your "
                                  "parameters, this block range should work: [0x0, 0x270f]"),
])
def test_range_refusal_styles(style, code, status, text):
    engine = ProviderRulesEngine(ProviderRules(max_block_range=10_000, range_refusal=REFUSALS[style]),
                                 never_forwarded)
    reply = engine.handle(logs_query(0, 30_000))
    assert reply.status == status and json.loads(reply.body)["error"] == {"code": code, "message": text}


def test_anvil_evm_and_hardhat_methods_are_method_not_found():
    engine = ProviderRulesEngine(ProviderRules(), never_forwarded)
    for method in ("anvil_mine", "evm_increaseTime", "evm_snapshot", "hardhat_setBalance"):
        error = json.loads(engine.handle(body(method, 1)).body)["error"]
        assert error == {"code": -32601, "message": f"the method {method} does not exist/is not available"}
    assert engine.counts.refused == {"method": 4}


def test_random_429s_follow_the_seed_and_carry_retry_after():
    def pattern(seed: int) -> list[int]:
        engine = ProviderRulesEngine(ProviderRules(random_429_rate=0.3, retry_after_s=2, seed=seed), never_forwarded)
        return [engine.handle(body("anvil_mine")).status for _ in range(200)]

    first, again, other = pattern(7), pattern(7), pattern(8)
    assert first == again != other
    assert 40 <= first.count(429) <= 80  # 30 % of 200, give or take the draw

    engine = ProviderRulesEngine(ProviderRules(random_429_rate=1.0, retry_after_s=2), never_forwarded)
    reply = engine.handle(body("eth_chainId", call_id=5))
    assert reply.status == 429 and dict(reply.headers) == {"Retry-After": "2"}
    assert json.loads(reply.body) == {"jsonrpc": "2.0", "id": 5, "error": {
        "code": -32005, "message": "project ID request rate exceeded"}}
    assert engine.counts.rate_limited == {"-": 1} and engine.counts.by_method() == {"eth_chainId": 1}


def test_token_bucket_refills_at_its_rate():
    now = [0.0]
    bucket = TokenBucket(3, 2.0, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)  # one token comes every 0.5 s
    now[0] = 0.5
    assert bucket.take() == 0.0 and bucket.take(2) == pytest.approx(1.0)
    now[0] = 10.0
    assert bucket.take(3) == 0.0 and bucket.take(4) == pytest.approx(2.0)  # never more than its size
    assert TokenBucket(1, 0.0, clock=lambda: 0.0).take(2) == float("inf")


def test_an_empty_bucket_answers_429_with_the_time_to_the_next_token():
    now = [0.0]
    engine = ProviderRulesEngine(ProviderRules(bucket_size=2, bucket_refill_per_s=0.25), never_forwarded,
                                 clock=lambda: now[0])
    assert engine.handle(body("evm_mine")).status == 200
    batch = json.dumps([json.loads(body("evm_mine", call_id=i)) for i in (1, 2)]).encode()
    reply = engine.handle(batch)  # 2 calls, 1 token left
    assert reply.status == 429 and dict(reply.headers) == {"Retry-After": "4"}
    assert [r["error"]["code"] for r in json.loads(reply.body)] == [-32005, -32005]
    now[0] = 4.0
    assert engine.handle(batch).status == 200
    assert engine.counts.rate_limited == {"-": 1} and engine.counts.total() == 5


def test_batches_are_answered_item_by_item_in_order():
    engine = ProviderRulesEngine(ProviderRules(max_block_range=10), never_forwarded)
    batch = [json.loads(body("anvil_mine", call_id=1)), json.loads(logs_query(0, 99)) | {"id": 2},
             json.loads(body("hardhat_mine", call_id=3))]
    replies = json.loads(engine.handle(json.dumps(batch).encode(), client="cli").body)
    assert [(r["id"], r["error"]["code"]) for r in replies] == [(1, -32601), (2, -32602), (3, -32601)]
    assert engine.counts.by_client() == {"cli": 3}
    assert engine.counts.by_method("cli") == {"anvil_mine": 1, "eth_getLogs": 1, "hardhat_mine": 1}


def test_malformed_bodies_get_json_rpc_errors():
    engine = ProviderRulesEngine(ProviderRules(), never_forwarded)
    assert json.loads(engine.handle(b"{not json").body)["error"]["code"] == -32700
    assert json.loads(engine.handle(b"[]").body)["error"]["code"] == -32600
    assert json.loads(engine.handle(b"[1, 2]").body)["error"]["code"] == -32600


# ---------------------------------------------------------------- integration: over HTTP, a real anvil behind


def rpc(url: str, method: str, *params: object) -> requests.Response:
    return requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=30)


@pytest.fixture(scope="module")
def emitted(anvil):
    """Five transactions that each leave one log (init code PUSH1 0 PUSH1 0 LOG0), then 2,100 empty blocks."""
    sender = anvil.rpc("eth_accounts")[0]
    start = int(anvil.rpc("eth_blockNumber"), 16) + 1
    for _ in range(5):
        anvil.rpc("eth_sendTransaction", {"from": sender, "data": "0x60006000a000"})
    post_json(anvil.rpc_url, {"jsonrpc": "2.0", "id": 1, "method": "anvil_mine", "params": [hex(2100)]}, timeout=300)
    return start


@pytest.mark.integration
def test_through_http_in_front_of_anvil(anvil, emitted):
    with ProviderProxy(anvil.rpc_url, ProviderRules(max_block_range=2000, max_results=3)) as proxy:
        url = proxy.url("tester")
        assert int(rpc(url, "eth_chainId").json()["result"], 16) == anvil.chain_id
        assert rpc(url, "anvil_mine", "0x1").json()["error"]["code"] == -32601

        # "latest" is resolved on the node: 0 .. head is more than 2,000 blocks
        whole = rpc(url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"}).json()["error"]
        assert whole["code"] == -32602 and "2000 block range" in whole["message"]

        # within the range but over the result cap: Infura's -32005, suggesting the blocks before the 4th log
        query = {"fromBlock": hex(emitted), "toBlock": hex(emitted + 10)}
        capped = rpc(url, "eth_getLogs", query).json()["error"]
        assert capped == {"code": -32005, "message": f"query returned more than 3 results. Try with this block "
                                                     f"range [{hex(emitted)}, {hex(emitted + 2)}]."}
        fits = rpc(url, "eth_getLogs", {"fromBlock": hex(emitted), "toBlock": hex(emitted + 2)}).json()["result"]
        assert [int(log["blockNumber"], 16) for log in fits] == [emitted, emitted + 1, emitted + 2]

        batch = [{"jsonrpc": "2.0", "id": i, "method": m, "params": []}
                 for i, m in enumerate(("eth_blockNumber", "evm_mine", "eth_chainId"))]
        replies = requests.post(url, json=batch, timeout=30).json()
        assert "result" in replies[0] and replies[1]["error"]["code"] == -32601 and "result" in replies[2]

        assert proxy.counts.by_method("tester") == {"eth_getLogs": 3, "eth_chainId": 2, "anvil_mine": 1,
                                                    "eth_blockNumber": 1, "evm_mine": 1}
        assert proxy.counts.refused == {"method": 2, "range": 1, "results": 1}


@pytest.mark.integration
def test_rate_limit_over_http(anvil):
    with ProviderProxy(anvil.rpc_url, ProviderRules(bucket_size=2, bucket_refill_per_s=0.5)) as proxy:
        url = proxy.url()
        assert [rpc(url, "eth_chainId").status_code for _ in range(3)] == [200, 200, 429]
        limited = rpc(url, "eth_chainId")
        assert limited.status_code == 429 and limited.headers["Retry-After"] in {"1", "2"}
        assert limited.json()["error"]["code"] == -32005
        assert proxy.counts.rate_limited == {"-": 2}
