"""The few ERC-20 calls fabmesh needs (payment tokens are allow-listed by governance)."""

from __future__ import annotations

import unicodedata
from typing import cast

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from pynode.chain.tx import TxRequest
from pynode.core.units import ETH, Unit

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




_SYMBOL_MAX = 16


def read_unit(w3: Web3, token: str) -> Unit:
    """ETH for the zero address, else the ERC-20's ``symbol`` and ``decimals`` (Chain.token_unit keeps them).

    A token that does not answer ``decimals`` (a revert, no return data) reads in its smallest units and a
    token without a usable ``symbol`` is named by its address. A symbol is outside data shown in terminals
    and HTML: it keeps only letters, digits, currency signs and ``._+-``, at most 16 of them.
    """
    address = to_checksum_address(token)
    if int(address, 16) == 0:
        return ETH
    erc20, named = Erc20(w3, address), f"{address[:10]}…"
    try:
        decimals = erc20.decimals()
    except (ContractLogicError, BadFunctionCallOutput):
        return Unit(f"{named} (smallest units)", 0)
    try:
        symbol = "".join(c for c in erc20.symbol() if c.isalnum() or c in "._+-"
                         or unicodedata.category(c) == "Sc")[:_SYMBOL_MAX]
    except (ContractLogicError, BadFunctionCallOutput):
        symbol = ""
    return Unit(symbol or named, decimals)
