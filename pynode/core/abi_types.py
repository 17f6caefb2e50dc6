"""ABI types and words without eth_abi's import: canonical type strings, one-word types, a codec of words.

A read command's views, events and order hashes are words (uints, addresses, bytes32, bools), static structs
of them and (v2's order spec) structs holding arrays of words, which pynode/chain/calls.py,
pynode/chain/events/decoder.py, pynode/chain/orders.py and pynode/protocol/v2/codec.py encode and decode
here; eth_abi (whose import loads eth_utils and pydantic: a quarter of a read command's start-up) is
imported only for anything else, and for any value or data it must judge, so its answer or its error is
the one given (tests/pynode/chain/test_calls_words_unit.py). In core, not chain: the protocol layer hashes
its structs with it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from pynode.core.address import to_checksum_address

_WORD = re.compile(r"(uint|int|bytes|address|bool)(\d*)", re.ASCII)
_BOOLS = {b"\0" * 32: False, b"\0" * 31 + b"\1": True}
#: a static layout: ("word", base, size), or ("tuple", layouts); None: eth_abi's business
Layout = tuple[Any, ...]


def canonical(item: Mapping[str, Any] | str) -> str:
    """The item's type as a signature spells it, structs as tuples (eth_utils' ``collapse_if_tuple``)."""
    if isinstance(item, str):
        return item
    typ = item.get("type")
    if not isinstance(typ, str):
        raise TypeError(f"the ABI item's type is not a string: {typ!r}")
    if not typ.startswith("tuple"):
        return typ
    return f"({','.join(canonical(c) for c in item['components'])}){typ[5:]}"


def word(typ: str) -> tuple[str, int] | None:
    """(base, size) of a type that is one ABI word (``uint8``…``uint256``, ``int*``, ``bytes1``…``bytes32``,
    ``address``, ``bool``; size 0 for the last two), None for anything else, arrays and invalid sizes included."""
    found = _WORD.fullmatch(typ)
    if found is None:
        return None
    base, digits = found.groups()
    if base in ("address", "bool"):
        return (base, 0) if not digits else None
    if not digits or digits[0] == "0":
        return None
    size = int(digits)
    if base == "bytes":
        return (base, size) if 1 <= size <= 32 else None
    return (base, size) if 8 <= size <= 256 and size % 8 == 0 else None


@lru_cache(maxsize=512)
def _layout(typ: str) -> Layout | None:
    """The static layout of a canonical type string, None unless it is a word or a static struct of words."""
    if not typ.startswith("("):
        found = word(typ)
        return None if found is None else ("word", *found)
    parts = _members(typ)
    layouts = None if parts is None else [_layout(part) for part in parts]
    return None if layouts is None or any(layout is None for layout in layouts) else ("tuple", layouts)


def _members(typ: str) -> list[str] | None:
    """The member types of a struct's type string, None for an array of structs or the empty tuple."""
    if not typ.endswith(")") or typ == "()":
        return None
    parts, depth, start = [], 0, 1
    for at, char in enumerate(typ[1:-1], 1):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(typ[start:at])
            start = at + 1
    parts.append(typ[start:-1])
    return parts


def encode(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """eth_abi's ``encode(types, values)``: words here, anything else (or any value not plainly valid, whose
    error is then eth_abi's) by eth_abi."""
    words = encode_plain(types, values)
    if words is None:
        from eth_abi import encode as eth_abi_encode

        words = eth_abi_encode(list(types), list(values))
    return words


def encode_plain(types: Sequence[str], values: Sequence[Any]) -> bytes | None:
    """The encoding of ``values``; None when a type is not a word, ``bytes``, an array of words or a struct of
    these, or a value is not plainly valid."""
    layouts = [_plain_layout(t) for t in types]
    plain = [layout for layout in layouts if layout is not None]
    if len(plain) != len(layouts) or len(values) != len(layouts):
        return None
    return _sequence(plain, values)


@lru_cache(maxsize=512)
def _plain_layout(typ: str) -> Layout | None:
    """A type's layout for encoding: a word or a static struct (as _layout), ``("bytes",)``, ``("array", word)``
    for ``T[]`` of a word, or a struct with such members."""
    static = _layout(typ)
    if static is not None:
        return static
    if typ == "bytes":
        return ("bytes",)
    if typ.endswith("[]"):
        inner = _layout(typ[:-2])
        return ("array", inner) if inner is not None and inner[0] == "word" else None
    parts = _members(typ) if typ.startswith("(") else None
    members = None if parts is None else [_plain_layout(part) for part in parts]
    return None if members is None or any(member is None for member in members) else ("tuple", members)


def _dynamic(layout: Layout) -> bool:
    return layout[0] in ("array", "bytes") or (layout[0] == "tuple" and any(_dynamic(m) for m in layout[1]))


def _sequence(layouts: Sequence[Layout], values: Sequence[Any]) -> bytes | None:
    """Solidity's head/tail encoding of a tuple's members: static ones in the head, a dynamic one's offset in the
    head and its encoding in the tail."""
    heads: list[bytes] = []
    tails: list[bytes] = []
    offset = 32 * sum(1 if _dynamic(layout) else _words(layout) for layout in layouts)
    for layout, value in zip(layouts, values):
        encoded = _encoded(layout, value)
        if encoded is None:
            return None
        if _dynamic(layout):
            heads.append(offset.to_bytes(32, "big"))
            tails.append(encoded)
            offset += len(encoded)
        else:
            heads.append(encoded)
    return b"".join(heads + tails)


def _encoded(layout: Layout, value: Any) -> bytes | None:
    if layout[0] == "bytes":
        return len(value).to_bytes(32, "big") + bytes(value).ljust(-(-len(value) // 32) * 32, b"\0") \
            if isinstance(value, (bytes, bytearray)) else None
    if layout[0] == "array":
        if not isinstance(value, (list, tuple)):
            return None
        items = _sequence([layout[1]] * len(value), value)
        return None if items is None else len(value).to_bytes(32, "big") + items
    if layout[0] == "tuple" and _dynamic(layout):
        if not isinstance(value, (list, tuple)) or len(value) != len(layout[1]):
            return None
        return _sequence(layout[1], value)
    out: list[bytes] = []
    return b"".join(out) if _put(layout, value, out) else None


def _put(layout: Layout, value: Any, out: list[bytes]) -> bool:
    """Appends ``value``'s words; False (eth_abi decides) unless it is plainly valid for its type."""
    if layout[0] == "tuple":
        members = layout[1]
        return (isinstance(value, (list, tuple)) and len(value) == len(members)
                and all(_put(m, v, out) for m, v in zip(members, value)))
    _, base, size = layout
    integer = isinstance(value, int) and type(value) is not bool  # an IntEnum too (a status), as eth_abi takes it
    raw = isinstance(value, (bytes, bytearray))  # HexBytes too
    if base == "uint" and integer and 0 <= value < 1 << size:
        out.append(int(value).to_bytes(32, "big"))
    elif base == "int" and integer and -(1 << (size - 1)) <= value < 1 << (size - 1):
        out.append(int(value).to_bytes(32, "big", signed=True))
    elif base == "address" and type(value) is str and len(value) == 42 and value[:2] == "0x" and _is_hex(value[2:]):
        out.append(bytes(12) + bytes.fromhex(value[2:]))
    elif base == "address" and raw and len(value) == 20:
        out.append(bytes(12) + bytes(value))
    elif base == "bool" and type(value) is bool:
        out.append(bytes(31) + bytes([value]))
    elif base == "bytes" and raw and len(value) <= size:
        out.append(bytes(value).ljust(32, b"\0"))
    else:
        return False
    return True


def _is_hex(text: str) -> bool:
    return text.isascii() and all(c in "0123456789abcdefABCDEF" for c in text)


def decode_static(types: Sequence[str], data: bytes) -> tuple[Any, ...] | None:
    """The values in ``data`` as eth_abi decodes and web3 shapes them (checksummed addresses, structs as tuples,
    arrays as lists); None when a type is neither a word, a static struct, nor (at the top) ``bytes``, ``string``
    or an array of words, or the data is short, has padding eth_abi refuses or tails not where Solidity puts them."""
    layouts: list[Layout] = []
    for typ in types:
        layout = _layout(typ) or _tail(typ)
        if layout is None:
            return None
        layouts.append(layout)
    at, tails = [0], [sum(32 * _words(layout) for layout in layouts)]
    try:
        values = tuple(_take_top(layout, data, at, tails) for layout in layouts)
    except _NotPlain:
        return None
    if tails[0] != len(data) and any(layout[0] in _TAILS for layout in layouts):
        return None  # bytes after the last tail: eth_abi's to judge
    return values


_TAILS = ("bytes", "string", "array")


def _tail(typ: str) -> Layout | None:
    """The layout of a top-level dynamic type read here: ``bytes``, ``string``, or an array of words."""
    if typ in ("bytes", "string"):
        return (typ,)
    if typ.endswith("[]"):
        inner = _layout(typ[:-2])
        if inner is not None and inner[0] == "word":
            return ("array", inner)
    return None


def _words(layout: Layout) -> int:
    """The words a layout takes in the head: a tail's offset is one."""
    if layout[0] == "tuple":
        return sum(_words(member) for member in layout[1])
    return 1


def _take_top(layout: Layout, data: bytes, at: list[int], tails: list[int]) -> Any:
    """A top-level value: in the head, or in the tail its head word points to (next after the last tail)."""
    if layout[0] not in _TAILS:
        return _take(layout, data, at)
    if _take(("word", "uint", 256), data, at) != tails[0]:
        raise _NotPlain
    start = tails[0]
    count = _take(("word", "uint", 256), data, [start])
    if layout[0] == "array":
        cursor = [start + 32]
        items = [_take(layout[1], data, cursor) for _ in range(min(count, len(data) // 32 + 1))]
        if len(items) != count:
            raise _NotPlain
        tails[0] = cursor[0]
        return items
    end = start + 32 + count
    padded = end + (-count % 32)
    if padded > len(data) or any(data[end:padded]):
        raise _NotPlain
    tails[0] = padded
    raw = data[start + 32:end]
    if layout[0] == "bytes":
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _NotPlain from None


class _NotPlain(Exception):
    """Return data eth_abi must judge: too short, or a word with padding it would refuse."""


def _take(layout: Layout, data: bytes, at: list[int]) -> Any:
    """The value at word ``at[0]`` of ``data`` (advancing it), as eth_abi and web3 shape it."""
    if layout[0] == "tuple":
        return tuple(_take(member, data, at) for member in layout[1])
    _, base, size = layout
    start = at[0]
    chunk = data[start:start + 32]
    if len(chunk) != 32:
        raise _NotPlain
    at[0] = start + 32
    if base == "uint":
        value = int.from_bytes(chunk, "big")
        if value >> size:
            raise _NotPlain
        return value
    if base == "int":
        value = int.from_bytes(chunk, "big", signed=True)
        if not -(1 << (size - 1)) <= value < 1 << (size - 1):
            raise _NotPlain
        return value
    if base == "address":
        if chunk[:12] != bytes(12):
            raise _NotPlain
        return to_checksum_address(chunk[12:])
    if base == "bool":
        flag = _BOOLS.get(chunk)
        if flag is None:
            raise _NotPlain
        return flag
    if chunk[size:] != bytes(32 - size):  # bytesN: right-padded with zeros
        raise _NotPlain
    return chunk[:size]
