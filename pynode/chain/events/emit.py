"""The Python source of EventDecoder's decode functions (pynode/chain/events/decoder.py compiles each on its
event's first log), and what the generated code calls: words and static structs sliced from the data with
eth_abi's strictness, bytes and string tails in Solidity's encoding read in place, anything else decoded by
eth_abi's tuple decoder, imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pynode.core.abi_types import canonical, decode_static, word
from pynode.core.address import to_checksum_address
from pynode.core.errors import InputError

if TYPE_CHECKING:
    from eth_abi.grammar import ABIType


class MalformedLog(InputError):
    """The log claims to be a known event but its topics or data do not fit the ABI."""


class _ChecksumCache:
    """Checksumming costs a keccak; the same few addresses recur in every log.

    Keyed by the 20 raw bytes (data words) and by the whole 0x-hex topic (indexed
    addresses: a hit there skips the hex decoding too; only topics that passed the
    checks are ever stored). Bounded: cleared when full, which costs a few
    recomputations and no memory growth.
    """

    __slots__ = ("_by_bytes", "_by_topic", "_limit", "lookup", "lookup_topic")

    def __init__(self, limit: int = 100_000) -> None:
        self._by_bytes: dict[bytes, str] = {}
        self._by_topic: dict[str, str] = {}
        self._limit = limit
        self.lookup = self._by_bytes.get  # bound once: the hot path skips a method call
        self.lookup_topic = self._by_topic.get

    def of(self, raw20: bytes) -> str:
        found = self._by_bytes.get(raw20)
        if found is None:
            if len(self._by_bytes) >= self._limit:
                self._by_bytes.clear()
            found = self._by_bytes[raw20] = to_checksum_address(raw20)
        return found

    def of_topic(self, topic: str, name: str) -> str:
        """The address in an indexed topic, checked as strictly as a data word."""
        word = bytes.fromhex(topic[2:])
        if len(word) != 32 or topic[:2] != "0x":
            raise MalformedLog(f"topic for {name} is not 32 bytes of 0x-hex")
        if word[:12] != _ZERO12:
            raise _BadWord("address has non-zero padding")
        if len(self._by_topic) >= self._limit:
            self._by_topic.clear()
        found = self._by_topic[topic] = self.of(word[12:])
        return found


class _BadWord(Exception):
    """A word's padding is not what eth_abi accepts (the reason is the message)."""


_ZERO12 = b"\0" * 12


_BOOLS = {b"\0" * 32: False, b"\0" * 31 + b"\1": True}


_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, KeyError, AttributeError)


class _Source:
    """The Python source of one event's decode function and the constants it refers to.

    Why generated code: a loop over per-argument reader closures spent most of its
    time in calls, zips and tuple unpacking. Straight-line code built once from
    the ABI does only the slicing, int.from_bytes and checks each argument needs.
    Argument names enter the source only as repr() literals, other values as named constants.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self._vars = 0

    def const(self, value: Any) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def var(self) -> str:
        self._vars += 1
        return f"v{self._vars}"

    def line(self, text: str) -> None:
        self.lines.append("        " + text)


def _static(item: Mapping[str, Any], buf: str, at: int, src: _Source) -> tuple[str, int] | None:
    """Emits the reading of a static ABI item at byte ``at`` of the bytes ``buf``.

    Returns the expression holding its value and its size in words, or None if it
    needs eth_abi. Structs of static members become dict displays keyed by component name.
    """
    if item["type"].startswith("tuple"):
        if item["type"] != "tuple":
            return None  # an array of structs
        fields, words = [], 0
        for component in item["components"]:
            found = _static(component, buf, at + 32 * words, src)
            if found is None:
                return None
            fields.append(f"{component['name']!r}: {found[0]}")
            words += found[1]
        return "{" + ", ".join(fields) + "}", words
    found = word(item["type"])
    if found is None:
        return None  # string, bytes, arrays, fixed/ufixed, function: eth_abi's business
    (base, sub), word_at = found, f"{buf}[{at}:{at + 32}]"
    if base == "bytes" and sub == 32:
        return word_at, 1
    if base == "bytes":
        pad, why = src.const(bytes(32 - sub)), f"bytes{sub} has non-zero padding"
        src.line(f"if {buf}[{at + sub}:{at + 32}] != {pad}: raise _BadWord({why!r})")
        return f"{buf}[{at}:{at + sub}]", 1
    value = src.var()
    if base == "uint":
        src.line(f"{value} = from_bytes({word_at}, 'big')")
        if sub < 256:
            why = f"uint{sub} has non-zero padding"
            src.line(f"if {value} >> {sub}: raise _BadWord({why!r})")
    elif base == "int":
        src.line(f"{value} = from_bytes({word_at}, 'big', signed=True)")
        if sub < 256:
            why = f"int{sub} has a wrong sign extension"
            src.line(f"if not {-(1 << (sub - 1))} <= {value} < {1 << (sub - 1)}: raise _BadWord({why!r})")
    elif base == "address":
        src.line(f"if {buf}[{at}:{at + 12}] != _ZERO12: raise _BadWord('address has non-zero padding')")
        src.line(f"{value} = {buf}[{at + 12}:{at + 32}]")
        src.line(f"{value} = cached({value}) or checksum({value})")
    else:
        src.line(f"{value} = _BOOLS.get({word_at})")
        src.line(f"if {value} is None: raise _BadWord('bool is neither 0 nor 1')")
    return value, 1


def _shaper(item: Mapping[str, Any], checksum: _ChecksumCache) -> Callable[[Any], Any] | None:
    """Turns eth_abi's value for an ABI item into web3's shape, or None if it already has it.

    web3 shapes: structs are dicts by component name, arrays lists, addresses checksummed.
    """
    from eth_abi.grammar import parse

    return _shaper_for(parse(canonical(item)), item.get("components", ()), checksum)


def _shaper_for(typ: ABIType, components: Sequence[Mapping[str, Any]],
                checksum: _ChecksumCache) -> Callable[[Any], Any] | None:
    from eth_abi.grammar import BasicType, TupleType, parse

    if typ.arrlist:
        inner = _shaper_for(typ.item_type, components, checksum)
        if inner is None:
            return list
        return lambda values: [inner(v) for v in values]
    if isinstance(typ, TupleType):
        names = [c["name"] for c in components]
        shapers = [_shaper_for(parse(canonical(c)), c.get("components", ()), checksum)
                   for c in components]
        pairs = list(zip(names, shapers))
        return lambda values: {name: (s(v) if s else v) for (name, s), v in zip(pairs, values)}
    if isinstance(typ, BasicType) and typ.base == "address":
        cache = checksum  # eth_abi returns lowercase hex; web3 checksums it
        return lambda value: cache.of(bytes.fromhex(value[2:]))
    return None


def _is_reference(item: Mapping[str, Any]) -> bool:
    """Indexed arguments of these types are stored as their keccak hash (Solidity ABI spec)."""
    typ = item["type"]
    return typ in ("string", "bytes") or typ.startswith("tuple") or typ.endswith("]")


def _topics(event: str, indexed: Sequence[Mapping[str, Any]], src: _Source) -> list[str]:
    """Emits the reading of topics[1:]; returns the ``'name': value`` entries of the args dict."""
    src.line("topics = raw['topics']")
    src.line(f"if len(topics) != {1 + len(indexed)}: "
             f"raise MalformedLog(f'expected {1 + len(indexed)} topics, got {{len(topics)}}')")
    args = []
    for n, item in enumerate(indexed, 1):
        topic, label = f"t{n}", repr(item["name"])
        src.line(f"{topic} = topics[{n}]")
        if item["type"] == "address":
            value = src.var()
            src.line(f"{value} = cached_topic({topic}) or checksum_topic({topic}, {label})")
        else:
            src.line(f"w{n} = fromhex({topic}[2:])")
            src.line(f"if len(w{n}) != 32 or {topic}[:2] != '0x': "
                     f"raise MalformedLog('topic for ' + {label} + ' is not 32 bytes of 0x-hex')")
            found = _static({"type": "bytes32"} if _is_reference(item) else item, f"w{n}", 0, src)
            assert found is not None  # _checked refused the rest (fixed-point: no reader)
            value = found[0]
        args.append(f"{label}: {value}")
    return args


def _data(data: Sequence[Mapping[str, Any]], src: _Source, checksum: _ChecksumCache) -> list[str]:
    """Emits the reading of the data; returns the ``'name': value`` entries of the args dict."""
    src.line("hex_data = raw['data']")
    src.line("data = fromhex(hex_data[2:])")
    src.line("if 2 * len(data) != len(hex_data) - 2 or hex_data[:2] != '0x': raise MalformedLog('data is not 0x-hex')")
    start, reads, at = len(src.lines), [], 0
    for item in data:
        found = _static(item, "data", at, src)
        if found is None:
            break
        reads.append(f"{item['name']!r}: {found[0]}")
        at += 32 * found[1]
    if len(reads) == len(data):  # all static: check the size before the first slice
        src.lines.insert(start, f"        if len(data) != {at}: raise MalformedLog(f'data is {{len(data)}} bytes, "
                                f"expected {at}')")
        return reads
    del src.lines[start:]  # anything dynamic
    slow = src.const(_SlowData(data, checksum))
    plain = _plain_dynamic(data, src)
    if plain is None:  # arrays, dynamic structs: eth_abi decodes the whole data tuple
        src.line(f"values = {slow}(data)")
    else:  # words and bytes/string tails in their canonical places; any other encoding: eth_abi judges it
        src.line("try:")
        src.lines += ["    " + line for line in plain]
        src.line("except (_Slow, _BadWord, UnicodeDecodeError):")
        src.line(f"    values = {slow}(data)")
    return [f"{item['name']!r}: values[{n}]" for n, item in enumerate(data)]


def _plain_dynamic(data: Sequence[Mapping[str, Any]], src: _Source) -> list[str] | None:
    """The lines reading data of words and ``bytes``/``string`` (PartnerRegistered's key) encoded as Solidity
    encodes them, each tail right after the last, into ``values``; raising _Slow (or _BadWord) for anything
    else. None if an item is of another type."""
    mark, at = len(src.lines), 0
    exprs: list[str] = []
    tails: list[tuple[int, int, str]] = []
    src.line("")  # the length check, once the head's size is known
    for item in data:
        if item["type"] in ("bytes", "string"):
            tails.append((len(exprs), at, item["type"]))
            exprs.append("")
            at += 32
            continue
        found = _static(item, "data", at, src)
        if found is None:
            del src.lines[mark:]
            return None
        exprs.append(found[0])
        at += 32 * found[1]
    src.lines[mark] = f"        if len(data) < {at}: raise _Slow"
    src.line(f"pos = {at}")
    for n, head, typ in tails:
        value = src.var()
        src.line(f"if from_bytes(data[{head}:{head + 32}], 'big') != pos: raise _Slow")
        src.line("size = from_bytes(data[pos:pos + 32], 'big')")
        src.line("end = pos + 32 + size")
        src.line("pad = end + (-size % 32)")
        src.line("if pad > len(data) or any(data[end:pad]): raise _Slow")
        src.line(f"{value} = data[pos + 32:end]" + (".decode('utf-8')" if typ == "string" else ""))
        src.line("pos = pad")
        exprs[n] = value
    src.line("if pos != len(data): raise _Slow")
    src.line(f"values = [{', '.join(exprs)}]")
    lines = src.lines[mark:]
    del src.lines[mark:]
    return lines


class _Slow(Exception):
    """Data the generated reads leave to eth_abi: not in the one encoding Solidity emits."""


class _SlowData:
    """eth_abi's decoding of an event's data tuple, shaped as web3 shapes it; eth_abi is imported on first use.
    Data of words, bytes, strings and arrays of words (PanelSet's members) in Solidity's own encoding is read by
    core/abi_types.decode_static first (in web3's shape: no structs among them), without eth_abi's import."""

    def __init__(self, data: Sequence[Mapping[str, Any]], checksum: _ChecksumCache) -> None:
        self._items = data
        self._checksum = checksum
        self._decode: Callable[[bytes], Any] | None = None
        self._shapers: list[Callable[[Any], Any] | None] = []
        types = tuple(canonical(item) for item in data)
        self._plain = None if any("(" in typ for typ in types) else types  # a struct is a dict in web3's shape

    def __call__(self, data: bytes) -> list[Any]:
        values = None if self._plain is None else decode_static(self._plain, data)
        if values is not None:
            return list(values)
        from eth_abi.decoding import ContextFramesBytesIO, TupleDecoder
        from eth_abi.exceptions import DecodingError

        if self._decode is None:
            from eth_abi.registry import registry

            decoder = TupleDecoder(  # type: ignore[no-untyped-call]  # eth_abi leaves it untyped
                decoders=tuple(registry.get_decoder(canonical(i)) for i in self._items))
            self._shapers = [_shaper(item, self._checksum) for item in self._items]
            self._decode = lambda raw: decoder(ContextFramesBytesIO(raw))  # type: ignore[no-untyped-call]
        try:
            values = self._decode(data)
        except DecodingError as exc:  # told as before: the error's type and eth_abi's words
            raise MalformedLog(f"{type(exc).__name__}: {exc}") from None
        return [shape(v) if shape else v for shape, v in zip(self._shapers, values)]
