"""Partner encryption key pairs and single-shot HPKE (RFC 9180, base mode).

A partner's public key is registered on chain as ``suite id (1 byte) | raw public key``,
so any reader knows the KEM without out-of-band data:

    0x01  DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM     33 bytes
    0x02  MLKEM768-X25519 (X-Wing, HPKE KEM 0x647A), HKDF-SHA256,  1217 bytes
          AES-256-GCM; public key = ML-KEM-768 key (1184) | X25519 key (32)

Both private keys are 32 random bytes: the X25519 scalar, or the X-Wing seed expanded
with SHAKE256 into the ML-KEM-768 seed and the X25519 key (draft-connolly-cfrg-xwing-kem).
``cryptography``'s single-shot API authenticates context through ``info`` only (its
AAD variant is private), so callers bind everything they need into ``info``.
"""

import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from pynode.crypto.errors import HpkeOpenError, InvalidPublicKey
from pynode.crypto.formats import (
    MLKEM768_PUBLIC_KEY_SIZE,
    PRIVATE_KEY_SIZE,
    RAW_PUBLIC_KEY_SIZE,
    X25519_KEY_SIZE,
    HpkeSuite,
    enc_size,
    key_id,
)
from pynode.crypto.formats import suite_from_id as suite_from_id  # the suites' names, read here by key files

MLKEM768_SEED_SIZE = 64

_SUITES = {
    HpkeSuite.X25519_SHA256_AES256GCM: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    HpkeSuite.XWING_SHA256_AES256GCM: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}

_PublicKey = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey
_PrivateKey = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey


@dataclass(frozen=True, repr=False)
class HpkeKeyPair:
    """A partner's HPKE key pair; ``public_key`` is the encoded (suite-prefixed) form."""

    suite: HpkeSuite
    private_key: bytes
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.public_key)

    def __repr__(self) -> str:
        return f"HpkeKeyPair(suite={self.suite.name}, key_id=0x{self.key_id.hex()})"


def generate_keypair(pq: bool = False) -> HpkeKeyPair:
    """A fresh key pair: X25519 by default, hybrid X25519 + ML-KEM-768 (X-Wing) with ``pq``."""
    suite = HpkeSuite.XWING_SHA256_AES256GCM if pq else HpkeSuite.X25519_SHA256_AES256GCM
    return keypair_from_private_key(suite, os.urandom(PRIVATE_KEY_SIZE))


def keypair_from_private_key(suite: HpkeSuite, private_key: bytes) -> HpkeKeyPair:
    """Rebuild a key pair (and its public key) from the 32-byte private key."""
    _check_private_key_size(private_key)
    if suite is HpkeSuite.X25519_SHA256_AES256GCM:
        raw = x25519.X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()
    else:
        mlkem_key, x25519_key = _xwing_components(private_key)
        raw = mlkem_key.public_key().public_bytes_raw() + x25519_key.public_key().public_bytes_raw()
    return HpkeKeyPair(suite, private_key, bytes([suite]) + raw)


def public_key_suite(public_key: bytes) -> HpkeSuite:
    """Validate an encoded public key (e.g. read from the registry) and return its suite."""
    return _parse_public_key(public_key)[0]


def seal(public_key: bytes, plaintext: bytes, info: bytes) -> tuple[bytes, bytes]:
    """Encrypt to an encoded public key; returns ``(enc, ciphertext)``."""
    suite, key = _parse_public_key(public_key)
    try:
        sealed = _SUITES[suite].encrypt(plaintext, key, info=info)
    except ValueError as error:  # X25519 refuses low-order points: the DH output would be zero
        raise InvalidPublicKey(f"HPKE public key 0x{key_id(public_key).hex()} is unusable: {error}") from None
    return sealed[: enc_size(suite)], sealed[enc_size(suite) :]


def open(keypair: HpkeKeyPair, enc: bytes, ciphertext: bytes, info: bytes) -> bytes:  # noqa: A001 (RFC 9180 name)
    """Decrypt what ``seal`` produced for this key pair's public key and the same ``info``."""
    if len(enc) != enc_size(keypair.suite):
        raise HpkeOpenError(
            f"encapsulated key is {len(enc)} bytes, suite {keypair.suite.name} uses {enc_size(keypair.suite)}"
        )
    try:
        return _SUITES[keypair.suite].decrypt(
            enc + ciphertext, _private_key_object(keypair.suite, keypair.private_key), info=info
        )
    except InvalidTag:
        raise HpkeOpenError("HPKE decryption failed: wrong key, different context, or tampered data") from None


def _parse_public_key(public_key: bytes) -> tuple[HpkeSuite, _PublicKey]:
    if not public_key:
        raise InvalidPublicKey("HPKE public key is empty")
    try:
        suite = HpkeSuite(public_key[0])
    except ValueError:
        raise InvalidPublicKey(f"unknown HPKE suite id 0x{public_key[0]:02x} in public key") from None
    raw = public_key[1:]
    if len(raw) != RAW_PUBLIC_KEY_SIZE[suite]:
        expected = RAW_PUBLIC_KEY_SIZE[suite] + 1
        raise InvalidPublicKey(
            f"HPKE public key for suite {suite.name} must be {expected} bytes, got {len(public_key)}"
        )
    if suite is HpkeSuite.X25519_SHA256_AES256GCM:
        return suite, x25519.X25519PublicKey.from_public_bytes(raw)
    try:
        mlkem_key = mlkem.MLKEM768PublicKey.from_public_bytes(raw[:MLKEM768_PUBLIC_KEY_SIZE])
    except ValueError:
        raise InvalidPublicKey("HPKE public key has an invalid ML-KEM-768 component") from None
    x25519_key = x25519.X25519PublicKey.from_public_bytes(raw[MLKEM768_PUBLIC_KEY_SIZE:])
    return suite, hpke.MLKEM768X25519PublicKey(mlkem_key, x25519_key)


def _check_private_key_size(private_key: bytes) -> None:
    if len(private_key) != PRIVATE_KEY_SIZE:
        raise ValueError(f"HPKE private key must be {PRIVATE_KEY_SIZE} bytes, got {len(private_key)}")


def _private_key_object(suite: HpkeSuite, private_key: bytes) -> _PrivateKey:
    _check_private_key_size(private_key)
    if suite is HpkeSuite.X25519_SHA256_AES256GCM:
        return x25519.X25519PrivateKey.from_private_bytes(private_key)
    return hpke.MLKEM768X25519PrivateKey(*_xwing_components(private_key))


def _xwing_components(seed: bytes) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]:
    """X-Wing expandDecapsulationKey: SHAKE256(seed, 96) = ML-KEM-768 seed (d | z) | X25519 key."""
    expanded = hashlib.shake_256(seed).digest(MLKEM768_SEED_SIZE + X25519_KEY_SIZE)
    return (
        mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:MLKEM768_SEED_SIZE]),
        x25519.X25519PrivateKey.from_private_bytes(expanded[MLKEM768_SEED_SIZE:]),
    )
