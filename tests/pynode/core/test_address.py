"""pynode/core/address.py answers as eth_utils does, on the forms the package passes it and on bad input."""

from __future__ import annotations

import random

import eth_utils
import pytest

from pynode.core import address


def samples() -> list[str | bytes | bytearray]:
    rng = random.Random(7)
    raw = [bytes(rng.randrange(256) for _ in range(20)) for _ in range(200)] + [b"\0" * 20, b"\xff" * 20]
    hexes = [r.hex() for r in raw]
    return [*raw, *("0x" + h for h in hexes), *hexes, *("0x" + h.upper() for h in hexes),
            *(eth_utils.to_checksum_address(r) for r in raw), bytearray(raw[0])]


@pytest.mark.parametrize("value", samples()[::7])
def test_checksums_as_eth_utils(value: str | bytes | bytearray) -> None:
    assert address.to_checksum_address(value) == eth_utils.to_checksum_address(value)  # type: ignore[type-var]


def test_every_sample_checks_as_eth_utils() -> None:
    bad: list[object] = ["", "0x", "0x" + "g" * 40, "0x" + "a" * 39, "0x" + "a" * 41, "0X" + "a" * 40, b"\0" * 19,
                         b"\0" * 21, 12, None, " 0x" + "a" * 40, "0x" + "a" * 40 + "\n"]
    for value in [*samples(), *bad]:
        for name in ("is_address", "is_checksum_address"):
            assert getattr(address, name)(value) == getattr(eth_utils, name)(value), (name, value)
    for value in bad:
        if not eth_utils.is_address(value):
            with pytest.raises(ValueError):
                address.to_checksum_address(value)  # type: ignore[arg-type]


def test_keccak_text_is_eth_utils_keccak_of_text() -> None:
    for text in ("", "Transfer(address,address,uint256)", "ü"):
        assert address.keccak_text(text) == eth_utils.keccak(text=text)
