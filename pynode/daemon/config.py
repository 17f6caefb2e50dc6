"""Node configuration: a TOML file, overridden by ``FABMESH_*`` environment variables.

Precedence: environment > TOML file > defaults. Nested keys use ``__`` in
the environment: ``FABMESH_POLICY__MIN_PRICE_WEI=5`` overrides
``[policy] min_price_wei``; lists are JSON: ``FABMESH_RPC_URLS='["http://a", "http://b"]'``.
Relative paths in the TOML file are relative to the file's folder (so a
config and its work dir can move together); relative paths from the
environment are relative to the current directory.

Every problem is one line naming the file and the key:
``node.toml: policy.min_price_wei: Input should be greater than or equal to 0``.
See ``node.example.toml`` beside this module for every key, documented. The buyer watcher's
``watch.toml`` (:class:`WatchConfig`, ``watch.example.toml``: its v2 ``[award]`` table) loads the same way.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Self

from eth_utils import is_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from pynode.core.errors import InputError
from pynode.core.settings import DEFAULT_CONFIRMATIONS, WsUrl
from pynode.core.strict_json import document_text
from pynode.daemon.adapters.hotfolder import HotfolderSettings
from pynode.daemon.adapters.octoprint import OctoprintSettings
from pynode.daemon.adapters.opcua import OpcuaSettings
from pynode.daemon.adapters.simulated import SimulatedSettings
from pynode.documents.validation import dotted, first_error
from pynode.orders.award_policy import AwardSettings
from pynode.orders.quote_settings import QuoteSettings
from pynode.orders.v2.settings import WatchLoopSettings

ENV_PREFIX = "FABMESH_"
ENV_NESTED = "__"
MAX_UINT256 = (1 << 256) - 1
MAX_CONFIG_BYTES = 1 << 20
#: a plain int, not Literal[1, 2]: FABMESH_PROTOCOL=2 arrives as the string "2", which Literal refuses
ProtocolVersion = Annotated[int, Field(ge=1, le=2)]


def _checksummed(value: str) -> str:
    if not is_address(value):
        raise ValueError(f"{value!r} is not a 0x address")
    return to_checksum_address(value)


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://", "ws://", "wss://")):
        raise ValueError(f"{value!r} is not an http(s) or ws(s) URL")
    return value


Address = Annotated[str, AfterValidator(_checksummed)]
Url = Annotated[str, AfterValidator(_http_url)]
Wei = Annotated[int, Field(ge=0, le=MAX_UINT256)]


class Policy(BaseModel):
    """Which orders this node claims. Empty process/material lists accept none (explicit opt-in)."""

    model_config = ConfigDict(extra="forbid")

    processes: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)
    region_prefix: str = Field(default="", max_length=8, description="order region must start with this")
    min_price_wei: Wei = 0
    max_concurrent_jobs: int = Field(default=1, ge=1, le=10_000)
    max_claim_bond_wei: Wei | None = Field(default=None, description="None: any bond")
    tokens: list[Address] = Field(default_factory=list, description="payment tokens accepted; empty: any")
    max_arbitration_fee_wei: Wei | None = Field(default=None, description="v2: the largest buyer's arbitration "
                                                "deposit the node matches in a dispute; None: any")


Production = Annotated[SimulatedSettings | HotfolderSettings | OpcuaSettings | OctoprintSettings,
                       Field(discriminator="adapter")]


class TomlConfig(BaseSettings):
    """A TOML file under the ``FABMESH_*`` environment: the node's (node.toml) or the buyer watcher's (watch.toml)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTED, extra="forbid",
                                      case_sensitive=False)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # env first: it wins over the TOML values, which come in as init kwargs
        return env_settings, init_settings

    @classmethod
    def load(cls, path: Path | str) -> Self:
        """Reads ``path`` and the environment; InputError with one line on any problem."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{path}: config file not found") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read the config file: {exc.strerror}") from None
        try:
            data = tomllib.loads(document_text(raw, str(path), MAX_CONFIG_BYTES))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: invalid TOML: {exc}") from None
        except RecursionError:
            raise InputError(f"{path}: invalid TOML: nested too deeply") from None
        # pydantic-settings takes `_env_prefix=`, `_cli_parse_args=`… as keyword arguments: never from the file
        hidden = sorted(key for key in data if key.startswith("_"))
        if hidden:
            raise InputError(f"{path}: {hidden[0]}: Extra inputs are not permitted")
        data = _resolve_paths(data, path.parent.resolve(), path)
        try:
            return cls(**data)
        except ValidationError as exc:
            raise InputError(_one_line(exc, path)) from None
        except SettingsError as exc:  # an environment variable that should hold JSON does not
            raise InputError(f"{path}: {exc}: lists and tables in {ENV_PREFIX}* variables are JSON") from None
        except RecursionError:
            raise InputError(f"{path}: a value (from the file or a {ENV_PREFIX}* variable) is nested too deeply") \
                from None


class NodeConfig(TomlConfig):
    """node.toml: the manufacturer daemon (``fabmesh node run``)."""

    protocol: ProtocolVersion = Field(default=2, description="2: quote orders (v2 contracts); 1: claim them (v1)")
    account: str | None = Field(default=None, description="wallet account name (keystore in the wallet dir)")
    keystore: Path | None = Field(default=None, description="keystore file; overrides account")
    password_file: Path | None = None
    home: Path | None = Field(default=None, description="wallet dir (keystores/, hpke/); None: ~/.fabmesh")
    hpke_key: str | None = Field(default=None, description="HPKE key name in the wallet; None: the account name")
    rpc_urls: list[Url] = Field(default_factory=lambda: ["http://127.0.0.1:8545"], min_length=1)
    ws_url: WsUrl | None = Field(default=None, description="eth_subscribe newHeads here to act on a block at once "
                                 "(ws:// or wss://; \"rpc\": the RPC URL's own port); None: poll only")
    ipfs_api: Url = "http://127.0.0.1:5001"
    ipfs_raw_leaves: bool = Field(default=False, description="pin reports as `ipfs add --cid-version 1` does")
    confirmations: int = Field(default=DEFAULT_CONFIRMATIONS, ge=0, le=1000,
                               description="blocks on top of a block before the node acts on it")
    poll_interval_s: float = Field(default=5.0, gt=0, le=3600)
    log_batch_size: int = Field(default=2000, ge=1, le=1_000_000)
    tx_replace_after_s: float = Field(default=30.0, gt=0, le=86400, description="re-sign a pending tx with +25% fees")
    start_block: int | None = Field(default=None, ge=0, description="None: the deployment's block")
    deployments: Path | None = Field(default=None, description="deployments dir or <chain-id>.json")
    artifacts: Path | None = Field(default=None, description="brownie artifacts overriding the packaged ABIs")
    work_dir: Path = Field(default=Path.home() / ".fabmesh" / "node")
    metrics_port: int = Field(default=0, ge=0, le=65535, description="0: no metrics server")
    policy: Policy = Field(default_factory=Policy)
    production: Production = Field(default_factory=SimulatedSettings)
    quote: QuoteSettings = Field(default_factory=QuoteSettings, description="v2: how the node prices quotes")


class WatchConfig(TomlConfig):
    """watch.toml: the buyer's order watcher (``fabmesh node watch-orders``); ``protocol = 2`` (the default) runs the
    v2 watcher (pynode/orders/v2/watch.py), which awards quotes by ``[award]`` and acts by ``[watch]``;
    ``protocol = 1`` v1's (pynode/orders/watch.py)."""

    protocol: ProtocolVersion = 2
    award: AwardSettings = Field(default_factory=AwardSettings)
    watch: WatchLoopSettings = Field(default_factory=WatchLoopSettings)


_PATH_KEYS = {("keystore",), ("password_file",), ("home",), ("deployments",), ("artifacts",), ("work_dir",),
              ("production", "inbox"), ("production", "outbox"), ("production", "password_file"),
              ("production", "certificate_file"), ("production", "private_key_file"),
              ("production", "server_certificate_file"), ("production", "slicer", "profile")}


def _resolve_paths(data: dict[str, Any], base: Path, source: Path) -> dict[str, Any]:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for keys in _PATH_KEYS:
        holder = data
        for key in keys[:-1]:
            nested = holder.get(key)
            holder = nested if isinstance(nested, dict) else {}
        _resolve_path(holder, keys[-1], base, source, ".".join(keys))
    production = data.get("production")
    if isinstance(production, dict) and isinstance(production.get("printers"), list):  # octoprint's key files
        production["printers"] = [dict(p) if isinstance(p, dict) else p for p in production["printers"]]
        for index, printer in enumerate(production["printers"]):
            if isinstance(printer, dict):
                _resolve_path(printer, "api_key_file", base, source, f"production.printers.{index}.api_key_file")
    return data


def _resolve_path(holder: dict[str, Any], key: str, base: Path, source: Path, name: str) -> None:
    value = holder.get(key)
    if isinstance(value, str) and value:
        if "\x00" in value:
            raise InputError(f"{source}: {name}: a path cannot contain a NUL character")
        try:
            expanded = Path(value).expanduser()
        except RuntimeError as exc:  # ~user that does not exist
            raise InputError(f"{source}: {name}: cannot expand {value!r}: {exc}") from None
        holder[key] = str(expanded if expanded.is_absolute() else base / expanded)


def _one_line(exc: ValidationError, path: Path) -> str:
    first, more = first_error(exc)
    loc = [str(part) for part in first["loc"]]
    # discriminated unions put the tag in the location: production.simulated.defect_rate -> production.defect_rate
    if len(loc) >= 2 and loc[0] == "production" and loc[1] in ("simulated", "hotfolder", "opcua", "octoprint"):
        loc = [loc[0], *loc[2:]]
    key = dotted(loc) or "(file)"
    env_name = ENV_PREFIX + ENV_NESTED.join(part.upper() for part in loc)
    source = f" (from ${env_name})" if loc and env_name in {k.upper() for k in os.environ} else ""
    message = first["msg"]
    if first["type"] == "union_tag_invalid":
        message = f"unknown adapter {first['input'].get('adapter')!r}: choose simulated, hotfolder, opcua or " \
            "octoprint" if isinstance(first.get("input"), dict) else message
    return f"{path}: {key}{source}: {message}{more}"
