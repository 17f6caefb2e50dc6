"""Each account's HPKE key pairs, encrypted at rest beside its keystore.

A partner that rotates its key still has jobs whose envelopes were sealed to
the old one, so every key pair is kept, named by its key id, and `current`
names the one published on chain.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from pynode.core.errors import InputError
from pynode.core.fsutil import write_atomic
from pynode.core.strict_json import strict_json_loads
from pynode.crypto.errors import KeyfileError
from pynode.crypto.hpke import HpkeKeyPair, HpkeSuite, generate_keypair, suite_from_id
from pynode.crypto.keyfile import decrypt_keyfile, encrypt_keyfile
from pynode.wallet.keystore import MAX_KEYFILE_BYTES, check_name, write_private

_KEY_ID = re.compile(r"^[0-9a-f]{64}$")


class MissingHpkeKey(InputError):
    pass


class HpkeKeyStore:
    def __init__(self, directory: Path, scrypt_n: int) -> None:
        self.directory = directory
        self.scrypt_n = scrypt_n

    def _dir(self, name: str) -> Path:
        return self.directory / check_name(name)

    def exists(self, name: str) -> bool:
        return (self._dir(name) / "current").exists()

    def create(self, name: str, password: str, *, pq: bool) -> HpkeKeyPair:
        """A new key pair that becomes current; older ones stay for open jobs."""
        keypair = generate_keypair(pq=pq)
        key_id = keypair.key_id.hex()
        write_private(self._dir(name) / f"{key_id}.json",
                      json.dumps(encrypt_keyfile(keypair, password, scrypt_n=self.scrypt_n)))
        current = self._dir(name) / "current"
        write_atomic(current, key_id)
        return keypair

    def current_key_id(self, name: str) -> str:
        try:
            key_id = (self._dir(name) / "current").read_text().strip()
        except FileNotFoundError as exc:
            raise MissingHpkeKey(f"account {name!r} has no HPKE key: create one with "
                                 f"`fabmesh wallet hpke-new {name}`") from exc
        if not _KEY_ID.match(key_id):
            raise InputError(f"corrupt HPKE key pointer for {name!r}: {key_id[:80]!r}")
        return key_id

    def key_ids(self, name: str) -> list[str]:
        return sorted(p.stem for p in self._dir(name).glob("*.json") if _KEY_ID.match(p.stem))

    def _read(self, name: str, key_id: str) -> dict:
        path = self._dir(name) / f"{key_id}.json"
        try:
            text = path.read_bytes()
        except FileNotFoundError as exc:
            raise MissingHpkeKey(f"account {name!r} holds no HPKE key with id 0x{key_id}") from exc
        except OSError as exc:
            raise KeyfileError(f"cannot read HPKE keyfile {path}: {exc.strerror}") from exc
        return strict_json_loads(text, str(path), MAX_KEYFILE_BYTES, error=KeyfileError)

    def public_key(self, name: str, key_id: str | None = None) -> tuple[HpkeSuite, bytes]:
        """Readable without the password: the public half is stored in clear."""
        data = self._read(name, key_id or self.current_key_id(name))
        try:
            return suite_from_id(data["suite"]), bytes.fromhex(data["public_key"].removeprefix("0x"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"malformed HPKE keyfile for {name!r}: {exc}") from exc

    def unlock(self, name: str, password: str, key_id: str | None = None) -> HpkeKeyPair:
        return decrypt_keyfile(self._read(name, key_id or self.current_key_id(name)), password)

    def delete(self, name: str) -> None:
        shutil.rmtree(self._dir(name), ignore_errors=True)
