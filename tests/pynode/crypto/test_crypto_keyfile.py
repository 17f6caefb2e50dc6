"""HPKE keyfiles: v3-compatible password encryption, wrong passwords and edited files are named."""

import json

import eth_keyfile
import pytest

from edits import GONE, mutated
from pynode.crypto import hpke, keyfile
from pynode.crypto.errors import KeyfileError, WrongPassword

PASSWORD = "correct horse battery staple"
TEST_N = 1 << 4  # scrypt cost for tests; one test below uses the default
X25519_PAIR = hpke.generate_keypair()
XWING_PAIR = hpke.generate_keypair(pq=True)
DOCUMENT = keyfile.encrypt_keyfile(X25519_PAIR, PASSWORD, scrypt_n=TEST_N)


@pytest.mark.parametrize("keypair", [X25519_PAIR, XWING_PAIR], ids=["x25519", "xwing"])
def test_roundtrip_through_json(keypair: hpke.HpkeKeyPair) -> None:
    document = json.loads(json.dumps(keyfile.encrypt_keyfile(keypair, PASSWORD, scrypt_n=TEST_N)))
    assert keyfile.decrypt_keyfile(document, PASSWORD) == keypair
    assert document["kind"] == "fabmesh-hpke"
    assert document["version"] == 3
    assert document["suite"] == keypair.suite
    assert document["public_key"] == "0x" + keypair.public_key.hex()
    assert keypair.private_key.hex() not in json.dumps(document)


def test_default_scrypt_cost_roundtrip() -> None:
    document = keyfile.encrypt_keyfile(XWING_PAIR, PASSWORD)
    assert document["crypto"]["kdfparams"] == {**document["crypto"]["kdfparams"], "n": 262144, "r": 8, "p": 1}
    assert keyfile.decrypt_keyfile(document, PASSWORD) == XWING_PAIR


def test_crypto_section_is_web3_secret_storage_v3() -> None:
    """eth-keyfile's own v3 decoder recovers the HPKE private key: same scrypt, AES-128-CTR and keccak MAC."""
    assert eth_keyfile.decode_keyfile_json(DOCUMENT, PASSWORD) == X25519_PAIR.private_key


def test_non_ascii_password_roundtrip() -> None:
    document = keyfile.encrypt_keyfile(X25519_PAIR, "pässwörd 🔑", scrypt_n=TEST_N)
    assert keyfile.decrypt_keyfile(document, "pässwörd 🔑") == X25519_PAIR


def test_wrong_password() -> None:
    with pytest.raises(WrongPassword, match="wrong password") as info:
        keyfile.decrypt_keyfile(DOCUMENT, "Correct horse battery staple")
    assert "\n" not in str(info.value)


def edited(path: tuple[str, ...], value: object) -> dict:
    return mutated(DOCUMENT, (path, value))


def flipped_hex(value: str) -> str:
    return f"{int(value[0], 16) ^ 1:x}" + value[1:]


CRYPTO = DOCUMENT["crypto"]


def case_id(value: object) -> str | None:
    """Test ids that do not depend on the random keys (pytest-xdist workers must collect the same names)."""
    if isinstance(value, tuple):
        return ".".join(value)
    hex_digits = value.removeprefix("0x") if isinstance(value, str) else ""
    return "edited" if len(hex_digits) > 20 and all(c in "0123456789abcdef" for c in hex_digits) else None


@pytest.mark.parametrize(
    "path, value",
    [
        (("crypto", "ciphertext"), flipped_hex(CRYPTO["ciphertext"])),
        (("crypto", "mac"), flipped_hex(CRYPTO["mac"])),
        (("crypto", "kdfparams", "salt"), flipped_hex(CRYPTO["kdfparams"]["salt"])),
        (("crypto", "kdfparams", "n"), TEST_N * 2),
    ],
    ids=case_id,
)
def test_edits_covered_by_the_mac_read_as_wrong_password(path, value) -> None:
    with pytest.raises(WrongPassword):
        keyfile.decrypt_keyfile(edited(path, value), PASSWORD)


@pytest.mark.parametrize(
    "path, value, fragment",
    [
        (("crypto", "cipherparams", "iv"), flipped_hex(CRYPTO["cipherparams"]["iv"]), "does not match its private key"),
        (("public_key",), "0x" + XWING_PAIR.public_key.hex(), "does not match its private key"),
        (("suite",), 2, "does not match its private key"),
        (("suite",), 7, "unknown HPKE suite 7"),
        (("suite",), True, "unknown HPKE suite True"),
        (("kind",), "ethereum", "not an HPKE keyfile"),
        (("version",), 4, "unsupported keyfile version 4"),
        (("crypto", "cipher"), "aes-128-cbc", "unsupported keyfile cipher"),
        (("crypto", "kdf"), "pbkdf2", "unsupported keyfile cipher/kdf"),
        (("crypto", "kdfparams", "n"), 1 << 21, "power of two"),
        (("crypto", "kdfparams", "n"), 1000, "power of two"),
        (("crypto", "kdfparams", "r"), 1, "unsupported scrypt parameters"),
        (("crypto", "ciphertext"), "zz" * 32, "'ciphertext' must be 32 bytes of hex"),
        (("crypto", "ciphertext"), CRYPTO["ciphertext"] + "00", "'ciphertext' must be 32 bytes of hex"),
        (("crypto", "mac"), 7, "'mac' must be 32 bytes of hex"),
        (("crypto", "kdfparams", "salt"), "", "'salt' must be non-empty hex"),
        (("crypto", "mac"), GONE, "missing field 'mac'"),
        (("address",), "0x0", "unexpected field 'address'"),
        (("crypto", "cipherparams"), [], "cipherparams must be an object"),
    ],
    ids=case_id,
)
def test_malformed_or_edited_keyfiles_are_rejected(path, value, fragment: str) -> None:
    with pytest.raises(KeyfileError, match=fragment) as info:
        keyfile.decrypt_keyfile(edited(path, value), PASSWORD)
    assert type(info.value) is KeyfileError
    assert "\n" not in str(info.value)


def test_encrypt_rejects_bad_scrypt_cost() -> None:
    with pytest.raises(ValueError, match="power of two"):
        keyfile.encrypt_keyfile(X25519_PAIR, PASSWORD, scrypt_n=1000)
