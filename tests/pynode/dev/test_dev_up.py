"""`fabmesh dev up` deploys the protocol the commands use: 2 by default, 1 with `--protocol 1`, with keystores for
its role accounts; the commands of that protocol then work against it (`check`), and `dev down` stops what it
started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

FABMESH = str(Path(sys.executable).parent / "fabmesh")


@pytest.mark.parametrize(("flags", "protocol", "contract"), [((), 2, "OrderBookV2 code"),
                                                              (("--protocol", "1"), 1, "OrderBook code")])
def test_dev_up_deploys_the_protocol_the_commands_use(tmp_path, flags, protocol, contract) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FABMESH_", "ETH_"))}
    env = {**clean, "FABMESH_HOME": str(tmp_path / "home"), "FABMESH_SCRYPT_N": "1024"}

    def fabmesh(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([FABMESH, *args], env={**env, **(extra or {})}, capture_output=True, text=True,
                              timeout=300)

    workdir = str(tmp_path / "dev")
    up = fabmesh(*flags, "--json", "dev", "up", "--dir", workdir, "--orgs", "buyer")
    try:
        assert up.returncode == 0, up.stderr
        state = json.loads(up.stdout)
        assert state["protocol"] == protocol
        # keystores for the roles the deployment names: v2's guardian, panelists and Safe owners too
        assert {"buyer", "certifier"} <= set(state["accounts"])
        assert ({"guardian", "panelist", "owner1"} <= set(state["accounts"])) == (protocol == 2)
        record = "{}.v2.json" if protocol == 2 else "{}.json"
        assert (Path(state["deployments"]) / record.format(state["chain_id"])).is_file()
        shell = {"ETH_RPC_URL": state["rpc_url"], "FABMESH_DEPLOYMENTS": state["deployments"],
                 "FABMESH_IPFS_API": state["ipfs_api"]["buyer"], "FABMESH_CONFIRMATIONS": "0"}
        if protocol == 1:
            shell["FABMESH_PROTOCOL"] = "1"  # what `dev up` prints for a v1 network
        checked = fabmesh("--json", "check", extra=shell)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert contract in [c["check"] for c in json.loads(checked.stdout)["checks"]]
    finally:
        down = fabmesh("--json", "dev", "down", "--dir", workdir)
    assert down.returncode == 0, down.stderr
    assert "anvil" in json.loads(down.stdout)["stopped"]
