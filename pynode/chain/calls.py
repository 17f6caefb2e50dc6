"""Contract views over plain JSON-RPC, web3 unloaded: calldata and return data in ABI words.

Values come back as web3's ``contract.functions.f(...).call()`` returns them
(checksummed addresses, ``bytes`` for bytesN, structs as tuples, one output
unwrapped), so a wrapper reads the same on either transport.

Words and static structs of them (every view a read command calls) are encoded and decoded here; anything
else, and any value or return data that is not plainly valid, goes to eth_abi, imported only then (with
eth_utils and pydantic, a quarter of a read command's start-up): its answer, or its error, is the one given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynode.chain.rpc import request
from pynode.core.abi_types import canonical, decode_static, encode
from pynode.core.address import keccak_text, to_checksum_address
from pynode.core.errors import BadCallOutput

if TYPE_CHECKING:
    from eth_abi.grammar import ABIType
    from web3 import Web3

    from pynode.chain.jsonrpc import RpcClient


@dataclass(frozen=True)
class View:
    """One function of an ABI, ready to call: its selector, argument types and output types."""

    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> View:
        inputs = tuple(canonical(i) for i in item.get("inputs", ()))
        outputs = tuple(canonical(o) for o in item.get("outputs", ()))
        selector = keccak_text(f"{item['name']}({','.join(inputs)})")[:4]
        return cls(item["name"], selector, inputs, outputs)

    def calldata(self, args: Sequence[Any]) -> bytes:
        return self.selector + encode(self.inputs, args)

    def result(self, data: bytes) -> Any:
        """The decoded return data; :class:`BadCallOutput` when it does not fit (no code there, another ABI)."""
        shaped = decode_static(self.outputs, data)
        if shaped is None:
            from eth_abi import decode
            from eth_abi.exceptions import DecodingError
            from eth_abi.grammar import parse

            try:
                values = decode(list(self.outputs), data)
            except DecodingError as exc:
                raise BadCallOutput(f"{self.name}: {len(data)} bytes of return data do not decode as "
                                    f"({','.join(self.outputs)})") from exc
            shaped = tuple(_web3_shape(parse(t), v) for t, v in zip(self.outputs, values))
        return shaped[0] if len(shaped) == 1 else shaped


def views(abi: Sequence[Mapping[str, Any]]) -> dict[str, View]:
    """The ABI's functions by name, and each also by its signature ``name(types)``: an overloaded name
    (v2's two ``attest``) is called by signature."""
    found = [View.of(item) for item in abi if item.get("type") == "function"]
    return {**{v.name: v for v in found}, **{f"{v.name}({','.join(v.inputs)})": v for v in found}}


def _web3_shape(typ: ABIType, value: Any) -> Any:
    from eth_abi.grammar import BasicType, TupleType

    if typ.is_array:
        return [_web3_shape(typ.item_type, v) for v in value]
    if isinstance(typ, TupleType):
        return tuple(_web3_shape(t, v) for t, v in zip(typ.components, value))
    if isinstance(typ, BasicType) and typ.base == "address":
        return to_checksum_address(value)
    return value


def call_view(endpoint: Web3 | RpcClient, address: str, view: View, args: Sequence[Any],
              block: int | str = "latest") -> Any:
    """``view(*args)`` of the contract at ``address`` as of ``block``; a revert raises ``CallReverted``."""
    tag = hex(block) if isinstance(block, int) else block
    data = request(endpoint, "eth_call", [{"to": address, "data": "0x" + view.calldata(args).hex()}, tag])
    if not isinstance(data, str) or not data.startswith("0x"):
        raise BadCallOutput(f"{view.name}: the eth_call result is not hex data")
    try:
        raw = bytes.fromhex(data[2:])
    except ValueError as exc:
        raise BadCallOutput(f"{view.name}: the eth_call result is not hex data") from exc
    return view.result(raw)
