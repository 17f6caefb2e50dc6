"""Turns revert data into the contract's custom error name and arguments."""

from __future__ import annotations

from typing import Any

from pynode.core.abi_types import canonical
from pynode.core.address import is_address, keccak_text, to_checksum_address


def _selector(signature: str) -> bytes:
    return keccak_text(signature)[:4]


_BUILTIN = {
    _selector("Error(string)"): ("Error", ["reason"], ["string"]),
    _selector("Panic(uint256)"): ("Panic", ["code"], ["uint256"]),
}


class RevertDecoder:
    def __init__(self, *abis: list[dict[str, Any]]) -> None:
        self._errors = dict(_BUILTIN)
        for abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = [canonical(p) for p in item["inputs"]]  # tuples expanded for eth_abi
                selector = _selector(f"{item['name']}({','.join(types)})")
                self._errors[selector] = (item["name"], [p["name"] for p in item["inputs"]], types)

    def name(self, data: bytes) -> str:
        """The error's name (``OrderMismatch``), "" when the data names none this decoder knows."""
        known = self._errors.get(data[:4]) if len(data) >= 4 else None
        return known[0] if known is not None else ""

    def decode(self, data: bytes) -> str:
        """`OrderNotOpen(orderId=7)`, or the raw hex when the selector is unknown."""
        if len(data) < 4:
            return "reverted without a reason" if not data else f"reverted with data 0x{data.hex()}"
        known = self._errors.get(data[:4])
        if known is None:
            return f"reverted with unknown error 0x{data.hex()}"
        name, names, types = known
        from eth_abi import decode  # a revert's message only: reads go without eth_abi's import

        try:
            values = decode(types, data[4:])
        except Exception:  # noqa: BLE001 - eth_abi raises many types on a malformed payload: show it, never crash
            return f"{name}(<undecodable 0x{data[4:].hex()}>)"
        args = ", ".join(f"{n}={_show(v)}" if n else _show(v) for n, v in zip(names, values))
        return f"{name}({args})"


def _show(value: object) -> str:
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)
