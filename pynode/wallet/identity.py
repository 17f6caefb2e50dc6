"""What a node signs and decrypts with: its account and every HPKE key pair, unlocked once at start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from pynode.core.errors import FatalError, InputError
from pynode.crypto.hpke import HpkeKeyPair
from pynode.wallet.hpke_keys import HpkeKeyStore
from pynode.wallet.keystore import Keystore, unlock_keyfile
from pynode.wallet.password import read_password


@dataclass
class Identity:
    account: LocalAccount
    hpke_keys: dict[str, HpkeKeyPair]


def unlock_identity(home: Path, *, password_file: Path | None, keystore: Path | None, account: str | None,
                    hpke_key: str | None) -> Identity:
    """The account (a keystore file, or ``account`` in ``home``) and the HPKE key pairs named ``hpke_key`` (or
    ``account``); FatalError if anything is missing or unreadable: a daemon cannot prompt."""
    try:
        if password_file is None:
            raise InputError("no password_file in the config (or FABMESH_PASSWORD_FILE): the node cannot prompt")
        password = read_password(password_file)
        if keystore is not None:
            signer = unlock_keyfile(Path(keystore), password)
        elif account:
            signer = Keystore(home / "keystores", 1 << 10).unlock(account, password)
        else:
            raise InputError("no account or keystore in the config")
        name = hpke_key or account
        if not name:
            raise InputError("no hpke_key in the config (needed with a keystore file)")
        store = HpkeKeyStore(home / "hpke", 1 << 10)
        keys = {key_id: store.unlock(name, password, key_id) for key_id in store.key_ids(name)}
        if not keys:
            raise InputError(f"no HPKE key pairs for {name!r} in {home / 'hpke'}")
    except FatalError:
        raise
    except Exception as exc:  # any failure to unlock is fatal at start
        raise FatalError(f"cannot unlock the node's keys: {exc}") from exc
    return Identity(signer, keys)
