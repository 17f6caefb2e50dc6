"""The few ERC-20 calls fabmesh needs (payment tokens are allow-listed by governance)."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from pynode.chain.calls import call_view, views
from pynode.core.address import to_checksum_address
from pynode.core.errors import BadCallOutput, CallReverted
from pynode.core.units import ETH, Unit

if TYPE_CHECKING:
    from web3 import Web3

    from pynode.chain.jsonrpc import RpcClient
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


_VIEWS = views(ERC20_ABI)


class Erc20:
    """An ERC-20 over either transport (views by pynode.chain.calls, a revert raises ``CallReverted``)."""

    def __init__(self, w3: Web3 | RpcClient, address: str) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)

    def _call(self, function: str, *args: object) -> Any:
        return call_view(self.w3, self.address, _VIEWS[function], args)

    def decimals(self) -> int:
        return int(self._call("decimals"))

    def symbol(self) -> str:
        return str(self._call("symbol"))

    def balance_of(self, owner: str) -> int:
        return int(self._call("balanceOf", owner))

    def allowance(self, owner: str, spender: str) -> int:
        return int(self._call("allowance", owner, spender))

    def approve(self, spender: str, amount: int) -> TxRequest:
        from pynode.chain.tx import TxRequest

        data = _VIEWS["approve"].calldata([spender, amount])
        return TxRequest(to=self.address, data=data, label=f"approve {amount} to {spender}")




_SYMBOL_MAX = 16


def read_unit(w3: Web3 | RpcClient, token: str) -> Unit:
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
    except (CallReverted, BadCallOutput):
        return Unit(f"{named} (smallest units)", 0)
    try:
        symbol = "".join(c for c in erc20.symbol() if c.isalnum() or c in "._+-"
                         or unicodedata.category(c) == "Sc")[:_SYMBOL_MAX]
    except (CallReverted, BadCallOutput):
        symbol = ""
    return Unit(symbol or named, decimals)
