"""`make demo`: a local multi-organization manufacturing network on protocol v2, end to end.

Six organizations, each with its own wallet directory and its own Kubo node, connected only to each other: a
buyer, three manufacturers (an FDM print farm of two OctoPrint printers, a CNC shop behind an OPC UA machine, a
laser shop), a certification body whose staff sit on the 2-of-3 arbitration panel, and an auditor. Every user
action is a real `fabmesh --protocol 2` command run as its organization; the manufacturers run `fabmesh node
run` daemons that quote by their [quote] policy, and the buyer runs `fabmesh node watch-orders`, which awards
each order to its best quote; the governance Safe's owners sit at three organizations and sign its proposals there
(demo_governance.py). The library is used directly only where fabmesh has no command: advancing the dev anvil's
clock, and sending the early governance execute fabmesh refuses, to show the chain refusing it too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import tomli_w
from eth_account import Account
from rich.console import Console

from pynode.core.errors import FabmeshError
from pynode.dev import demo_dispute, demo_report
from pynode.dev.demo_governance import change_fee
from pynode.dev.demo_shops import SHOPS, Shop, ShopFloors, quote_table
from pynode.dev.designs import plate_dxf
from pynode.dev.network import LocalNetwork
from pynode.dev.octoprint import gcode
from pynode.dev.opcua_machine import nc_program
from pynode.dev.organizations import DEMO_CONFIRMATIONS, SCRYPT_N, Command, DemoFailed, Organizations
from pynode.dev.paths import CHECKOUT
from pynode.dev.session import ORGANIZATIONS
from pynode.protocol.v2.types import OrderStatus

OUT_DIR = CHECKOUT / "demo-out"
PASSWORD = "fabmesh-demo"
BORE = {"bore_d": {"nominal": 10.0, "plus": 0.05, "minus": 0.05, "unit": "mm"}}
# Which organization holds which account (pynode.dev.accounts); the panel's three members sit at the
# certification body ("inspector"), which also vets the shops; the governance Safe's owners at three organizations.
HOLDERS = {"buyer": ["buyer", "owner1"], "inspector": ["certifier", "arbitrator", "panelist", "panelist2", "owner2"],
           "auditor": ["auditor", "owner3"], **{s.org: [s.account] for s in SHOPS}}
WATCH = {"protocol": 2, "watch": {"auto_confirm": False, "on_give_up": "keep", "announce_s": 3},
         "award": {"mode": "best", "wait_s": 12, "award_margin_s": 10}}


class Scenario(Organizations):
    """The demo's story, phase by phase; `Organizations` is how each phase acts."""

    floors: ShopFloors | None = None

    def wallets(self) -> None:
        self.step("Each organization imports its accounts into its own wallet (v3 keystores + HPKE keys)")
        (self.out / "password").write_text(PASSWORD + "\n")
        keys = self.out / "keys"
        keys.mkdir()
        imports = []
        for org, roles in HOLDERS.items():
            for role in roles:
                keyfile = keys / f"{role}.json"
                keyfile.write_text(json.dumps(Account.encrypt(self.accounts[role].key, PASSWORD, kdf="scrypt",
                                                              iterations=SCRYPT_N)))
                imports.append(Command(org, ("wallet", "import", role, keyfile)))
        self.fabmesh_all(imports)

    def onboard(self) -> None:
        self.step("Manufacturers register with a bond and their HPKE keys; the certification body vets them")
        self.fabmesh_all([Command(shop.org, ("partner", "register", "--processes", shop.processes, "--materials",
                                             shop.materials, "--region", shop.region, "--capacity", 200, "--name",
                                             shop.org, "--bond", "0.1"), shop.account) for shop in SHOPS])
        for shop in SHOPS:  # one certifier account: its transactions one after another
            self.fabmesh("inspector", "partner", "vet", self.accounts[shop.account].address, account="certifier")

    def node_config(self, shop: Shop, floors: ShopFloors) -> dict[str, Any]:
        """The shop's node.toml: protocol 2, its account and wallet, its Kubo node, its quote policy and floor."""
        home = self.home(shop.org)
        return {
            "protocol": 2, "account": shop.account, "home": str(home), "password_file": str(self.out / "password"),
            "rpc_urls": [self.network.anvil.rpc_url], "ipfs_api": self.network.kubo[shop.org].api_url,
            "confirmations": DEMO_CONFIRMATIONS, "poll_interval_s": 0.5, "metrics_port": 0,
            "deployments": str(self.out / "network" / "deployments"),
            "artifacts": str(CHECKOUT / "build" / "contracts"), "work_dir": str(home / "node-state"),
            "policy": {"processes": [p.strip() for p in shop.processes.split(",")],
                       "materials": [m.strip() for m in shop.materials.split(",")], "max_concurrent_jobs": 4,
                       "max_arbitration_fee_wei": 10**16},
            "quote": quote_table(shop), "production": floors.production(shop),
        }

    def start_daemons(self) -> None:
        self.step("Shop floors come up (two OctoPrint virtual printers, an OPC UA machine); the manufacturers "
                  "start their node daemons, the buyer its order watcher")
        self.floors = ShopFloors(self.out / "floors").start()
        for shop in SHOPS:
            config = self.home(shop.org) / "node.toml"
            config.write_text(tomli_w.dumps(self.node_config(shop, self.floors)))
            self.spawn(f"{shop.org}-node", shop.org, ["node", "run", "--config", str(config)])
        watch = self.home("buyer") / "watch.toml"
        watch.write_text(tomli_w.dumps(WATCH))
        self.spawn("buyer-watcher", "buyer", ["--account", "buyer", "node", "watch-orders", "-c", str(watch),
                                              "--interval", "0.5"])

    def post_orders(self) -> None:
        self.step("The buyer posts three orders with real design files, encrypted and pinned on its own node")
        designs = self.out / "designs"
        designs.mkdir()
        (designs / "clip.gcode").write_bytes(gcode(6, name="clip"))
        (designs / "bracket.nc").write_bytes(nc_program(BORE, name="bracket"))
        common = {"--award-by": "+1d", "--deliver-by": "+10d", "--inspection": "3d", "--min-bond": "0.01"}
        specs = {
            "print": (designs / "clip.gcode", {"--process": "FDM", "--material": "PLA", "--qty": 1, "--price": "0.05"}),
            "machined": (designs / "bracket.nc", {"--process": "CNC_MILLING", "--material": "AL_6061", "--qty": 2,
                                                  "--price": "0.08", "--tolerance": "bore_d=10.0±0.05mm"}),
            "disputed": (plate_dxf(designs / "plate.dxf"), {"--process": "LASER_CUTTING", "--material": "SS_316",
                                                             "--qty": 10, "--price": "0.1"}),
        }
        for name, (design, options) in specs.items():
            flat = [item for pair in {**common, **options}.items() for item in pair]
            posted = self.fabmesh("buyer", "order", "post", "--design", design, *flat, account="buyer")
            self.orders[name] = int(posted["order_id"])

    def awards(self) -> dict:
        self.step("The shops' daemons quote; the buyer's watcher awards each order to its best quote")
        for name in self.orders:
            self.wait_for(name, {OrderStatus.AWARDED, OrderStatus.SHIPPED})
        return demo_report.show_quotes(self, "print")

    def governance(self) -> Any:
        self.step("Governance: the 2-of-3 Safe sets the book's fee through the AccessManager's 60 s delay")
        return change_fee(self, self.accounts["admin"])

    def deliveries(self) -> dict:
        self.step("The print farm prints on OctoPrint, the CNC shop machines on OPC UA; the buyer checks each "
                  "shipped report and confirms")
        reports = {}
        for name in ("print", "machined"):
            self.wait_for(name, {OrderStatus.SHIPPED})
            reports[name] = demo_report.show_report(self, name)
            self.fabmesh("buyer", "order", "confirm", self.orders[name], account="buyer")
        return reports

    def audit(self) -> dict:
        self.step("The auditor verifies every order and the governance records from chain, IPFS and signatures")
        self.console.print("[dim]    auditor $[/dim] fabmesh --protocol 2 audit all", highlight=False)
        result = subprocess.run([sys.executable, "-m", "pynode.cli", "--protocol", "2", "--json", "audit", "all"],
                                env=self.env("auditor"), capture_output=True, text=True, timeout=600)
        if result.returncode not in (0, 1) or not result.stdout.strip():  # 1: audited, some check failed
            raise DemoFailed(f"audit failed: {result.stderr.strip()[-500:]}")
        audit = json.loads(result.stdout)
        for order in audit.get("orders", []):
            for check in order["checks"]:
                if not check["ok"]:
                    self.console.print(f"[red]audit: order {order['order_id']}: {check['name']}: {check['reason']}"
                                       "[/red]", highlight=False)
        return audit

    def run(self) -> dict:
        started = time.monotonic()
        # Blocks every second, as on a real chain: daemons act on blocks once another is on top.
        self.net = LocalNetwork(self.out / "network", ORGANIZATIONS, block_time=1, protocol=2).start()
        self.console.print(f"anvil at {self.net.anvil.rpc_url}; Kubo nodes: "
                           + ", ".join(f"{o} {n.api_url}" for o, n in self.net.kubo.items()), highlight=False)
        self.wallets()
        self.onboard()
        self.start_daemons()
        self.post_orders()
        quotes = self.awards()
        fee = self.governance()
        reports = self.deliveries()
        self.step("The buyer disputes the laser-cut plates at the PanelArbitrator; the panel rules, the shop "
                  "appeals, the panel rules again")
        ruling = demo_dispute.dispute(self, "disputed")
        self.wait_for("print", {OrderStatus.COMPLETED})
        audit = self.audit()
        demo_report.summary(self, audit)
        if audit.get("verdict") != "VERIFIED":
            raise DemoFailed(f"the audit's verdict is {audit.get('verdict')}")
        self.console.print(f"\nscenario finished in {time.monotonic() - started:.0f}s")
        return {"orders": dict(self.orders), "quotes": quotes, "fee": fee, "reports": reports, "ruling": ruling,
                "audit": audit}

    def stop(self) -> None:
        super().stop()  # the daemons first: they drive the floors
        if self.floors is not None:
            self.floors.stop()


def run_demo(out: Path = OUT_DIR, console: Console | None = None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with Scenario(out, console or Console()) as scenario:
        return scenario.run()


def main() -> None:
    console = Console() if sys.stdout.isatty() else Console(width=140)  # logs and CI keep the table readable
    try:
        run_demo(console=console)
    except FabmeshError as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        sys.exit(1)
    console.print("everything stopped cleanly")


if __name__ == "__main__":
    main()
