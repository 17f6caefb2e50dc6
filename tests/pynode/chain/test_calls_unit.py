"""Contract views over plain JSON-RPC (pynode/chain/calls.py) read what web3's own contract call reads.

Both run over the same in-process transport (no sockets): web3 with the real FabmeshProvider, ours with the real
RpcClient, so a difference in encoding or in the shape of the values shows as a failed comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address

from pynode.chain.calls import call_view, views
from pynode.chain.erc20 import read_unit
from pynode.core.errors import BadCallOutput, CallReverted
from pynode.core.units import Unit
from rpc_fakes import fake_client, fake_web3

ABI_DIR = Path(__file__).resolve().parents[3] / "pynode" / "chain" / "abi"
REGISTRY = "0x" + "44" * 20
PARTNER = "0x" + "ab" * 20  # lower case on the wire: both read it back checksummed


def answering(data: bytes):
    return lambda method, params: {"result": "0x" + data.hex()} if method == "eth_call" else {"result": "0x1"}


def registry_abi() -> list[dict]:
    return json.loads((ABI_DIR / "PartnerRegistry.json").read_text())


def test_a_struct_view_reads_as_web3_reads_it() -> None:
    abi = registry_abi()
    view = views(abi)["partnerInfo"]
    values = (3, 5, 1, 7, 6, 1, 0, 10**18, 0, b"u33d".ljust(8, b"\0"), 100, b"\x12" * 32, b"\x34" * 32)
    returned = encode(list(view.outputs), [values])
    rpc, ours = fake_client(answering(returned))
    w3, theirs = fake_web3(answering(returned))
    got = call_view(rpc, REGISTRY, view, [to_checksum_address(PARTNER)], block=12)
    expected = w3.eth.contract(address=to_checksum_address(REGISTRY), abi=abi).functions.partnerInfo(
        to_checksum_address(PARTNER)).call(block_identifier=12)
    assert got == tuple(expected) == values
    (call, tag), = ours.methods("eth_call")
    (web3_call, web3_tag), = theirs.methods("eth_call")
    assert call["data"] == web3_call["data"] and tag == web3_tag == "0xc"  # the same calldata at the same block


def test_addresses_come_back_checksummed_and_several_outputs_as_a_tuple() -> None:
    item = {"type": "function", "name": "pair", "stateMutability": "view", "inputs": [],
            "outputs": [{"name": "a", "type": "address"}, {"name": "b", "type": "address[]"},
                        {"name": "c", "type": "uint8"}]}
    view = views([item])["pair"]
    returned = encode(["address", "address[]", "uint8"], [PARTNER, [PARTNER, REGISTRY], 6])
    rpc, _ = fake_client(answering(returned))
    w3, _ = fake_web3(answering(returned))
    got = call_view(rpc, REGISTRY, view, [])
    expected = w3.eth.contract(address=to_checksum_address(REGISTRY), abi=[item]).functions.pair().call()
    assert got == (to_checksum_address(PARTNER), [to_checksum_address(PARTNER), to_checksum_address(REGISTRY)], 6)
    assert list(got) == list(expected)


@pytest.mark.parametrize(("error", "data"), [
    ({"code": 3, "message": "execution reverted: nope", "data": "0x08c379a0" + "00" * 96}, bytes.fromhex(
        "08c379a0" + "00" * 96)),
    ({"code": -32000, "message": "execution reverted"}, b""),  # a bare revert(): no data, the node's words
])
def test_a_reverting_view_is_call_reverted_with_its_data(error: dict, data: bytes) -> None:
    rpc, _ = fake_client(lambda method, params: {"error": error})
    with pytest.raises(CallReverted) as raised:
        call_view(rpc, REGISTRY, views(registry_abi())["minBond"], [])
    assert raised.value.data == data


def test_return_data_that_does_not_fit_is_bad_call_output() -> None:
    rpc, _ = fake_client(answering(b""))  # no code at the address: an empty success
    with pytest.raises(BadCallOutput, match="minBond: 0 bytes"):
        call_view(rpc, REGISTRY, views(registry_abi())["minBond"], [])


def test_a_token_without_decimals_or_symbol_reads_in_smallest_units_or_by_address() -> None:
    token = to_checksum_address("0x" + "66" * 20)
    rpc, _ = fake_client(answering(b""))
    assert read_unit(rpc, token) == Unit(f"{token[:10]}… (smallest units)", 0)

    def decimals_only(method: str, params: list) -> dict:
        selector = params[0]["data"][:10]
        if selector == "0x313ce567":  # decimals()
            return {"result": "0x" + encode(["uint8"], [6]).hex()}
        return {"error": {"code": 3, "message": "execution reverted"}}  # symbol() reverts

    rpc, _ = fake_client(decimals_only)
    assert read_unit(rpc, token) == Unit(f"{token[:10]}…", 6)
