"""Fast event log decoding, straight from raw ``eth_getLogs`` JSON.

Why not ``contract.events.X().process_log``: web3 re-derives the event's
types, names and normalizers on every log and formats every field of the
JSON-RPC reply into HexBytes/AttributeDicts first. A catching-up node decodes
tens of thousands of logs, so this module does that work once per
(address, topic0): it generates one straight-line decode function per event
from the ABI, which knows which topics hold which indexed argument and how to
read the data words. Static data (every word-sized type and static structs of
them, i.e. all of the OrderBook's events) is sliced straight from the data
bytes with the same strictness as eth_abi (padding must be zero or the right
sign extension, bools 0/1); anything dynamic goes through one precomputed
eth_abi tuple decoder built from eth_abi's public type registry (eth_abi, with
eth_utils and pydantic behind it, is imported only then: a read command's
start-up goes without it). Each function is compiled on its event's first log.

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

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from pynode.chain.events.emit import (
    _BOOLS,
    _ERRORS,
    _ZERO12,
    MalformedLog,
    _BadWord,
    _ChecksumCache,
    _data,
    _is_reference,
    _Slow,
    _Source,
    _topics,
)
from pynode.core.abi_types import canonical, word
from pynode.core.address import keccak_text, to_checksum_address
from pynode.core.errors import FatalError, InputError

__all__ = ["DecodedLog", "EventDecoder", "MalformedLog", "UnknownEvent", "event_signature", "event_topic"]


class UnknownEvent(InputError):
    """The log's (address, topic0) is not an event of any ABI the decoder was given."""


class DecodedLog(NamedTuple):
    """One decoded event. A NamedTuple: cheap to build, immutable, unpacks like a tuple."""

    event: str
    address: str  # checksummed
    block_number: int
    block_hash: str  # 0x-hex as the node sent it
    tx_hash: str
    log_index: int
    args: dict[str, Any]
    #: the block's timestamp when the node sends it with the log (``blockTimestamp``: geth 1.16+, anvil, reth;
    #: execution-apis#639), else None: a fold that needs it then reads the block
    block_time: int | None = None


def event_signature(event_abi: Mapping[str, Any]) -> str:
    return f"{event_abi['name']}({','.join(canonical(i) for i in event_abi.get('inputs', ()))})"


def event_topic(event_abi: Mapping[str, Any]) -> str:
    """topic0 of a non-anonymous event: 0x + keccak of its canonical signature."""
    return "0x" + keccak_text(event_signature(event_abi)).hex()


# One event's decoder: a raw eth_getLogs dict in, a DecodedLog out (or MalformedLog).
_Decode = Callable[[Mapping[str, Any]], DecodedLog]


def _stamp(raw: Mapping[str, Any]) -> int | None:
    stamp = raw.get("blockTimestamp")
    return int(stamp, 16) if isinstance(stamp, str) else None


def _checked(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event, if a decode function can be generated for it (else FatalError, at once, not at its first log)."""
    name, inputs = event["name"], event.get("inputs", ())
    names = [i["name"] for i in inputs]
    if len(set(names)) != len(names):
        raise FatalError(f"event {name} has duplicate argument names: {names}")
    for item in inputs:
        if item.get("indexed") and not _is_reference(item) and word(item["type"]) is None:
            raise FatalError(f"event {name}: indexed type {item['type']} is not supported")
    return event


def _on_first_log(by_topic: dict[str, _Decode], topic: str, address: str, event: Mapping[str, Any],
                  checksum: _ChecksumCache) -> _Decode:
    """Compiles the event's decode function when its first log comes, in its place in ``by_topic``: a command
    reading a few events compiles those alone."""
    def first(raw: Mapping[str, Any]) -> DecodedLog:
        decode = by_topic[topic] = _compile(address, event, checksum)
        return decode(raw)

    return first


def _compile(address: str, event: Mapping[str, Any], checksum: _ChecksumCache) -> _Decode:
    """The decode function of one (checked) event of the contract at ``address``."""
    name = event["name"]
    inputs = event.get("inputs", ())
    src = _Source()
    args = _topics(name, [i for i in inputs if i.get("indexed")], src)
    args += _data([i for i in inputs if not i.get("indexed")], src, checksum)
    # tuple.__new__ is DecodedLog(...) without the Python-level __new__ NamedTuple adds
    src.line(f"return new(DecodedLog, ({name!r}, {address!r}, int(raw['blockNumber'], 16), raw['blockHash'], "
             f"raw['transactionHash'], int(raw['logIndex'], 16), {{{', '.join(args)}}}, stamp(raw)))")
    source = "\n".join([
        "def decode(raw):",
        "    try:",
        *src.lines,
        "    except (MalformedLog, _BadWord) as exc:",
        f"        raise MalformedLog({name!r} + ': ' + str(exc)) from None",
        "    except _ERRORS as exc:",
        f"        raise MalformedLog({name!r} + ': ' + type(exc).__name__ + ': ' + str(exc)) from None",
    ])
    namespace: dict[str, Any] = {
        **src.consts, "DecodedLog": DecodedLog, "new": tuple.__new__, "MalformedLog": MalformedLog,
        "_BadWord": _BadWord, "_Slow": _Slow, "_ERRORS": _ERRORS, "_ZERO12": _ZERO12, "_BOOLS": _BOOLS,
        "stamp": _stamp, "fromhex": bytes.fromhex, "from_bytes": int.from_bytes, "cached": checksum.lookup,
        "checksum": checksum.of,
        "cached_topic": checksum.lookup_topic, "checksum_topic": checksum.of_topic,
    }
    exec(compile(source, f"<decoder of {name}>", "exec"), namespace)
    decode: _Decode = namespace["decode"]
    return decode


class EventDecoder:
    """Decodes raw ``eth_getLogs`` dicts of the given contracts' events.

    ``abis_by_address`` maps a contract address to its ABI (a list of entries;
    only non-anonymous events are used: anonymous ones have no topic0 to route by).
    """

    def __init__(self, abis_by_address: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        checksum = _ChecksumCache()
        # lowercase address -> lowercase topic0 -> decoder: what nodes send, so the hot path needs no
        # .lower(), and two lookups allocate no key tuple
        self._decoders: dict[str, dict[str, _Decode]] = {}
        self.skipped = 0
        for address, abi in abis_by_address.items():
            checksummed = to_checksum_address(address)
            by_topic = self._decoders.setdefault(checksummed.lower(), {})
            for entry in abi:
                if entry.get("type") != "event" or entry.get("anonymous"):
                    continue
                topic = event_topic(entry)
                by_topic[topic] = _on_first_log(by_topic, topic, checksummed, _checked(entry), checksum)

    @property
    def topics(self) -> list[str]:
        """Every known topic0, e.g. to filter ``eth_getLogs`` by topic."""
        return sorted({topic for by_topic in self._decoders.values() for topic in by_topic})

    def _decoder_for(self, raw_log: Mapping[str, Any]) -> _Decode | None:
        """The decode function for this log's (address, topic0), or None if it is not a known event."""
        topics, address = raw_log.get("topics"), raw_log.get("address")
        if not topics or not isinstance(address, str) or not isinstance(topics[0], str):
            return None
        return self._decoders.get(address.lower(), {}).get(topics[0].lower())

    def decode(self, raw_log: Mapping[str, Any]) -> DecodedLog:
        """Decodes one raw log; raises UnknownEvent or MalformedLog."""
        decode = self._decoder_for(raw_log)
        if decode is None:
            topics = raw_log.get("topics") or ["(no topics)"]
            raise UnknownEvent(f"log of {raw_log.get('address')} with topic0 {topics[0]} is not a known event")
        return decode(raw_log)

    def decode_all(self, raw_logs: Iterable[Mapping[str, Any]]) -> list[DecodedLog]:
        """Decodes many logs in order; unknown events are skipped and counted in ``skipped``.

        The cyclic garbage collector is paused meanwhile: decoded logs hold no cycles, and
        its passes over each batch's tens of thousands of new objects took a fifth of the time.
        """
        out: list[DecodedLog] = []
        append, by_address = out.append, self._decoders
        collecting = gc.isenabled()
        gc.disable()
        try:
            for raw in raw_logs:
                try:
                    decode = by_address[raw["address"]][raw["topics"][0]]
                except (KeyError, IndexError, TypeError):
                    found = self._decoder_for(raw)  # mixed case, an unknown event or an odd log: the careful way
                    if found is None:
                        self.skipped += 1
                        continue
                    decode = found
                append(decode(raw))
        finally:
            if collecting:
                gc.enable()
        return out
