"""Ethereum addresses as eth_utils checks and checksums them (EIP-55), over eth-hash's keccak alone.

Why not eth_utils on the read path: importing it loads pydantic and eth_typing's tables (a quarter of a read
command's start-up, bench/cli_bench.py), for four functions of a few lines. tests/pynode/core/test_address.py
holds these to eth_utils' own answers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from eth_hash.auto import keccak

__all__ = ["is_address", "is_checksum_address", "keccak", "keccak_text", "to_checksum_address"]

_HEX_ADDRESS = re.compile("(0x)?[0-9a-f]{40}", re.IGNORECASE | re.ASCII)


def keccak_text(text: str) -> bytes:
    """keccak256 of ``text``'s UTF-8 bytes (eth_utils' ``keccak(text=...)``)."""
    return keccak(text.encode())


def is_address(value: Any) -> bool:
    """40 hex digits (0x optional, any case: the checksum is not checked) or 20 raw bytes."""
    if isinstance(value, str):
        return _HEX_ADDRESS.fullmatch(value) is not None
    return isinstance(value, (bytes, bytearray)) and len(value) == 20


def to_checksum_address(value: str | bytes | bytearray) -> str:
    """The EIP-55 form of 20 bytes or of 40 hex digits; ValueError for anything else."""
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 20:
            raise ValueError(f"an address is 20 bytes, got {len(value)}")
        lower = value.hex()
    elif isinstance(value, str) and _HEX_ADDRESS.fullmatch(value):
        lower = value[-40:].lower()
    else:
        raise ValueError(f"not an address: {value!r}")
    return _checksummed(lower)


@lru_cache(maxsize=4096)  # a node meets the same few dozen addresses in every event, quote and announcement
def _checksummed(lower: str) -> str:
    hashed = keccak(lower.encode()).hex()
    return "0x" + "".join(c.upper() if h > "7" else c for c, h in zip(lower, hashed))


def is_checksum_address(value: Any) -> bool:
    return isinstance(value, str) and is_address(value) and value == to_checksum_address(value)
