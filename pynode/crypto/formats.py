"""The ids, magic and sizes of fabmesh's ciphertext formats, without the cipher library.

Parsing a key envelope (its suite, the sizes of its fields) or recognising a design ciphertext by its header
needs no cipher, so the audit does both without importing ``cryptography``; hpke.py and segmented.py seal and
open with these numbers (tests/pynode/crypto/test_formats.py holds them to cryptography's).
"""

from __future__ import annotations

import hashlib
from enum import IntEnum

PRIVATE_KEY_SIZE = 32
X25519_KEY_SIZE = 32
MLKEM768_PUBLIC_KEY_SIZE = 1184
MLKEM768_CIPHERTEXT_SIZE = 1088

MAGIC = b"FMSEGENC"  # a segmented design ciphertext's first bytes
CONTENT_KEY_SIZE = 32
TAG_SIZE = 16  # AES-256-GCM's


class HpkeSuite(IntEnum):
    """The on-chain suite id, first byte of an encoded public key."""

    X25519_SHA256_AES256GCM = 0x01
    XWING_SHA256_AES256GCM = 0x02


RAW_PUBLIC_KEY_SIZE = {
    HpkeSuite.X25519_SHA256_AES256GCM: X25519_KEY_SIZE,
    HpkeSuite.XWING_SHA256_AES256GCM: MLKEM768_PUBLIC_KEY_SIZE + X25519_KEY_SIZE,
}
#: the encapsulated key's length: an X25519 public key, or X-Wing's ML-KEM-768 ciphertext and X25519 public key
_ENC_SIZE = {
    HpkeSuite.X25519_SHA256_AES256GCM: X25519_KEY_SIZE,
    HpkeSuite.XWING_SHA256_AES256GCM: MLKEM768_CIPHERTEXT_SIZE + X25519_KEY_SIZE,
}


def key_id(public_key: bytes) -> bytes:
    """SHA-256 of the encoded public key: names a key in envelopes and messages."""
    return hashlib.sha256(public_key).digest()


def suite_from_id(value: object) -> HpkeSuite:
    """The suite a JSON suite id names; ``ValueError`` for unknown ids and non-integers."""
    if type(value) is not int:
        raise ValueError(f"suite id must be an integer, got {value!r}")
    return HpkeSuite(value)


def enc_size(suite: HpkeSuite) -> int:
    """Length of the encapsulated key ``hpke.seal`` returns for ``suite``."""
    return _ENC_SIZE[suite]
