"""How the demo acts as its organizations: each runs `fabmesh` with its own home, wallet and Kubo node.

The story (which organization does what, in which order) is demo.py's `Scenario`; this is what every
step of it needs: a command run as an organization, a daemon started as one, the chain as the operator
reads it, an order's status awaited while every daemon must stay up, and everything stopped at the end.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from rich.console import Console

from pynode.chain.client import Chain
from pynode.core.errors import FabmeshError
from pynode.core.settings import Settings
from pynode.dev import wait
from pynode.dev.accounts import dev_accounts
from pynode.dev.network import LocalNetwork
from pynode.dev.paths import CHECKOUT
from pynode.dev.process import ManagedProcess
from pynode.protocol.types import OrderState, Status

SCRYPT_N = 1 << 14  # demo keystores: cheaper scrypt than the 2**18 default, same format
DEMO_CONFIRMATIONS = 1  # 1 s blocks: every command and daemon waits for one block on top, as on a live chain


class DemoFailed(FabmeshError):
    pass


@dataclass
class Organizations:
    out: Path
    console: Console
    net: LocalNetwork | None = None
    daemons: list[ManagedProcess] = field(default_factory=list)
    orders: dict[str, int] = field(default_factory=dict)  # the orders posted, by their name in the story
    accounts: dict[str, Any] = field(default_factory=lambda: dev_accounts(12))

    @property
    def network(self) -> LocalNetwork:
        if self.net is None:
            raise DemoFailed("the local network is not started")
        return self.net

    def home(self, org: str) -> Path:
        return self.out / "orgs" / org

    def env(self, org: str) -> dict[str, str]:
        return {**os.environ, "FABMESH_HOME": str(self.home(org)), "ETH_RPC_URL": self.network.anvil.rpc_url,
                "FABMESH_IPFS_API": self.network.kubo[org].api_url,
                "FABMESH_DEPLOYMENTS": str(self.out / "network" / "deployments"),
                "FABMESH_PASSWORD_FILE": str(self.out / "password"), "FABMESH_SCRYPT_N": str(SCRYPT_N),
                "FABMESH_ARTIFACTS": str(CHECKOUT / "build" / "contracts"),
                "FABMESH_CONFIRMATIONS": str(DEMO_CONFIRMATIONS)}

    def fabmesh(self, org: str, *args: object, account: str | None = None) -> dict:
        """Runs `fabmesh [--account A] -y --json ARGS` as `org`, shows the command, returns its JSON."""
        argv = ["--account", account] if account else []
        argv += ["-y", "--json", *[str(a) for a in args]]
        shown = " ".join(shlex.quote(a) for a in argv if a not in ("-y", "--json"))
        self.console.print(f"[dim]{org:>11} $[/dim] fabmesh {shown}", highlight=False)
        result = subprocess.run([sys.executable, "-m", "pynode.cli", *argv], env=self.env(org), capture_output=True,
                                text=True, timeout=600)
        if result.returncode != 0:
            raise DemoFailed(f"`fabmesh {shown}` as {org} failed: {result.stderr.strip().splitlines()[-1:]}")
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def spawn(self, name: str, org: str, args: list[str]) -> None:
        """Starts `fabmesh ARGS` as `org` in the background, logging to logs/NAME.log, stopped by stop()."""
        self.console.print(f"[dim]{org:>11} $[/dim] fabmesh {' '.join(args)} &", highlight=False)
        process = ManagedProcess(name, [sys.executable, "-m", "pynode.cli", *args], self.out / "logs" / f"{name}.log",
                                 env=self.env(org))
        process.start()
        self.daemons.append(process)

    @property
    def chain(self) -> Chain:
        return Chain.connect(Settings(rpc_url=self.network.anvil.rpc_url,
                                      deployments=self.out / "network" / "deployments",
                                      artifacts=CHECKOUT / "build" / "contracts", confirmations=DEMO_CONFIRMATIONS))

    def step(self, text: str) -> None:
        self.console.print(f"\n[bold cyan]▶ {text}[/bold cyan]")

    def wait_for(self, name: str, statuses: AbstractSet[Status], stall_s: float = 120.0) -> None:
        """Waits for the order to reach one of `statuses` while every daemon stays up; fails once the order has
        not changed (status or provenance head: a new record on it) for `stall_s` seconds, however long the
        whole takes on a busy machine."""
        order_id = self.orders[name]
        chain = self.chain
        seen: list[OrderState] = []

        def reached() -> bool:
            for daemon in self.daemons:
                if not daemon.running():
                    raise DemoFailed(f"{daemon.name} exited: {daemon.log_tail(3)}")
            seen.append(chain.book.load_order(order_id, chain.from_block).state)
            return Status(seen[-1].status) in statuses

        try:
            wait.wait_for(reached, stall_s, interval=0.5, what=f"order {order_id} ({name})", progress=lambda: seen[-1])
        except TimeoutError:
            raise DemoFailed(f"order {order_id} ({name}) stuck at {Status(seen[-1].status).name} for {stall_s:.0f}s, "
                             f"wanted {'/'.join(s.name for s in statuses)}") from None

    def stop(self) -> None:
        for daemon in self.daemons:
            daemon.stop(timeout=20.0)
        if self.net is not None:
            self.net.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
