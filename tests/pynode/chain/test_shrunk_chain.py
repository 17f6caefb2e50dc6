"""Reads of blocks that left the chain, asked of real nodes: anvil after evm_revert, geth for a block it does not
have (what its reorged-away or pruned blocks look like to it). Each reply is BlockUnavailable (transient) over
both transports, never the fatal RpcRejected a daemon stops on; the fixtures in test_rpc_errors.py are these."""

from __future__ import annotations

import pytest

from pynode.chain.jsonrpc import RpcClient
from pynode.chain.provider import connect
from pynode.chain.reorg import block_at, block_hash
from pynode.chain.rpc import request
from pynode.core.errors import BlockUnavailable, Kind, classify
from pynode.dev.geth import Geth

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]  # anvil's blocks are reverted here

SOMEONE = "0x" + "11" * 20
NEVER = "0x" + "ab" * 32  # a block hash no chain has


@pytest.fixture(scope="module")
def geth(tmp_path_factory):
    with Geth(tmp_path_factory.mktemp("geth")) as node:
        yield node


def vanished_reads(number: int, block: str) -> list[tuple[str, list]]:
    return [("eth_call", [{"to": SOMEONE, "data": "0x"}, hex(number)]),
            ("eth_call", [{"to": SOMEONE, "data": "0x"}, {"blockHash": block}]),
            ("eth_getBalance", [SOMEONE, hex(number)]),
            ("eth_getBalance", [SOMEONE, {"blockHash": block}]),
            ("eth_getLogs", [{"blockHash": block}])]


def assert_transient(url: str, number: int, block: str) -> None:
    client, w3 = RpcClient(url), connect(url)
    for method, params in vanished_reads(number, block):
        for endpoint in (client, w3):
            with pytest.raises(BlockUnavailable) as caught:
                request(endpoint, method, params)
            assert classify(caught.value) is Kind.TRANSIENT, (method, params)
    assert block_hash(client, number) is None  # the reorg check's question: no block there, not canonical
    with pytest.raises(BlockUnavailable, match=f"block {number} is gone"):
        block_at(client, number)  # a block the caller saw under a head it read


def test_anvils_answers_for_reverted_blocks_are_transient(anvil) -> None:
    snapshot = anvil.rpc("evm_snapshot")
    for _ in range(3):
        anvil.rpc("evm_mine")
    client = RpcClient(anvil.rpc_url)
    number = int(request(client, "eth_blockNumber", []), 16)
    gone = block_at(client, number)["hash"]
    anvil.rpc("evm_revert", snapshot)
    assert_transient(anvil.rpc_url, number, gone)


def test_geths_answers_for_blocks_it_does_not_have_are_transient(geth) -> None:
    head = int(request(RpcClient(geth.rpc_url), "eth_blockNumber", []), 16)
    assert_transient(geth.rpc_url, head + 1000, NEVER)
