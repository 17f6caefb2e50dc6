"""Deploys the contracts to a local chain with the brownie script, scripts/deploy.py.

pynode never imports brownie; this runs brownie as a separate program. Its
`fabmesh-local` network is a live-type network whose host is read from
$FABMESH_RPC_URL when brownie connects, so any local anvil port works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pynode.dev.paths import CHECKOUT
from pynode.errors import FatalError

BROWNIE_NETWORK = "fabmesh-local"
BROWNIE_NETWORK_CONFIG = Path.home() / ".brownie" / "network-config.yaml"


def _brownie(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    brownie = Path(sys.executable).parent / "brownie"
    return subprocess.run([str(brownie), *args], cwd=CHECKOUT, env=env, capture_output=True,
                          text=True, timeout=300)


def ensure_brownie_network(chain_id: int) -> None:
    if BROWNIE_NETWORK_CONFIG.exists() and f"id: {BROWNIE_NETWORK}" in BROWNIE_NETWORK_CONFIG.read_text():
        return
    result = _brownie("networks", "add", "fabmesh", BROWNIE_NETWORK, "host=$FABMESH_RPC_URL",
                      f"chainid={chain_id}", "name=fabmesh local chain at $FABMESH_RPC_URL")
    if result.returncode != 0:
        raise FatalError(f"could not register brownie network {BROWNIE_NETWORK}: {result.stderr.strip()[-300:]}")


def deploy(rpc_url: str, chain_id: int, deployments_dir: Path, extra_env: dict[str, str] | None = None) -> dict:
    """Runs scripts/deploy.py against `rpc_url`; returns the deployments file it wrote."""
    ensure_brownie_network(chain_id)
    env = {**os.environ, **(extra_env or {}), "FABMESH_RPC_URL": rpc_url,
           "FABMESH_DEPLOYMENTS_DIR": str(deployments_dir)}
    result = _brownie("run", "scripts/deploy.py", "--network", BROWNIE_NETWORK, env=env)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-8:]
        raise FatalError("deploy failed: " + " | ".join(tail))
    path = deployments_dir / f"{chain_id}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FatalError(f"deploy did not write {path}: {exc}") from exc
