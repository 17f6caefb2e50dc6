"""Protocol-v2 orders end to end through the provider-rules proxy: :class:`provider_run.ProviderRun` on the v2 stack.

The same chain, proxy and per-client URLs as v1 (anvil with 1 s blocks, ``blocks_past_deploy`` blocks mined
directly past the deployment, here pynode.dev.deploy's v2 one beside v1's), every command run with
``--protocol 2``:

* ``cli-maker``/``cli-certifier``/``cli-buyer``: `partner register`, `partner vet`, `order post`;
* ``daemon``: `fabmesh node run` on a node.toml with ``protocol = 2`` (quotes the announced orders on the
  channel, produces and ships the awarded ones);
* ``watcher``: `fabmesh node watch-orders -c watch.toml` (``protocol = 2``: announces the buyer's orders,
  awards the best quote with its key envelope, confirms the checked shipment, which pays the partner).

An order is complete when the book shows it COMPLETED (v2 pays the payee on confirm: no withdraw step). Then the
reads (:meth:`ProviderRun.reads`: check, partner list, order list, order show, withdraw, audit all, export epcis)
on v2, the default protocol, through the same proxy.
"""

from __future__ import annotations

import time

import tomli_w

from provider_run import CONFIRMATIONS, ProviderRun, RunFailed
from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.v2.client import ChainV2
from pynode.core.settings import Settings
from pynode.dev.deploy import deploy_v2
from pynode.dev.designs import bracket_stl
from pynode.dev.network import LocalNetwork
from pynode.dev.paths import CHECKOUT
from pynode.protocol.v2.types import OrderStatus
from support import Stall

# the daemon's price: a setup and a machine time per part, its material per part, in ETH
QUOTE = {"validity_s": 900, "margin_bps": 1000,
         "processes": {"cnc-milling": {"setup_s": 60, "part_s": 600}},
         "tokens": {"0x0000000000000000000000000000000000000000": {
             "machine_rate_per_hour": 10**14, "material_per_part": {"al-6061": 10**12}}}}
TO_COMPLETED = (OrderStatus.OPEN, OrderStatus.AWARDED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


class V2Network(LocalNetwork):
    """The dev network with protocol v2 deployed beside v1 (pynode.dev.deploy.deploy_v2's plan, as the tests')."""

    def start(self) -> V2Network:
        super().start()
        try:
            deploy_v2(self.anvil.rpc_url, self.anvil.chain_id, self.workdir / "deployments")
        except BaseException:
            self.stop()
            raise
        return self


class ProviderRunV2(ProviderRun):
    PROTOCOL = 2

    def __init__(self, workdir, **kwargs) -> None:
        super().__init__(workdir, **kwargs)
        self.net = V2Network(workdir / "network", ["shared"], block_time=1, max_persisted_states=0, protocol=1)

    def observer(self) -> ChainV2:
        if self._observer is None:
            self._observer = ChainV2.connect(Settings(rpc_url=self.net.anvil.rpc_url, deployments=self.deployments,
                                                      home=self.workdir / "observer", confirmations=CONFIRMATIONS))
        return self._observer

    def onboard(self) -> None:
        self.fabmesh("maker", "cli-maker", "partner", "register", "--processes", "CNC_MILLING", "--materials",
                     "AL_6061", "--region", "u33d", "--capacity", 100, "--name", "proxy-shop", "--bond", "1")
        self.fabmesh("certifier", "cli-certifier", "partner", "vet", self.accounts["maker"].address)

    def start_automation(self) -> None:
        home = self.workdir / "homes"
        config = home / "maker" / "node.toml"
        config.write_text(tomli_w.dumps({
            "protocol": 2, "account": "maker", "home": str(home / "maker"),
            "password_file": str(self.password_file), "rpc_urls": [self.proxy.url("daemon")],
            "ipfs_api": self.net.kubo["shared"].api_url, "confirmations": CONFIRMATIONS,
            "poll_interval_s": self.poll_interval_s, "deployments": str(self.deployments),
            "artifacts": str(CHECKOUT / "build" / "contracts"), "work_dir": str(self.workdir / "node-state"),
            "metrics_port": 0, "quote": QUOTE,
            "policy": {"processes": ["cnc-milling"], "materials": ["al-6061"], "max_concurrent_jobs": 10},
            "production": {"adapter": "simulated", "duration_s": 0.5, "defect_rate": 0.0},
        }))
        watch = home / "buyer" / "watch.toml"
        watch.write_text(tomli_w.dumps({"protocol": 2, "watch": {"auto_confirm": True, "announce_s": 10},
                                        "award": {"mode": "best", "wait_s": 2, "award_margin_s": 5}}))
        self.spawn("daemon", "maker", "daemon", ["node", "run", "--config", str(config)])
        self.spawn("watcher", "buyer", "watcher", ["--account", "buyer", "node", "watch-orders", "-c", str(watch),
                                                   "--interval", str(self.poll_interval_s)])

    def post(self, index: int) -> int:
        design = bracket_stl(self.workdir / f"bracket-{index}.stl")  # sealed with a fresh key: another order
        posted = self.fabmesh("buyer", "cli-buyer", "order", "post", "--design", design, "--process", "CNC_MILLING",
                              "--material", "AL_6061", "--qty", 4, "--price", "0.01", "--award-by", "+1d",
                              "--deliver-by", "+7d", "--min-bond", "0.001", "--region", "u33",
                              "--tolerance", "bore_d=10.0±0.05mm")
        return int(posted.json()["order_id"])

    def _status_v2(self, order_id: int) -> OrderStatus:
        """As the observer sees it; a head anvil has not indexed the logs of yet counts as no news."""
        try:
            return self.observer().book.load_order(order_id, self.deploy_block).status
        except OrderOutOfSync:
            return OrderStatus.OPEN

    def complete(self, orders: list[int]) -> None:
        """Until every order is COMPLETED (the watcher confirms); fails on a stall (no order a step further within
        ``stall_s``) or on an order that left the way (cancelled, rejected, disputed)."""
        stall = Stall(self.stall_s, "orders on their way to COMPLETED")
        while True:
            states = {o: self._status_v2(o) for o in orders}
            if all(s == OrderStatus.COMPLETED for s in states.values()):
                return
            astray = {o: s.name for o, s in states.items() if s not in TO_COMPLETED}
            if astray:
                raise RunFailed(f"orders off the way to COMPLETED: {astray}; watcher: "
                                f"{self.processes[1].log_tail(5)}")
            for process in self.processes:
                if not process.running():
                    raise RunFailed(f"{process.name} exited: {process.log_tail(5)}")
            shown = {o: s.name for o, s in states.items()}
            try:
                stall.check(sum(TO_COMPLETED.index(s) for s in states.values()),
                            lambda shown=shown: f"{shown}; daemon: {self.processes[0].log_tail(5)}")
            except AssertionError as exc:
                raise RunFailed(str(exc)) from None
            time.sleep(1.0)

