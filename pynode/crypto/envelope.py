"""Key envelopes: a design's content key wrapped with HPKE to the partner awarded the order.

An envelope is one canonical JSON object (sorted keys, no whitespace, ASCII), bytes as
lowercase 0x-hex, addresses in EIP-55 form::

    {"ciphertext": "0x<48 bytes>", "enc": "0x<32 or 1120 bytes>",
     "order": {"chain_id": 1, "contract": "0x…", "design_sha256": "0x<32 bytes>", "order_id": 7},
     "recipient": "0x<partner address>", "recipient_key_id": "0x<sha256 of the HPKE public key>",
     "suite": 1, "type": "fabmesh/key-envelope", "version": 1}

The HPKE ``info`` is the canonical JSON of every field except ``enc`` and ``ciphertext``,
so the content key only opens for this order, design, partner and key: an envelope
replayed to another order, chain, contract or recipient, or with an edited field, fails.
The plain fields let a node say *why* an envelope is not for it before trying HPKE,
and let an auditor read one without the cipher library (hpke.py is imported to seal and open only).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from pynode.core.address import is_checksum_address, to_checksum_address
from pynode.core.strict_json import brief, strict_json_loads
from pynode.crypto.errors import (
    ContextMismatch,
    EnvelopeDecryptionFailed,
    HpkeOpenError,
    MalformedEnvelope,
    OversizedEnvelope,
    UnsupportedEnvelope,
    WrongRecipient,
)
from pynode.crypto.formats import CONTENT_KEY_SIZE, TAG_SIZE, HpkeSuite, enc_size, key_id, suite_from_id

if TYPE_CHECKING:
    from pynode.crypto.hpke import HpkeKeyPair

ENVELOPE_TYPE = "fabmesh/key-envelope"
ENVELOPE_VERSION = 1
MAX_ENVELOPE_SIZE = 16 * 1024
SHA256_SIZE = 32
MAX_UINT256 = 2**256 - 1
SEALED_KEY_SIZE = CONTENT_KEY_SIZE + TAG_SIZE

_FIELDS = {"type", "version", "suite", "recipient", "recipient_key_id", "order", "enc", "ciphertext"}
_ORDER_FIELDS = {"chain_id", "contract", "order_id", "design_sha256"}


@dataclass(frozen=True)
class OrderContext:
    """What an envelope is bound to: the on-chain order, its design commitment, the awarded partner.

    Addresses are normalized to EIP-55 form, so callers may pass any valid spelling.
    """

    chain_id: int
    contract: str
    order_id: int
    recipient: str
    design_sha256: bytes

    def __post_init__(self) -> None:
        if not 1 <= self.chain_id <= MAX_UINT256 or not 0 <= self.order_id <= MAX_UINT256:
            raise ValueError(f"chain id {self.chain_id} or order id {self.order_id} out of range")
        if len(self.design_sha256) != SHA256_SIZE:
            raise ValueError(f"design SHA-256 must be {SHA256_SIZE} bytes, got {len(self.design_sha256)}")
        object.__setattr__(self, "contract", to_checksum_address(self.contract))
        object.__setattr__(self, "recipient", to_checksum_address(self.recipient))


@dataclass(frozen=True)
class KeyEnvelope:
    """A parsed, schema-valid envelope; not yet checked against any order or key."""

    suite: HpkeSuite
    recipient_key_id: bytes
    context: OrderContext
    enc: bytes
    ciphertext: bytes


def build_envelope(content_key: bytes, recipient_public_key: bytes, context: OrderContext) -> bytes:
    """Wrap ``content_key`` to the partner's registered (suite-prefixed) public key for one order."""
    if len(content_key) != CONTENT_KEY_SIZE:
        raise ValueError(f"content key must be {CONTENT_KEY_SIZE} bytes, got {len(content_key)}")
    from pynode.crypto import hpke

    suite = hpke.public_key_suite(recipient_public_key)
    bound = _bound_fields(suite, key_id(recipient_public_key), context)
    enc, ciphertext = hpke.seal(recipient_public_key, content_key, _canonical(bound))
    return _canonical({**bound, "enc": _to_hex(enc), "ciphertext": _to_hex(ciphertext)})


def open_envelope(document: bytes, keypair: HpkeKeyPair, expected: OrderContext) -> bytes:
    """The content key, if ``document`` is a valid envelope for ``expected`` and this key pair."""
    envelope = parse_envelope(document)
    if envelope.context.recipient != expected.recipient:
        raise WrongRecipient(f"envelope is for partner {envelope.context.recipient}, this node is {expected.recipient}")
    if envelope.recipient_key_id != keypair.key_id:
        raise WrongRecipient(
            f"envelope is for key {_to_hex(envelope.recipient_key_id)}, this node holds key {_to_hex(keypair.key_id)}"
        )
    for field in fields(OrderContext):
        actual, wanted = getattr(envelope.context, field.name), getattr(expected, field.name)
        if actual != wanted:
            raise ContextMismatch(f"envelope is for {field.name} {_show(actual)}, expected {_show(wanted)}")
    info = _canonical(_bound_fields(envelope.suite, envelope.recipient_key_id, envelope.context))
    from pynode.crypto import hpke

    try:
        return hpke.open(keypair, envelope.enc, envelope.ciphertext, info)
    except HpkeOpenError as error:
        raise EnvelopeDecryptionFailed(f"envelope does not open with this node's key: {error}") from None


def parse_envelope(document: bytes) -> KeyEnvelope:
    """Strictly parse an envelope: size cap, JSON, exact field set, types, sizes, canonical form."""
    obj = strict_json_loads(document, "envelope", MAX_ENVELOPE_SIZE, error=MalformedEnvelope,
                            too_large=OversizedEnvelope)
    if not isinstance(obj, dict):
        raise MalformedEnvelope("envelope must be a JSON object")

    _require(obj, "type", "envelope")
    if obj["type"] != ENVELOPE_TYPE:
        raise UnsupportedEnvelope(f"not a key envelope: type is {brief(obj['type'])}, expected {ENVELOPE_TYPE!r}")
    _require(obj, "version", "envelope")
    if type(obj["version"]) is not int or obj["version"] != ENVELOPE_VERSION:
        raise UnsupportedEnvelope(
            f"unsupported envelope version {brief(obj['version'])}, this node reads version {ENVELOPE_VERSION}"
        )
    _expect_fields(obj, _FIELDS, "envelope")
    try:
        suite = suite_from_id(obj["suite"])
    except ValueError:
        raise UnsupportedEnvelope(f"unknown HPKE suite {brief(obj['suite'])} in envelope") from None
    order = obj["order"]
    _expect_fields(order, _ORDER_FIELDS, "envelope field 'order'")

    envelope = KeyEnvelope(
        suite=suite,
        recipient_key_id=_hex_field(obj, "recipient_key_id", SHA256_SIZE),
        context=OrderContext(
            chain_id=_uint_field(order, "chain_id", minimum=1),
            contract=_address_field(order, "contract"),
            order_id=_uint_field(order, "order_id", minimum=0),
            recipient=_address_field(obj, "recipient"),
            design_sha256=_hex_field(order, "design_sha256", SHA256_SIZE),
        ),
        enc=_hex_field(obj, "enc", enc_size(suite)),
        ciphertext=_hex_field(obj, "ciphertext", SEALED_KEY_SIZE),
    )
    if _canonical(obj) != document:
        raise MalformedEnvelope("envelope is not canonical JSON (sorted keys, no whitespace, ASCII)")
    return envelope


def _bound_fields(suite: HpkeSuite, recipient_key_id: bytes, context: OrderContext) -> dict[str, Any]:
    """Every envelope field except the HPKE output; its canonical JSON is the HPKE info."""
    return {
        "type": ENVELOPE_TYPE,
        "version": ENVELOPE_VERSION,
        "suite": int(suite),
        "recipient": context.recipient,
        "recipient_key_id": _to_hex(recipient_key_id),
        "order": {
            "chain_id": context.chain_id,
            "contract": context.contract,
            "order_id": context.order_id,
            "design_sha256": _to_hex(context.design_sha256),
        },
    }


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def _to_hex(data: bytes) -> str:
    return "0x" + data.hex()


def _show(value: object) -> str:
    return _to_hex(value) if isinstance(value, bytes) else str(value)


def _require(obj: dict[str, Any], name: str, where: str) -> None:
    if name not in obj:
        raise MalformedEnvelope(f"{where} is missing field {name!r}")


def _expect_fields(obj: Any, expected: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise MalformedEnvelope(f"{where} must be a JSON object")
    for name in sorted(expected):
        _require(obj, name, where)
    extra = sorted(obj.keys() - expected)
    if extra:
        raise MalformedEnvelope(f"{where} has unexpected field {brief(extra[0])}")


def _hex_field(obj: dict[str, Any], name: str, size: int) -> bytes:
    value = obj[name]
    if not isinstance(value, str) or not re.fullmatch(f"0x[0-9a-f]{{{2 * size}}}", value):
        raise MalformedEnvelope(f"envelope field {name!r} must be 0x-prefixed lowercase hex of {size} bytes")
    return bytes.fromhex(value[2:])


def _uint_field(obj: dict[str, Any], name: str, *, minimum: int) -> int:
    value = obj[name]
    if type(value) is not int or not minimum <= value <= MAX_UINT256:
        raise MalformedEnvelope(
            f"envelope field {name!r} must be an integer in [{minimum}, 2**256 - 1], got {brief(value)}"
        )
    return value


def _address_field(obj: dict[str, Any], name: str) -> str:
    value = obj[name]
    if not isinstance(value, str) or not is_checksum_address(value):
        raise MalformedEnvelope(f"envelope field {name!r} must be an EIP-55 checksummed address")
    return value
