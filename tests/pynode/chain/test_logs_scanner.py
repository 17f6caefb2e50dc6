"""LogScanner and the reorg helpers: against a real anvil, and a fake node for the refusals anvil never sends."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from pynode.chain.logs import (
    DeepReorg,
    EventDecoder,
    InconsistentLogs,
    LogScanner,
    find_fork,
)
from pynode.chain.rpc import connect
from pynode.core.errors import FatalError, TransientError

SOLC = Path(__file__).resolve().parents[3] / ".tools" / "solcx"
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
def emitter(anvil):  # noqa: ANN001 - the session anvil fixture
    w3 = connect(anvil.rpc_url)
    abi, bytecode = compile_emitter()
    sender = w3.eth.accounts[0]
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": sender, "data": "0x" + bytecode}))
    return SimpleNamespace(w3=w3, abi=abi, sender=sender, contract=w3.eth.contract(receipt.contractAddress, abi=abi))


def emit(emitter, start: int, n: int) -> int:  # noqa: ANN001
    tx = emitter.contract.functions.emitMany(start, n).transact({"from": emitter.sender})
    return emitter.w3.eth.wait_for_transaction_receipt(tx).blockNumber


@pytest.mark.integration
def test_bounded_ranges_cover_everything_in_order(emitter) -> None:  # noqa: ANN001
    first = emitter.w3.eth.block_number + 1
    blocks = [emit(emitter, 100 * k, 3) for k in range(7)]  # one block each (automine)
    scanner = LogScanner(emitter.w3, [emitter.contract.address], batch_size=3, confirmations=0)
    batches = list(scanner.fetch(first, blocks[-1]))
    assert all(b.to_block - b.from_block + 1 <= 3 for b in batches)
    assert [b.from_block for b in batches] == [first + 3 * i for i in range(len(batches))]
    assert batches[-1].to_block == blocks[-1]
    logs = [log for b in batches for log in b.logs]
    keys = [(int(log["blockNumber"], 16), int(log["logIndex"], 16)) for log in logs]
    assert keys == sorted(keys) and len(logs) == 7 * 4
    whole = scanner.get_logs(first, blocks[-1])
    assert whole == logs
    decoded = EventDecoder({emitter.contract.address: emitter.abi}).decode_all(logs)
    assert [d.args["id"] for d in decoded if d.event == "Ping"] == [100 * k + i for k in range(7) for i in range(3)]
    for batch in batches:  # hashes of every block with logs, and of each range end
        assert batch.to_block in batch.block_hashes
        for number, value in batch.block_hashes.items():
            assert emitter.w3.eth.get_block(number).hash.to_0x_hex() == value


@pytest.mark.integration
def test_safe_head_leaves_confirmations(emitter, anvil) -> None:  # noqa: ANN001
    anvil.rpc("anvil_mine", "0x3")
    scanner = LogScanner(emitter.w3, [emitter.contract.address], confirmations=2)
    head = emitter.w3.eth.block_number
    assert scanner.head() == head and scanner.safe_head() == head - 2


@pytest.mark.integration
def test_reorg_detection_finds_the_common_ancestor(emitter, anvil) -> None:  # noqa: ANN001
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


# --- a fake node for what anvil never does --------------------------------

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def fake_log(block: int, index: int, address: str = ADDRESS, block_hash: str | None = None) -> dict:
    return {"address": address.lower(), "topics": ["0x" + "11" * 32], "data": "0x",
            "blockNumber": hex(block), "blockHash": block_hash or f"0x{block:064x}",
            "transactionHash": "0x" + "22" * 32, "logIndex": hex(index), "removed": False}


class FakeNode:
    """Serves logs of blocks 0..head, refusing ranges wider than `max_blocks` with `refusal`."""

    def __init__(self, head: int = 100, max_blocks: int = 1000, refusal: dict | None = None,
                 logs: dict | None = None) -> None:
        self.head, self.max_blocks = head, max_blocks
        self.refusal = refusal or {"code": -32005, "message": "query returned more than 10000 results"}
        self.logs = logs if logs is not None else {b: [fake_log(b, 1), fake_log(b, 0)] for b in range(head + 1)}
        self.asked: list[tuple[int, int]] = []

    def make_request(self, method: str, params: list) -> dict:
        if method == "eth_blockNumber":
            return {"result": hex(self.head)}
        if method == "eth_getBlockByNumber":
            return {"result": {"hash": f"0x{int(params[0], 16):064x}"}}
        assert method == "eth_getLogs"
        start, end = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
        self.asked.append((start, end))
        if end - start + 1 > self.max_blocks:
            return {"jsonrpc": "2.0", "id": 1, "error": self.refusal}
        return {"result": [log for b in range(start, end + 1) for log in self.logs.get(b, [])]}


def scanner_for(node: FakeNode, **kwargs) -> LogScanner:  # noqa: ANN003
    return LogScanner(SimpleNamespace(provider=node), [ADDRESS], **{"batch_size": 64, "confirmations": 0, **kwargs})


@pytest.mark.parametrize("message", [
    "query returned more than 10000 results",
    "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
    "query exceeds max results 20000, retry with the range 24383075-24383096",
    "eth_getLogs is limited to a 10,000 range",
    "block range is too wide",
])
def test_too_large_ranges_are_halved_then_grown_back(message: str) -> None:
    node = FakeNode(head=100, max_blocks=10, refusal={"code": -32005, "message": message})
    scanner = scanner_for(node)
    batches = list(scanner.fetch(0, 100))
    logs = [log for b in batches for log in b.logs]
    assert [(int(l["blockNumber"], 16), int(l["logIndex"], 16)) for l in logs] == \
        [(b, i) for b in range(101) for i in (0, 1)]
    assert [b.from_block for b in batches] == sorted(b.from_block for b in batches)
    assert all(b.to_block - b.from_block + 1 <= 10 for b in batches)
    assert (0, 63) in node.asked and (0, 31) in node.asked and (0, 7) in node.asked  # 64 -> 32 -> 16 -> 8
    assert any(end - start + 1 == 16 for start, end in node.asked[4:])  # grows back after successes


def test_a_single_block_refused_is_fatal() -> None:
    scanner = scanner_for(FakeNode(head=5, max_blocks=0))
    with pytest.raises(FatalError, match="block 0 even alone"):
        list(scanner.fetch(0, 5))


def test_rate_limits_do_not_shrink_the_range() -> None:
    node = FakeNode(max_blocks=0, refusal={"code": -32005, "message": "project ID request rate exceeded"})
    scanner = scanner_for(node)
    with pytest.raises(TransientError, match="rate exceeded"):
        list(scanner.fetch(0, 100))
    assert scanner.step == 64


def test_logs_outside_the_asked_range_are_rejected() -> None:
    node = FakeNode(logs={5: [fake_log(50, 0)]})
    with pytest.raises(InconsistentLogs, match="block 50"):
        scanner_for(node).get_logs(0, 10)


def test_logs_of_other_contracts_are_rejected() -> None:
    node = FakeNode(logs={5: [fake_log(5, 0, address="0x" + "99" * 20)]})
    with pytest.raises(InconsistentLogs, match="not asked for"):
        scanner_for(node).get_logs(0, 10)


def test_two_hashes_for_one_block_are_rejected() -> None:
    node = FakeNode(logs={5: [fake_log(5, 0), fake_log(5, 1, block_hash="0x" + "ee" * 32)]})
    with pytest.raises(InconsistentLogs, match="two hashes"):
        scanner_for(node).get_logs(0, 10)


def test_removed_logs_are_dropped_and_results_sorted() -> None:
    logs = {3: [fake_log(3, 2), {**fake_log(3, 1), "removed": True}], 1: [fake_log(1, 9)]}
    got = scanner_for(FakeNode(logs=logs)).get_logs(0, 10)
    assert [(int(l["blockNumber"], 16), int(l["logIndex"], 16)) for l in got] == [(1, 9), (3, 2)]


def test_transport_failures_are_transient() -> None:
    import requests

    class Down:
        def make_request(self, method: str, params: list) -> dict:
            raise requests.ConnectionError("refused")

    with pytest.raises(TransientError, match="unreachable"):
        LogScanner(SimpleNamespace(provider=Down()), [ADDRESS]).head()
