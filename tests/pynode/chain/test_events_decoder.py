"""EventDecoder against web3's own event decoding, plus malformed logs."""

from __future__ import annotations

import copy

import pytest
from eth_abi import encode
from eth_utils import collapse_if_tuple, keccak, to_checksum_address
from hexbytes import HexBytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3._utils.events import get_event_data

from pynode.chain.events.decoder import DecodedLog, EventDecoder, MalformedLog, UnknownEvent, event_topic
from pynode.core.errors import InputError

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def ev(name: str, *inputs: dict) -> dict:
    return {"type": "event", "name": name, "anonymous": False, "inputs": list(inputs)}


def arg(name: str, typ: str, indexed: bool = False, components: list | None = None) -> dict:
    item = {"name": name, "type": typ, "indexed": indexed}
    if components is not None:
        item["components"] = components
    return item


TERMS = [arg("buyer", "address"), arg("price", "uint96"), arg("region", "bytes8"), arg("ok", "bool")]
INNER = [arg("flag", "bool"), arg("who", "address")]
NESTED = [arg("count", "uint32"), arg("inner", "tuple", components=INNER)]
ITEM = [arg("who", "address"), arg("tag", "bytes32"), arg("note", "string")]

ABI = [
    ev("Simple", arg("id", "uint256", True), arg("who", "address", True), arg("head", "bytes32"),
       arg("time", "uint40"), arg("ok", "bool")),
    ev("Signed", arg("x", "int8", True), arg("y", "int256"), arg("z", "int40")),
    ev("Struct", arg("id", "uint256", True), arg("terms", "tuple", components=TERMS),
       arg("nested", "tuple", components=NESTED), arg("time", "uint40")),
    ev("Dynamic", arg("who", "address", True), arg("blob", "bytes"), arg("text", "string"),
       arg("nums", "uint256[]"), arg("items", "tuple[]", components=ITEM), arg("fixed", "uint16[3]"),
       arg("pair", "address[2]")),
    ev("NoArgs"),
    ev("AllIndexed", arg("a", "bool", True), arg("b", "bytes4", True), arg("c", "int16", True)),
    {"type": "function", "name": "ignored", "inputs": [], "outputs": [], "stateMutability": "view"},
]

EVENTS = {e["name"]: e for e in ABI if e["type"] == "event"}
W3 = Web3()


def types_of(items: list[dict]) -> list[str]:
    return [collapse_if_tuple(i) for i in items]


def to_abi_value(item: dict, value):
    """Dict-shaped struct values (as the decoder returns them) back to tuples for eth_abi.encode."""
    typ = item["type"]
    if typ.endswith("]"):
        inner = {**item, "type": typ[:typ.rindex("[")]}
        return [to_abi_value(inner, v) for v in value]
    if typ == "tuple":
        return tuple(to_abi_value(c, value[c["name"]]) for c in item["components"])
    return value


def make_log(event: dict, values: dict, *, address: str = ADDRESS, block: int = 7, index: int = 3) -> dict:
    """A raw eth_getLogs dict (hex strings, lowercase address) as a node sends it."""
    topics = [event_topic(event)]
    data_items, data_values = [], []
    for item in event["inputs"]:
        value = to_abi_value(item, values[item["name"]])
        if item["indexed"]:
            topics.append("0x" + encode(types_of([item]), [value]).hex())
        else:
            data_items.append(item)
            data_values.append(value)
    return {
        "address": address.lower(), "topics": topics, "data": "0x" + encode(types_of(data_items), data_values).hex(),
        "blockNumber": hex(block), "blockHash": "0x" + "ab" * 32, "transactionHash": "0x" + "cd" * 32,
        "transactionIndex": "0x0", "logIndex": hex(index), "removed": False,
    }


def web3_decode(event: dict, raw: dict) -> dict:
    formatted = {
        "topics": [HexBytes(t) for t in raw["topics"]], "data": HexBytes(raw["data"]),
        "address": to_checksum_address(raw["address"]), "blockNumber": int(raw["blockNumber"], 16),
        "blockHash": HexBytes(raw["blockHash"]), "transactionHash": HexBytes(raw["transactionHash"]),
        "transactionIndex": 0, "logIndex": int(raw["logIndex"], 16),
    }
    return dict(get_event_data(W3.codec, event, formatted)["args"])


addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
b32 = st.binary(min_size=32, max_size=32)


def uint(bits: int):
    return st.integers(min_value=0, max_value=(1 << bits) - 1)


def sint(bits: int):
    return st.integers(min_value=-(1 << (bits - 1)), max_value=(1 << (bits - 1)) - 1)


STRATEGIES = {
    "Simple": st.fixed_dictionaries({"id": uint(256), "who": addresses, "head": b32, "time": uint(40),
                                     "ok": st.booleans()}),
    "Signed": st.fixed_dictionaries({"x": sint(8), "y": sint(256), "z": sint(40)}),
    "Struct": st.fixed_dictionaries({
        "id": uint(256),
        "terms": st.fixed_dictionaries({"buyer": addresses, "price": uint(96),
                                        "region": st.binary(min_size=8, max_size=8), "ok": st.booleans()}),
        "nested": st.fixed_dictionaries({"count": uint(32), "inner": st.fixed_dictionaries(
            {"flag": st.booleans(), "who": addresses})}),
        "time": uint(40)}),
    "Dynamic": st.fixed_dictionaries({
        "who": addresses, "blob": st.binary(max_size=100), "text": st.text(max_size=40),
        "nums": st.lists(uint(256), max_size=5),
        "items": st.lists(st.fixed_dictionaries({"who": addresses, "tag": b32, "note": st.text(max_size=10)}),
                          max_size=3),
        "fixed": st.lists(uint(16), min_size=3, max_size=3), "pair": st.lists(addresses, min_size=2, max_size=2)}),
    "NoArgs": st.just({}),
    "AllIndexed": st.fixed_dictionaries({"a": st.booleans(), "b": st.binary(min_size=4, max_size=4),
                                         "c": sint(16)}),
}


@pytest.fixture(scope="module")
def decoder() -> EventDecoder:
    return EventDecoder({ADDRESS: ABI})


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_matches_web3_for_every_event(decoder: EventDecoder, name: str) -> None:
    event = EVENTS[name]

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values=STRATEGIES[name], block=st.integers(0, 10**9), index=st.integers(0, 10**4))
    def check(values: dict, block: int, index: int) -> None:
        raw = make_log(event, values, block=block, index=index)
        decoded = decoder.decode(raw)
        assert decoded.args == web3_decode(event, raw)
        assert decoded.args == values  # and both are what went in
        assert (decoded.event, decoded.address, decoded.block_number, decoded.log_index) == \
            (name, ADDRESS, block, index)
        assert decoded.block_hash == raw["blockHash"] and decoded.tx_hash == raw["transactionHash"]

    check()


def test_decoded_log_shape(decoder: EventDecoder) -> None:
    raw = make_log(EVENTS["Struct"], {"id": 5, "terms": {"buyer": OTHER, "price": 10, "region": b"EU-DE\0\0\0",
                                                         "ok": True},
                                      "nested": {"count": 1, "inner": {"flag": False, "who": OTHER}}, "time": 9})
    decoded = decoder.decode(raw)
    assert isinstance(decoded, DecodedLog)
    assert not hasattr(decoded, "__dict__")  # slotted: cheap per log
    assert decoded.args["terms"] == {"buyer": OTHER, "price": 10, "region": b"EU-DE\0\0\0", "ok": True}
    assert decoded.args["nested"]["inner"]["who"] == OTHER


def test_indexed_reference_types_are_topic_hashes() -> None:
    event = ev("Ref", arg("s", "string", True), arg("t", "tuple", True, [arg("a", "uint256"), arg("b", "address")]),
               arg("arr", "uint256[2]", True), arg("v", "uint8"))
    decoder = EventDecoder({ADDRESS: [event]})
    assert event_topic(event) == "0x" + keccak(text="Ref(string,(uint256,address),uint256[2],uint8)").hex()
    hashes = [keccak(text="hello"), keccak(encode(["uint256", "address"], [1, OTHER])), keccak(b"\1" * 64)]
    raw = {"address": ADDRESS, "topics": [event_topic(event)] + ["0x" + h.hex() for h in hashes],
           "data": "0x" + encode(["uint8"], [7]).hex(), "blockNumber": "0x1", "blockHash": "0x" + "00" * 32,
           "transactionHash": "0x" + "11" * 32, "logIndex": "0x0"}
    assert decoder.decode(raw).args == {"s": hashes[0], "t": hashes[1], "arr": hashes[2], "v": 7}


def test_unknown_events_raise_in_decode_and_are_skipped_in_decode_all(decoder: EventDecoder) -> None:
    simple = make_log(EVENTS["Simple"], {"id": 1, "who": OTHER, "head": b"\0" * 32, "time": 1, "ok": True})
    other_contract = {**simple, "address": OTHER.lower()}
    unknown_topic = {**simple, "topics": ["0x" + "ee" * 32, *simple["topics"][1:]]}
    no_topics = {**simple, "topics": []}
    no_address = {k: v for k, v in simple.items() if k != "address"}
    for raw in (other_contract, unknown_topic, no_topics, no_address):
        with pytest.raises(UnknownEvent):
            decoder.decode(raw)
    fresh = EventDecoder({ADDRESS: ABI})
    decoded = fresh.decode_all([simple, other_contract, unknown_topic, no_topics, no_address, simple])
    assert [d.event for d in decoded] == ["Simple", "Simple"] and fresh.skipped == 4
    assert issubclass(UnknownEvent, InputError) and issubclass(MalformedLog, InputError)


def test_topic0_and_address_are_matched_case_insensitively(decoder: EventDecoder) -> None:
    raw = make_log(EVENTS["NoArgs"], {})
    raw = {**raw, "address": ADDRESS.upper().replace("0X", "0x"), "topics": [raw["topics"][0].upper()[:2].lower()
                                                                              + raw["topics"][0][2:].upper()]}
    assert decoder.decode(raw).event == "NoArgs"


SIMPLE_VALUES = {"id": 1, "who": OTHER, "head": b"\1" * 32, "time": 2, "ok": True}
DYNAMIC_VALUES = {"who": OTHER, "blob": b"xy", "text": "hi", "nums": [1], "items": [], "fixed": [1, 2, 3],
                  "pair": [OTHER, OTHER]}


def mutate(name: str, change) -> dict:
    values = SIMPLE_VALUES if name == "Simple" else DYNAMIC_VALUES
    raw = copy.deepcopy(make_log(EVENTS[name], values))
    change(raw)
    return raw


def set_word(raw: dict, word: int, hex64: str) -> None:
    data = raw["data"][2:]
    raw["data"] = "0x" + data[:64 * word] + hex64 + data[64 * (word + 1):]


MALFORMED = {
    "missing topic": ("Simple", lambda r: r["topics"].pop()),
    "extra topic": ("Simple", lambda r: r["topics"].append("0x" + "00" * 32)),
    "short data": ("Simple", lambda r: r.__setitem__("data", r["data"][:-64])),
    "long data": ("Simple", lambda r: r.__setitem__("data", r["data"] + "00" * 32)),
    "odd hex": ("Simple", lambda r: r.__setitem__("data", r["data"] + "0")),
    "non-hex data": ("Simple", lambda r: r.__setitem__("data", r["data"][:-2] + "zz")),
    "data without 0x": ("Simple", lambda r: r.__setitem__("data", "00" + r["data"][2:])),
    "spaces in data": ("Simple", lambda r: r.__setitem__("data", r["data"][:4] + " " + r["data"][4:-2])),
    "uint40 padding": ("Simple", lambda r: set_word(r, 1, "01" + "00" * 26 + "0000000002")),
    "bool is 2": ("Simple", lambda r: set_word(r, 2, "00" * 31 + "02")),
    "address topic padding": ("Simple", lambda r: r["topics"].__setitem__(2, "0x" + "ff" * 12 + "11" * 20)),
    "short topic": ("Simple", lambda r: r["topics"].__setitem__(1, "0x1234")),
    "missing data": ("Simple", lambda r: r.pop("data")),
    "missing blockNumber": ("Simple", lambda r: r.pop("blockNumber")),
    "dynamic short data": ("Dynamic", lambda r: r.__setitem__("data", r["data"][:130])),
    "dynamic offset out of range": ("Dynamic", lambda r: set_word(r, 0, "ff" * 32)),
    "dynamic wrong topic count": ("Dynamic", lambda r: r["topics"].pop()),
    "bad utf-8 string": ("Dynamic", lambda r: r.__setitem__("data", r["data"].replace(b"hi".hex(), "fffe"))),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_logs_raise_a_typed_error(decoder: EventDecoder, case: str) -> None:
    name, change = MALFORMED[case]
    raw = mutate(name, change)
    with pytest.raises(MalformedLog) as info:
        decoder.decode(raw)
    assert name in str(info.value)


def test_signed_padding_must_be_the_sign_extension(decoder: EventDecoder) -> None:
    raw = make_log(EVENTS["Signed"], {"x": -1, "y": -5, "z": -3})
    assert decoder.decode(raw).args == {"x": -1, "y": -5, "z": -3}
    bad = copy.deepcopy(raw)
    set_word(bad, 1, "00" * 27 + "fffffffffd")  # -3 as int40 without the sign extension
    with pytest.raises(MalformedLog):
        decoder.decode(bad)


def test_duplicate_argument_names_are_rejected() -> None:
    from pynode.core.errors import FatalError

    with pytest.raises(FatalError):
        EventDecoder({ADDRESS: [ev("Dup", arg("a", "uint8", True), arg("a", "uint8"))]})


def test_order_book_abi() -> None:
    """Every event of the real OrderBook/PartnerRegistry ABIs gets a plan (no unsupported types).

    `make test` compiles first; run `make compile` before running this file alone."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "build" / "contracts"
    found = [root / "OrderBook.json", root / "PartnerRegistry.json"]
    assert all(p.exists() for p in found), "contracts not compiled: run `make compile`"
    abis = {f"0x{i + 1:040x}": json.loads(p.read_text())["abi"] for i, p in enumerate(found)}
    decoder = EventDecoder(abis)
    assert len(decoder.topics) >= 10


def packaged_events() -> list[tuple[str, dict]]:
    """Every event of the v1 ABIs the runtime decodes with (pynode/chain/abi), as (contract, event)."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "pynode" / "chain" / "abi"
    return [(path.stem, entry) for path in sorted(root.glob("*.json"))
            for entry in json.loads(path.read_text()) if entry["type"] == "event"]


PACKAGED = packaged_events()


def value_strategy(item: dict):
    """Any value of an ABI item, shaped as the decoder returns it (structs as dicts, arrays as lists)."""
    typ = item["type"]
    if typ.endswith("]"):
        inner, size = {**item, "type": typ[:typ.rindex("[")]}, typ[typ.rindex("[") + 1:-1]
        return st.lists(value_strategy(inner), min_size=int(size or 0), max_size=int(size or 3))
    if typ == "tuple":
        return st.fixed_dictionaries({c["name"]: value_strategy(c) for c in item["components"]})
    if typ == "address":
        return addresses
    if typ == "bool":
        return st.booleans()
    if typ == "string":
        return st.text(max_size=30)
    if typ == "bytes":
        return st.binary(max_size=80)
    if typ.startswith("bytes"):
        return st.binary(min_size=int(typ[5:]), max_size=int(typ[5:]))
    if typ.startswith("uint"):
        return uint(int(typ[4:] or 256))
    if typ.startswith("int"):
        return sint(int(typ[3:] or 256))
    raise AssertionError(f"no strategy for {typ}")


def test_every_v1_event_has_a_corpus_strategy() -> None:
    names = {(contract, event["name"]) for contract, event in PACKAGED}
    assert ("OrderBook", "OrderPosted") in names and ("PartnerRegistry", "PartnerRegistered") in names
    assert len(names) >= 30  # both contracts' events, none silently dropped


@pytest.mark.parametrize(("contract", "event"), PACKAGED, ids=[f"{c}.{e['name']}" for c, e in PACKAGED])
def test_every_v1_event_decodes_as_web3_does(contract: str, event: dict) -> None:
    """Logs of every event of the packaged ABIs, decoded and compared with web3's own decoding.

    Indexed reference types (PartnerRegistry has none today) would be hashes: left to
    test_indexed_reference_types_are_topic_hashes."""
    decoder = EventDecoder({ADDRESS: [e for c, e in PACKAGED if c == contract]})
    values = st.fixed_dictionaries({i["name"]: value_strategy(i) for i in event["inputs"]})

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(values=values, block=st.integers(0, 10**9), index=st.integers(0, 10**4))
    def check(values: dict, block: int, index: int) -> None:
        raw = make_log(event, values, block=block, index=index)
        decoded = decoder.decode(raw)
        assert decoded == decoder.decode_all([raw])[0]
        assert decoded.args == web3_decode(event, raw) == values
        assert list(decoded.args) == [i["name"] for i in event["inputs"] if i["indexed"]] + \
            [i["name"] for i in event["inputs"] if not i["indexed"]]  # indexed first, as before
        assert (decoded.event, decoded.address, decoded.block_number, decoded.log_index, decoded.block_hash,
                decoded.tx_hash) == (event["name"], ADDRESS, block, index, raw["blockHash"], raw["transactionHash"])

    check()


def test_decode_all_restores_the_garbage_collector(decoder: EventDecoder) -> None:
    """decode_all pauses the cyclic collector for the batch; it comes back as it was, on errors too."""
    import gc

    good = make_log(EVENTS["Simple"], SIMPLE_VALUES)
    bad = mutate("Simple", lambda r: r["topics"].pop())
    assert gc.isenabled()
    assert [d.args for d in decoder.decode_all([good, good])] == [SIMPLE_VALUES, SIMPLE_VALUES]
    assert gc.isenabled()
    with pytest.raises(MalformedLog):
        decoder.decode_all([good, bad])
    assert gc.isenabled()
    gc.disable()
    try:
        decoder.decode_all([good])
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()


KEYED = ev("Keyed", arg("who", "address", True), arg("n", "uint8"), arg("key", "bytes"), arg("name", "string"),
           arg("head", "bytes32"))
KEYED_VALUES = {"who": OTHER, "n": 7, "key": b"\x01" * 33, "name": "Zürich", "head": b"\x02" * 32}


@given(key=st.binary(max_size=100), name=st.text(max_size=40), n=uint(8))
@settings(max_examples=40, deadline=None)
def test_bytes_and_string_tails_read_here_decode_as_web3(key: bytes, name: str, n: int) -> None:
    """Words with bytes/string tails in Solidity's encoding (PartnerRegistered's key) are read without eth_abi."""
    values = {**KEYED_VALUES, "key": key, "name": name, "n": n}
    raw = make_log(KEYED, values)
    assert EventDecoder({ADDRESS: [KEYED]}).decode(raw).args == web3_decode(KEYED, raw) == values


ARRAYED = ev("Arrayed", arg("epoch", "uint32", True), arg("members", "address[]"), arg("quorum", "uint8"),
             arg("heads", "bytes32[]"), arg("note", "bytes"))


@given(members=st.lists(addresses, max_size=6), quorum=uint(8), heads=st.lists(b32, max_size=3),
       note=st.binary(max_size=70))
@settings(max_examples=40, deadline=None)
def test_arrays_of_words_read_here_decode_as_web3(members: list, quorum: int, heads: list, note: bytes) -> None:
    """Arrays of words beside words and tails (PanelSet's members) are read without eth_abi, as web3 reads them."""
    values = {"epoch": 3, "members": members, "quorum": quorum, "heads": heads, "note": note}
    raw = make_log(ARRAYED, values)
    assert EventDecoder({ADDRESS: [ARRAYED]}).decode(raw).args == web3_decode(ARRAYED, raw) == values


def keyed_data(words: list[bytes]) -> str:
    return "0x" + b"".join(words).hex()


def word(value: int | bytes) -> bytes:
    return value.to_bytes(32, "big") if isinstance(value, int) else value.ljust(32, b"\0")


def test_another_valid_encoding_of_the_tails_is_eth_abis_to_decode() -> None:
    """A tail after a gap (a valid encoding Solidity never emits) decodes as eth_abi decodes it."""
    raw = make_log(KEYED, KEYED_VALUES)
    raw["data"] = keyed_data([word(7), word(32 * 5 + 32), word(32 * 5 + 32 + 96), word(b"\x02" * 32), word(0),
                              word(0), word(33), b"\x01" * 32, word(b"\x01"), word(7), word("Zürich".encode())])
    assert EventDecoder({ADDRESS: [KEYED]}).decode(raw).args == web3_decode(KEYED, raw) == KEYED_VALUES


@pytest.mark.parametrize(("case", "words"), [
    ("non-zero tail padding", [word(7), word(160), word(256), word(b"\x02" * 32), word(0), word(33), b"\x01" * 32,
                               word(b"\x01\x09"), word(0)]),
    ("a tail past the data", [word(7), word(160), word(256), word(b"\x02" * 32), word(0), word(99)]),
    ("a word's padding", [word(7 + 256), word(160), word(224), word(b"\x02" * 32), word(0), word(0), word(0)]),
])
def test_tails_eth_abi_refuses_are_malformed_logs_in_eth_abis_words(case: str, words: list[bytes]) -> None:
    from eth_abi import decode
    from eth_abi.exceptions import DecodingError

    raw = make_log(KEYED, KEYED_VALUES)
    raw["data"] = keyed_data(words)
    with pytest.raises(DecodingError) as refused:
        decode(["uint8", "bytes", "string", "bytes32"], bytes.fromhex(raw["data"][2:]))
    with pytest.raises(MalformedLog) as info:
        EventDecoder({ADDRESS: [KEYED]}).decode(raw)
    assert str(info.value) == f"Keyed: {type(refused.value).__name__}: {refused.value}", case
