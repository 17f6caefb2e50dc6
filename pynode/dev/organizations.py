"""How the demo acts as its organizations: each runs `fabmesh` (protocol 2) with its own home, wallet and Kubo node.

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
import time
from collections.abc import Callable, Hashable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Self

from rich.console import Console

from pynode.chain.v2.client import ChainV2
from pynode.chain.v2.orders import OrderTracker
from pynode.core.errors import FabmeshError
from pynode.core.settings import Settings
from pynode.dev import wait
from pynode.dev.accounts import dev_accounts, safe_owner_accounts, v2_accounts
from pynode.dev.network import LocalNetwork
from pynode.dev.paths import CHECKOUT
from pynode.dev.process import ManagedProcess
from pynode.protocol.v2.types import OrderStatus

SCRYPT_N = 1 << 14  # demo keystores: cheaper scrypt than the 2**18 default, same format
DEMO_CONFIRMATIONS = 1  # 1 s blocks: every command and daemon waits for one block on top, as on a live chain


class DemoFailed(FabmeshError):
    pass


class CommandFailed(DemoFailed):
    """A `fabmesh` command of the story exited non-zero; `error` is its last stderr line."""

    def __init__(self, shown: str, org: str, error: str) -> None:
        super().__init__(f"`fabmesh {shown}` as {org} failed: {error}")
        self.error = error


class Command(NamedTuple):
    """One `fabmesh` command an organization runs (as `account`, if given)."""
    org: str
    args: tuple[object, ...]
    account: str | None = None


@dataclass
class Organizations:
    out: Path
    console: Console
    net: LocalNetwork | None = None
    daemons: list[ManagedProcess] = field(default_factory=list)
    orders: dict[str, int] = field(default_factory=dict)  # the orders posted, by their name in the story
    _chain: ChainV2 | None = None
    started: float = field(default_factory=time.monotonic)
    accounts: dict[str, Any] = field(default_factory=lambda: dev_accounts(12) | v2_accounts() | safe_owner_accounts())

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
        """Runs `fabmesh --protocol 2 [--account A] -y --json ARGS` as `org`, shows the command, returns its JSON."""
        return self.fabmesh_all([Command(org, args, account)])[0]

    def fabmesh_all(self, commands: list[Command]) -> list[dict]:
        """Runs the commands at once (parties acting each on their own), shows each, returns their JSON in order;
        the first that fails stops the rest."""
        started: list[tuple[str, str, subprocess.Popen[str]]] = []
        try:
            for command in commands:
                argv = ["--protocol", "2", *(["--account", command.account] if command.account else [])]
                argv += ["-y", "--json", *[str(a) for a in command.args]]
                shown = " ".join(shlex.quote(a) for a in argv if a not in ("-y", "--json"))
                self.console.print(f"[dim]{command.org:>11} $[/dim] fabmesh {shown}", highlight=False)
                started.append((shown, command.org, subprocess.Popen(
                    [sys.executable, "-m", "pynode.cli", *argv], env=self.env(command.org), stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)))
            results = []
            for shown, org, process in started:
                out, err = process.communicate(timeout=600)
                if process.returncode != 0:
                    raise CommandFailed(shown, org, (err.strip().splitlines() or ["(no output)"])[-1])
                results.append(json.loads(out) if out.strip() else {})
            return results
        finally:
            for _, _, process in started:
                if process.poll() is None:
                    process.kill()
                    process.wait()

    def spawn(self, name: str, org: str, args: list[str]) -> None:
        """Starts `fabmesh ARGS` as `org` in the background, logging to logs/NAME.log, stopped by stop()."""
        self.console.print(f"[dim]{org:>11} $[/dim] fabmesh {' '.join(args)} &", highlight=False)
        process = ManagedProcess(name, [sys.executable, "-m", "pynode.cli", *args], self.out / "logs" / f"{name}.log",
                                 env=self.env(org))
        process.start()
        self.daemons.append(process)

    @property
    def chain(self) -> ChainV2:
        """The chain as its operator reads it (one connection, opened on first use)."""
        if self._chain is None:
            self._chain = ChainV2.connect(Settings(rpc_url=self.network.anvil.rpc_url,
                                                   deployments=self.out / "network" / "deployments",
                                                   artifacts=CHECKOUT / "build" / "contracts",
                                                   confirmations=DEMO_CONFIRMATIONS))
        return self._chain

    def step(self, text: str) -> None:
        self.console.print(f"\n[bold cyan]▶ {text}[/bold cyan] [dim](t+{time.monotonic() - self.started:.0f}s)[/dim]")

    def wait_until(self, predicate: Callable[[], Any], what: str, stall_s: float = 120.0,
                   progress: Callable[[], Hashable] | None = None) -> Any:
        """Waits for `predicate` while every daemon stays up; fails after `stall_s` seconds (counted from the
        last change of `progress`, if given: a busy machine still getting somewhere is waited for)."""
        def checked() -> Any:
            for daemon in self.daemons:
                if not daemon.running():
                    raise DemoFailed(f"{daemon.name} exited: {daemon.log_tail(3)}")
            return predicate()

        try:
            return wait.wait_for(checked, stall_s, interval=0.5, what=what, progress=progress)
        except TimeoutError as exc:
            raise DemoFailed(str(exc)) from None

    def wait_for(self, name: str, statuses: AbstractSet[OrderStatus], stall_s: float = 120.0) -> OrderTracker:
        """Waits for the order to reach one of `statuses`; fails once it has not changed (status or record head:
        a new record on it) for `stall_s` seconds, however long the whole takes on a busy machine."""
        order_id = self.orders[name]
        chain = self.chain
        seen: list[OrderTracker] = []

        def reached() -> OrderTracker | None:
            seen.append(chain.book.load_order(order_id, chain.from_block))
            return seen[-1] if seen[-1].status in statuses else None

        return self.wait_until(reached, f"order {order_id} ({name}) at {'/'.join(s.name for s in statuses)}",
                               stall_s, progress=lambda: (seen[-1].status, seen[-1].record_head))

    def stop(self) -> None:
        for daemon in self.daemons:
            daemon.stop(timeout=20.0)
        if self.net is not None:
            self.net.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
