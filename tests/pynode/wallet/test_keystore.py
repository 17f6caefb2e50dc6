"""v3 keystores: our files open in other tools' readers and theirs in ours."""

from __future__ import annotations

import json
import stat

import eth_keyfile.keyfile as eth_keyfile_impl
import pytest
from eth_account import Account

from pynode.crypto.errors import KeyfileError, WrongPassword
from pynode.core.errors import InputError
from pynode.wallet.keystore import AccountExists, Keystore, UnknownAccount, unlock_keyfile

FAST_N = 1 << 10  # tests only: production keystores use n = 2**18


@pytest.fixture
def keystore(tmp_path):
    return Keystore(tmp_path / "keystores", scrypt_n=FAST_N)


def geth_style_keystore(path, key: bytes, password: str) -> None:
    """A keystore with geth's scrypt parameters (r=8, p=1), written by eth-account."""
    saved = eth_keyfile_impl.SCRYPT_R, eth_keyfile_impl.SCRYPT_P
    eth_keyfile_impl.SCRYPT_R, eth_keyfile_impl.SCRYPT_P = 8, 1
    try:
        data = Account.encrypt(key, password, kdf="scrypt", iterations=FAST_N)
    finally:
        eth_keyfile_impl.SCRYPT_R, eth_keyfile_impl.SCRYPT_P = saved
    assert (data["crypto"]["kdfparams"]["r"], data["crypto"]["kdfparams"]["p"]) == (8, 1)
    path.write_text(json.dumps(data))


def test_create_then_unlock(keystore):
    stored = keystore.create("buyer", "pw")
    assert keystore.unlock("buyer", "pw").address == stored.address
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o600
    data = json.loads(stored.path.read_text())
    assert data["version"] == 3 and data["crypto"]["kdf"] == "scrypt"


def test_our_file_opens_in_eth_account_directly(keystore):
    stored = keystore.create("maker", "pw", private_key=b"\x11" * 32)
    assert Account.decrypt(json.loads(stored.path.read_text()), "pw") == b"\x11" * 32


def test_foreign_geth_keystore_imports_unchanged(keystore, tmp_path):
    foreign = tmp_path / "UTC--2026-11-22T00-00-00Z--geth"
    geth_style_keystore(foreign, b"\x22" * 32, "geth-pw")

    stored = keystore.import_file("imported", foreign, "geth-pw")

    assert stored.path.read_bytes() == foreign.read_bytes()
    assert stored.address == Account.from_key(b"\x22" * 32).address
    assert keystore.export("imported") == foreign.read_text()


def test_import_with_wrong_password_stores_nothing(keystore, tmp_path):
    foreign = tmp_path / "foreign.json"
    geth_style_keystore(foreign, b"\x33" * 32, "right")
    with pytest.raises(WrongPassword, match="wrong password"):
        keystore.import_file("x", foreign, "wrong")
    assert keystore.list() == []


def test_wrong_password_is_a_clear_error(keystore):
    keystore.create("buyer", "pw")
    with pytest.raises(WrongPassword, match="wrong password for keystore .*buyer.json"):
        keystore.unlock("buyer", "nope")


def test_existing_name_is_never_overwritten(keystore):
    first = keystore.create("buyer", "pw")
    before = first.path.read_bytes()
    with pytest.raises(AccountExists):
        keystore.create("buyer", "pw")
    assert first.path.read_bytes() == before


@pytest.mark.parametrize("name", ["", "../evil", "a/b", "-lead", "x" * 65, "sp ace"])
def test_bad_names_are_rejected(keystore, name):
    with pytest.raises(InputError, match="invalid account name"):
        keystore.create(name, "pw")


def test_unknown_account(keystore):
    with pytest.raises(UnknownAccount, match="no account named 'ghost'"):
        keystore.unlock("ghost", "pw")


@pytest.mark.parametrize("content, message", [
    ("not json", "invalid JSON"),
    ("[]", "not a version 3 keystore"),
    ('{"version": 1, "crypto": {}}', "not a version 3 keystore"),
    ('{"version": 3}', "not a version 3 keystore"),
])
def test_malformed_keystores(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(KeyfileError, match=message):
        unlock_keyfile(path, "pw")


def test_list_and_delete(keystore):
    a = keystore.create("a", "pw")
    keystore.create("b", "pw")
    assert [(s.name, s.address) for s in keystore.list()][0] == ("a", a.address)
    keystore.delete("a")
    assert [s.name for s in keystore.list()] == ["b"]
