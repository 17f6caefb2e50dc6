"""HPKE partner keys: both suites round-trip, the public-key encoding is strict, and nothing opens for the wrong key."""

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from hypothesis import given, settings
from hypothesis import strategies as st

from pynode.crypto import hpke
from pynode.crypto.errors import HpkeOpenError, InvalidPublicKey
from pynode.crypto.hpke import HpkeSuite

INFO = b"fabmesh test context"
SECRET = bytes(range(32))
X25519_PAIR = hpke.generate_keypair()
XWING_PAIR = hpke.generate_keypair(pq=True)


@pytest.fixture(params=[False, True], ids=["x25519", "xwing"])
def pq(request) -> bool:
    return request.param


def test_roundtrip_and_sizes(pq: bool) -> None:
    keypair = hpke.generate_keypair(pq=pq)
    assert keypair.suite is (HpkeSuite.XWING_SHA256_AES256GCM if pq else HpkeSuite.X25519_SHA256_AES256GCM)
    assert keypair.public_key[0] == keypair.suite
    assert len(keypair.public_key) == (1217 if pq else 33)
    enc, ciphertext = hpke.seal(keypair.public_key, SECRET, INFO)
    assert len(enc) == hpke.enc_size(keypair.suite) == (1120 if pq else 32)
    assert len(ciphertext) == len(SECRET) + 16
    assert hpke.open(keypair, enc, ciphertext, INFO) == SECRET


def test_sealing_is_randomized(pq: bool) -> None:
    keypair = XWING_PAIR if pq else X25519_PAIR
    assert hpke.seal(keypair.public_key, SECRET, INFO) != hpke.seal(keypair.public_key, SECRET, INFO)


def test_keypair_is_determined_by_its_private_key(pq: bool) -> None:
    keypair = hpke.generate_keypair(pq=pq)
    assert hpke.keypair_from_private_key(keypair.suite, keypair.private_key) == keypair
    assert keypair.key_id == hashlib.sha256(keypair.public_key).digest()


def test_xwing_public_key_is_mlkem_then_x25519_from_the_expanded_seed() -> None:
    expanded = hashlib.shake_256(XWING_PAIR.private_key).digest(96)
    x25519_public = x25519.X25519PrivateKey.from_private_bytes(expanded[64:]).public_key().public_bytes_raw()
    assert XWING_PAIR.public_key[-32:] == x25519_public


def test_repr_does_not_show_the_private_key() -> None:
    assert X25519_PAIR.private_key.hex() not in repr(X25519_PAIR)
    assert X25519_PAIR.key_id.hex() in repr(X25519_PAIR)


def test_sealed_to_a_cannot_be_opened_by_b(pq: bool) -> None:
    alice, bob = hpke.generate_keypair(pq=pq), hpke.generate_keypair(pq=pq)
    enc, ciphertext = hpke.seal(alice.public_key, SECRET, INFO)
    with pytest.raises(HpkeOpenError, match="wrong key, different context, or tampered data"):
        hpke.open(bob, enc, ciphertext, INFO)


def test_sealed_for_one_suite_cannot_be_opened_with_the_other() -> None:
    enc, ciphertext = hpke.seal(X25519_PAIR.public_key, SECRET, INFO)
    with pytest.raises(HpkeOpenError, match="encapsulated key is 32 bytes"):
        hpke.open(XWING_PAIR, enc, ciphertext, INFO)


def test_different_info_does_not_open(pq: bool) -> None:
    keypair = XWING_PAIR if pq else X25519_PAIR
    enc, ciphertext = hpke.seal(keypair.public_key, SECRET, INFO)
    with pytest.raises(HpkeOpenError):
        hpke.open(keypair, enc, ciphertext, INFO + b"!")


@settings(max_examples=60, deadline=None)
@given(pq=st.booleans(), data=st.data())
def test_any_flipped_bit_in_enc_or_ciphertext_does_not_open(pq: bool, data: st.DataObject) -> None:
    keypair = XWING_PAIR if pq else X25519_PAIR
    enc, ciphertext = hpke.seal(keypair.public_key, SECRET, INFO)
    sealed = bytearray(enc + ciphertext)
    position = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1), label="position")
    sealed[position] ^= 1 << data.draw(st.integers(min_value=0, max_value=7), label="bit")
    with pytest.raises(HpkeOpenError):
        hpke.open(keypair, bytes(sealed[: len(enc)]), bytes(sealed[len(enc) :]), INFO)


@pytest.mark.parametrize("cut", [1, 16, 48])
def test_truncated_ciphertext_does_not_open(cut: int) -> None:
    enc, ciphertext = hpke.seal(X25519_PAIR.public_key, SECRET, INFO)
    with pytest.raises(HpkeOpenError):
        hpke.open(X25519_PAIR, enc, ciphertext[:-cut], INFO)


@pytest.mark.parametrize(
    "public_key, fragment",
    [
        (b"", "empty"),
        (b"\x00" + bytes(32), "unknown HPKE suite id 0x00"),
        (b"\x03" + bytes(32), "unknown HPKE suite id 0x03"),
        (X25519_PAIR.public_key[:-1], "must be 33 bytes, got 32"),
        (X25519_PAIR.public_key + b"\x00", "must be 33 bytes, got 34"),
        (b"\x02" + X25519_PAIR.public_key[1:], "must be 1217 bytes, got 33"),
        (XWING_PAIR.public_key[:-1], "must be 1217 bytes, got 1216"),
        (b"\x02" + b"\xff" * 1216, "invalid ML-KEM-768 component"),
    ],
    # ids without the random keys' bytes (pytest-xdist workers must collect the same names)
    ids=lambda value: f"{len(value)}-bytes" if isinstance(value, bytes) else None,
)
def test_malformed_public_keys_are_rejected(public_key: bytes, fragment: str) -> None:
    with pytest.raises(InvalidPublicKey, match=fragment):
        hpke.public_key_suite(public_key)
    with pytest.raises(InvalidPublicKey, match=fragment):
        hpke.seal(public_key, SECRET, INFO)


@pytest.mark.parametrize("point", [bytes(32), b"\x01" + bytes(31)])
def test_low_order_x25519_public_keys_are_unusable(point: bytes) -> None:
    with pytest.raises(InvalidPublicKey, match="unusable"):
        hpke.seal(b"\x01" + point, SECRET, INFO)


def test_public_key_suite_reads_the_prefix() -> None:
    assert hpke.public_key_suite(X25519_PAIR.public_key) is HpkeSuite.X25519_SHA256_AES256GCM
    assert hpke.public_key_suite(XWING_PAIR.public_key) is HpkeSuite.XWING_SHA256_AES256GCM


@pytest.mark.parametrize("value", [0, 3, True, 1.0, "1", None])
def test_suite_from_id_rejects_unknown_and_non_integer_ids(value: object) -> None:
    with pytest.raises(ValueError):
        hpke.suite_from_id(value)


def test_private_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        hpke.keypair_from_private_key(HpkeSuite.XWING_SHA256_AES256GCM, bytes(64))
