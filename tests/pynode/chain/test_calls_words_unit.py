"""The word codec of pynode/core/abi_types.py (calls.py's views, orders.py's and v2 codec's hashes) gives eth_abi's
bytes and values, and leaves to eth_abi what it would refuse (short or badly padded return data, values out of
range), so the answer or error is eth_abi's."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address

from pynode.chain.calls import View, views
from pynode.core import abi_types
from pynode.core.errors import BadCallOutput

ABI_DIR = Path(__file__).resolve().parents[3] / "pynode" / "chain" / "abi"
TYPES = ("uint8", "uint40", "uint96", "uint256", "int8", "int256", "address", "bool", "bytes1", "bytes8", "bytes32")


def value_of(typ: str, rng: random.Random):
    if typ.startswith("("):
        return tuple(value_of(t, rng) for t in typ[1:-1].split(","))
    if typ.startswith("uint"):
        return rng.choice([0, (1 << int(typ[4:])) - 1, rng.randrange(1 << int(typ[4:]))])
    if typ.startswith("int"):
        low, high = -(1 << (int(typ[3:]) - 1)), 1 << (int(typ[3:]) - 1)
        return rng.choice([low, high - 1, rng.randrange(low, high)])
    if typ == "address":
        return to_checksum_address(bytes(rng.randrange(256) for _ in range(20)))
    if typ == "bool":
        return rng.random() < 0.5
    return bytes(rng.randrange(256) for _ in range(int(typ[5:])))


def signatures(rng: random.Random) -> list[tuple[str, ...]]:
    found = []
    for _ in range(200):
        row = [rng.choice(TYPES) for _ in range(rng.randrange(1, 5))]
        if rng.random() < 0.4:
            row.append("(" + ",".join(rng.choice(TYPES) for _ in range(rng.randrange(1, 4))) + ")")
        found.append(tuple(row))
    return found


def test_words_encode_and_decode_as_eth_abi() -> None:
    rng = random.Random(16)
    for types in signatures(rng):
        values = [value_of(t, rng) for t in types]
        view = View("f", b"\x01\x02\x03\x04", types, types)
        assert view.calldata(values) == b"\x01\x02\x03\x04" + encode(list(types), values), types
        data = encode(list(types), values)
        got = view.result(data + b"\0" * 32)  # eth_abi reads past nothing it needs
        assert (got if len(types) > 1 else (got,)) == tuple(values), types  # checksummed, as web3 reads them
        assert abi_types.decode_static(types, data) is not None  # the words were read here, not by eth_abi


@pytest.mark.parametrize(("typ", "word"), [
    ("uint8", (256).to_bytes(32, "big")), ("bool", (2).to_bytes(32, "big")), ("address", b"\1" + bytes(31)),
    ("bytes8", bytes(31) + b"\1"), ("int8", (128).to_bytes(32, "big")), ("uint256", bytes(31)),
])
def test_what_eth_abi_refuses_is_refused_the_same(typ: str, word: bytes) -> None:
    assert abi_types.decode_static((typ,), word) is None
    with pytest.raises(BadCallOutput, match=f"f: {len(word)} bytes of return data do not decode as \\({typ}\\)"):
        View("f", b"\0" * 4, (), (typ,)).result(word)


@pytest.mark.parametrize(("typ", "value"), [("uint8", 256), ("uint8", -1), ("bool", 1), ("address", "0x12"),
                                            ("bytes4", b"12345"), ("uint256", True), ("int8", 128)])
def test_values_eth_abi_refuses_are_refused_by_eth_abi(typ: str, value: object) -> None:
    from eth_abi.exceptions import EncodingError

    with pytest.raises(EncodingError):
        View("f", b"\0" * 4, (typ,), ()).calldata([value])


ARRAYS = ("uint32[]", "address[]", "bytes32[]", "bool[]", "bytes")


def plain_type(rng: random.Random, depth: int = 0) -> str:
    """A word, bytes, an array of words, or (above depth 2: no deeper) a struct of these."""
    pick = rng.random()
    if pick < 0.2 and depth < 2:
        return "(" + ",".join(plain_type(rng, depth + 1) for _ in range(rng.randrange(1, 4))) + ")"
    return rng.choice(ARRAYS) if pick < 0.5 else rng.choice(TYPES)


def plain_value(typ: str, rng: random.Random):
    if typ.startswith("("):
        return tuple(plain_value(t, rng) for t in abi_types._members(typ))
    if typ.endswith("[]"):
        return [value_of(typ[:-2], rng) for _ in range(rng.randrange(0, 4))]
    return tail_value(typ, rng) if typ == "bytes" else value_of(typ, rng)


def test_arrays_of_words_and_structs_holding_them_encode_as_eth_abi() -> None:
    """v2's OrderSpec (a struct with an address[]) and AccessManager's operation ids (address, address, bytes) are
    hashed from this encoding (protocol/v2/codec.py, chain/v2/manager.py)."""
    rng = random.Random(5)
    for _ in range(300):
        types = [plain_type(rng) for _ in range(rng.randrange(1, 4))]
        values = [plain_value(t, rng) for t in types]
        assert abi_types.encode_plain(types, values) == encode(types, values), types


def test_int_and_bytes_subclasses_encode_here_as_eth_abi() -> None:
    """An order's status is an IntEnum, a provider's hash HexBytes: eth_abi takes them, and so does the word codec
    (v2's order hash is checked on every order read)."""
    from enum import IntEnum

    from hexbytes import HexBytes

    class Status(IntEnum):
        DONE = 5

    types = ["uint8", "bytes32", "bytes", "address", "int16"]
    values = [Status.DONE, HexBytes(b"\1" * 32), bytearray(b"\2" * 33), bytearray(b"\3" * 20), Status.DONE]
    assert abi_types.encode_plain(types, values) == encode(types, values)
    assert abi_types.encode_plain(["uint8"], [True]) is None  # eth_abi refuses a bool for an int: its error stands


def test_the_packaged_views_have_the_selectors_eth_utils_computes() -> None:
    from eth_utils import collapse_if_tuple, keccak

    for path in sorted(ABI_DIR.glob("*.json")):
        abi = json.loads(path.read_text())
        for item in abi:
            if item.get("type") == "function":
                inputs = ",".join(collapse_if_tuple(dict(i)) for i in item["inputs"])
                view = views(abi)[f"{item['name']}({inputs})"]
                assert view.selector == keccak(text=f"{item['name']}({inputs})")[:4]
                assert view.outputs == tuple(collapse_if_tuple(dict(o)) for o in item.get("outputs", ()))


TAILS = ("bytes", "string", "uint256[]", "address[]", "bytes32[]")


def tail_value(typ: str, rng: random.Random):
    if typ == "bytes":
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 31, 32, 33, 70])))
    if typ == "string":
        return "".join(rng.choice("aZ09 ü€") for _ in range(rng.randrange(0, 40)))
    return [value_of(typ[:-2], rng) for _ in range(rng.randrange(0, 4))]


def test_top_level_tails_decode_as_web3_reads_them() -> None:
    """eip712Domain()'s strings and uint256[]: bytes, string and arrays of words at the top, read here."""
    rng = random.Random(4)
    for _ in range(150):
        types = tuple(rng.choice(TYPES + TAILS) for _ in range(rng.randrange(1, 6)))
        values = [tail_value(t, rng) if t in TAILS else value_of(t, rng) for t in types]
        data = encode(list(types), values)
        got = abi_types.decode_static(types, data)
        assert got == tuple(values), types  # addresses checksummed, arrays as lists, as web3 reads them
        view = View("f", b"\0" * 4, (), types)
        assert view.result(data) == (got if len(types) > 1 else got[0])


@pytest.mark.parametrize("data", [
    encode(["string"], ["abc"]) + bytes(32),  # bytes after the tail
    bytes.fromhex("40".rjust(64, "0")) + bytes(32) + encode(["string"], ["abc"])[32:],  # a gap before the tail
    encode(["string"], ["abc"])[:-32],  # cut off
    encode(["bytes"], [b"ab"])[:-32] + b"ab" + b"\1" + bytes(29),  # non-zero padding
])
def test_tails_elsewhere_are_eth_abis_to_judge(data: bytes) -> None:
    from eth_abi import decode
    from eth_abi.exceptions import DecodingError

    typ = "bytes" if data.endswith(b"\1" + bytes(29)) else "string"
    assert abi_types.decode_static((typ,), data) is None
    view = View("f", b"\0" * 4, (), (typ,))
    try:
        expected = decode([typ], data)[0]
    except DecodingError:
        with pytest.raises(BadCallOutput):
            view.result(data)
    else:
        assert view.result(data) == expected
