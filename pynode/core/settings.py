"""Settings shared by the CLI and the daemon.

Precedence: command-line flag > environment (`FABMESH_*`; `ETH_RPC_URL` also
works for the RPC URL, as in foundry) > default. Secrets never come from argv:
the keystore password is read from `FABMESH_PASSWORD_FILE` / `--password-file`
or a hidden prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# the defaults and home paths live beside the CLI's pydantic-free reader of plain inputs (one table, checked
# against these fields by tests/pynode/core/test_plain_settings.py)
from pynode.core.plain_settings import DEFAULT_CONFIRMATIONS, DEFAULT_HOME, DEFAULT_SCRYPT_N, SettingsPaths

__all__ = ["DEFAULT_CONFIRMATIONS", "DEFAULT_SCRYPT_N", "Settings", "WsUrl"]


def _ws_url(value: str) -> str:
    if value != "rpc" and not value.startswith(("ws://", "wss://")):
        raise ValueError(f"{value!r} is not a ws:// or wss:// URL (or \"rpc\": the RPC URL's own port)")
    return value


#: where new heads are pushed (eth_subscribe); "rpc": the RPC URL with ws(s)://, only when asked for
WsUrl = Annotated[str, AfterValidator(_ws_url)]


class Settings(BaseSettings, SettingsPaths):
    model_config = SettingsConfigDict(env_prefix="FABMESH_", extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="keystores, HPKE keys, node state")
    # pydantic-alias: the field's own name is one of the aliases, so Settings(rpc_url=...) works
    rpc_url: str = Field(default="http://127.0.0.1:8545",  # type: ignore[pydantic-alias]
                         validation_alias=AliasChoices("FABMESH_RPC_URL", "ETH_RPC_URL", "rpc_url"))
    ws_url: WsUrl | None = Field(default=None,  # type: ignore[pydantic-alias]
                                 validation_alias=AliasChoices("FABMESH_WS_URL", "ETH_WS_URL", "ws_url"))
    ipfs_api: str = "http://127.0.0.1:5001"
    account: str | None = None
    keystore: Path | None = None
    password_file: Path | None = None
    deployments: Path | None = Field(default=None, description="deployments dir or <chain-id>.json file")
    artifacts: Path | None = Field(default=None,
                                  description="brownie artifacts overriding the packaged ABIs (a dev build)")
    confirmations: int = Field(default=DEFAULT_CONFIRMATIONS, ge=0, le=1000,
                               description="blocks on top before a block is acted on or a tx counts as done")
    ipfs_raw_leaves: bool = Field(default=False, description="add designs and quality reports as Kubo's own "
                                  "`ipfs add --cid-version 1` does: a one-block file is a raw block, bafkrei… "
                                  "(FABMESH_IPFS_RAW_LEAVES)")
    scrypt_n: int = Field(default=DEFAULT_SCRYPT_N, ge=1 << 10, description="scrypt cost for new keystores")
    retry_timeout: float = Field(default=60.0, ge=0, le=3600,
                                 description="seconds a command keeps retrying rate limits and outages before it "
                                             "gives up (FABMESH_RETRY_TIMEOUT)")
    log_batch_size: int = Field(default=2000, ge=1, le=100_000,
                                description="most blocks one eth_getLogs may span (FABMESH_LOG_BATCH_SIZE)")
    protocol: int = Field(default=2, ge=1, le=2, description="the protocol version the commands use: 2 "
                          "(contracts/v2, the <chainId>.v2.json record), or 1 (FABMESH_PROTOCOL)")
