"""`fabmesh dev up|down|status`: a local network that outlives the command that started it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pynode.core.errors import InputError
from pynode.dev.process import signal_group, stop_group

#: the organizations of a local network (the demo's cast), one Kubo node each
ORGANIZATIONS = ["buyer", "fdm-farm", "cnc-shop", "laser-shop", "inspector", "auditor"]

STATE_FILE = "state.json"


def _state_path(workdir: Path) -> Path:
    return workdir / STATE_FILE


def read_state(workdir: Path) -> dict | None:
    path = _state_path(workdir)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise InputError(f"{path} is corrupt ({exc}); remove it after stopping any leftover processes") from exc


def _alive(state: dict) -> dict[str, bool]:
    return {name: signal_group(pgid, 0) for name, pgid in state["process_groups"].items()}


def up(workdir: Path, organizations: list[str], block_time: float | None = None, protocol: int = 2) -> dict:
    state = read_state(workdir)
    if state is not None and any(_alive(state).values()):
        raise InputError(f"a local network is already running in {workdir}: `fabmesh dev down` first")
    from pynode.dev.network import LocalNetwork  # anvil, Kubo and the deploy: `dev status` and `down` need none

    net = LocalNetwork(workdir, organizations, block_time=block_time, detached=True, protocol=protocol).start()
    state = {
        "rpc_url": net.anvil.rpc_url,
        "chain_id": net.anvil.chain_id,
        "deployments": str(workdir / "deployments"),
        "protocol": protocol,
        "contracts": net.deployment["contracts"],  # type: ignore[index]  # start() has deployed
        "ipfs_api": {org: node.api_url for org, node in net.kubo.items()},
        "process_groups": {"anvil": net.anvil.process.pid,
                           **{f"kubo-{org}": node.process.pid for org, node in net.kubo.items()}},
        "started_at": int(time.time()),
    }
    _state_path(workdir).write_text(json.dumps(state, indent=2, sort_keys=True))
    return state


def down(workdir: Path) -> list[str]:
    """Stops every process `up` started; returns their names. Idempotent."""
    state = read_state(workdir)
    if state is None:
        return []
    for pgid in state["process_groups"].values():
        stop_group(pgid, timeout=20.0)
    _state_path(workdir).unlink()
    return list(state["process_groups"])


def status(workdir: Path) -> dict | None:
    state = read_state(workdir)
    if state is not None:
        state["alive"] = _alive(state)
    return state
