"""Web3 Secret Storage v3 keystores, one file per account name.

Files are exactly what eth-account writes (the format geth, foundry and
brownie read), so a keystore moves between those tools and fabmesh. An imported
file that names its address is stored byte for byte. One that does not (foundry's
`cast wallet new` / `cast wallet import` omit the optional field) gains geth's
`address` field, derived from the key it decrypts to at import, so listing,
`address`, `delete` and `check` never need the password; every v3 reader
ignores or checks that field, so the file still opens in all of them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pynode.core.address import is_address, to_checksum_address
from pynode.core.errors import InputError
from pynode.core.fsutil import FileExists, write_atomic
from pynode.core.strict_json import brief, strict_json_loads
from pynode.crypto.errors import KeyfileError, WrongPassword

if TYPE_CHECKING:  # eth-account is imported by what signs or decrypts: listing accounts and addresses needs none
    from eth_account.signers.local import LocalAccount

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_KEYFILE_BYTES = 64 * 1024
MAX_KDF_WORK = 1 << 24  # scrypt n·r·p or pbkdf2 iterations: 8x geth's default scrypt cost


class UnknownAccount(InputError):
    pass


class AccountExists(InputError):
    pass


class AddressNotRecorded(KeyfileError):
    """A stored keystore names no address (copied in by hand, or imported by an older fabmesh)."""


@dataclass(frozen=True)
class StoredAccount:
    name: str
    address: str
    path: Path


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise InputError(f"invalid account name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return name


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyfileError(f"cannot read keystore {path}: {exc.strerror}") from exc


def read_keyfile(path: Path) -> dict:
    return _parse_keyfile(_read_bytes(path), path)


def _parse_keyfile(text: bytes, path: Path) -> dict:
    """Parses a v3 keystore and checks the fields every v3 reader relies on."""
    data = strict_json_loads(text, str(path), MAX_KEYFILE_BYTES, error=KeyfileError)
    crypto = data.get("crypto") or data.get("Crypto") if isinstance(data, dict) else None
    if not isinstance(crypto, dict) or data.get("version") != 3 or not {"ciphertext", "kdf", "mac"} <= crypto.keys():
        raise KeyfileError(f"{path} is not a version 3 keystore")
    if "kind" in data:  # fabmesh's HPKE keyfiles share the v3 layout; their key is not an Ethereum key
        raise KeyfileError(f"{path} is a {brief(data['kind'])} keyfile, not an Ethereum keystore")
    _check_kdf_cost(crypto.get("kdfparams"), path)
    _address(data, path)
    return data


def _check_kdf_cost(params: object, path: Path) -> None:
    """A file from elsewhere must not make unlocking take minutes or gigabytes (scrypt n·r·p, pbkdf2 c)."""
    if not isinstance(params, dict):
        return  # eth-account refuses it with a typed error
    numbers = [params.get(name, 1) for name in ("n", "r", "p", "c")]
    if not all(type(v) is int and v > 0 for v in numbers):
        raise KeyfileError(f"{path}: kdfparams n, r, p and c must be positive integers")
    n, r, p, c = numbers
    if n * r * p > MAX_KDF_WORK or c > MAX_KDF_WORK:
        raise KeyfileError(f"{path}: key derivation parameters cost more than this node allows")


def _address(keyfile: dict, path: Path) -> str | None:
    """The address a v3 file names (optional in the format), EIP-55; None if absent."""
    value = keyfile.get("address")
    if value is None:
        return None
    if not isinstance(value, str) or not is_address(value):
        raise KeyfileError(f"{path}: its address field {brief(value)} is not an address")
    return to_checksum_address(value)


def write_private(path: Path, text: str, *, replace: bool = False) -> None:
    """Writes a secret file readable by its owner only, atomically and never over another unless `replace`."""
    try:
        write_atomic(path, text, overwrite=replace, dir_mode=0o700)
    except FileExists as exc:
        raise AccountExists(str(exc)) from exc


def unlock_keyfile(path: Path, password: str) -> LocalAccount:
    return _unlock(read_keyfile(path), path, password)


def _unlock(data: dict, path: Path, password: str) -> LocalAccount:
    from eth_account import Account

    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPassword(f"wrong password for keystore {path}") from exc
        raise KeyfileError(f"cannot decrypt {path}: {exc}") from exc
    except (KeyError, TypeError, AttributeError) as exc:  # eth-account indexes the file's fields unchecked
        raise KeyfileError(f"{path} is not a usable v3 keystore: {exc!r}") from exc
    account = Account.from_key(key)
    named = _address(data, path)
    if named is not None and named != account.address:  # the v3 MAC does not cover the IV: an edited IV shows here
        raise KeyfileError(f"{path} decrypts to {account.address}, not the {named} it names: the file was modified")
    return account


def _with_address(keyfile: dict, account: LocalAccount) -> str:
    """The keyfile with the address its key derives, in geth's form (lowercase hex, no 0x)."""
    return json.dumps({**keyfile, "address": account.address[2:].lower()})


class Keystore:
    def __init__(self, directory: Path, scrypt_n: int) -> None:
        self.directory = directory
        self.scrypt_n = scrypt_n

    def path_for(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.json"

    def _existing(self, name: str) -> Path:
        path = self.path_for(name)
        if not path.exists():
            raise UnknownAccount(f"no account named {name!r} in {self.directory}")
        return path

    def list(self) -> list[StoredAccount]:
        accounts = []
        for path in sorted(self.directory.glob("*.json")):
            accounts.append(StoredAccount(path.stem, _address(read_keyfile(path), path) or "?", path))
        return accounts

    def get(self, name: str) -> StoredAccount:
        path = self._existing(name)
        address = _address(read_keyfile(path), path)
        if address is None:
            raise AddressNotRecorded(f"{path} names no address: `fabmesh wallet address {name}` unlocks it once "
                                     "and records it")
        return StoredAccount(name, address, path)

    def create(self, name: str, password: str, private_key: bytes | None = None) -> StoredAccount:
        from eth_account import Account

        account = Account.from_key(private_key) if private_key else Account.create()
        keyfile = Account.encrypt(account.key, password, kdf="scrypt", iterations=self.scrypt_n)
        path = self.path_for(name)
        if path.exists():
            raise AccountExists(f"an account named {name!r} already exists")
        write_private(path, json.dumps(keyfile))
        return StoredAccount(name, account.address, path)

    def import_file(self, name: str, source: Path, password: str) -> StoredAccount:
        """Stores a foreign v3 keystore after proving the password opens it; one without an address
        (foundry's) gains the one its key derives."""
        path = self.path_for(name)
        if path.exists():
            raise AccountExists(f"an account named {name!r} already exists")
        raw = _read_bytes(source)  # read once: what is decrypted is what is stored
        data = _parse_keyfile(raw, source)
        account = _unlock(data, source, password)
        write_private(path, raw.decode() if _address(data, source) else _with_address(data, account))
        return StoredAccount(name, account.address, path)

    def export(self, name: str) -> str:
        return self._existing(name).read_text()

    def delete(self, name: str) -> StoredAccount:
        stored = self.get(name)
        stored.path.unlink()
        return stored

    def unlock(self, name: str, password: str) -> LocalAccount:
        """The account's key; a stored file that names no address gets it recorded now."""
        path = self._existing(name)
        data = read_keyfile(path)
        account = _unlock(data, path, password)
        if _address(data, path) is None:
            write_private(path, _with_address(data, account), replace=True)
        return account
