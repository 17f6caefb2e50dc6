"""`make soak` on protocol v2: escrow-first orders, quoting daemons, awards by policy, crashes and a Kubo restart.

The run of bench/soak_run.py (bursts of posts, SIGKILLed and restarted daemons, one Kubo restart, a chain
mining on a block time, a deadline warp at the end) with v2's parties: buyers post escrow-first through
BuyerV2, each buyer's v2 watcher (orders/v2/watch.py) announces its open orders on the deployment's pubsub
channel, collects the quotes the shops' `fabmesh node run` (``protocol = 2``, different margins, so every order
gets several) publish, awards the one its ``[award]`` policy picks and confirms what ships. The books are
checked from the chain:

* terminal_exactly_once: each order's transition chain holds exactly one terminal link and ends in it;
* double_awards / double_payouts: orders awarded more than once, orders completed more than once or whose
  payee was credited for them more than once;
* losing_quote_gas: gas (wei) the partners' own transactions spent on orders they were not awarded, found by
  reading every transaction the partners sent during the run (quotes are meant to stay off chain: measured);
* invariant_violations: the book's ETH balance against the escrow its orders hold plus every credit
  (sampled during the run and at the end), plus every failed check of a full v2 audit.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import tomli_w
from eth_account.signers.local import LocalAccount

from bench.soak_run import WARP_S, Soak
from harness import NodeHome, NodeProcess, write_config
from pynode.audit.ipfs_evidence import IpfsEvidence
from pynode.audit.v2.verify import AuditorV2
from pynode.chain.orders import ZERO_ADDRESS
from pynode.chain.v2.client import ChainV2
from pynode.chain.v2.orders import OrderTracker
from pynode.core.errors import FabmeshError
from pynode.core.settings import Settings
from pynode.crypto.hpke import HpkeKeyPair, generate_keypair
from pynode.daemon.jsonlog import JsonLogger
from pynode.dev.accounts import dev_accounts
from pynode.dev.designs import bracket_stl
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.pubsub import KuboPubsub
from pynode.ipfs.vault import DesignVault
from pynode.orders.award_policy import AwardSettings
from pynode.orders.design_keys import DesignKeyStore
from pynode.orders.quote_channel import QuoteChannel
from pynode.orders.v2.buyer import BuyerV2, OrderRequestV2
from pynode.orders.v2.send_journal import SendJournal
from pynode.orders.v2.settings import WatchLoopSettings
from pynode.orders.v2.watch import OrderWatcherV2
from pynode.protocol.v2.types import OrderStatus, Transition
from v2_parties import daemon_shop, fresh_account

DAY = 86_400
TERMINAL_LINKS = {Transition.CONFIRMED, Transition.FINALIZED, Transition.DISPUTE_DEFAULTED, Transition.SETTLED,
                  Transition.RULED, Transition.DISPUTE_EXPIRED, Transition.REFUNDED, Transition.CANCELLED,
                  Transition.REJECTED}
# ETH the book holds for an order outside anyone's credit, by status (the bond sits in the registry)
HOLDS_PRICE = {OrderStatus.AWARDED, OrderStatus.SHIPPED, OrderStatus.DISPUTED}
# every shop prices the same work (node.toml [quote]); the margins differ, so the award policy has a choice on
# every order
MARGINS_BPS = (500, 1500, 1000, 3000, 2000)


def quote_config(margin_bps: int) -> str:
    return tomli_w.dumps({"protocol": 2, "quote": {
        "margin_bps": margin_bps, "validity_s": 3600, "processes": {"cnc-milling": {"setup_s": 60, "part_s": 600}},
        "tokens": {ZERO_ADDRESS: {"machine_rate_per_hour": 10**14, "material_per_part": {"al-6061": 10**12}}}}})


STAGES = (("posted_to_awarded", Transition.POSTED, Transition.AWARDED),
          ("awarded_to_shipped", Transition.AWARDED, Transition.SHIPPED),
          ("shipped_to_confirmed", Transition.SHIPPED, Transition.CONFIRMED))


def stage_seconds(orders: dict[int, OrderTracker]) -> dict[str, dict[str, float]]:
    """Where an order's time goes, from its transition links' block times (whole seconds): median and 90th
    percentile of each stage over the orders that went through it (buyer's watcher: award and confirmation;
    the partner's daemon: production and shipping)."""
    spans: dict[str, list[int]] = {name: [] for name, _, _ in STAGES}
    for tracker in orders.values():
        at = {Transition(link.kind): link.time for link in tracker.transitions}
        for name, start, end in STAGES:
            if start in at and end in at:
                spans[name].append(at[end] - at[start])
    return {name: {"p50": float(sorted(v)[len(v) // 2]), "p90": float(sorted(v)[len(v) * 9 // 10]), "n": len(v)}
            for name, v in spans.items() if v}


class BuyerV2Side:
    """One buyer's posting client (one per posting thread: an IPFS client each, nonces shared via the chain)."""

    def __init__(self, chain: ChainV2, ipfs_api: str, account: LocalAccount, root: Path,
                 keypair: HpkeKeyPair) -> None:
        ipfs = IpfsClient(ipfs_api)
        self.buyer = BuyerV2(chain, DesignVault(ipfs), DesignKeyStore(root / "design-keys", ipfs), account)
        self.keypair = keypair
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def post(self, index: int, price: int) -> int:
        design = bracket_stl(self.root / f"design-{index}.stl", width=20.0 + index % 100)  # the shops measure it
        now = self.buyer.chain.now()
        request = OrderRequestV2(design=design, process="CNC_MILLING", material="AL_6061", quantity=1, price=price,
                                 award_deadline=now + DAY, delivery_deadline=now + 7 * DAY,
                                 inspection_window=3 * DAY, region="u33d")
        return self.buyer.post(self.buyer.prepare(request, self.keypair.public_key)).order_id


class SoakV2(Soak):
    """The v1 soak's schedule (bursts, chaos, Kubo restart, quiet detection) over the v2 parties and checks."""

    def connect(self) -> None:
        self.chain = ChainV2.connect(Settings(rpc_url=self.net.anvil.rpc_url, ipfs_api=self.net.kubo["buyers"].api_url,
                                              deployments=self.workdir / "deployments", home=self.workdir / "home",
                                              confirmations=0))
        self.certifier = dev_accounts()["certifier"]
        self.buyer_accounts = [fresh_account(self.net.anvil, 10**6) for _ in range(self.plan.buyers)]
        self.first_block = 0
        self.chain_started = self.warped_at = 0  # chain times: the run's start, the deadline warp
        self.event_files: list = []

    def fund(self) -> None:
        """The accounts are fresh and funded by v2_parties: nothing to do here."""

    def start_daemons(self) -> None:
        for i in range(self.plan.daemons):
            root = self.workdir / "shops" / f"shop{i}"
            home: NodeHome = daemon_shop(self.chain, self.net.anvil, self.certifier, root, f"shop{i}")
            kubo = self.net.kubo["shops-a" if i % 2 == 0 else "shops-b"]
            write_config(home, rpc_urls=[self.net.anvil.rpc_url], ipfs_api=kubo.api_url,
                         deployments=self.workdir / "deployments", processes=["cnc-milling"], materials=["al-6061"],
                         poll_interval_s=self.plan.daemon_poll_s, max_concurrent_jobs=self.plan.max_concurrent_jobs,
                         duration_s=self.plan.production_s, defect_rate=self.plan.defect_rate,
                         extra=quote_config(MARGINS_BPS[i % len(MARGINS_BPS)]))
            self.homes.append(home)
            self.daemons.append(NodeProcess(home).start())
        for daemon in self.daemons:
            daemon.wait_connected(120)
        self.first_block = self.chain.head() + 1  # the partners' transactions from here on are the soak's
        self.say(f"{len(self.daemons)} v2 daemons running")

    def start_buyers(self) -> None:
        # each buyer caps what one shop holds of its orders unshipped: a burst spreads over the shops with room
        award = AwardSettings(mode="best", wait_s=2, award_margin_s=5,
                              max_awarded_per_partner=self.plan.max_awarded_per_partner)
        loop = WatchLoopSettings(auto_confirm=True, announce_s=3)
        api = self.net.kubo["buyers"].api_url
        for b, account in enumerate(self.buyer_accounts):
            side = BuyerV2Side(self.chain, api, account, self.workdir / "buyers" / f"b{b}", generate_keypair())
            self.sides.append(side)
            channel = QuoteChannel(KuboPubsub(api), side.buyer.domain)
            events = (side.root / "watch.log").open("a")  # as `fabmesh node watch-orders` logs: JSON lines
            self.event_files.append(events)
            watcher = OrderWatcherV2(side.buyer, side.keypair, award, loop, channel, log=JsonLogger(events).info,
                                     journal=SendJournal(side.root / "sends.sqlite"))
            watcher.start()
            self.watchers.append(watcher)
        self.chain_started = self.chain.now()  # the run's clock starts now (soak_run.Soak.run)

    def _post_one(self, b: int, local: threading.local) -> None:
        if not hasattr(local, "side"):
            main = self.sides[b]
            local.side = BuyerV2Side(self.chain, self.net.kubo["buyers"].api_url, main.buyer.account, main.root,
                                     main.keypair)
        index = self.count("post_attempts")
        for attempt in range(3):
            try:
                order_id = local.side.post(index, self.rng.randint(1, 10) * 10**15)
                break
            except FabmeshError as exc:
                self.count("post_retries")
                self.say(f"post retry {attempt + 1}: {type(exc).__name__}: {str(exc)[:160]}")
                self.stop.wait(1)
        else:
            self.count("post_failures")
            return
        self.order_buyer[order_id] = b
        self.count("posted")
        if self.rng.random() < self.plan.cancel_rate:
            try:
                tracker = self.chain.book.load_order(order_id, self.chain.from_block)
                local.side.buyer.cancel(tracker)
                self.count("cancelled_by_buyer")
            except FabmeshError:
                self.count("cancel_lost_race")  # the watcher's award got there first

    # ------------------------------------------------------------- checks

    def orders_at(self, block: int) -> dict[int, OrderTracker]:
        return self.chain.book.load_orders(self.chain.from_block, block)

    def held_at(self, block: int) -> int:
        """Escrow of the unsettled orders + the fees left in the book until collectFees credits them."""
        held = 0
        for tracker in self.orders_at(block).values():
            if tracker.status == OrderStatus.OPEN:
                held += tracker.terms.price
            elif tracker.status in HOLDS_PRICE:
                held += tracker.price
            elif tracker.status == OrderStatus.COMPLETED:
                held += tracker.fee
        return held

    def _terminal_count(self, statuses: Counter) -> int:
        terminal = ("COMPLETED", "RESOLVED", "REFUNDED", "REJECTED", "CANCELLED", "FEE_COLLECTED")
        return sum(statuses.get(name, 0) for name in terminal)

    def refund_stuck(self, deadline: float) -> None:
        """Past every deadline: buyers take back open and unshipped orders, and finalize what shipped."""
        self.warped_at = self.chain.now()
        self.net.anvil.rpc("evm_increaseTime", WARP_S)
        self.net.anvil.rpc("evm_mine")
        while time.monotonic() < deadline:
            pending = [t for t in self.orders_at(self.chain.head()).values() if not t.terminal]
            if not pending:
                return
            for tracker in pending:
                buyer = self.sides[self.order_buyer[tracker.order_id]].buyer
                try:
                    if tracker.status in (OrderStatus.OPEN, OrderStatus.AWARDED):
                        buyer.refund(tracker)
                        self.count("refunded_at_end")
                    elif tracker.status == OrderStatus.SHIPPED:
                        self.chain.send(buyer.account, self.chain.book.finalize(tracker))
                        self.count("finalized_at_end")
                except FabmeshError as exc:  # a watcher's refund or confirmation got there first
                    self.say(f"end of {tracker.order_id}: {str(exc)[:120]}")
            time.sleep(2)
            self.progress()
        raise FabmeshError("orders still not terminal after the deadline warp")

    def partner_gas(self, orders: dict[int, OrderTracker]) -> dict:
        """Every transaction the partners sent during the run, its gas charged to the order its logs name (a
        reverted one's calldata): to the partner's won orders, or to ``losing_quote_gas`` (an order it did not
        win, or none at all)."""
        partners = {home.account.address for home in self.homes}
        order_topic = {tracker.order_id.to_bytes(32, "big"): tracker for tracker in orders.values()}
        eth, book = self.chain.w3.eth, self.chain.book.address.lower()
        stats: Counter = Counter()
        for number in range(self.first_block, eth.block_number + 1):
            for tx in eth.get_block(number, full_transactions=True)["transactions"]:
                if tx["from"] not in partners:
                    continue
                receipt = eth.get_transaction_receipt(tx["hash"])
                wei = receipt["gasUsed"] * receipt["effectiveGasPrice"]
                named = {bytes(topic) for log in receipt["logs"] for topic in log["topics"][1:]}
                if receipt["status"] == 0 and str(tx["to"]).lower() == book:
                    # no logs: the order its first argument names (a ship that lost the race to the end's refund)
                    named.add(bytes(tx["input"])[4:36])
                won = [t for key, t in order_topic.items() if key in named and t.partner == tx["from"]]
                stats["partner_txs"] += 1
                stats["partner_txs_reverted"] += receipt["status"] == 0
                if won:
                    stats["partner_gas_on_won_orders"] += receipt["gasUsed"]
                else:
                    stats["losing_quote_gas"] += receipt["gasUsed"]
                    stats["losing_quote_wei"] += wei
                    self.violations.append(f"partner {tx['from']} spent gas on no order of its own: "
                                           f"{tx['hash'].hex()}")
        return dict(stats)

    def exactly_once(self, orders: dict[int, OrderTracker]) -> dict:
        completions = Counter(int(e.args["orderId"]) for e in self.chain.book.logs(
            ("OrderCompleted",), from_block=self.chain.from_block))
        credits = Counter((int(e.args["orderId"]), e.args["account"]) for e in self.chain.book.logs(
            ("Credited",), from_block=self.chain.from_block))
        not_once, double_awards, double_payouts = [], 0, 0
        for oid, tracker in orders.items():
            kinds = [Transition(link.kind) for link in tracker.transitions]
            ends = [k.name for k in kinds if k in TERMINAL_LINKS]
            if not tracker.terminal or len(ends) != 1:
                not_once.append(oid)
                self.violations.append(f"order {oid}: {tracker.status.name}, terminal links {ends}")
            double_awards += kinds.count(Transition.AWARDED) > 1
            paid_twice = completions[oid] > 1 or (tracker.payee is not None and credits[(oid, tracker.payee)] > 1)
            double_payouts += paid_twice
            if paid_twice:
                self.violations.append(f"order {oid}: paid more than once")
        return {"not_once": not_once, "double_awards": double_awards, "double_payouts": double_payouts}

    def daemon_counts(self) -> dict:
        """Quotes signed and transactions sent, from the daemons' logs and journals."""
        counts: Counter = Counter()
        for daemon in self.daemons:
            text = daemon.log_path.read_text(errors="replace")
            counts["quotes_signed"] += text.count('"event":"quote_signed"')
            counts["awards_rejected_by_daemons"] += text.count('"event":"award_rejected"')
            counts["daemon_jobs_failed"] += text.count('"event":"job_failed"')
            with sqlite3.connect(f"file:{daemon.home.db_path}?mode=ro", uri=True) as db:
                for kind, n in db.execute("SELECT kind, COUNT(*) FROM actions WHERE tx_hash IS NOT NULL "
                                          "GROUP BY kind"):
                    counts[f"daemon_{kind}_txs"] += n
                counts["daemon_duplicate_mined_actions"] += db.execute(
                    "SELECT COUNT(*) FROM (SELECT order_id, kind FROM actions WHERE status = 'mined' "
                    "GROUP BY order_id, kind HAVING COUNT(*) > 1)").fetchone()[0]
        return dict(counts)

    def auditor(self) -> AuditorV2:
        return AuditorV2(self.chain.rpc, self.chain.deployment,
                         IpfsEvidence(IpfsClient(self.net.kubo["buyers"].api_url)), confirmations=0)

    # --------------------------------------------------------------- main

    def run(self) -> dict:
        try:
            return super().run()
        finally:
            for watcher in self.watchers:
                watcher.close()
            for events in self.event_files:
                events.close()

    def results(self, started: float, finished_at: float, terminal_before_warp: int, shutdowns: list[float]) -> dict:
        head = self.chain.head()
        orders = self.orders_at(head)
        # the last order terminal before the warp, by its link's block time (the base class samples every
        # invariant_every_s, which overstates the active time by up to that much); blocks carry wall-clock times
        ends = [link.time for t in orders.values() for link in t.transitions
                if Transition(link.kind) in TERMINAL_LINKS and link.time <= self.warped_at]
        if ends and self.chain_started:
            finished_at = min(finished_at, started + max(ends) + 1 - self.chain_started)
        statuses = Counter(t.status.name for t in orders.values())
        once = self.exactly_once(orders)
        gas = self.partner_gas(orders)
        escrow_ok = self.check_escrow(head)
        audit_failures = self.audit()
        watched = Counter()
        for watcher in self.watchers:
            stats = watcher.stats
            watched["awarded_by_watchers"] += len(stats.awarded)
            watched["confirmed_by_watchers"] += len(stats.confirmed)
            watched["refunded_by_watchers"] += len(stats.refunded)
            watched["cancelled_by_watchers"] += len(stats.cancelled)
            watched["quotes_rejected_by_policy"] += stats.rejected
            for key, n in watcher.journal.counts().items():  # e.g. "award mined", "confirm reverted"
                watched[f"watcher_{key.replace(' ', '_')}_txs"] += n
        return {
            "protocol": 2,
            "orders": len(orders),
            "terminal_exactly_once": not once["not_once"] and len(orders) == self.counts["posted"],
            "double_awards": once["double_awards"],
            "double_payouts": once["double_payouts"],
            "losing_quote_gas": gas.get("losing_quote_gas", 0),
            "final_status": dict(sorted(statuses.items())),
            "completed": statuses.get("COMPLETED", 0) + statuses.get("FEE_COLLECTED", 0),
            "finalized_after_warp": self.counts["finalized_at_end"],
            "stage_s": stage_seconds(orders),
            **watched,
            **self.daemon_counts(),
            **gas,
            **self.run_figures(started, finished_at, terminal_before_warp, shutdowns, escrow_ok, audit_failures),
        }
