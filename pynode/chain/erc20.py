"""The few ERC-20 calls fabmesh needs (payment tokens are allow-listed by governance)."""

from __future__ import annotations

from typing import cast

from eth_typing import ChecksumAddress
from web3 import Web3

from pynode.chain.tx import TxRequest

ERC20_ABI = [
    {"type": "function", "name": n, "stateMutability": m, "inputs": i, "outputs": o}
    for n, m, i, o in (
        ("approve", "nonpayable", [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
         [{"name": "", "type": "bool"}]),
        ("allowance", "view", [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
         [{"name": "", "type": "uint256"}]),
        ("balanceOf", "view", [{"name": "owner", "type": "address"}], [{"name": "", "type": "uint256"}]),
        ("decimals", "view", [], [{"name": "", "type": "uint8"}]),
        ("symbol", "view", [], [{"name": "", "type": "string"}]),
    )
]


class Erc20:
    def __init__(self, w3: Web3, address: str) -> None:
        self.address = address
        self.contract = w3.eth.contract(address=cast(ChecksumAddress, address), abi=ERC20_ABI)

    def decimals(self) -> int:
        return int(self.contract.functions.decimals().call())

    def symbol(self) -> str:
        return str(self.contract.functions.symbol().call())

    def balance_of(self, owner: str) -> int:
        return int(self.contract.functions.balanceOf(owner).call())

    def allowance(self, owner: str, spender: str) -> int:
        return int(self.contract.functions.allowance(owner, spender).call())

    def approve(self, spender: str, amount: int) -> TxRequest:
        data = self.contract.encode_abi("approve", args=[spender, amount])
        return TxRequest(to=self.address, data=bytes.fromhex(data[2:]), label=f"approve {amount} to {spender}")
