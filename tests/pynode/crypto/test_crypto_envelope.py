"""Key envelopes: strict parsing, and a content key that opens only for its own order, partner and key."""

import dataclasses
import hashlib
import json
from typing import Any

import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from pynode.core.errors import InputError
from pynode.crypto import envelope, hpke
from pynode.crypto.envelope import OrderContext
from pynode.crypto.errors import (
    ContextMismatch,
    EnvelopeDecryptionFailed,
    EnvelopeError,
    InvalidPublicKey,
    MalformedEnvelope,
    OversizedEnvelope,
    UnsupportedEnvelope,
    WrongRecipient,
)

CONTENT_KEY = bytes(range(32))
PARTNER = to_checksum_address("0x" + "a1" * 20)
OTHER_PARTNER = to_checksum_address("0x" + "b2" * 20)
CONTRACT = to_checksum_address("0x" + "c3" * 20)
OTHER_CONTRACT = to_checksum_address("0x" + "d4" * 20)
CONTEXT = OrderContext(
    chain_id=31337, contract=CONTRACT, order_id=1, recipient=PARTNER, design_sha256=hashlib.sha256(b"bracket").digest()
)
KEYPAIR = hpke.generate_keypair()
OTHER_KEYPAIR = hpke.generate_keypair()
DOCUMENT = envelope.build_envelope(CONTENT_KEY, KEYPAIR.public_key, CONTEXT)


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def edited(**changes: object) -> bytes:
    """DOCUMENT, canonical again, with top-level fields (or ``order__<field>``) replaced or removed (None)."""
    obj = json.loads(DOCUMENT)
    for name, value in changes.items():
        target, key = (obj["order"], name[len("order__") :]) if name.startswith("order__") else (obj, name)
        if value is None:
            del target[key]
        else:
            target[key] = value
    return canonical(obj)


def flip_hex_digit(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


@pytest.mark.parametrize("pq", [False, True], ids=["x25519", "xwing"])
def test_roundtrip(pq: bool) -> None:
    keypair = hpke.generate_keypair(pq=pq)
    document = envelope.build_envelope(CONTENT_KEY, keypair.public_key, CONTEXT)
    assert len(document) < envelope.MAX_ENVELOPE_SIZE
    assert canonical(json.loads(document)) == document
    assert envelope.open_envelope(document, keypair, CONTEXT) == CONTENT_KEY


def test_document_schema() -> None:
    obj = json.loads(DOCUMENT)
    assert obj == {
        "type": "fabmesh/key-envelope",
        "version": 1,
        "suite": 1,
        "recipient": PARTNER,
        "recipient_key_id": "0x" + KEYPAIR.key_id.hex(),
        "order": {
            "chain_id": 31337,
            "contract": CONTRACT,
            "order_id": 1,
            "design_sha256": "0x" + CONTEXT.design_sha256.hex(),
        },
        "enc": obj["enc"],
        "ciphertext": obj["ciphertext"],
    }
    assert len(bytes.fromhex(obj["enc"][2:])) == 32
    assert len(bytes.fromhex(obj["ciphertext"][2:])) == 48


def test_parse_exposes_the_bound_context() -> None:
    parsed = envelope.parse_envelope(DOCUMENT)
    assert parsed.context == CONTEXT
    assert parsed.recipient_key_id == KEYPAIR.key_id
    assert parsed.suite is hpke.HpkeSuite.X25519_SHA256_AES256GCM


@pytest.mark.parametrize(
    "field, value",
    [
        ("order_id", 2),
        ("chain_id", 1),
        ("contract", OTHER_CONTRACT),
        ("design_sha256", hashlib.sha256(b"other").digest()),
    ],
)
def test_envelope_for_one_order_does_not_open_for_another(field: str, value: Any) -> None:
    with pytest.raises(ContextMismatch, match=f"envelope is for {field} .*, expected ") as info:
        envelope.open_envelope(DOCUMENT, KEYPAIR, dataclasses.replace(CONTEXT, **{field: value}))
    assert "\n" not in str(info.value)


def test_envelope_for_one_partner_does_not_open_for_another() -> None:
    with pytest.raises(WrongRecipient, match=f"envelope is for partner {PARTNER}, this node is {OTHER_PARTNER}"):
        envelope.open_envelope(DOCUMENT, OTHER_KEYPAIR, dataclasses.replace(CONTEXT, recipient=OTHER_PARTNER))


def test_envelope_for_one_key_does_not_open_with_another() -> None:
    expected = f"envelope is for key 0x{KEYPAIR.key_id.hex()}, this node holds key 0x{OTHER_KEYPAIR.key_id.hex()}"
    with pytest.raises(WrongRecipient, match=expected):
        envelope.open_envelope(DOCUMENT, OTHER_KEYPAIR, CONTEXT)


@pytest.mark.parametrize(
    "changes",
    [
        {"order__order_id": 2},
        {"order__chain_id": 1},
        {"order__contract": OTHER_CONTRACT},
        {"order__design_sha256": "0x" + hashlib.sha256(b"other").hexdigest()},
        {"recipient": OTHER_PARTNER},
    ],
    ids=["order_id", "chain_id", "contract", "design_sha256", "recipient"],
)
def test_rewritten_context_fields_do_not_open(changes: dict) -> None:
    """Editing the plain fields to match another order cannot help: they are the HPKE info."""
    forged = edited(**changes)
    context = envelope.parse_envelope(forged).context
    with pytest.raises(EnvelopeDecryptionFailed, match="does not open with this node's key"):
        envelope.open_envelope(forged, KEYPAIR, context)


def test_readdressed_envelope_does_not_open_for_the_new_recipient() -> None:
    forged = edited(recipient=OTHER_PARTNER, recipient_key_id="0x" + OTHER_KEYPAIR.key_id.hex())
    with pytest.raises(EnvelopeDecryptionFailed):
        envelope.open_envelope(forged, OTHER_KEYPAIR, dataclasses.replace(CONTEXT, recipient=OTHER_PARTNER))


@pytest.mark.parametrize("field", ["enc", "ciphertext"])
def test_tampered_hpke_output_does_not_open(field: str) -> None:
    forged = edited(**{field: flip_hex_digit(json.loads(DOCUMENT)[field])})
    with pytest.raises(EnvelopeDecryptionFailed):
        envelope.open_envelope(forged, KEYPAIR, CONTEXT)


MALFORMED = {
    "oversized": (b" " * (envelope.MAX_ENVELOPE_SIZE + 1), OversizedEnvelope, "the 16384-byte limit"),
    "truncated JSON": (DOCUMENT[:-1], MalformedEnvelope, "invalid JSON at line 1"),
    "not UTF-8": (b"\xff\xfe\xfa", MalformedEnvelope, "not UTF-8"),
    "deeply nested": (b"[" * 5000 + b"]" * 5000, MalformedEnvelope, "nested too deeply"),
    "array": (b"[]", MalformedEnvelope, "must be a JSON object"),
    "duplicate field": (b'{"type":"fabmesh/key-envelope","type":"x"}', MalformedEnvelope, "duplicate key 'type'"),
    "NaN": (DOCUMENT.replace(b'"version":1', b'"version":NaN'), MalformedEnvelope, "NaN is not a number JSON allows"),
    "missing type": (edited(type=None), MalformedEnvelope, "envelope is missing field 'type'"),
    "wrong type": (edited(type="fabmesh/order"), UnsupportedEnvelope, "not a key envelope: type is 'fabmesh/order'"),
    "version 2": (edited(version=2), UnsupportedEnvelope, "unsupported envelope version 2"),
    "version as string": (edited(version="1"), UnsupportedEnvelope, "unsupported envelope version '1'"),
    "version as bool": (edited(version=True), UnsupportedEnvelope, "unsupported envelope version True"),
    "missing enc": (edited(enc=None), MalformedEnvelope, "envelope is missing field 'enc'"),
    "extra field": (edited(note="hi"), MalformedEnvelope, "envelope has unexpected field 'note'"),
    "unknown suite": (edited(suite=9), UnsupportedEnvelope, "unknown HPKE suite 9"),
    "enc too short": (
        edited(enc="0x" + "00" * 31),
        MalformedEnvelope,
        "'enc' must be 0x-prefixed lowercase hex of 32 bytes",
    ),
    "enc of the other suite": (
        edited(suite=2),
        MalformedEnvelope,
        "'enc' must be 0x-prefixed lowercase hex of 1120 bytes",
    ),
    "uppercase hex": (
        edited(ciphertext="0x" + "AB" * 48),
        MalformedEnvelope,
        "'ciphertext' must be 0x-prefixed lowercase hex",
    ),
    "hex without 0x": (
        edited(ciphertext="ab" * 48),
        MalformedEnvelope,
        "'ciphertext' must be 0x-prefixed lowercase hex",
    ),
    "ciphertext too long": (edited(ciphertext="0x" + "ab" * 49), MalformedEnvelope, "'ciphertext' must be 0x-prefixed"),
    "key id as number": (edited(recipient_key_id=5), MalformedEnvelope, "'recipient_key_id' must be 0x-prefixed"),
    "lowercase address": (edited(recipient=PARTNER.lower()), MalformedEnvelope, "'recipient' must be an EIP-55"),
    "order not an object": (edited(order=[1]), MalformedEnvelope, "envelope field 'order' must be a JSON object"),
    "order missing field": (
        edited(order__design_sha256=None),
        MalformedEnvelope,
        "'order' is missing field 'design_sha256'",
    ),
    "order extra field": (edited(order__price=1), MalformedEnvelope, "'order' has unexpected field 'price'"),
    "chain id zero": (
        edited(order__chain_id=0),
        MalformedEnvelope,
        "'chain_id' must be an integer in [1, 2**256 - 1], got 0",
    ),
    "chain id string": (edited(order__chain_id="1"), MalformedEnvelope, "'chain_id' must be an integer"),
    "order id negative": (edited(order__order_id=-1), MalformedEnvelope, "'order_id' must be an integer in [0,"),
    "order id float": (edited(order__order_id=1.0), MalformedEnvelope, "'order_id' must be an integer"),
    "order id above uint256": (edited(order__order_id=2**256), MalformedEnvelope, "'order_id' must be an integer"),
    "bad contract": (edited(order__contract="0x1234"), MalformedEnvelope, "'contract' must be an EIP-55"),
    "whitespace": (DOCUMENT.replace(b",", b", ", 1), MalformedEnvelope, "not canonical JSON"),
    "unsorted keys": (
        json.dumps(dict(reversed(json.loads(DOCUMENT).items())), separators=(",", ":")).encode(),
        MalformedEnvelope,
        "not canonical",
    ),
    "escaped ASCII": (DOCUMENT.replace(b"fabmesh", b"\\u0066abmesh", 1), MalformedEnvelope, "not canonical"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_documents_are_rejected_with_a_specific_error(case: str) -> None:
    document, error, fragment = MALFORMED[case]
    with pytest.raises(EnvelopeError) as info:
        envelope.open_envelope(document, KEYPAIR, CONTEXT)
    assert type(info.value) is error
    assert fragment in str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_single_byte_change_is_rejected(data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(DOCUMENT) - 1), label="position")
    byte = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != DOCUMENT[position]), label="byte")
    forged = DOCUMENT[:position] + bytes([byte]) + DOCUMENT[position + 1 :]
    with pytest.raises(EnvelopeError):
        envelope.open_envelope(forged, KEYPAIR, CONTEXT)


def test_errors_are_input_errors() -> None:
    for error in (MalformedEnvelope, UnsupportedEnvelope, WrongRecipient, ContextMismatch, EnvelopeDecryptionFailed):
        assert issubclass(error, EnvelopeError) and issubclass(error, InputError)


def test_build_validates_its_inputs() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        envelope.build_envelope(CONTENT_KEY[:16], KEYPAIR.public_key, CONTEXT)
    with pytest.raises(InvalidPublicKey):
        envelope.build_envelope(CONTENT_KEY, b"\x09" + KEYPAIR.public_key[1:], CONTEXT)


def test_order_context_normalizes_addresses() -> None:
    context = dataclasses.replace(CONTEXT, contract=CONTRACT.lower(), recipient=PARTNER.lower())
    assert context == CONTEXT


@pytest.mark.parametrize(
    "changes",
    [{"chain_id": 0}, {"order_id": -1}, {"design_sha256": bytes(31)}, {"contract": "0x12"}, {"recipient": "partner"}],
)
def test_order_context_rejects_invalid_values(changes: dict) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(CONTEXT, **changes)
