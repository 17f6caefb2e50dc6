"""Fast event log decoding, straight from raw ``eth_getLogs`` JSON.

Why not ``contract.events.X().process_log``: web3 re-derives the event's
types, names and normalizers on every log and formats every field of the
JSON-RPC reply into HexBytes/AttributeDicts first. A catching-up node decodes
tens of thousands of logs, so this module does that work once per
(address, topic0): a *plan* that knows which topics hold which indexed
argument, and how to read the data words. Static data (every word-sized type
and static structs of them, i.e. all of the OrderBook's events) is read word by
word with the same strictness as eth_abi (padding must be zero or the right
sign extension, bools 0/1); anything dynamic goes through one precomputed
eth_abi tuple decoder built from eth_abi's public type registry.

The values match web3's own decoding: checksummed addresses, ``bytes`` for
``bytesN``/``bytes``, ``str`` for ``string``, structs as dicts keyed by
component name, arrays as lists. Indexed reference types (``string``,
``bytes``, arrays, structs) are keccak hashes in their topic and come back as
32 ``bytes``, as Solidity defines them.

Unknown events: :meth:`EventDecoder.decode` raises :class:`UnknownEvent` (an
``InputError``); :meth:`EventDecoder.decode_all` skips them and counts them in
``skipped``, so a contract that gains an event does not stop the daemon. A log
whose topic0 is known but whose shape is wrong (topic count, data length,
padding) raises :class:`MalformedLog`: that means our ABI is wrong, which
retrying cannot fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from eth_abi.decoding import ContextFramesBytesIO, TupleDecoder
from eth_abi.exceptions import DecodingError
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_abi.registry import registry
from eth_utils import collapse_if_tuple, keccak, to_checksum_address

from pynode.core.errors import FatalError, InputError

__all__ = ["DecodedLog", "EventDecoder", "MalformedLog", "UnknownEvent", "event_signature", "event_topic"]


class UnknownEvent(InputError):
    """The log's (address, topic0) is not an event of any ABI the decoder was given."""


class MalformedLog(InputError):
    """The log claims to be a known event but its topics or data do not fit the ABI."""


class DecodedLog(NamedTuple):
    """One decoded event. A NamedTuple: cheap to build, immutable, unpacks like a tuple."""

    event: str
    address: str  # checksummed
    block_number: int
    block_hash: str  # 0x-hex as the node sent it
    tx_hash: str
    log_index: int
    args: dict[str, Any]


def event_signature(event_abi: Mapping[str, Any]) -> str:
    return f"{event_abi['name']}({','.join(collapse_if_tuple(i) for i in event_abi.get('inputs', ()))})"


def event_topic(event_abi: Mapping[str, Any]) -> str:
    """topic0 of a non-anonymous event: 0x + keccak of its canonical signature."""
    return "0x" + keccak(text=event_signature(event_abi)).hex()


class _ChecksumCache:
    """Checksumming costs a keccak; the same few addresses recur in every log.

    Bounded: cleared when full, which costs a few recomputations and no memory growth.
    """

    __slots__ = ("_by_bytes", "_limit", "lookup")

    def __init__(self, limit: int = 100_000) -> None:
        self._by_bytes: dict[bytes, str] = {}
        self._limit = limit
        self.lookup = self._by_bytes.get  # bound once: the hot path skips a method call

    def of(self, raw20: bytes) -> str:
        found = self._by_bytes.get(raw20)
        if found is None:
            if len(self._by_bytes) >= self._limit:
                self._by_bytes.clear()
            found = self._by_bytes[raw20] = to_checksum_address(raw20)
        return found


# A word reader takes (data, byte offset) and returns the value; it raises
# _BadWord with a reason when the padding is not what eth_abi accepts.
_WordReader = Callable[[bytes, int], Any]


class _BadWord(Exception):
    pass


def _word_reader(item: Mapping[str, Any], checksum: _ChecksumCache) -> tuple[_WordReader, int] | None:
    """A reader and its size in words for a static ABI item, or None if it needs eth_abi.

    Structs of static members are read straight into dicts keyed by component name.
    """
    typ = parse(collapse_if_tuple(dict(item)))
    if isinstance(typ, TupleType):
        if typ.arrlist:
            return None
        parts = []
        for component in item["components"]:
            reader = _word_reader(component, checksum)
            if reader is None:
                return None
            parts.append((component["name"], *reader))
        return _struct_reader(parts), sum(words for _, _, words in parts)
    if not isinstance(typ, BasicType) or typ.arrlist:
        return None
    base, sub = typ.base, typ.sub
    from_bytes = int.from_bytes
    if base == "uint":
        limit = 1 << sub

        def read_uint(data: bytes, at: int) -> int:
            value = from_bytes(data[at:at + 32], "big")
            if value >= limit:
                raise _BadWord(f"uint{sub} has non-zero padding")
            return value

        return read_uint, 1
    if base == "int":
        low, high = -(1 << (sub - 1)), 1 << (sub - 1)

        def read_int(data: bytes, at: int) -> int:
            value = from_bytes(data[at:at + 32], "big", signed=True)
            if not low <= value < high:
                raise _BadWord(f"int{sub} has a wrong sign extension")
            return value

        return read_int, 1
    if base == "address":
        cached = checksum.lookup

        def read_address(data: bytes, at: int) -> str:
            if data[at:at + 12] != _ZERO12:
                raise _BadWord("address has non-zero padding")
            raw = data[at + 12:at + 32]
            return cached(raw) or checksum.of(raw)

        return read_address, 1
    if base == "bool":
        def read_bool(data: bytes, at: int) -> bool:
            word = data[at:at + 32]
            if word == _FALSE:
                return False
            if word == _TRUE:
                return True
            raise _BadWord("bool is neither 0 nor 1")

        return read_bool, 1
    if base == "bytes" and sub:
        size, pad = sub, b"\0" * (32 - sub)

        def read_fixed_bytes(data: bytes, at: int) -> bytes:
            if data[at + size:at + 32] != pad:
                raise _BadWord(f"bytes{size} has non-zero padding")
            return data[at:at + size]

        return read_fixed_bytes, 1
    return None  # string, bytes, fixed/ufixed, function: eth_abi's business


_ZERO12 = b"\0" * 12
_FALSE = b"\0" * 32
_TRUE = b"\0" * 31 + b"\1"


def _struct_reader(parts: list[tuple[str, _WordReader, int]]) -> _WordReader:
    fields = []
    at = 0
    for name, reader, words in parts:
        fields.append((name, reader, at))
        at += 32 * words
    fields_t = tuple(fields)

    def read_struct(data: bytes, base: int) -> dict[str, Any]:
        return {name: reader(data, base + off) for name, reader, off in fields_t}

    return read_struct


def _shaper(item: Mapping[str, Any], checksum: _ChecksumCache) -> Callable[[Any], Any] | None:
    """Turns eth_abi's value for an ABI item into web3's shape, or None if it already has it.

    web3 shapes: structs are dicts by component name, arrays lists, addresses checksummed.
    """
    return _shaper_for(parse(collapse_if_tuple(dict(item))), item.get("components", ()), checksum)


def _shaper_for(typ: ABIType, components: Sequence[Mapping[str, Any]],
                checksum: _ChecksumCache) -> Callable[[Any], Any] | None:
    if typ.arrlist:
        inner = _shaper_for(typ.item_type, components, checksum)
        if inner is None:
            return list
        return lambda values: [inner(v) for v in values]
    if isinstance(typ, TupleType):
        names = [c["name"] for c in components]
        shapers = [_shaper_for(parse(collapse_if_tuple(dict(c))), c.get("components", ()), checksum)
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


@dataclass(frozen=True, slots=True)
class _Plan:
    name: str
    address: str
    n_topics: int
    topics: tuple[tuple[str, _WordReader], ...]  # (arg name, reader) for topics[1:]
    words: int | None  # data size in words on the fast path; None = eth_abi
    fast: tuple[tuple[str, _WordReader, int], ...]
    slow: TupleDecoder | None
    slow_names: tuple[str, ...]
    slow_shapers: tuple[Callable[[Any], Any] | None, ...]


class EventDecoder:
    """Decodes raw ``eth_getLogs`` dicts of the given contracts' events.

    ``abis_by_address`` maps a contract address to its ABI (a list of entries;
    only non-anonymous events are used: anonymous ones have no topic0 to route by).
    """

    def __init__(self, abis_by_address: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self._checksum = _ChecksumCache()
        self._plans: dict[tuple[str, str], _Plan] = {}
        self.skipped = 0
        for address, abi in abis_by_address.items():
            checksummed = to_checksum_address(address)
            for entry in abi:
                if entry.get("type") != "event" or entry.get("anonymous"):
                    continue
                self._plans[(checksummed.lower(), event_topic(entry))] = self._plan(checksummed, entry)

    @property
    def topics(self) -> list[str]:
        """Every known topic0, e.g. to filter ``eth_getLogs`` by topic."""
        return sorted({topic for _, topic in self._plans})

    def _plan(self, address: str, event: Mapping[str, Any]) -> _Plan:
        inputs = event.get("inputs", ())
        names = [i["name"] for i in inputs]
        if len(set(names)) != len(names):
            raise FatalError(f"event {event['name']} has duplicate argument names: {names}")
        indexed = [i for i in inputs if i.get("indexed")]
        data = [i for i in inputs if not i.get("indexed")]
        topics = []
        for item in indexed:
            if _is_reference(item):
                reader, _ = _word_reader({"type": "bytes32"}, self._checksum)  # type: ignore[misc]  # bytes32 has a reader
            else:
                found = _word_reader(item, self._checksum)
                if found is None:  # e.g. fixed-point: no reader; never emitted by our contracts
                    raise FatalError(f"event {event['name']}: indexed type {item['type']} is not supported")
                reader = found[0]
            topics.append((item["name"], reader))
        fast: list[tuple[str, _WordReader, int]] = []
        all_static = True
        at = 0
        for item in data:
            found = _word_reader(item, self._checksum)
            if found is None:
                all_static = False
                break
            reader, words = found
            fast.append((item["name"], reader, at))
            at += 32 * words
        if all_static:
            return _Plan(event["name"], address, 1 + len(indexed), tuple(topics), at // 32, tuple(fast),
                         None, (), ())
        decoder = TupleDecoder(  # type: ignore[no-untyped-call]  # eth_abi leaves it untyped
            decoders=tuple(registry.get_decoder(collapse_if_tuple(i)) for i in data))
        return _Plan(event["name"], address, 1 + len(indexed), tuple(topics), None, (), decoder,
                     tuple(i["name"] for i in data), tuple(_shaper(i, self._checksum) for i in data))

    def plan_for(self, raw_log: Mapping[str, Any]) -> _Plan | None:
        """The decode plan for this log's (address, topic0), or None if it is not a known event."""
        topics, address = raw_log.get("topics"), raw_log.get("address")
        if not topics or not isinstance(address, str) or not isinstance(topics[0], str):
            return None
        return self._plans.get((address.lower(), topics[0].lower()))

    def decode(self, raw_log: Mapping[str, Any]) -> DecodedLog:
        """Decodes one raw log; raises UnknownEvent or MalformedLog."""
        plan = self.plan_for(raw_log)
        if plan is None:
            topics = raw_log.get("topics") or ["(no topics)"]
            raise UnknownEvent(f"log of {raw_log.get('address')} with topic0 {topics[0]} is not a known event")
        return self._decode(plan, raw_log)

    def decode_all(self, raw_logs: Iterable[Mapping[str, Any]]) -> list[DecodedLog]:
        """Decodes many logs in order; unknown events are skipped and counted in ``skipped``."""
        out = []
        plans = self._plans
        for raw in raw_logs:
            try:
                plan = plans.get((raw["address"].lower(), raw["topics"][0].lower()))
            except (KeyError, IndexError, AttributeError, TypeError):
                plan = self.plan_for(raw)  # the slow, careful way for odd logs
            if plan is None:
                self.skipped += 1
                continue
            out.append(self._decode(plan, raw))
        return out

    def _decode(self, plan: _Plan, raw: Mapping[str, Any]) -> DecodedLog:
        try:
            topics = raw["topics"]
            if len(topics) != plan.n_topics:
                raise MalformedLog(f"{plan.name}: expected {plan.n_topics} topics, got {len(topics)}")
            args: dict[str, Any] = {}
            for (name, reader), topic in zip(plan.topics, topics[1:]):
                word = bytes.fromhex(topic[2:])
                if len(word) != 32 or topic[:2] != "0x":
                    raise MalformedLog(f"{plan.name}: topic for {name} is not 32 bytes of 0x-hex")
                args[name] = reader(word, 0)
            hex_data = raw["data"]
            data = bytes.fromhex(hex_data[2:])
            if 2 * len(data) != len(hex_data) - 2 or hex_data[:2] != "0x":
                raise MalformedLog(f"{plan.name}: data is not 0x-hex")
            if plan.words is not None:
                if len(data) != 32 * plan.words:
                    raise MalformedLog(f"{plan.name}: data is {len(data)} bytes, expected {32 * plan.words}")
                for name, reader, at in plan.fast:
                    args[name] = reader(data, at)
            else:
                values = plan.slow(ContextFramesBytesIO(data))  # type: ignore[misc, no-untyped-call]  # set when not all static; eth_abi untyped
                for name, shape, value in zip(plan.slow_names, plan.slow_shapers, values):
                    args[name] = shape(value) if shape else value
            return DecodedLog(plan.name, plan.address, int(raw["blockNumber"], 16), raw["blockHash"],
                              raw["transactionHash"], int(raw["logIndex"], 16), args)
        except MalformedLog:
            raise
        except _BadWord as exc:
            raise MalformedLog(f"{plan.name}: {exc}") from None
        except (DecodingError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise MalformedLog(f"{plan.name}: {type(exc).__name__}: {exc}") from None
