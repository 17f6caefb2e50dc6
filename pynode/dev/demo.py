"""`make demo`: a local multi-organization manufacturing network, end to end.

Six organizations, each with its own wallet directory and its own Kubo node,
connected only to each other: a buyer, three manufacturers (an FDM print farm,
a CNC shop, a laser/sheet-metal shop), an inspection and certification body
(inspector, certifier, arbitrator) and an auditor. Every user action is a real
`fabmesh` command run as its organization; the manufacturers run
`fabmesh node run` daemons and the buyer runs `fabmesh node watch-orders`.
Only two steps use the library directly, both as the chain's operator would:
deploying a test stablecoin and allow-listing it, and advancing anvil's clock.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from eth_account import Account
from hexbytes import HexBytes
from rich.console import Console
from rich.table import Table

from pynode.chain.client import Chain
from pynode.chain.orders import ORDER_EVENTS, OrderTracker
from pynode.chain.tx import TxRequest
from pynode.core.errors import FabmeshError
from pynode.dev.designs import bracket_stl, plate_dxf, spacer_gcode
from pynode.dev.network import LocalNetwork
from pynode.dev.organizations import DEMO_CONFIRMATIONS, SCRYPT_N, DemoFailed, Organizations
from pynode.dev.paths import CHECKOUT
from pynode.dev.session import ORGANIZATIONS
from pynode.ipfs.cid import digest_to_cid
from pynode.protocol.types import TERMINAL, Status

OUT_DIR = CHECKOUT / "demo-out"
PASSWORD = "fabmesh-demo"


@dataclass(frozen=True)
class Shop:
    org: str
    account: str  # role name in pynode.dev.accounts
    processes: str
    materials: str
    region: str
    certs: tuple[str, ...]


SHOPS = [
    Shop("fdm-farm", "maker", "FDM,SLA", "PLA,PETG,NYLON", "u33d", ("ISO_9001",)),
    Shop("cnc-shop", "maker2", "CNC_MILLING,CNC_TURNING", "AL_6061,AL_7075,SS_316", "u0yj", ("ISO_9001", "AS9100")),
    Shop("laser-shop", "account9", "LASER_CUTTING,SHEET_METAL", "SS_316,AL_6061", "gcpv", ("ISO_9001", "ISO_13485")),
]
# Which organization holds which anvil account.
HOLDERS = {"buyer": ["buyer"], "inspector": ["inspector", "certifier", "arbitrator"], "auditor": ["auditor"],
           **{s.org: [s.account] for s in SHOPS}}


class Scenario(Organizations):
    """The demo's story, phase by phase; `Organizations` is how each phase acts."""

    def wallets(self) -> None:
        self.step("Each organization imports its accounts into its own wallet (v3 keystores + HPKE keys)")
        (self.out / "password").write_text(PASSWORD + "\n")
        keys = self.out / "keys"
        keys.mkdir()
        for org, roles in HOLDERS.items():
            for role in roles:
                keyfile = keys / f"{role}.json"
                keyfile.write_text(json.dumps(Account.encrypt(self.accounts[role].key, PASSWORD, kdf="scrypt",
                                                              iterations=SCRYPT_N)))
                pq = ["--pq"] if org == "cnc-shop" else []  # one shop receives designs post-quantum sealed
                self.fabmesh(org, "wallet", "import", role, keyfile, *pq)

    def onboard(self) -> None:
        self.step("Manufacturers register with a bond; the certification body vets and certifies them")
        for shop in SHOPS:
            self.fabmesh(shop.org, "partner", "register", "--processes", shop.processes, "--materials",
                         shop.materials, "--region", shop.region, "--capacity", 200, "--name", shop.org,
                         account=shop.account)
            address = self.accounts[shop.account].address
            self.fabmesh("inspector", "partner", "vet", address, account="certifier")
            for cert in shop.certs:
                self.fabmesh("inspector", "partner", "certify", address, "--cert", cert, "--expires", "+365d",
                             account="certifier")

    def node_config(self, shop: Shop) -> dict[str, Any]:
        """The shop's node.toml: its account and wallet, this network's chain and its own Kubo node, its policy."""
        home = self.home(shop.org)
        return {
            "account": shop.account, "home": str(home), "password_file": str(self.out / "password"),
            "rpc_urls": [self.network.anvil.rpc_url], "ipfs_api": self.network.kubo[shop.org].api_url,
            "confirmations": DEMO_CONFIRMATIONS, "poll_interval_s": 0.5, "metrics_port": 0,
            "deployments": str(self.out / "network" / "deployments"),
            "artifacts": str(CHECKOUT / "build" / "contracts"), "work_dir": str(home / "node-state"),
            "policy": {"processes": [p.strip() for p in shop.processes.split(",")],
                       "materials": [m.strip() for m in shop.materials.split(",")], "max_concurrent_jobs": 4},
            "production": {"adapter": "simulated", "duration_s": 1.0, "defect_rate": 0.0},
        }

    def start_daemons(self) -> None:
        self.step("Manufacturers start their node daemons; the buyer starts its order watcher")
        for shop in SHOPS:
            config = self.home(shop.org) / "node.toml"
            config.write_text(tomli_w.dumps(self.node_config(shop)))
            self.spawn(f"{shop.org}-node", shop.org, ["node", "run", "--config", str(config)])
        allowed = [self.accounts[s.account].address for s in SHOPS if s.org != "cnc-shop"]
        self.spawn("buyer-watcher", "buyer", ["--account", "buyer", "node", "watch-orders", "--interval", "0.5",
                                              *[arg for a in allowed for arg in ("--allow", a)]])

    def post_orders(self, token: str) -> None:
        self.step("The buyer posts five orders with real design files, encrypted and pinned on its own node")
        designs = self.out / "designs"
        designs.mkdir()
        cnc = self.accounts["maker2"].address
        common = {"--claim-by": "+1d", "--deliver-by": "+7d", "--inspection": "3d", "--claim-bond": "0.005"}
        specs = {
            "open-claim": (bracket_stl(designs / "bracket.stl"), {
                "--process": "FDM", "--material": "PETG", "--qty": 40, "--price": "0.04", "--region": "u33",
                "--tolerance": "hole_d=6.0±0.1mm"}),
            "direct-award": (bracket_stl(designs / "bracket-al.stl", thickness=6.0), {
                "--process": "CNC_MILLING", "--material": "AL_6061", "--qty": 12, "--price": "0.2", "--to": cnc,
                "--cert": "AS9100", "--tolerance": "width=40.0±0.02mm"}),
            "disputed": (plate_dxf(designs / "plate.dxf"), {
                "--process": "LASER_CUTTING", "--material": "SS_316", "--qty": 100, "--price": "0.1",
                "--cert": "ISO_9001", "--tolerance": "hole_d=8.0±0.1mm"}),
            "refunded": (spacer_gcode(designs / "spacer-molded.gcode"), {
                "--process": "INJECTION_MOLDING", "--material": "NYLON", "--qty": 5000, "--price": "0.3",
                "--claim-by": "+1h"}),
            "stablecoin": (spacer_gcode(designs / "spacer.gcode"), {
                "--process": "FDM", "--material": "PLA", "--qty": 200, "--price": "125.5", "--token": token}),
        }
        for name, (design, options) in specs.items():
            flat = [item for pair in {**common, **options}.items() for item in pair]
            posted = self.fabmesh("buyer", "order", "post", "--design", design, *flat, account="buyer")
            self.orders[name] = posted["order_id"]

    def stablecoin(self) -> str:
        """The chain operator deploys a test stablecoin, allow-lists it and funds the buyer."""
        self.step("Governance allow-lists a test stablecoin (fUSD) and the buyer is funded with it")
        chain = self.chain
        artifact = json.loads((CHECKOUT / "build" / "contracts" / "TestERC20.json").read_text())
        admin = self.accounts["admin"]
        factory = chain.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        deploy_tx = factory.constructor().build_transaction({"from": admin.address, "nonce":
                                                             chain.w3.eth.get_transaction_count(admin.address)})
        receipt = chain.w3.eth.wait_for_transaction_receipt(
            chain.w3.eth.send_raw_transaction(admin.sign_transaction(deploy_tx).raw_transaction))
        token = receipt["contractAddress"]
        if token is None:
            raise DemoFailed("the stablecoin's deployment created no contract")
        chain.send(admin, chain.book.set_token_allowed(token, True))
        mint = chain.w3.eth.contract(address=token, abi=artifact["abi"]).encode_abi(
            "mint", args=[self.accounts["buyer"].address, 10_000 * 10**18])
        chain.send(admin, TxRequest(token, bytes.fromhex(mint[2:]), "mint fUSD"))
        self.console.print(f"fUSD at {token}", highlight=False)
        return token

    def direct_award(self) -> None:
        self.step("The CNC shop's daemon claims the reserved order; the buyer awards it by hand")
        self.wait_for("direct-award", {Status.CLAIMED})
        self.fabmesh("buyer", "order", "award", self.orders["direct-award"], self.accounts["maker2"].address,
                     account="buyer")

    def inspect_and_dispute(self) -> None:
        self.step("An independent inspector finds the laser-cut plates out of tolerance: a signed (EIP-712) "
                  "attestation, relayed by the buyer, then a dispute and the arbitrator's ruling")
        order_id = self.orders["disputed"]
        self.wait_for("disputed", {Status.SHIPPED})
        reports = self.out / "inspection"
        reports.mkdir()
        samples = reports / f"order-{order_id}-samples.csv"
        samples.write_text("plate,hole_d_mm\n1,8.21\n2,8.19\n3,8.24\n4,8.05\n")
        report = reports / f"order-{order_id}-inspection.json"
        self.fabmesh("inspector", "order", "report", order_id, "--measure", "hole_d=8.24", "--evidence", samples,
                     "--notes", "independent inspection, worst of 4 sampled plates", "--out", report,
                     account="inspector")
        signed = reports / f"order-{order_id}-attestation.json"
        self.fabmesh("inspector", "attest", order_id, "--report", report, "--fail", "--sign-only", signed,
                     account="inspector")
        self.fabmesh("buyer", "relay-attestation", signed, account="buyer")
        self.fabmesh("buyer", "order", "dispute", order_id, "--evidence", report, account="buyer")
        ruling = reports / f"order-{order_id}-ruling.txt"
        ruling.write_text("Holes out of tolerance on 3 of 10 sampled plates: 60% refunded to the buyer, "
                          "partner's claim bond forfeited.\n")
        self.fabmesh("inspector", "order", "resolve", order_id, "--buyer-share", "0.06", "--partner-lost",
                     "--ruling", ruling, account="arbitrator")

    def expire_unclaimable(self) -> None:
        self.step("Nobody can injection-mold: two hours pass on the chain and the buyer takes the refund")
        anvil = self.network.anvil
        anvil.rpc("evm_increaseTime", 2 * 3600)
        anvil.rpc("evm_mine")
        self.fabmesh("buyer", "order", "refund", self.orders["refunded"], account="buyer")

    def confirm_deliveries(self) -> None:
        self.step("Parts arrive; the buyer confirms, the manufacturers' daemons withdraw their payments")
        for name in ("open-claim", "direct-award", "stablecoin"):
            self.wait_for(name, {Status.SHIPPED})
            self.fabmesh("buyer", "order", "confirm", self.orders[name], account="buyer")
        for name in ("open-claim", "direct-award", "stablecoin"):
            self.wait_for(name, {Status.PAID})
        self.fabmesh("buyer", "withdraw", account="buyer")  # the refund and dispute credits

    def audit(self) -> dict:
        self.step("The auditor verifies every order from chain, IPFS and signatures alone")
        report = self.out / "audit.html"
        result = subprocess.run([sys.executable, "-m", "pynode.cli", "--json", "audit", "all", "--html", str(report)],
                                env=self.env("auditor"), capture_output=True, text=True, timeout=600)
        self.console.print(f"[dim]    auditor $[/dim] fabmesh audit all --html {report}", highlight=False)
        if result.returncode != 0:
            raise DemoFailed(f"audit failed: {result.stdout[-2000:]}{result.stderr.strip()[-500:]}")
        epcis = self.out / "epcis"
        epcis.mkdir()
        for order_id in self.orders.values():
            self.fabmesh("auditor", "export", "epcis", order_id, "--output", epcis / f"order-{order_id}.jsonld")
        return json.loads(result.stdout)

    def summary(self, audit: dict) -> None:
        chain = self.chain
        makers = {self.accounts[s.account].address: s.org for s in SHOPS}
        verdicts = {int(o["order_id"]): o for o in audit["orders"]}
        table = Table("order", "scenario", "maker", "state", "gas used", "design CID", "verdict",
                      title="fabmesh demo: every order, from the chain")
        for name, order_id in self.orders.items():
            tracker = chain.book.load_order(order_id, chain.from_block)
            gas = sum(int(chain.w3.eth.get_transaction_receipt(HexBytes(tx))["gasUsed"])
                      for tx in self._order_txs(chain, order_id))
            verdict = verdicts[order_id]
            table.add_row(str(order_id), name, makers.get(tracker.state.partner, "-"), tracker.status.name, f"{gas:,}",
                          _short_cid(tracker),
                          f"{'✓' if verdict['ok'] else '✗'} {len(verdict['checks'])} checks")
        self.console.print(table)
        self.console.print(f"audit report: {self.out / 'audit.html'}  EPCIS: {self.out / 'epcis'}")

    @staticmethod
    def _order_txs(chain: Chain, order_id: int) -> set[str]:
        topic = "0x" + order_id.to_bytes(32, "big").hex()
        return {log.tx_hash for log in chain.book.logs(ORDER_EVENTS, topic,
                                                       from_block=chain.book.posted_at(order_id, chain.from_block))}

    def run(self) -> dict:
        started = time.monotonic()
        # Blocks every second, as on a real chain: daemons act on blocks once another is on top.
        self.net = LocalNetwork(self.out / "network", ORGANIZATIONS, block_time=1).start()
        self.console.print(f"anvil at {self.net.anvil.rpc_url}; Kubo nodes: "
                           + ", ".join(f"{o} {n.api_url}" for o, n in self.net.kubo.items()), highlight=False)
        self.wallets()
        self.onboard()
        token = self.stablecoin()
        self.start_daemons()
        self.post_orders(token)
        self.direct_award()
        self.inspect_and_dispute()
        self.expire_unclaimable()
        self.confirm_deliveries()
        self.wait_for("disputed", TERMINAL)
        audit = self.audit()
        self.summary(audit)
        self.console.print(f"\nscenario finished in {time.monotonic() - started:.0f}s")
        return {"orders": dict(self.orders), "audit": audit}


def _short_cid(tracker: OrderTracker) -> str:
    cid = digest_to_cid(bytes(tracker.docs.design_cid))
    return f"{cid[:12]}…{cid[-6:]}"


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
