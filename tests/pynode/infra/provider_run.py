"""Orders end to end through a provider-rules proxy, on a chain far past the deployment block.

Shared by tests/pynode/infra/test_provider_rules.py (asserts the outcome) and
bench/rpc_bench.py (records the figures). Real processes throughout: anvil
with 1 s blocks, Kubo, the contracts deployed by scripts/deploy.py, then
``blocks_past_deploy`` empty blocks mined with ``anvil_mine`` on anvil
*directly* (the operator's step, not fabmesh's; the proxy refuses it). Only
then is fabmesh pointed at the proxy, every process and command under its own
URL path so the proxy counts each apart:

* ``cli-maker``/``cli-certifier``/``cli-buyer``: `partner register`, `partner vet`,
  `order post`, `order confirm` (the lifecycle commands of the people involved);
* ``daemon``: `fabmesh node run` (claim, produce, attest, ship, withdraw);
* ``watcher``: `fabmesh node watch-orders` (awards the claim, sends the design key);
* ``reads``: `check`, `partner list`, `order list`, `order show`, `withdraw`,
  `audit all`, `export epcis`, run once the orders are paid.

The test process watches order status on anvil directly: an observer, not a
client of the provider, so it is not billed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from eth_account import Account

from provider_proxy import REFUSALS, Counts, ProviderProxy, ProviderRules
from pynode.chain.client import Chain
from pynode.chain.contracts import OrderOutOfSync
from pynode.core.settings import Settings
from pynode.dev.accounts import dev_accounts
from pynode.dev.net import post_json
from pynode.dev.network import LocalNetwork
from pynode.dev.paths import CHECKOUT
from pynode.dev.process import ManagedProcess
from pynode.protocol.types import Status
from support import TO_PAID, Stall

PASSWORD = "provider-run"
SCRYPT_N = 1 << 10
CONFIRMATIONS = 1
LIFECYCLE_CLIENTS = ("cli-maker", "cli-certifier", "cli-buyer", "daemon", "watcher")
# A hosted endpoint's ordinary day: Alchemy's 2K log ranges, Infura's 10K result cap, 2 % random 429s,
# and one API key's token bucket shared by every process (40 calls, 20 per second).
HOSTED = ProviderRules(max_block_range=2000, range_refusal=REFUSALS["alchemy"], max_results=10_000,
                       result_refusal=REFUSALS["infura"], random_429_rate=0.02, retry_after_s=1,
                       bucket_size=40, bucket_refill_per_s=20.0, seed=12)


class RunFailed(AssertionError):
    pass


@dataclass
class Command:
    argv: list[str]
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


@dataclass
class RunResult:
    orders: list[int]
    deploy_block: int
    first_block: int  # head when fabmesh was first pointed at the proxy
    lifecycle_s: float  # first post to last payment withdrawn
    lifecycle: Counts  # what the lifecycle clients sent
    reads: dict[str, Command] = field(default_factory=dict)
    read_counts: Counts | None = None


class ProviderRun:
    #: the protocol every command, the daemon and the watcher run (--protocol, node.toml)
    PROTOCOL = 1

    def __init__(self, workdir: Path, *, orders: int = 3, blocks_past_deploy: int = 20_000,
                 rules: ProviderRules = HOSTED, poll_interval_s: float = 2.0, stall_s: float = 180.0) -> None:
        self.workdir = workdir
        self.order_count = orders
        self.blocks_past_deploy = blocks_past_deploy
        self.rules = rules
        self.poll_interval_s = poll_interval_s
        self.stall_s = stall_s  # no order a step further for this long: the run is stuck
        self.accounts = dev_accounts()
        # 20,000 mined blocks: old states stay in anvil's memory window only, none are spilled to disk
        self.net = LocalNetwork(workdir / "network", ["shared"], block_time=1, max_persisted_states=0, protocol=1)
        self.proxy: ProviderProxy | None = None
        self.processes: list[ManagedProcess] = []
        self._stack = ExitStack()
        self._observer: Chain | None = None

    # ---------------------------------------------------------------- plumbing

    @property
    def deployments(self) -> Path:
        return self.workdir / "network" / "deployments"

    def observer(self) -> Chain:
        """A Chain on anvil itself (not the proxy): the test's own eyes, never billed."""
        if self._observer is None:
            settings = Settings(rpc_url=self.net.anvil.rpc_url, deployments=self.deployments,
                                artifacts=CHECKOUT / "build" / "contracts", confirmations=CONFIRMATIONS)
            self._observer = Chain.connect(settings)
        return self._observer

    def env(self, role: str, client: str, via: ProviderProxy | None = None) -> dict[str, str]:
        return {**os.environ, "FABMESH_HOME": str(self.workdir / "homes" / role),
                "ETH_RPC_URL": (via or self.proxy).url(client), "FABMESH_IPFS_API": self.net.kubo["shared"].api_url,
                "FABMESH_DEPLOYMENTS": str(self.deployments), "FABMESH_PASSWORD_FILE": str(self.password_file),
                "FABMESH_SCRYPT_N": str(SCRYPT_N), "FABMESH_ARTIFACTS": str(CHECKOUT / "build" / "contracts"),
                "FABMESH_CONFIRMATIONS": str(CONFIRMATIONS)}

    @property
    def password_file(self) -> Path:
        return self.workdir / "password"

    def fabmesh(self, role: str, client: str, *args: object, check: bool = True,
                via: ProviderProxy | None = None) -> Command:
        """`fabmesh --protocol P --account ROLE -y --json ARGS` as ROLE through the proxy (or ``via``), counted as
        ``client``."""
        argv = ["--protocol", str(self.PROTOCOL), "--account", role, "-y", "--json", *map(str, args)]
        done = subprocess.run([sys.executable, "-m", "pynode.cli", *argv], env=self.env(role, client, via),
                              capture_output=True, text=True, timeout=600)
        command = Command(argv, done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise RunFailed(f"fabmesh {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-800:]}")
        return command

    def spawn(self, name: str, role: str, client: str, args: list[str]) -> None:
        process = ManagedProcess(name, [sys.executable, "-m", "pynode.cli", *args], self.workdir / f"{name}.log",
                                 env=self.env(role, client))
        process.start()
        self.processes.append(process)

    # ---------------------------------------------------------------- phases

    def start(self) -> ProviderRun:
        with ExitStack() as stack:
            stack.enter_context(self.net)
            self.deploy_block = self.observer().from_block
            # The operator's chain, around the proxy: blocks past the deployment (anvil_mine is anvil-only).
            post_json(self.net.anvil.rpc_url, {"jsonrpc": "2.0", "id": 1, "method": "anvil_mine",
                                               "params": [hex(self.blocks_past_deploy)]}, timeout=900)
            self.proxy = stack.enter_context(ProviderProxy(self.net.anvil.rpc_url, self.rules))
            self._stack = stack.pop_all()
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.stop(timeout=20.0)
        self._stack.close()

    def __enter__(self) -> ProviderRun:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wallets(self) -> None:
        self.password_file.write_text(PASSWORD + "\n")
        for role in ("buyer", "maker", "certifier"):
            keyfile = self.workdir / f"{role}.json"
            keyfile.write_text(json.dumps(Account.encrypt(self.accounts[role].key, PASSWORD, kdf="scrypt",
                                                          iterations=SCRYPT_N)))
            done = subprocess.run([sys.executable, "-m", "pynode.cli", "wallet", "import", role, str(keyfile)],
                                  env=self.env(role, "wallet"), capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise RunFailed(f"wallet import {role}: {done.stderr.strip()[-300:]}")

    def onboard(self) -> None:
        self.fabmesh("maker", "cli-maker", "partner", "register", "--processes", "CNC_MILLING", "--materials",
                     "AL_6061", "--region", "u33d", "--capacity", 100, "--name", "proxy-shop")
        self.fabmesh("certifier", "cli-certifier", "partner", "vet", self.accounts["maker"].address)

    def start_automation(self) -> None:
        config = self.workdir / "homes" / "maker" / "node.toml"
        config.write_text(tomli_w.dumps({
            "protocol": 1, "account": "maker", "home": str(self.workdir / "homes" / "maker"),
            "password_file": str(self.password_file), "rpc_urls": [self.proxy.url("daemon")],
            "ipfs_api": self.net.kubo["shared"].api_url, "confirmations": CONFIRMATIONS,
            "poll_interval_s": self.poll_interval_s, "deployments": str(self.deployments),
            "artifacts": str(CHECKOUT / "build" / "contracts"), "work_dir": str(self.workdir / "node-state"),
            "metrics_port": 0,
            "policy": {"processes": ["CNC_MILLING"], "materials": ["AL_6061"], "max_concurrent_jobs": 10},
            "production": {"adapter": "simulated", "duration_s": 0.5, "defect_rate": 0.0},
        }))
        self.spawn("daemon", "maker", "daemon", ["node", "run", "--config", str(config)])
        self.spawn("watcher", "buyer", "watcher", ["--protocol", "1", "--account", "buyer", "node", "watch-orders",
                                                   "--interval",
                                                   str(self.poll_interval_s), "--allow",
                                                   self.accounts["maker"].address])

    def post(self, index: int) -> int:
        design = self.workdir / f"bracket-{index}.stl"
        design.write_bytes(b"solid bracket-%d\n" % index + os.urandom(256) + b"\nendsolid\n")
        posted = self.fabmesh("buyer", "cli-buyer", "order", "post", "--design", design, "--process", "CNC_MILLING",
                              "--material", "AL_6061", "--qty", 4, "--price", "0.01", "--claim-by", "+1d",
                              "--deliver-by", "+7d", "--claim-bond", "0.001", "--region", "u33",
                              "--tolerance", "bore_d=10.0±0.05mm")
        return int(posted.json()["order_id"])

    def _status(self, chain: Chain, order_id: int) -> Status:
        """The order's status as the observer sees it; a head whose logs anvil has not indexed yet (under
        load, longer than load_order's retries) counts as no news: looked at again next round."""
        try:
            return chain.book.load_order(order_id, self.deploy_block).status
        except OrderOutOfSync:
            return Status.OPEN

    def wait_all(self, orders: list[int], status: Status) -> None:
        """Until every order has reached ``status``; fails on a stall (no order a step further within
        ``stall_s``), not on a total budget, so a slow machine is no failure."""
        chain = self.observer()
        stall = Stall(self.stall_s, f"orders on their way to {status.name}")
        while True:
            states = {o: self._status(chain, o) for o in orders}
            if all(s >= status for s in states.values()):
                return
            for process in self.processes:
                if not process.running():
                    raise RunFailed(f"{process.name} exited: {process.log_tail(5)}")
            shown = {o: s.name for o, s in states.items()}
            try:
                stall.check(sum(TO_PAID.index(s) for s in states.values() if s in TO_PAID),
                            lambda shown=shown: f"{shown}; daemon: {self.processes[0].log_tail(5)}")
            except AssertionError as exc:
                raise RunFailed(str(exc)) from None
            time.sleep(1.0)

    def lifecycle(self) -> RunResult:
        """register → post → claim → award → produce → attest/ship → confirm → withdraw, through the proxy."""
        first_block = int(self.net.anvil.rpc("eth_blockNumber"), 16)
        self.wallets()
        self.onboard()
        self.start_automation()
        started = time.monotonic()
        orders = [self.post(i) for i in range(self.order_count)]
        self.complete(orders)
        elapsed = time.monotonic() - started
        for process in self.processes:
            process.stop(timeout=20.0)
        return RunResult(orders, self.deploy_block, first_block, elapsed, self.proxy.engine.reset_counts())

    def complete(self, orders: list[int]) -> None:
        """Until every order is paid: the buyer confirms each shipped one with the CLI."""
        self.wait_all(orders, Status.SHIPPED)
        for order_id in orders:
            self.fabmesh("buyer", "cli-buyer", "order", "confirm", order_id)
        self.wait_all(orders, Status.PAID)  # PAID: the daemon withdrew the payment

    def reads(self, result: RunResult) -> RunResult:
        """Every CLI read an operator, buyer or auditor runs, through the same proxy."""
        order = result.orders[0]
        epcis = self.workdir / f"order-{order}.jsonld"
        commands = {"check": ("maker", "check"), "partner list": ("buyer", "partner", "list"),
                    "order list": ("buyer", "order", "list"), "order show": ("buyer", "order", "show", order),
                    "withdraw": ("buyer", "withdraw"), "audit all": ("buyer", "audit", "all"),
                    "export epcis": ("buyer", "export", "epcis", order, "--output", epcis)}
        result.reads = {name: self.fabmesh(role, "read-" + name.replace(" ", "-"), *args, check=False)
                        for name, (role, *args) in commands.items()}
        result.read_counts = self.proxy.engine.reset_counts()
        return result

    def run(self) -> RunResult:
        return self.reads(self.lifecycle())


def succeeded_reads(result: RunResult) -> dict[str, Any]:
    """Each CLI read's output (its JSON, or its text); AssertionError naming the reads that failed."""
    failed = {name: (c.code, c.stderr.strip()[-300:]) for name, c in result.reads.items() if c.code != 0}
    assert not failed
    return {name: c.json() if c.stdout.strip().startswith(("{", "[")) else c.stdout for name, c in result.reads.items()}


def figures(result: RunResult) -> dict:
    """The billing figures of a run: calls per completed order by client and method, 429s served."""
    orders = len(result.orders)
    lifecycle = sum(result.lifecycle.total(c) for c in LIFECYCLE_CLIENTS)
    reads = result.read_counts or Counts()
    return {
        "orders": orders,
        "rpc_requests": lifecycle,
        "rpc_requests_per_order": round(lifecycle / orders, 1),
        "by_client": result.lifecycle.by_client(),
        "by_client_method": {c: result.lifecycle.by_method(c) for c in result.lifecycle.by_client()},
        "per_order_by_method": {m: round(n / orders, 2) for m, n in result.lifecycle.by_method().items()},
        "retries_seen_429": sum(result.lifecycle.rate_limited.values()),
        "refused": dict(result.lifecycle.refused),
        "lifecycle_s": round(result.lifecycle_s, 1),
        "time_per_order_s": round(result.lifecycle_s / orders, 2),
        "blocks_past_deploy_at_start": result.first_block - result.deploy_block,
        "reads": {"rpc_requests": reads.total(), "by_command_client": reads.by_client(),
                  "by_method": reads.by_method(), "retries_seen_429": sum(reads.rate_limited.values()),
                  "refused": dict(reads.refused)},
    }
