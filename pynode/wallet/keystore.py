"""Web3 Secret Storage v3 keystores, one file per account name.

Files are exactly what eth-account writes (the format geth, foundry and
brownie read), and an imported file is stored byte for byte, so a keystore
moves between those tools and fabmesh unchanged.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from pynode.crypto.errors import KeyfileError, WrongPassword
from pynode.errors import InputError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class UnknownAccount(InputError):
    pass


class AccountExists(InputError):
    pass


@dataclass(frozen=True)
class StoredAccount:
    name: str
    address: str
    path: Path


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise InputError(f"invalid account name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return name


def read_keyfile(path: Path) -> dict:
    """Parses a v3 keystore and checks the fields every v3 reader relies on."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise KeyfileError(f"cannot read keystore {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise KeyfileError(f"{path} is not JSON: {exc}") from exc
    crypto = data.get("crypto") or data.get("Crypto") if isinstance(data, dict) else None
    if not isinstance(crypto, dict) or data.get("version") != 3 or not {"ciphertext", "kdf", "mac"} <= crypto.keys():
        raise KeyfileError(f"{path} is not a version 3 keystore")
    return data


def write_private(path: Path, text: str) -> None:
    """Writes a secret file readable by its owner only, atomically and never over another."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(tmp, path)  # fails if `path` exists: no silent overwrite
    except FileExistsError as exc:
        raise AccountExists(f"{path} already exists") from exc
    finally:
        tmp.unlink()


def unlock_keyfile(path: Path, password: str) -> LocalAccount:
    data = read_keyfile(path)
    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPassword(f"wrong password for keystore {path}") from exc
        raise KeyfileError(f"cannot decrypt {path}: {exc}") from exc
    return Account.from_key(key)


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
            address = read_keyfile(path).get("address", "")
            accounts.append(StoredAccount(path.stem, to_checksum_address(address) if address else "?", path))
        return accounts

    def get(self, name: str) -> StoredAccount:
        path = self._existing(name)
        return StoredAccount(name, to_checksum_address(read_keyfile(path)["address"]), path)

    def create(self, name: str, password: str, private_key: bytes | None = None) -> StoredAccount:
        account = Account.from_key(private_key) if private_key else Account.create()
        keyfile = Account.encrypt(account.key, password, kdf="scrypt", iterations=self.scrypt_n)
        path = self.path_for(name)
        if path.exists():
            raise AccountExists(f"an account named {name!r} already exists")
        write_private(path, json.dumps(keyfile))
        return StoredAccount(name, account.address, path)

    def import_file(self, name: str, source: Path, password: str) -> StoredAccount:
        """Stores a foreign v3 keystore unchanged, after proving the password opens it."""
        account = unlock_keyfile(source, password)
        path = self.path_for(name)
        if path.exists():
            raise AccountExists(f"an account named {name!r} already exists")
        write_private(path, Path(source).read_text())
        return StoredAccount(name, account.address, path)

    def export(self, name: str) -> str:
        return self._existing(name).read_text()

    def delete(self, name: str) -> StoredAccount:
        stored = self.get(name)
        stored.path.unlink()
        return stored

    def unlock(self, name: str, password: str) -> LocalAccount:
        return unlock_keyfile(self._existing(name), password)
