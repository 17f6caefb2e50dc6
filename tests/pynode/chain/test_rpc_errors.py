"""chain/rpc.py: real provider replies become our types, through the real provider and an in-process transport."""

from __future__ import annotations

import random

import pytest
import requests
from web3.exceptions import ContractLogicError, Web3RPCError

from pynode.chain.reorg import block_at, block_hash
from pynode.chain.revert import RevertDecoder
from pynode.chain.rpc import allowed_span, parse_retry_after, request
from pynode.chain.tx import TxRequest, TxReverted, TxSender
from pynode.core import errors
from pynode.core.backoff import Backoff
from pynode.core.errors import (
    BlockUnavailable,
    Kind,
    ProviderUnavailable,
    RangeTooLarge,
    RateLimited,
    ResultTooLarge,
    RpcRejected,
    classify,
)
from rpc_fakes import LOG_REFUSALS, RATE_LIMITS, FakeTime, fake_client, fake_web3, http

LOGS = [{"fromBlock": "0x0", "toBlock": "0x10", "address": ["0x" + "11" * 20]}]


def answering(*answers):  # one answer per request, the last one repeated
    queue = list(answers)

    def handler(method: str, params: list):
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


def on_call(reply):  # `reply` for eth_call, an ordinary chain id (web3 asks it first)
    def handler(method: str, params: list):
        return {"result": "0x1"} if method == "eth_chainId" else reply

    return handler


@pytest.mark.parametrize("name", sorted(LOG_REFUSALS))
def test_log_refusals_become_range_or_result_errors_with_the_span_they_name(name: str) -> None:
    reply, expected, span = LOG_REFUSALS[name]
    w3, transport = fake_web3(answering(reply), retry_timeout_s=30)
    with pytest.raises(getattr(errors, expected)) as caught:
        w3.provider.make_request("eth_getLogs", LOGS)
    assert caught.value.allowed_blocks == span
    assert classify(caught.value) is Kind.TRANSIENT
    assert len(transport.calls) == 1  # not retried in the provider: the reader halves instead


@pytest.mark.parametrize("name", sorted(RATE_LIMITS))
@pytest.mark.parametrize("method", ["eth_getLogs", "eth_call", "eth_sendRawTransaction"])
def test_rate_limits_are_rate_limited_never_a_log_refusal(name: str, method: str) -> None:
    reply, wait = RATE_LIMITS[name]
    w3, _ = fake_web3(answering(reply))
    with pytest.raises(RateLimited) as caught:
        w3.provider.make_request(method, [])
    assert not isinstance(caught.value, RangeTooLarge | ResultTooLarge)
    assert caught.value.retry_after == wait


def test_a_rate_limit_is_retried_in_the_window_honouring_retry_after_then_succeeds() -> None:
    clock = FakeTime()
    limited = http(429, {"code": 429, "message": "Your app has exceeded its compute units per second capacity."},
                   {"Retry-After": "7"})
    w3, transport = fake_web3(answering(limited, limited, {"result": "0x2a"}), retry_timeout_s=60, time=clock,
                              backoff=Backoff(base_s=0.5, cap_s=4, rng=random.Random(1)))
    assert w3.eth.block_number == 42
    assert len(transport.calls) == 3
    assert clock.sleeps == [7.0, 7.0]  # Retry-After is larger than the jittered backoff: it wins
    assert w3.provider.retries == 2 and w3.provider.requests == 3


def test_the_window_is_bounded_then_the_typed_error_is_raised() -> None:
    clock = FakeTime()
    w3, transport = fake_web3(answering(http(503, headers={"Retry-After": "4"})), retry_timeout_s=20, time=clock)
    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        w3.eth.get_block_number()
    assert 3 <= len(transport.calls) <= 6 and clock.now <= 20
    assert all(wait >= 4 for wait in clock.sleeps[:-1])


def test_a_retry_after_longer_than_the_window_gives_up_at_once() -> None:
    clock = FakeTime()
    w3, transport = fake_web3(answering(http(429, headers={"Retry-After": "120"})), retry_timeout_s=60, time=clock)
    with pytest.raises(RateLimited) as caught:
        w3.eth.chain_id  # noqa: B018 - reading the property sends the request
    assert caught.value.retry_after == 120 and len(transport.calls) == 1 and clock.sleeps == []


@pytest.mark.parametrize(("answer", "expected"), [
    (http(500), ProviderUnavailable),
    (http(502, body=b"<html>Bad Gateway</html>"), ProviderUnavailable),
    (http(504), ProviderUnavailable),
    (http(200, body=b"<html>captive portal</html>"), ProviderUnavailable),
    ({"error": {"code": -32603, "message": "internal error"}}, ProviderUnavailable),
    ({"error": {"code": -32000, "message": "header not found"}}, ProviderUnavailable),
    ({"error": {"code": -32000, "message": "transaction indexing is in progress",
                "data": "transaction indexing is in progress"}}, ProviderUnavailable),  # geth's indexer catching up
    ({"error": {"code": -32000, "message": "One of the blocks specified in filter (fromBlock, toBlock or blockHash) "
                                           "cannot be found."}}, ProviderUnavailable),
    (http(401, {"code": -32600, "message": "invalid project id"}), RpcRejected),
    (http(403), RpcRejected),
])
def test_outages_are_transient_and_bad_credentials_fatal(answer, expected) -> None:
    w3, _ = fake_web3(answering(answer))
    with pytest.raises(expected):
        w3.eth.get_balance("0x" + "11" * 20)


@pytest.mark.parametrize(("failure", "words"), [
    (requests.ConnectionError("Connection refused"), "unreachable"),
    (requests.exceptions.ChunkedEncodingError("connection lost"), "unreachable"),
    (requests.ReadTimeout("read timed out"), "timed out"),
])
def test_transport_failures_are_provider_unavailable(failure: Exception, words: str) -> None:
    def handler(method: str, params: list):
        raise failure

    w3, _ = fake_web3(handler)
    with pytest.raises(ProviderUnavailable, match=words):
        w3.eth.get_block_number()


@pytest.mark.parametrize("message", [
    "block range extends beyond current head block",  # a load-balanced node behind the one that gave the head
    "invalid block range params",
    "One of the blocks specified in filter (fromBlock, toBlock or blockHash) cannot be found.",
])
def test_a_log_range_past_a_lagging_nodes_head_is_transient_not_a_refusal(message: str) -> None:
    w3, _ = fake_web3(answering({"error": {"code": -32602, "message": message}}))
    with pytest.raises(ProviderUnavailable, match="behind"):
        w3.provider.make_request("eth_getLogs", LOGS)


# what a chain that shrank under a reader answers for its vanished blocks (anvil 1.7 after evm_revert, run;
# geth's internal/ethapi and eth/api_backend.go): the daemon's reads back off, and the next cycle rewinds
SHRUNK_CHAIN = {
    "anvil_state_past_head": {"code": -32602, "message": "BlockOutOfRangeError: block height is 1 but requested "
                                                         "was 5"},
    "anvil_state_at_vanished_hash": {"code": -32001, "message": "Resource not found"},
    "anvil_geth_logs_of_vanished_hash": {"code": -32000, "message": "unknown block"},
    "geth_state_past_head": {"code": -32000, "message": "header not found"},
    "geth_state_at_vanished_hash": {"code": -32000, "message": "header for hash not found"},
    "geth_hash_not_canonical": {"code": -32000, "message": "hash is not currently canonical"},
}


@pytest.mark.parametrize("name", sorted(SHRUNK_CHAIN))
@pytest.mark.parametrize("method", ["eth_call", "eth_getBalance", "eth_getLogs"])
def test_reads_of_blocks_that_left_the_chain_are_transient_over_both_transports(name: str, method: str) -> None:
    answer = {"error": SHRUNK_CHAIN[name]}
    w3, _ = fake_web3(answering(answer))
    with pytest.raises(BlockUnavailable, match="left the chain") as caught:
        w3.provider.make_request(method, [{"to": "0x" + "11" * 20}, "0x5"])
    assert classify(caught.value) is Kind.TRANSIENT
    client, _ = fake_client(answering(answer))
    with pytest.raises(BlockUnavailable):  # never RpcRejected, which stops the daemon
        request(client, method, [{"to": "0x" + "11" * 20}, "0x5"])


def test_a_vanished_block_the_caller_saw_is_transient_and_a_short_chain_has_no_hash() -> None:
    client, _ = fake_client(answering({"result": None}))  # anvil and geth: eth_getBlockByNumber past the head
    with pytest.raises(BlockUnavailable, match="block 5 is gone") as caught:
        block_at(client, 5)
    assert classify(caught.value) is Kind.TRANSIENT
    assert block_hash(client, 5) is None  # the reorg check's question: not canonical, no error
    block = {"number": "0x5", "hash": "0x" + "ab" * 32, "timestamp": "0x10"}
    client, _ = fake_client(answering({"result": block}))
    assert block_at(client, 5) == block


def test_a_vanished_state_with_revert_data_is_still_a_revert() -> None:
    revert = {"error": {"code": -32001, "message": "execution reverted", "data": "0x08c379a0" + "00" * 96}}
    w3, _ = fake_web3(on_call(revert))
    with pytest.raises(ContractLogicError):
        w3.eth.call({"to": "0x" + "11" * 20, "data": "0x"})


@pytest.mark.parametrize(("message", "expected"), [
    ("already known", errors.TxAlreadyKnown),  # geth
    ("ALREADY_EXISTS: already known", errors.TxAlreadyKnown),
    ("Known transaction", errors.TxAlreadyKnown),  # besu
    ("transaction already imported", errors.TxAlreadyKnown),
    ("nonce too low: next nonce 5, tx nonce 4", errors.NonceTooLow),  # geth
    ("Nonce too low", errors.NonceTooLow),  # besu, anvil
    ("replacement transaction underpriced", errors.NonceTooLow),  # geth, anvil: a pooled tx holds the nonce
])
def test_a_refused_broadcast_is_typed(message: str, expected: type) -> None:
    w3, _ = fake_web3(answering({"error": {"code": -32000, "message": message}}))
    with pytest.raises(expected):
        w3.provider.make_request("eth_sendRawTransaction", ["0x02"])
    w3, _ = fake_web3(answering({"error": {"code": -32000, "message": message}}))
    with pytest.raises(Web3RPCError):  # the same words from another method mean nothing to us
        w3.eth.get_block_number()


def test_a_json_rpc_answer_in_a_4xx_is_read_like_a_200s() -> None:
    revert = http(400, {"code": 3, "message": "execution reverted", "data": "0x08c379a0" + "00" * 96})
    w3, _ = fake_web3(on_call(revert))
    with pytest.raises(ContractLogicError):  # a revert, not "the endpoint refused the request"
        w3.eth.call({"to": "0x" + "11" * 20, "data": "0x"})
    w3, _ = fake_web3(answering(http(400, {"code": -32601, "message": "the method anvil_mine does not exist"})))
    with pytest.raises(Web3RPCError):
        w3.eth.get_block_number()


def test_other_rpc_errors_stay_web3s_and_reverts_stay_reverts() -> None:
    w3, _ = fake_web3(answering({"error": {"code": -32601, "message": "the method anvil_mine does not exist"}}))
    with pytest.raises(Web3RPCError):
        w3.eth.get_block_number()
    revert = {"error": {"code": 3, "message": "execution reverted", "data": "0x08c379a0" + "00" * 96}}
    w3, _ = fake_web3(on_call(revert))
    with pytest.raises(ContractLogicError):
        w3.eth.call({"to": "0x" + "11" * 20, "data": "0x"})


class _Account:
    address = "0x" + "22" * 20


def test_a_rate_limited_simulation_is_transient_never_a_revert() -> None:
    """The daemon drops a job on a revert; a throttled eth_call must reach it as RateLimited."""
    w3, transport = fake_web3(on_call(RATE_LIMITS["infura_rate_200"][0]))
    sender = TxSender(w3, _Account(), RevertDecoder())
    request = TxRequest(to="0x" + "11" * 20, data=b"\x12\x34\x56\x78", label="claim order 1")
    with pytest.raises(RateLimited):
        sender.simulate(request)
    assert classify(RateLimited("x")) is Kind.TRANSIENT
    revert = {"error": {"code": 3, "message": "execution reverted", "data": "0x08c379a0" + (
        "20".rjust(64, "0") + "4".rjust(64, "0") + b"nope".hex().ljust(64, "0"))}}
    w3, _ = fake_web3(on_call(revert))
    with pytest.raises(TxReverted, match="nope"):
        TxSender(w3, _Account(), RevertDecoder()).simulate(request)
    assert "eth_call" in [method for method, _ in transport.calls]


def test_a_throttled_entry_makes_the_whole_batch_retry() -> None:
    replies = iter([RATE_LIMITS["quicknode_credits"][0], {"result": "0x1"}, {"result": "0x1"}, {"result": "0x2"}])
    w3, transport = fake_web3(lambda method, params: next(replies), retry_timeout_s=10)
    answers = w3.provider.make_batch_request([("eth_blockNumber", []), ("eth_chainId", [])])
    assert [a["result"] for a in answers] == ["0x1", "0x2"] and len(transport.calls) == 4


@pytest.mark.parametrize(("message", "data", "span"), [
    ("this block range should work: [0x10, 0x1f]", None, 16),
    ("retry with the range 100-199", None, 100),
    ("up to a 2K block range", None, 2000),
    ("limited to a 10,000 range", None, 10000),
    ("x", {"from": "0x0", "to": "0x9"}, 10),
    ("block range too high", None, None),
])
def test_allowed_span(message: str, data, span) -> None:
    assert allowed_span(message, data) == span


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412490.0) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
