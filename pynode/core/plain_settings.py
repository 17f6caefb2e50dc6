"""The CLI's settings without pydantic's import, when every input given is plain.

`Settings` (pynode/core/settings.py, pydantic-settings) defines the settings; importing it costs a read
command a fifth of its start-up (bench/cli_bench.py). :func:`plain_settings` reads the same inputs (flags over
the environment, FABMESH_* and the aliases, names in any case, over the defaults) when each one present is
plain — any string or path, a decimal number within Settings' bounds, true/false/1/0, no WebSocket URL — and
returns None for anything else, so that Settings parses it and reports its error as before.
tests/pynode/core/test_plain_settings.py holds the table below to Settings' fields and both to the same values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_HOME = Path.home() / ".fabmesh"
DEFAULT_SCRYPT_N = 1 << 18  # geth/foundry/brownie default for v3 keystores
#: two blocks on top: survives the one-block reorgs that proof-of-stake chains and L2 sequencers still show
DEFAULT_CONFIRMATIONS = 2

#: field -> (kind, default, lowest, highest); the env names are FABMESH_<FIELD> unless ENV_NAMES says otherwise
FIELDS: dict[str, tuple[str, Any, float | None, float | None]] = {
    "home": ("path", DEFAULT_HOME, None, None),
    "rpc_url": ("str", "http://127.0.0.1:8545", None, None),
    "ws_url": ("ws", None, None, None),
    "ipfs_api": ("str", "http://127.0.0.1:5001", None, None),
    "account": ("str", None, None, None),
    "keystore": ("path", None, None, None),
    "password_file": ("path", None, None, None),
    "deployments": ("path", None, None, None),
    "artifacts": ("path", None, None, None),
    "confirmations": ("int", DEFAULT_CONFIRMATIONS, 0, 1000),
    "ipfs_raw_leaves": ("bool", False, None, None),
    "scrypt_n": ("int", DEFAULT_SCRYPT_N, 1 << 10, None),
    "retry_timeout": ("float", 60.0, 0, 3600),
    "log_batch_size": ("int", 2000, 1, 100_000),
    "protocol": ("int", 2, 1, 2),
}
#: the aliases, in the order Settings tries them (the field's own name is one, as an env name too)
ENV_NAMES = {"rpc_url": ("fabmesh_rpc_url", "eth_rpc_url", "rpc_url"),
             "ws_url": ("fabmesh_ws_url", "eth_ws_url", "ws_url")}
_INT = re.compile(r"[0-9]{1,18}", re.ASCII)
_FLOAT = re.compile(r"[0-9]{1,18}(\.[0-9]{1,18})?", re.ASCII)
_BOOLS = {"true": True, "1": True, "false": False, "0": False}


class SettingsPaths:
    """Where the home keeps things (Settings' and PlainSettings' alike)."""

    home: Path

    @property
    def keystores_dir(self) -> Path:
        return self.home / "keystores"

    @property
    def hpke_dir(self) -> Path:
        return self.home / "hpke"


@dataclass(frozen=True)
class PlainSettings(SettingsPaths):
    home: Path
    rpc_url: str
    ws_url: str | None
    ipfs_api: str
    account: str | None
    keystore: Path | None
    password_file: Path | None
    deployments: Path | None
    artifacts: Path | None
    confirmations: int
    ipfs_raw_leaves: bool
    scrypt_n: int
    retry_timeout: float
    log_batch_size: int
    protocol: int


def plain_settings(flags: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> PlainSettings | None:
    """The settings from ``flags`` (field -> value) and ``environ`` (default: os.environ), or None when an input
    needs Settings' own parsing."""
    env = _lowercased(os.environ if environ is None else environ)
    if env is None:
        return None
    values: dict[str, Any] = {}
    for name, (kind, default, low, high) in FIELDS.items():
        if name in flags:
            value = _flag(kind, flags[name], low, high)
        else:
            found = next((env[key] for key in ENV_NAMES.get(name, (f"fabmesh_{name}",)) if key in env), None)
            value = default if found is None else _parsed(kind, found, low, high)
        if value is _NOT_PLAIN:
            return None
        values[name] = value
    return PlainSettings(**values)


_NOT_PLAIN = object()


def _lowercased(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The environment as Settings reads it (names in any case); None if two names differ only by case."""
    wanted = {"fabmesh_" + name for name in FIELDS} | {key for keys in ENV_NAMES.values() for key in keys}
    found: dict[str, str] = {}
    for key, value in environ.items():
        lower = key.lower()
        if lower in wanted:
            if lower in found:
                return None
            found[lower] = value
    return found


def _flag(kind: str, value: Any, low: float | None, high: float | None) -> Any:
    if (kind == "str" and type(value) is str) or (kind == "path" and isinstance(value, Path)):
        return value
    if kind == "int" and type(value) is int and (low is None or value >= low) and (high is None or value <= high):
        return value  # --protocol, an int click has parsed
    return _NOT_PLAIN


def _parsed(kind: str, text: str, low: float | None, high: float | None) -> Any:
    if kind == "str":
        return text
    if kind == "path":
        return Path(text)
    if kind == "bool":
        return _BOOLS.get(text.lower(), _NOT_PLAIN)
    if (kind == "int" and _INT.fullmatch(text)) or (kind == "float" and _FLOAT.fullmatch(text)):
        number = int(text) if kind == "int" else float(text)
        if (low is None or number >= low) and (high is None or number <= high):
            return number
    return _NOT_PLAIN  # out of bounds, another number form, a WebSocket URL (checked by Settings)
