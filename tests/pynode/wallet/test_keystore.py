"""v3 keystores: our files open in other tools' readers and theirs in ours."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import eth_keyfile.keyfile as eth_keyfile_impl
import pytest
from eth_account import Account

from pynode.core.errors import InputError
from pynode.crypto.errors import KeyfileError, WrongPassword
from pynode.wallet.keystore import AccountExists, AddressNotRecorded, Keystore, UnknownAccount, unlock_keyfile

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
    with pytest.raises(WrongPassword, match=r"wrong password for keystore .*buyer\.json"):
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
    assert next((s.name, s.address) for s in keystore.list()) == ("a", a.address)
    keystore.delete("a")
    assert [s.name for s in keystore.list()] == ["b"]


FIXTURES = Path(__file__).parent / "fixtures"
FOUNDRY_PW = "foundry pw"
FOUNDRY_IMPORTED = Account.from_key(bytes([0xA5] * 32)).address  # the key given to `cast wallet import`
FOUNDRY_NEW = "0xA4D63758d6ec94BA679e7BFE37cf9B03DB850db5"  # what `cast wallet new` printed


@pytest.mark.parametrize("fixture, address", [("foundry-imported.json", FOUNDRY_IMPORTED),
                                              ("foundry-new.json", FOUNDRY_NEW)])
def test_foundry_keystore_imports_with_its_address_recorded(keystore, fixture, address):
    source = FIXTURES / fixture
    original = json.loads(source.read_text())
    assert "address" not in original  # what cast writes

    stored = keystore.import_file("forge", source, FOUNDRY_PW)

    assert stored.address == address
    saved = json.loads(stored.path.read_text())
    assert saved == {**original, "address": address[2:].lower()}  # geth's form; nothing else changes
    assert keystore.get("forge").address == address
    assert [(s.name, s.address) for s in keystore.list()] == [("forge", address)]
    assert keystore.unlock("forge", FOUNDRY_PW).address == address
    assert Account.decrypt(saved, FOUNDRY_PW) == Account.decrypt(original, FOUNDRY_PW)  # still any v3 reader's
    assert keystore.delete("forge").address == address and keystore.list() == []


def test_foundry_keystore_wrong_password_stores_nothing(keystore):
    with pytest.raises(WrongPassword, match="wrong password"):
        keystore.import_file("forge", FIXTURES / "foundry-new.json", "not it")
    assert not keystore.directory.exists() or list(keystore.directory.iterdir()) == []


def test_recorded_address_that_disagrees_with_the_key_is_refused(keystore, tmp_path):
    forged = tmp_path / "forged.json"
    data = json.loads((FIXTURES / "foundry-new.json").read_text())
    forged.write_text(json.dumps({**data, "address": FOUNDRY_IMPORTED[2:].lower()}))
    with pytest.raises(KeyfileError, match=f"decrypts to {FOUNDRY_NEW}, not the {FOUNDRY_IMPORTED} it names"):
        keystore.import_file("forge", forged, FOUNDRY_PW)
    assert not keystore.path_for("forge").exists()


@pytest.mark.parametrize("value", ["zz", 42, "0x" + "ab" * 19])
def test_address_field_that_is_no_address_is_refused(keystore, tmp_path, value):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads((FIXTURES / "foundry-new.json").read_text()), "address": value}))
    with pytest.raises(KeyfileError, match=r"address field .* is not an address"):
        keystore.import_file("forge", bad, FOUNDRY_PW)
    assert not keystore.path_for("forge").exists()


def test_corrupt_file_import_stores_nothing(keystore, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text((FIXTURES / "foundry-new.json").read_text()[:-20])
    with pytest.raises(KeyfileError, match="invalid JSON"):
        keystore.import_file("forge", bad, FOUNDRY_PW)
    assert not keystore.path_for("forge").exists()


def test_addressless_file_put_in_by_hand_gets_its_address_at_first_unlock(keystore):
    path = keystore.path_for("legacy")  # as an older fabmesh imported foundry files: byte for byte
    path.parent.mkdir(parents=True)
    path.write_bytes((FIXTURES / "foundry-new.json").read_bytes())
    with pytest.raises(AddressNotRecorded, match="`fabmesh wallet address legacy` unlocks it once"):
        keystore.get("legacy")
    assert keystore.list()[0].address == "?"

    assert keystore.unlock("legacy", FOUNDRY_PW).address == FOUNDRY_NEW

    assert keystore.get("legacy").address == FOUNDRY_NEW
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
