"""Deploys the contracts to a local chain with the brownie script, scripts/deploy.py.

pynode never imports brownie; this runs brownie as a separate program. brownie
attaches to an already running local chain when its development network's
port answers, and then neither launches nor kills one, keeps no deployment
artifacts and skips the live-network code paths that crash in 1.22.2. So a
`fabmesh-local` development network is kept in brownie's network config with
the port of the chain being deployed to, under a lock, as brownie only reads
the port from that file.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from pynode.dev.paths import CHECKOUT
from pynode.core.errors import FatalError

BROWNIE_NETWORK = "fabmesh-local"
BROWNIE_DIR = Path.home() / ".brownie"
NETWORK_CONFIG = BROWNIE_DIR / "network-config.yaml"


def _brownie(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    brownie = Path(sys.executable).parent / "brownie"
    return subprocess.run([str(brownie), *args], cwd=CHECKOUT, env=env, capture_output=True,
                          text=True, timeout=300)


@contextmanager
def _network_config_lock():
    BROWNIE_DIR.mkdir(exist_ok=True)
    with open(BROWNIE_DIR / ".fabmesh-network.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _point_brownie_at(port: int) -> None:
    if not NETWORK_CONFIG.exists():
        _brownie("networks", "list")  # brownie writes its default config on first use
    config = yaml.safe_load(NETWORK_CONFIG.read_text())
    for group in config.get("live", []):  # an id must be unique across live and development
        group["networks"] = [n for n in group.get("networks", []) if n.get("id") != BROWNIE_NETWORK]
    config["live"] = [g for g in config.get("live", []) if g["networks"]]
    development = [n for n in config.setdefault("development", []) if n.get("id") != BROWNIE_NETWORK]
    development.append({"name": "fabmesh local anvil (attach only)", "id": BROWNIE_NETWORK, "cmd": "anvil",
                        "host": "http://127.0.0.1", "cmd_settings": {"port": port}})
    config["development"] = development
    NETWORK_CONFIG.write_text(yaml.safe_dump(config, sort_keys=False))


def deploy(rpc_url: str, chain_id: int, deployments_dir: Path, extra_env: dict[str, str] | None = None) -> dict:
    """Runs scripts/deploy.py against the local chain at `rpc_url`; returns the deployments file it wrote."""
    url = urlsplit(rpc_url)
    if url.hostname not in ("127.0.0.1", "localhost") or not url.port:
        raise FatalError(f"local deploys go to a loopback chain, not {rpc_url}: use `brownie run scripts/deploy.py`")
    env = {**os.environ, **(extra_env or {}), "FABMESH_DEPLOYMENTS_DIR": str(deployments_dir)}
    with _network_config_lock():
        _point_brownie_at(url.port)
        result = _brownie("run", "scripts/deploy.py", "--network", BROWNIE_NETWORK, env=env)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-8:]
        raise FatalError("deploy failed: " + " | ".join(tail))
    path = deployments_dir / f"{chain_id}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FatalError(f"deploy did not write {path}: {exc}") from exc
