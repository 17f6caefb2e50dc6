"""The events reader: bounded ranges, halving and growth, checks, and proof that nothing sends an unbounded range.

Unit tests drive the real provider (and its error mapping) over an in-process
transport that plays a chain with a provider's limits; the integration tests
read a real anvil.
"""

from __future__ import annotations

import ast
import itertools
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from pynode.chain.contracts import OrderBook, PartnerRegistry
from pynode.chain.deployment import ContractInfo
from pynode.chain.events.decoder import EventDecoder
from pynode.chain.events.reader import InconsistentLogs, LogReader
from pynode.chain.orders import ORDER_EVENTS
from pynode.chain.provider import connect
from pynode.chain.reorg import DeepReorg, find_fork
from pynode.core.errors import RateLimited, ResultTooLarge, TransientError
from rpc_fakes import LOG_REFUSALS, RATE_LIMITS, fake_web3

ROOT = Path(__file__).resolve().parents[3]
SOLC = ROOT / ".tools" / "solcx"
ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TOPIC = "0x" + "11" * 32


def fake_log(block: int, index: int, address: str = ADDRESS, block_hash: str | None = None,
             topic: str = TOPIC) -> dict:
    return {"address": address.lower(), "topics": [topic], "data": "0x",
            "blockNumber": hex(block), "blockHash": block_hash or f"0x{block:064x}",
            "transactionHash": "0x" + "22" * 32, "logIndex": hex(index), "removed": False}


class ProviderChain:
    """A chain of blocks 0..head whose eth_getLogs refuses spans wider than ``max_blocks`` with ``refusal``."""

    def __init__(self, head: int = 100, max_blocks: int = 10**9, refusal=None, logs: dict | None = None,
                 limited_every: int = 0) -> None:
        self.head, self.max_blocks = head, max_blocks
        self.refusal = refusal if refusal is not None else LOG_REFUSALS["infura_result_cap"][0]
        self.logs = logs if logs is not None else {b: [fake_log(b, 1), fake_log(b, 0)] for b in range(head + 1)}
        self.limited_every = limited_every
        self.count = 0

    def __call__(self, method: str, params: list):
        self.count += 1
        if self.limited_every and self.count % self.limited_every == 0:
            return RATE_LIMITS["alchemy_http_429"][0]
        if method == "eth_blockNumber":
            return {"result": hex(self.head)}
        if method == "eth_chainId":
            return {"result": "0x1"}
        if method == "eth_getBlockByNumber":
            number = int(params[0], 16)
            return {"result": {"hash": f"0x{number:064x}", "number": hex(number)} if number <= self.head else None}
        if method == "eth_call":
            return {"result": "0x" + "00" * 32}
        assert method == "eth_getLogs", method
        query = params[0]
        start, end = int(query["fromBlock"], 16), int(query["toBlock"], 16)
        if end - start + 1 > self.max_blocks:
            return self.refusal
        return {"result": [log for b in range(start, end + 1) for log in self.logs.get(b, [])]}


def reader_for(chain: ProviderChain, *, batch_size: int = 64, retry_timeout_s: float = 0.0):
    w3, transport = fake_web3(chain, retry_timeout_s=retry_timeout_s)
    return LogReader(w3, batch_size=batch_size), transport


def spans(transport) -> list[tuple[int, int]]:
    return [(int(p[0]["fromBlock"], 16), int(p[0]["toBlock"], 16)) for p in transport.methods("eth_getLogs")]


@pytest.mark.parametrize("name", sorted(LOG_REFUSALS))
def test_real_refusals_are_halved_or_cut_to_the_named_span_then_grown_back(name: str) -> None:
    chain = ProviderChain(head=200, max_blocks=10, refusal=LOG_REFUSALS[name][0])
    reader, transport = reader_for(chain)
    logs = reader.raw([ADDRESS], 0, 200)
    assert [(int(entry["blockNumber"], 16), int(entry["logIndex"], 16)) for entry in logs] == \
        [(b, i) for b in range(201) for i in (0, 1)]
    asked = spans(transport)
    assert asked[0] == (0, 63) and reader.refusals >= 1
    served = [(s, e) for s, e in asked if e - s + 1 <= 10]
    assert sorted(served) == served and served[0][0] == 0 and served[-1][1] == 200  # covered once, in order
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(served))
    named = LOG_REFUSALS[name][2]
    if named is not None and named < 64:
        assert asked[1][1] - asked[1][0] + 1 == min(named, 63)  # the span the provider named, not a guess
    else:
        assert asked[1] == (0, 31)  # halved


def test_growth_after_success_never_passes_a_stated_block_cap() -> None:
    chain = ProviderChain(head=400, max_blocks=20, refusal={"error": {
        "code": -32602, "message": "query exceeds max block range 20"}})
    reader, transport = reader_for(chain, batch_size=100)
    reader.raw([ADDRESS], 0, 400)
    assert [e - s + 1 for s, e in spans(transport)] == [100] + [20] * 20 + [1]  # one refusal, then never again


def test_growth_after_a_result_refusal_doubles_back_to_the_batch() -> None:
    dense = {b: [fake_log(b, 0)] for b in range(0, 8)}  # a dense stretch at the start
    chain = ProviderChain(head=300, logs=dense)
    chain.max_blocks = 10**9
    calls = []

    def refuse_dense(method: str, params: list):
        if method == "eth_getLogs":
            start, end = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            calls.append((start, end))
            if start < 8 and end - start + 1 > 4:
                return {"error": {"code": -32005, "message": "query returned more than 10000 results"}}
        return chain(method, params)

    w3, _ = fake_web3(refuse_dense)
    reader = LogReader(w3, batch_size=64)
    assert len(reader.raw([ADDRESS], 0, 300)) == 8
    sizes = [e - s + 1 for s, e in calls]
    assert sizes[:5] == [64, 32, 16, 8, 4] and 64 in sizes[6:]  # halved to what works, grown back after


def test_a_single_refused_block_stays_transient() -> None:
    reader, _ = reader_for(ProviderChain(head=5, max_blocks=0))
    with pytest.raises(ResultTooLarge) as caught:
        reader.raw([ADDRESS], 0, 5)
    assert isinstance(caught.value, TransientError)


@pytest.mark.parametrize("name", sorted(RATE_LIMITS))
def test_rate_limits_never_shrink_the_range(name: str) -> None:
    reader, transport = reader_for(ProviderChain(max_blocks=0, refusal=RATE_LIMITS[name][0]))
    with pytest.raises(RateLimited):
        reader.raw([ADDRESS], 0, 100, [[TOPIC]])
    assert reader.step == 64 and reader.refusals == 0 and spans(transport) == [(0, 63)]


def test_rate_limits_are_retried_in_the_provider_and_the_read_completes() -> None:
    chain = ProviderChain(head=300, limited_every=3)
    reader, _transport = reader_for(chain, retry_timeout_s=60)
    assert len(reader.raw([ADDRESS], 0, 300)) == 602
    assert reader.w3.provider.retries > 0 and reader.refusals == 0 and reader.step == 64


@pytest.mark.parametrize(("logs", "words"), [
    ({5: [fake_log(50, 0)]}, "block 50"),
    ({5: [fake_log(5, 0, address="0x" + "99" * 20)]}, "not asked for"),
    ({5: [fake_log(5, 0), fake_log(5, 1, block_hash="0x" + "ee" * 32)]}, "two hashes"),
    ({5: [fake_log(5, 0), fake_log(5, 0)]}, "twice"),
    ({5: [fake_log(5, 0, topic="0x" + "33" * 32)]}, "topic 0"),
    ({5: [{"address": ADDRESS}]}, "valid"),
])
def test_inconsistent_answers_are_rejected(logs: dict, words: str) -> None:
    reader, _ = reader_for(ProviderChain(logs=logs))
    with pytest.raises(InconsistentLogs, match=words):
        reader.get_logs([ADDRESS], 0, 10, [[TOPIC]])


def test_removed_logs_are_dropped_and_results_sorted() -> None:
    logs = {3: [fake_log(3, 2), {**fake_log(3, 1), "removed": True}], 1: [fake_log(1, 9)]}
    got = reader_for(ProviderChain(logs=logs))[0].get_logs([ADDRESS], 0, 10)
    assert [(int(x["blockNumber"], 16), int(x["logIndex"], 16)) for x in got] == [(1, 9), (3, 2)]


def test_batches_pin_the_end_hash_with_one_request_per_span() -> None:
    chain = ProviderChain(head=20)
    reader, transport = reader_for(chain, batch_size=8)
    batches = list(reader.batches([ADDRESS], 0, 20))
    assert [(b.from_block, b.to_block) for b in batches] == [(0, 7), (8, 15), (16, 20)]
    assert all(b.block_hashes[b.to_block] == f"0x{b.to_block:064x}" for b in batches)
    assert all(b.block_hashes[n] == f"0x{n:064x}" for b in batches for n in range(b.from_block, b.to_block + 1))
    assert [method for method, _ in transport.calls] == ["eth_getBlockByNumber", "eth_getLogs"] * 3


def test_a_block_the_node_does_not_know_yet_is_transient() -> None:
    reader, _ = reader_for(ProviderChain(head=20))
    with pytest.raises(TransientError, match="not known"):
        list(reader.batches([ADDRESS], 0, 30))


# --- no code path sends an unbounded range -------------------------------------------------------------------

def _calls_get_logs(tree: ast.AST) -> list[int]:
    """Lines that name eth_getLogs / get_logs / getLogs as a string constant or an attribute, except in a
    comparison (chain/rpc.py compares method names to map refusals; comparing sends nothing)."""
    compared = {id(n) for c in ast.walk(tree) if isinstance(c, ast.Compare) for n in ast.walk(c)}
    found = []
    for node in ast.walk(tree):
        if id(node) in compared:
            continue
        named = isinstance(node, ast.Constant) and node.value in ("eth_getLogs", "getLogs", "get_logs")
        called = isinstance(node, ast.Attribute) and node.attr in (
            "get_logs", "getLogs", "getPastLogs", "create_filter", "get_filter_logs")
        if named or called:
            found.append(node.lineno)
    return found


def test_only_the_events_reader_sends_eth_get_logs() -> None:
    reader = ROOT / "pynode" / "chain" / "events" / "reader.py"
    offenders = {}
    for path in sorted((ROOT / "pynode").rglob("*.py")):
        lines = _calls_get_logs(ast.parse(path.read_text(), str(path)))
        if lines and path != reader:
            offenders[str(path.relative_to(ROOT))] = lines
    assert offenders == {}, f"eth_getLogs outside chain/events/reader.py: {offenders}"
    assert _calls_get_logs(ast.parse(reader.read_text()))  # and the reader does send it


def _order_book_abi() -> list:
    """The ABI the package ships (kept equal to build/ by its own test)."""
    import json

    return json.loads((ROOT / "pynode" / "chain" / "abi" / "OrderBook.json").read_text())


def test_every_reader_entry_point_sends_only_bounded_explicit_ranges() -> None:
    """Drives every public way to read logs (reader, wrappers, order rebuild, partner keys) through a
    recording transport on a chain 30,000 blocks past the deployment."""
    head, batch = 30_500, 500
    chain = ProviderChain(head=head, logs={})
    w3, transport = fake_web3(chain)
    reader = LogReader(w3, batch_size=batch)
    book_abi = _order_book_abi()
    book = OrderBook(w3, ContractInfo("OrderBook", ADDRESS, book_abi), reader)
    registry = PartnerRegistry(w3, ContractInfo("PartnerRegistry", "0x" + "44" * 20, [
        {"type": "event", "name": "PartnerRegistered", "anonymous": False, "inputs": [
            {"name": "partner", "type": "address", "indexed": True}]}]), reader)
    reader.raw([ADDRESS], 500)
    reader.events(book.decoder, [ADDRESS], 500, None, [[book.topic("OrderPosted")]])
    list(reader.batches([ADDRESS], 500, head))
    reader.get_logs([ADDRESS], 1000, 1000 + batch - 1)
    book.logs(ORDER_EVENTS, from_block=500)
    book.logs(ORDER_EVENTS, "0x" + "00" * 31 + "07", from_block=500, to_block=head)
    book.load_orders(500)
    with pytest.raises(Exception, match="does not exist"):
        book.load_order(7, 500)
    registry.logs(("PartnerRegistered",), from_block=500)
    with pytest.raises(ValueError):
        reader.get_logs([ADDRESS], 0, batch)  # one block too many: refused before anything is sent
    queries = [params[0] for params in transport.methods("eth_getLogs")]
    assert len(queries) > 7 * (head - 500) // batch
    for query in queries:
        assert all(isinstance(query[key], str) and query[key].startswith("0x") for key in ("fromBlock", "toBlock"))
        assert query["fromBlock"] not in ("latest", "earliest", "pending", "safe", "finalized")
        assert int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1 <= batch
        assert int(query["toBlock"], 16) <= head
    with pytest.raises(ValueError):
        LogReader(w3, batch_size=0)


# --- against a real chain ------------------------------------------------------------------------------------

EMITTER = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Emitter {
    event Ping(uint256 indexed id, address indexed who, bytes32 head, uint40 time);
    event Pong(uint256 indexed id, bool ok);
    function emitMany(uint256 start, uint256 n) external {
        for (uint256 i = 0; i < n; i++) emit Ping(start + i, msg.sender, bytes32(start + i), uint40(block.timestamp));
        emit Pong(start, true);
    }
}
"""


def compile_emitter() -> tuple[list, str]:
    os.environ.setdefault("SOLCX_BINARY_PATH", str(SOLC))
    import solcx

    out = solcx.compile_standard({
        "language": "Solidity", "sources": {"Emitter.sol": {"content": EMITTER}},
        "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}}}, solc_version="0.8.37")
    contract = out["contracts"]["Emitter.sol"]["Emitter"]
    return contract["abi"], contract["evm"]["bytecode"]["object"]


@pytest.fixture(scope="module")
def emitter(anvil):
    w3 = connect(anvil.rpc_url)
    abi, bytecode = compile_emitter()
    sender = w3.eth.accounts[0]
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": sender, "data": "0x" + bytecode}))
    return SimpleNamespace(w3=w3, abi=abi, sender=sender, contract=w3.eth.contract(receipt.contractAddress, abi=abi))


def emit(emitter, start: int, n: int) -> int:
    tx = emitter.contract.functions.emitMany(start, n).transact({"from": emitter.sender})
    return emitter.w3.eth.wait_for_transaction_receipt(tx).blockNumber


@pytest.mark.integration
def test_bounded_ranges_cover_everything_in_order(emitter) -> None:
    first = emitter.w3.eth.block_number + 1
    blocks = [emit(emitter, 100 * k, 3) for k in range(7)]  # one block each (automine)
    reader = LogReader(emitter.w3, batch_size=3)
    batches = list(reader.batches([emitter.contract.address], first, blocks[-1]))
    assert all(b.to_block - b.from_block + 1 <= 3 for b in batches)
    assert [b.from_block for b in batches] == [first + 3 * i for i in range(len(batches))]
    assert batches[-1].to_block == blocks[-1]
    logs = [log for b in batches for log in b.logs]
    keys = [(int(log["blockNumber"], 16), int(log["logIndex"], 16)) for log in logs]
    assert keys == sorted(keys) and len(logs) == 7 * 4
    assert reader.raw([emitter.contract.address], first, blocks[-1]) == logs
    decoder = EventDecoder({emitter.contract.address: emitter.abi})
    decoded = decoder.decode_all(logs)
    assert [d.args["id"] for d in decoded if d.event == "Ping"] == [100 * k + i for k in range(7) for i in range(3)]
    pongs = reader.events(decoder, [emitter.contract.address], first, None, [[decoder.topics[1]]])
    assert {d.event for d in pongs} == {"Pong"} or {d.event for d in pongs} == {"Ping"}
    for batch in batches:  # hashes of every block with logs, and of each range end
        assert batch.to_block in batch.block_hashes
        for number, value in batch.block_hashes.items():
            assert emitter.w3.eth.get_block(number).hash.to_0x_hex() == value


@pytest.mark.integration
def test_reorg_detection_finds_the_common_ancestor(emitter, anvil) -> None:
    w3 = emitter.w3
    emit(emitter, 1, 1)
    ancestor = w3.eth.block_number
    snapshot = anvil.rpc("evm_snapshot")
    for k in range(4):
        emit(emitter, 1000 + k, 1)
    tip = w3.eth.block_number
    known = {n: w3.eth.get_block(n).hash.to_0x_hex() for n in range(ancestor - 3, tip + 1)}
    assert find_fork(w3, known) is None  # nothing happened yet
    assert anvil.rpc("evm_revert", snapshot) is True
    for k in range(5):  # a different fork, one block longer
        emit(emitter, 2000 + k, 2)
    assert w3.eth.get_block(ancestor + 1).hash.to_0x_hex() != known[ancestor + 1]
    assert find_fork(w3, known) == ancestor
    assert find_fork(w3, {n: h for n, h in known.items() if n <= ancestor}) is None
    with pytest.raises(DeepReorg):
        find_fork(w3, {n: h for n, h in known.items() if n > ancestor})
    assert find_fork(w3, {}) is None
