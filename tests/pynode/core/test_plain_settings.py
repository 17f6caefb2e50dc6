"""plain_settings (the CLI's settings without pydantic's import) reads what Settings reads, and leaves to Settings
every input it would not read the same way."""

from __future__ import annotations

import os
from pathlib import Path
from typing import get_args

import pytest
from annotated_types import Ge, Le
from pydantic import ValidationError

from pynode.core.plain_settings import ENV_NAMES, FIELDS, PlainSettings, plain_settings
from pynode.core.settings import Settings

KINDS = {str: "str", Path: "path", int: "int", float: "float", bool: "bool"}


def test_the_table_is_settings_fields() -> None:
    assert list(FIELDS) == list(Settings.model_fields) == list(PlainSettings.__dataclass_fields__)
    for name, field in Settings.model_fields.items():
        kind, default, low, high = FIELDS[name]
        assert default == field.default, name
        bounds = {type(m): m for m in field.metadata}
        assert (low, high) == (getattr(bounds.get(Ge), "ge", None), getattr(bounds.get(Le), "le", None)), name
        types = [t for t in get_args(field.annotation) if t is not type(None)] or [field.annotation]
        assert kind == ("ws" if name == "ws_url" else KINDS[types[0]]), name
        aliases = field.validation_alias.choices if field.validation_alias else [f"FABMESH_{name}"]  # type: ignore[union-attr]
        assert [str(a).lower() for a in aliases] == list(ENV_NAMES.get(name, (f"fabmesh_{name}",))), name


def settings_from(environ: dict[str, str], flags: dict) -> Settings | str:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        return Settings(**flags)
    except ValidationError as exc:
        return f"refused: {exc.error_count()} errors"
    finally:
        os.environ.clear()
        os.environ.update(saved)


CASES = [
    ({}, {}),
    ({"FABMESH_HOME": "/tmp/h", "FABMESH_RPC_URL": "http://127.0.0.1:1", "FABMESH_CONFIRMATIONS": "0",
      "FABMESH_RETRY_TIMEOUT": "0", "FABMESH_DEPLOYMENTS": "/tmp/d", "FABMESH_IPFS_API": "http://127.0.0.1:2"}, {}),
    ({"ETH_RPC_URL": "http://a"}, {}), ({"ETH_RPC_URL": "http://a", "FABMESH_RPC_URL": "http://b"}, {}),
    ({"rpc_url": "http://lower"}, {}), ({"fabmesh_home": "rel/home"}, {}), ({"FABMESH_HOME": ""}, {}),
    ({"FABMESH_RPC_URL": "http://env"}, {"rpc_url": "http://flag", "keystore": Path("k.json")}),
    ({"FABMESH_ACCOUNT": "alice", "FABMESH_PASSWORD_FILE": "pw"}, {"account": "bob"}),
    ({"FABMESH_CONFIRMATIONS": "1000", "FABMESH_SCRYPT_N": "1024", "FABMESH_LOG_BATCH_SIZE": "100000",
      "FABMESH_RETRY_TIMEOUT": "3600.0", "FABMESH_IPFS_RAW_LEAVES": "TRUE"}, {}),
    ({"FABMESH_IPFS_RAW_LEAVES": "0", "FABMESH_RETRY_TIMEOUT": "0.5", "FABMESH_CONFIRMATIONS": "007"}, {}),
    # Settings' own business: refused, or read in forms the plain reader leaves alone
    ({"FABMESH_CONFIRMATIONS": "1001"}, {}), ({"FABMESH_CONFIRMATIONS": "-1"}, {}),
    ({"FABMESH_CONFIRMATIONS": "two"}, {}), ({"FABMESH_CONFIRMATIONS": " 3"}, {}),
    ({"FABMESH_CONFIRMATIONS": "1_0"}, {}), ({"FABMESH_SCRYPT_N": "1023"}, {}),
    ({"FABMESH_RETRY_TIMEOUT": "1e2"}, {}), ({"FABMESH_RETRY_TIMEOUT": "inf"}, {}),
    ({"FABMESH_IPFS_RAW_LEAVES": "yes"}, {}), ({"FABMESH_IPFS_RAW_LEAVES": "maybe"}, {}),
    ({"FABMESH_WS_URL": "ws://127.0.0.1:8546"}, {}), ({"FABMESH_WS_URL": "http://x"}, {}),
    ({"FABMESH_HOME": "/a", "fabmesh_home": "/b"}, {}), ({"FABMESH_LOG_BATCH_SIZE": "0"}, {}),
    ({"FABMESH_UNRELATED": "x", "HOME": "/elsewhere"}, {}),
]


@pytest.mark.parametrize(("environ", "flags"), CASES)
def test_plain_inputs_read_as_settings_reads_them(environ: dict[str, str], flags: dict) -> None:
    expected = settings_from(environ, flags)
    plain = plain_settings(flags, environ)
    if plain is None:  # left to Settings: only inputs it refuses or reads in a form not plain here
        assert any(key.lower() in {"fabmesh_" + n for n in FIELDS} | {"fabmesh_ws_url"} for key in environ)
        return
    assert isinstance(expected, Settings), expected  # never accepted here what Settings refuses
    assert {name: getattr(plain, name) for name in FIELDS} == expected.model_dump()
    assert (plain.keystores_dir, plain.hpke_dir) == (expected.keystores_dir, expected.hpke_dir)


def test_the_plain_reader_takes_the_common_inputs() -> None:
    """What the CLI, the bench and a user's shell pass is read without Settings."""
    assert plain_settings({}, CASES[1][0]) is not None
    assert plain_settings({"rpc_url": "http://x", "password_file": Path("pw")}, {"ETH_RPC_URL": "http://y"}) is not None
    assert plain_settings({"keystore": "k.json"}, {}) is None  # a flag of another type: Settings converts it
