"""`make demo`: the local multi-organization manufacturing network, end to end."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pynode.dev.network import LocalNetwork
from pynode.dev.paths import CHECKOUT
from pynode.errors import FabmeshError

ORGANIZATIONS = ["buyer", "fdm-farm", "cnc-shop", "laser-shop", "inspector", "auditor"]
OUT_DIR = CHECKOUT / "demo-out"


def run(console: Console) -> None:
    shutil.rmtree(OUT_DIR, ignore_errors=True)
    started = time.monotonic()
    with LocalNetwork(OUT_DIR / "network", ORGANIZATIONS) as net:
        console.print(f"chain: anvil at {net.anvil.rpc_url} (chain id {net.anvil.chain_id})")
        nodes = Table("organization", "Kubo API", "peer id", title="IPFS nodes (loopback mesh)")
        for org, node in net.kubo.items():
            nodes.add_row(org, node.api_url, node.identity()["ID"])
        console.print(nodes)
        contracts = Table("contract", "address", title=f"deployed at block {net.deployment['deployBlock']}")
        for name, entry in sorted(net.deployment["contracts"].items()):
            contracts.add_row(name, entry["address"])
        console.print(contracts)
    console.print(f"network stopped cleanly after {time.monotonic() - started:.1f}s")


def main() -> None:
    console = Console()
    try:
        run(console)
    except FabmeshError as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
