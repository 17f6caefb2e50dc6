"""HPKE private keys at rest, under the same password scheme as Ethereum v3 keystores.

The ``crypto`` section is Web3 Secret Storage v3 exactly (scrypt, AES-128-CTR, MAC =
keccak256(derived_key[16:32] | ciphertext)), so operators handle it like their account
keystore. ``eth_keyfile.create_keyfile_json`` cannot be reused: it derives a secp256k1
address from the secret, which is meaningless (and cross-protocol key reuse) for an
HPKE key. Alongside the v3 fields the file carries ``kind``, ``suite`` and
``public_key``; the public key is recomputed on load, which also catches an edited IV
(v3's MAC covers only the ciphertext).
"""

import hmac
import os
import uuid
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from pynode.core.address import keccak
from pynode.core.plain_settings import DEFAULT_SCRYPT_N
from pynode.crypto.errors import KeyfileError, WrongPassword
from pynode.crypto.hpke import PRIVATE_KEY_SIZE, HpkeKeyPair, keypair_from_private_key, suite_from_id

KEYFILE_KIND = "fabmesh-hpke"
KEYFILE_VERSION = 3
CIPHER = "aes-128-ctr"
KDF = "scrypt"
MAX_SCRYPT_N = 1 << 20
SCRYPT_R = 8
SCRYPT_P = 1
DKLEN = 32
SALT_SIZE = 32
IV_SIZE = 16
MAC_SIZE = 32

_TOP_LEVEL_FIELDS = {"kind", "version", "id", "suite", "public_key", "crypto"}
_CRYPTO_FIELDS = {"cipher", "cipherparams", "ciphertext", "kdf", "kdfparams", "mac"}
_KDF_FIELDS = {"dklen", "n", "r", "p", "salt"}


def encrypt_keyfile(keypair: HpkeKeyPair, password: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> dict[str, Any]:
    """The keyfile JSON object for ``keypair``; lower ``scrypt_n`` only in tests."""
    _check_scrypt_n(scrypt_n, ValueError)
    salt, iv = os.urandom(SALT_SIZE), os.urandom(IV_SIZE)
    derived = _scrypt(password, salt, scrypt_n)
    ciphertext = _aes_128_ctr(derived[:16], iv, keypair.private_key)
    return {
        "kind": KEYFILE_KIND,
        "version": KEYFILE_VERSION,
        "id": str(uuid.uuid4()),
        "suite": int(keypair.suite),
        "public_key": "0x" + keypair.public_key.hex(),
        "crypto": {
            "cipher": CIPHER,
            "cipherparams": {"iv": iv.hex()},
            "ciphertext": ciphertext.hex(),
            "kdf": KDF,
            "kdfparams": {"dklen": DKLEN, "n": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P, "salt": salt.hex()},
            "mac": keccak(derived[16:32] + ciphertext).hex(),
        },
    }


def decrypt_keyfile(keyfile: Mapping[str, Any], password: str) -> HpkeKeyPair:
    """The key pair in ``keyfile``; ``WrongPassword`` on MAC mismatch, ``KeyfileError`` if malformed."""
    _expect_fields(keyfile, _TOP_LEVEL_FIELDS, "keyfile")
    if keyfile["kind"] != KEYFILE_KIND:
        raise KeyfileError(f"not an HPKE keyfile: kind is {keyfile['kind']!r}, expected {KEYFILE_KIND!r}")
    if type(keyfile["version"]) is not int or keyfile["version"] != KEYFILE_VERSION:
        raise KeyfileError(f"unsupported keyfile version {keyfile['version']!r}, expected {KEYFILE_VERSION}")
    try:
        suite = suite_from_id(keyfile["suite"])
    except ValueError:
        raise KeyfileError(f"unknown HPKE suite {keyfile['suite']!r} in keyfile") from None

    crypto = keyfile["crypto"]
    _expect_fields(crypto, _CRYPTO_FIELDS, "keyfile crypto section")
    if crypto["cipher"] != CIPHER or crypto["kdf"] != KDF:
        raise KeyfileError(
            f"unsupported keyfile cipher/kdf {crypto['cipher']!r}/{crypto['kdf']!r}, expected {CIPHER}/{KDF}"
        )
    params = crypto["kdfparams"]
    _expect_fields(params, _KDF_FIELDS, "keyfile kdfparams")
    if (params["dklen"], params["r"], params["p"]) != (DKLEN, SCRYPT_R, SCRYPT_P):
        raise KeyfileError(f"unsupported scrypt parameters dklen/r/p, expected {DKLEN}/{SCRYPT_R}/{SCRYPT_P}")
    _check_scrypt_n(params["n"], KeyfileError)
    if not isinstance(crypto["cipherparams"], Mapping):
        raise KeyfileError("keyfile cipherparams must be an object")

    salt = _hex_field(params, "salt", None)
    iv = _hex_field(crypto["cipherparams"], "iv", IV_SIZE)
    ciphertext = _hex_field(crypto, "ciphertext", PRIVATE_KEY_SIZE)
    mac = _hex_field(crypto, "mac", MAC_SIZE)

    derived = _scrypt(password, salt, params["n"])
    if not hmac.compare_digest(keccak(derived[16:32] + ciphertext), mac):
        raise WrongPassword("wrong password for HPKE keyfile (MAC mismatch, or the file was modified)")
    keypair = keypair_from_private_key(suite, _aes_128_ctr(derived[:16], iv, ciphertext))
    if keyfile["public_key"] != "0x" + keypair.public_key.hex():
        raise KeyfileError("keyfile public key does not match its private key: the file was modified")
    return keypair


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=DKLEN, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(password.encode())


def _aes_128_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES128(key), modes.CTR(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _check_scrypt_n(n: Any, error: type[Exception]) -> None:
    if type(n) is not int or n < 2 or n > MAX_SCRYPT_N or n & (n - 1):
        raise error(f"scrypt n must be a power of two in [2, {MAX_SCRYPT_N}], got {n!r}")


def _expect_fields(obj: Any, expected: set[str], where: str) -> None:
    if not isinstance(obj, Mapping):
        raise KeyfileError(f"{where} must be an object")
    missing, extra = expected - obj.keys(), obj.keys() - expected
    if missing:
        raise KeyfileError(f"{where} is missing field {sorted(missing)[0]!r}")
    if extra:
        raise KeyfileError(f"{where} has unexpected field {sorted(map(str, extra))[0]!r}")


def _hex_field(obj: Mapping[str, Any], name: str, size: int | None) -> bytes:
    try:
        data = bytes.fromhex(obj[name])
    except (KeyError, TypeError, ValueError):  # missing, not a string, not hex
        data = b""
    if not data or (size is not None and len(data) != size):
        expected = f"{size} bytes of hex" if size else "non-empty hex"
        raise KeyfileError(f"keyfile field {name!r} must be {expected}")
    return data
