"""`make soak`: many orders, competing daemons, crashes and an IPFS restart on one chain, then the books checked.

Buyers post orders in bursts (several posting threads per buyer share its
nonces) and run an order watcher that awards the first qualified claim and
confirms shipments. Partner daemons (`fabmesh node run` processes, overlapping
capabilities, so every order is raced by several) claim, decrypt, produce,
attest, ship and withdraw. Meanwhile a chaos thread SIGKILLs a random daemon
and restarts it, again and again, and one Kubo node that daemons depend on is
restarted. The chain mines on a block time, not per transaction.

When nothing moves any more, the clock is advanced past every deadline and
the buyers refund what is stuck by design (parts that failed their quality
check, orders nobody claimed), so every order must end in exactly one terminal
state. Then the books are checked from the chain, not from anyone's word:

* terminal_exactly_once: each order's history holds exactly one terminal record and ends in it;
* duplicate_claims: orders claimed more than once on chain, plus (daemon, order) pairs whose
  journal holds more than one mined claim (a restart that re-sent instead of resolving);
* lost_attestations: reports a daemon pinned but never attested, and shipments without an
  attestation by the partner before them;
* invariant_violations: escrow-balance checks that failed (sampled during the run at a pinned
  block, and at the end) plus every failed check of a full `fabmesh audit` of all orders.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
from eth_account.signers.local import LocalAccount

from harness import BuyerSide, NodeHome, NodeProcess, Repeating, make_partner, write_config
from pynode.audit.ipfs_evidence import IpfsEvidence
from pynode.audit.verify import Auditor
from pynode.chain.client import Chain
from pynode.chain.orders import ZERO_ADDRESS, OrderTracker
from pynode.core.errors import FabmeshError
from pynode.core.settings import Settings
from pynode.dev.accounts import ROLES, dev_accounts
from pynode.dev.network import LocalNetwork
from pynode.dev.paths import CHECKOUT
from pynode.ipfs.client import IpfsClient
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.protocol.types import TERMINAL, RecordKind, Status

TERMINAL_KINDS = {RecordKind.CANCELLED, RecordKind.REFUNDED, RecordKind.PAYMENT_WITHDRAWN, RecordKind.RESOLVED,
                  RecordKind.DISPUTE_EXPIRED}
# Escrow the order book holds for an order outside anyone's withdrawable credit, by status.
HOLDS_PRICE_AND_BOND = {Status.CLAIMED, Status.AWARDED, Status.IN_PRODUCTION, Status.SHIPPED, Status.DISPUTED}
MATERIAL_FOR = {"CNC_MILLING": "AL_6061", "FDM": "PLA", "LASER_CUTTING": "SS_316"}
# Each order's process is offered by three or four of the five shops: every order is a race.
SHOP_PROCESSES = [("CNC_MILLING", "FDM"), ("FDM", "LASER_CUTTING"), ("CNC_MILLING", "LASER_CUTTING"),
                  ("CNC_MILLING", "FDM", "LASER_CUTTING"), ("LASER_CUTTING", "CNC_MILLING")]
ORGS = ("buyers", "shops-a", "shops-b")
WARP_S = 10 * 86400  # past every claim and delivery deadline the buyers set


@dataclass(frozen=True)
class SoakPlan:
    orders: int = 1000
    buyers: int = 3
    daemons: int = 5
    block_time: float = 0.5
    daemon_poll_s: float = 0.5  # the daemons' poll interval: a cycle a block (a shorter one mostly finds no block)
    burst: tuple[int, int] = (20, 60)  # orders per burst, per buyer
    burst_gap_s: tuple[float, float] = (5.0, 20.0)
    post_workers: int = 8  # concurrent posting threads per buyer
    kill_every_s: tuple[float, float] = (15.0, 45.0)
    down_s: tuple[float, float] = (1.0, 6.0)
    kubo_restart_at: float = 0.4  # after this share of the orders is posted
    kubo_down_s: float = 5.0
    cancel_rate: float = 0.02  # buyers cancel right after posting, racing the claims
    defect_rate: float = 0.02  # simulated production fails QA: attested as failed, later refunded
    production_s: float = 0.5
    max_concurrent_jobs: int = 200
    max_awarded_per_partner: int = 8  # v2: each buyer's [award] cap on one shop's unshipped orders
    stall_s: float = 90.0  # no order changed status for this long: the rest is stuck by design
    invariant_every_s: float = 30.0
    timeout_s: float = 3 * 3600
    seed: int = 1
    protocol: int = 2  # 1: the v1 claim race (this module); 2: quotes and awards (bench/soak_v2.py)


@dataclass
class Samples:
    """CPU seconds and peak RSS per daemon process (per pid: a restart is a new process), each CPU reading with
    the time it was taken, so the run's active part is measured on its own (not the quiet wait, the deadline
    warp and the stop after it)."""

    rss_peak: dict[int, int] = field(default_factory=dict)
    daemon_of: dict[int, int] = field(default_factory=dict)
    readings: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # pid -> (monotonic s, CPU s)

    def take(self, index: int, pid: int) -> None:
        try:
            proc = psutil.Process(pid)
            times, rss = proc.cpu_times(), proc.memory_info().rss
        except psutil.Error:
            return
        self.daemon_of[pid] = index
        self.readings.setdefault(pid, []).append((time.monotonic(), times.user + times.system))
        self.rss_peak[pid] = max(self.rss_peak.get(pid, 0), rss)

    def cpu_between(self, start: float, end: float) -> Counter[int]:
        """Each daemon's CPU seconds from ``start`` to ``end`` (monotonic), by its processes' last readings at or
        before each (a process started in between counts from its start; one killed, to its reading at the kill)."""
        per_daemon: Counter[int] = Counter()
        for pid, readings in self.readings.items():
            until = [cpu for at, cpu in readings if at <= end]
            if until:
                before = [cpu for at, cpu in readings if at <= start]
                per_daemon[self.daemon_of[pid]] += until[-1] - (before[-1] if before else 0.0)
        return per_daemon


class Soak:
    def __init__(self, plan: SoakPlan, workdir: Path, net: LocalNetwork, say: Callable[[str], None]) -> None:
        self.plan = plan
        self.workdir = workdir
        self.net = net
        self.say = say
        self.rng = random.Random(plan.seed)
        self.connect()
        self.homes: list[NodeHome] = []
        self.daemons: list[NodeProcess] = []
        self.sides: list[BuyerSide] = []
        self.watchers: list[OrderWatcher] = []
        self.order_buyer: dict[int, int] = {}
        self.counts: Counter = Counter()
        self.samples = Samples()
        self.violations: list[str] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._last_progress = 0.0
        self.posting_s = 0.0  # from the first burst to the last post: the schedule's own ceiling on throughput

    def connect(self) -> None:
        # the buyers count a receipt as done (confirmations 0), as before; the daemons under test wait for 1
        self.chain = Chain.connect(Settings(rpc_url=self.net.anvil.rpc_url, deployments=self.workdir / "deployments",
                                            artifacts=CHECKOUT / "build" / "contracts", confirmations=0))
        self.accounts = dev_accounts(len(ROLES) + self.plan.buyers + self.plan.daemons)

    def count(self, name: str) -> int:
        """Increments a counter (posting threads, watchers and chaos all count) and returns its old value."""
        with self._lock:
            value = self.counts[name]
            self.counts[name] = value + 1
            return value

    # ------------------------------------------------------------------ set-up

    def _extra(self, offset: int) -> LocalAccount:
        """The `offset`-th account past the named roles: buyers first, then shops."""
        return self.accounts[f"account{len(ROLES) + offset}"]

    def fund(self) -> None:
        """anvil funds only its first ten accounts; buyers and shops beyond them get ETH here."""
        for offset in range(self.plan.buyers + self.plan.daemons):
            account = self._extra(offset)
            self.net.anvil.rpc("anvil_setBalance", account.address, hex(10**24))

    def start_daemons(self) -> None:
        materials = sorted(set(MATERIAL_FOR.values()))
        for i in range(self.plan.daemons):
            account = self._extra(self.plan.buyers + i)
            processes = SHOP_PROCESSES[i % len(SHOP_PROCESSES)]
            home = make_partner(self.chain, self.accounts["certifier"], account, self.workdir / "shops" / f"shop{i}",
                                f"shop{i}", processes=processes, materials=materials)
            kubo = self.net.kubo["shops-a" if i % 2 == 0 else "shops-b"]
            write_config(home, rpc_urls=[self.net.anvil.rpc_url], ipfs_api=kubo.api_url,
                         deployments=self.workdir / "deployments", processes=processes, materials=materials,
                         poll_interval_s=self.plan.daemon_poll_s, max_concurrent_jobs=self.plan.max_concurrent_jobs,
                         duration_s=self.plan.production_s, defect_rate=self.plan.defect_rate)
            self.homes.append(home)
            self.daemons.append(NodeProcess(home).start())
        for daemon in self.daemons:
            daemon.wait_connected(120)
        self.say(f"{len(self.daemons)} daemons running")

    def start_buyers(self) -> None:
        for b in range(self.plan.buyers):
            side = BuyerSide(self.chain, self.net.kubo["buyers"].api_url, self._extra(b),
                             self.workdir / "buyers" / f"b{b}")
            self.sides.append(side)
            self.watchers.append(OrderWatcher(side.buyer, side.keypair, AwardPolicy(auto_confirm=True)))

    # ------------------------------------------------------------- the run

    def _post_one(self, b: int, local: threading.local) -> None:
        if not hasattr(local, "side"):  # one IPFS client per thread; nonces shared through the Chain
            main = self.sides[b]
            local.side = BuyerSide(self.chain, self.net.kubo["buyers"].api_url, main.buyer.account, main.root,
                                   keypair=main.keypair)
        index = self.count("post_attempts")
        process = self.rng.choice(list(MATERIAL_FOR))
        for attempt in range(3):
            try:
                posted = local.side.post(index, process=process, material=MATERIAL_FOR[process],
                                         price=self.rng.randint(1, 10) * 10**15, claim_bond=10**14,
                                         claim_window_s=2 * 86400)
                break
            except FabmeshError as exc:
                self.count("post_retries")
                self.say(f"post retry {attempt + 1}: {type(exc).__name__}: {str(exc)[:160]}")
                time.sleep(1)
        else:
            self.count("post_failures")
            return
        self.order_buyer[posted.order_id] = b
        self.count("posted")
        if self.rng.random() < self.plan.cancel_rate:
            try:
                local.side.buyer.act("cancel", posted.order_id)
                self.count("cancelled_by_buyer")
            except FabmeshError:
                self.count("cancel_lost_race")  # a daemon's claim got there first

    def post_bursts(self, b: int, quota: int) -> None:
        local = threading.local()
        rng = random.Random(self.plan.seed * 1000 + b)
        with ThreadPoolExecutor(self.plan.post_workers, thread_name_prefix=f"post-{b}") as pool:
            done = 0
            while done < quota and not self.stop.is_set():
                size = min(rng.randint(*self.plan.burst), quota - done)
                for future in [pool.submit(self._post_one, b, local) for _ in range(size)]:
                    future.result()
                done += size
                self.stop.wait(rng.uniform(*self.plan.burst_gap_s))

    def chaos(self) -> None:
        """Kills a random daemon (SIGKILL) every few seconds and starts it again after a pause."""
        rng = random.Random(self.plan.seed + 7)
        while not self.stop.wait(rng.uniform(*self.plan.kill_every_s)):
            index = rng.randrange(len(self.daemons))
            daemon = self.daemons[index]
            if not daemon.running():
                continue
            self.samples.take(index, daemon.proc.pid)
            daemon.kill()
            self.count("kills")
            self.say(f"chaos: SIGKILL shop{index} (kill #{self.counts['kills']})")
            self.stop.wait(rng.uniform(*self.plan.down_s))
            daemon.start()

    def maybe_restart_kubo(self) -> None:
        """Restarts the Kubo node half the shops use, once the planned share of orders is posted. Runs on
        the main thread: Kubo dies with the thread that started it (see pynode.dev.process)."""
        if self.counts["kubo_restarts"] or self.counts["posted"] < self.plan.kubo_restart_at * self.plan.orders:
            return
        self.say("chaos: restarting Kubo node shops-a")
        self.net.kubo["shops-a"].restart(down_s=self.plan.kubo_down_s)
        self.net.mesh()
        self.count("kubo_restarts")

    def sample_resources(self) -> None:
        for index, daemon in enumerate(self.daemons):
            proc = daemon.proc
            if proc is not None and proc.poll() is None:
                self.samples.take(index, proc.pid)

    def watch(self, b: int) -> None:
        try:
            self.watchers[b].cycle()
        except Exception:
            self.count("watcher_errors")
            raise

    # ------------------------------------------------------------- checks

    def orders_at(self, block: int) -> dict[int, OrderTracker]:
        return self.chain.book.load_orders(self.chain.from_block, block)

    def held_at(self, block: int) -> int:
        """What the book's orders hold at ``block``: escrow of the unsettled ones (the protocol's part of the check)."""
        held = 0
        for tracker in self.orders_at(block).values():
            price, bond = tracker.terms.price, tracker.terms.claim_bond
            if tracker.status == Status.OPEN:
                held += price
            elif tracker.status in HOLDS_PRICE_AND_BOND:
                held += price + bond
            elif tracker.status == Status.COMPLETED:
                held += price + bond - price * tracker.terms.fee_bps // 10_000  # the fee is already a credit
        return held

    def check_escrow(self, block: int) -> bool:
        """ETH held by the order book == what its orders hold (:meth:`held_at`) + everyone's withdrawable credit."""
        held = self.held_at(block)
        credited = {event.args["account"]
                    for event in self.chain.book.logs(("Credited",), from_block=self.chain.from_block, to_block=block)}
        credits = sum(self.chain.book.call("credits", account, ZERO_ADDRESS, block=block) for account in credited)
        balance = self.chain.w3.eth.get_balance(self.chain.book.address, block)
        self.count("escrow_checks")
        if balance != held + credits:
            self.count("escrow_violations")
            self.violations.append(f"escrow at block {block}: balance {balance} != held {held} + credits {credits}")
            return False
        return True

    def progress(self) -> Counter:
        self._last_progress = time.monotonic()
        head = self.chain.w3.eth.block_number - 1
        statuses = Counter(t.status.name for t in self.orders_at(head).values())
        self.check_escrow(head)
        alive = sum(d.running() for d in self.daemons)
        self.say(f"block {head}: posted {self.counts['posted']}/{self.plan.orders}, {dict(sorted(statuses.items()))}, "
                 f"kills {self.counts['kills']}, daemons up {alive}/{len(self.daemons)}")
        return statuses

    def _terminal_count(self, statuses: Counter) -> int:
        return sum(statuses.get(s.name, 0) for s in TERMINAL)

    def wait_quiet(self, deadline: float) -> float:
        """Until every planned order is posted and terminal, or nothing moved for stall_s; returns when
        the last order became terminal (wall clock)."""
        last_change, last_seen, finished_at = time.monotonic(), None, time.monotonic()
        while time.monotonic() < deadline:
            self.stop.wait(self.plan.invariant_every_s)
            statuses = self.progress()
            snapshot = (self.counts["posted"], tuple(sorted(statuses.items())))
            if snapshot != last_seen:
                last_seen, last_change = snapshot, time.monotonic()
                finished_at = time.monotonic()
            posted_all = self.counts["posted"] + self.counts["post_failures"] >= self.plan.orders
            if posted_all and self._terminal_count(statuses) == sum(statuses.values()):
                break
            if posted_all and time.monotonic() - last_change > self.plan.stall_s:
                break
        return finished_at

    def refund_stuck(self, deadline: float) -> None:
        """After the clock passed every deadline: buyers take back what nobody will deliver."""
        self.net.anvil.rpc("evm_increaseTime", WARP_S)
        self.net.anvil.rpc("evm_mine")
        refundable = (Status.OPEN, Status.CLAIMED, Status.AWARDED, Status.IN_PRODUCTION)
        while time.monotonic() < deadline:
            orders = self.orders_at(self.chain.w3.eth.block_number)
            pending = [t for t in orders.values() if t.status not in TERMINAL]
            if not pending:
                return
            for tracker in pending:
                if tracker.status in refundable:
                    try:
                        self.sides[self.order_buyer[tracker.order_id]].buyer.act("refund", tracker.order_id)
                        self.count("refunded_at_end")
                    except FabmeshError as exc:  # a late shipment got there first: it is paid normally instead
                        self.say(f"refund {tracker.order_id}: {str(exc)[:120]}")
            time.sleep(2)
            self.progress()
        raise FabmeshError("orders still not terminal after the deadline warp")

    def journal_duplicates(self) -> int:
        duplicates = 0
        for home in self.homes:
            with sqlite3.connect(f"file:{home.db_path}?mode=ro", uri=True) as db:
                # claims that reached the chain (mined, or mined and reverted): one per order at most
                duplicates += db.execute("SELECT COUNT(*) FROM (SELECT order_id FROM actions WHERE kind = 'claim' AND "
                                         "(status = 'mined' OR error LIKE 'mined in block%') GROUP BY order_id "
                                         "HAVING COUNT(*) > 1)").fetchone()[0]
                self.counts["claim_txs"] += db.execute("SELECT COUNT(*) FROM actions WHERE kind = 'claim' "
                                                       "AND tx_hash IS NOT NULL").fetchone()[0]
                self.counts["claim_reverts"] += db.execute("SELECT COUNT(*) FROM actions WHERE kind = 'claim' "
                                                           "AND error LIKE 'mined in block%'").fetchone()[0]
        return duplicates

    def lost_attestations(self, orders: dict[int, OrderTracker]) -> int:
        attested = {(oid, rec.actor) for oid, t in orders.items() for rec in t.records
                    if rec.kind == RecordKind.QUALITY_ATTESTED}
        lost = 0
        for home in self.homes:
            for meta in (home.work_dir / "jobs").glob("*/report.meta.json"):
                order_id = int(meta.parent.name)
                if (order_id, home.account.address) not in attested:
                    self.violations.append(f"order {order_id}: {home.name} pinned a report it never attested")
                    lost += 1
        for oid, tracker in orders.items():
            kinds = [(rec.kind, rec.actor) for rec in tracker.records]
            shipped = [i for i, (kind, _) in enumerate(kinds) if kind == RecordKind.SHIPPED]
            if shipped and (RecordKind.QUALITY_ATTESTED, tracker.state.partner) not in kinds[:shipped[0]]:
                self.violations.append(f"order {oid}: shipped without the partner's attestation")
                lost += 1
        return lost

    def auditor(self) -> Auditor:
        return Auditor(self.chain, IpfsEvidence(IpfsClient(self.net.kubo["buyers"].api_url)), confirmations=0)

    def audit(self) -> int:
        result = self.auditor().audit()
        failures = result.failures()
        for check in failures[:20]:
            self.violations.append(f"audit order {check.order_id}: {check.name}: {check.reason}")
        self.counts["audit_checks"] = len(result.all_checks)
        return len(failures)

    # --------------------------------------------------------------- main

    def run(self) -> dict:
        plan = self.plan
        deadline = time.monotonic() + plan.timeout_s
        self.fund()
        self.start_daemons()
        self.start_buyers()
        quotas = [plan.orders // plan.buyers + (b < plan.orders % plan.buyers) for b in range(plan.buyers)]
        posters = [threading.Thread(target=self.post_bursts, args=(b, q), name=f"buyer-{b}", daemon=True)
                   for b, q in enumerate(quotas)]
        chaos = threading.Thread(target=self.chaos, name="chaos", daemon=True)
        loops = [Repeating(lambda b=b: self.watch(b), 0.5, f"watch-{b}") for b in range(plan.buyers)]
        loops.append(Repeating(self.sample_resources, 2.0, "sampler"))
        self.sample_resources()  # the daemons' CPU so far (their start-up) is before the run's window
        started = time.monotonic()
        for loop in loops:
            loop.__enter__()
        try:
            for thread in (*posters, chaos):
                thread.start()
            while any(t.is_alive() for t in posters) and time.monotonic() < deadline:
                self.stop.wait(min(5.0, self.plan.invariant_every_s))
                self.maybe_restart_kubo()
                if time.monotonic() - self._last_progress >= self.plan.invariant_every_s:
                    self.progress()
            self.maybe_restart_kubo()
            posted_at = time.monotonic()
            self.posting_s = posted_at - started
            self.say(f"all bursts posted after {self.posting_s:.0f}s")
            finished_at = self.wait_quiet(deadline)
            terminal_before_warp = self._terminal_count(self.progress())
            self.stop.set()
            chaos.join(60)
            for daemon in self.daemons:
                if not daemon.running():
                    daemon.start()
            # a daemon the chaos thread or this loop just started is let connect first: SIGTERMed before it set
            # its handler (start-up, 0.0 s) it died of the signal, counted as an unclean stop of a working daemon
            for daemon in self.daemons:
                daemon.wait_connected()
            self.refund_stuck(min(deadline, time.monotonic() + 600))
        finally:
            self.stop.set()
            for loop in loops:
                loop.__exit__(None, None, None)
            shutdowns = self._stop_daemons()
        return self.results(started, finished_at, terminal_before_warp, shutdowns)

    def _stop_daemons(self) -> list[float]:
        times = []
        for index, daemon in enumerate(self.daemons):
            if daemon.running():
                self.samples.take(index, daemon.proc.pid)
            t0 = time.monotonic()
            try:
                code = daemon.terminate(timeout=30)
            except Exception:  # noqa: BLE001 - counted as an unclean stop
                code = -1
            times.append(time.monotonic() - t0)
            if code != 0:
                self.count("unclean_stops")
                self.say(f"shop{index} stopped uncleanly (exit {code}, {times[-1]:.1f} s):\n{daemon.log_tail(10)}")
        return times

    def results(self, started: float, finished_at: float, terminal_before_warp: int, shutdowns: list[float]) -> dict:
        block = self.chain.w3.eth.block_number
        orders = self.orders_at(block)
        statuses = Counter(t.status.name for t in orders.values())
        not_once = [oid for oid, t in orders.items()
                    if t.status not in TERMINAL or sum(rec.kind in TERMINAL_KINDS for rec in t.records) != 1]
        for oid in not_once[:20]:
            ends = [RecordKind(r.kind).name for r in orders[oid].records if r.kind in TERMINAL_KINDS]
            self.violations.append(f"order {oid}: {orders[oid].status.name}, terminal records {ends}")
        onchain_duplicates = sum(sum(rec.kind == RecordKind.CLAIMED for rec in t.records) > 1 for t in orders.values())
        duplicate_claims = onchain_duplicates + self.journal_duplicates()
        lost = self.lost_attestations(orders)
        escrow_ok = self.check_escrow(block)
        audit_failures = self.audit()
        return {
            "orders": len(orders),
            "terminal_exactly_once": not not_once and len(orders) == self.counts["posted"],
            "duplicate_claims": duplicate_claims,
            "lost_attestations": lost,
            "final_status": dict(sorted(statuses.items())),
            "paid": statuses.get(Status.PAID.name, 0),
            "claim_txs_sent": self.counts["claim_txs"],
            "claim_txs_reverted_on_chain": self.counts["claim_reverts"],
            **self.run_figures(started, finished_at, terminal_before_warp, shutdowns, escrow_ok, audit_failures),
        }

    def run_figures(self, started: float, finished_at: float, terminal_before_warp: int, shutdowns: list[float],
                    escrow_ok: bool, audit_failures: int) -> dict:
        """What both protocols' results report: the schedule's counts, throughput, checks and resources."""
        active_min = (finished_at - started) / 60
        return {
            "invariant_violations": self.counts["escrow_violations"] + audit_failures,
            "kills": self.counts["kills"],
            "kubo_restarts": self.counts["kubo_restarts"],
            "orders_per_min": round(terminal_before_warp / active_min, 1),
            "active_minutes": round(active_min, 2),
            # orders/min can be no higher than the buyers post them (bursts, gaps, each post's receipt wait)
            "posting_minutes": round(self.posting_s / 60, 2),
            "posted_per_min": round(self.counts["posted"] / max(self.posting_s / 60, 1e-9), 1),
            "terminal_before_deadline_warp": terminal_before_warp,
            "refunded_after_warp": self.counts["refunded_at_end"],
            "cancelled_by_buyer": self.counts["cancelled_by_buyer"],
            "cancel_lost_race": self.counts["cancel_lost_race"],
            "escrow_checks": self.counts["escrow_checks"],
            "escrow_ok_at_end": escrow_ok,
            "audit_checks": self.counts["audit_checks"],
            "audit_failures": audit_failures,
            "post_retries": self.counts["post_retries"],
            "post_failures": self.counts["post_failures"],
            "watcher_errors": self.counts["watcher_errors"],
            **self.resources(started, finished_at, shutdowns),
            "violations": self.violations[:40],
            "plan": asdict(self.plan),
        }

    def resources(self, started: float, finished_at: float, shutdowns: list[float]) -> dict:
        """The daemons' CPU while the run was active (summed over each daemon's processes, a restart being a new
        one, its start-up included) as a share of that time, and their memory."""
        active_min = (finished_at - started) / 60
        per_daemon_cpu = self.samples.cpu_between(started, finished_at)
        whole_run = self.samples.cpu_between(float("-inf"), float("inf"))
        rss = [v / 2**20 for v in self.samples.rss_peak.values()] or [0.0]
        return {
            "unclean_stops": self.counts["unclean_stops"],
            "shutdown_s_max": round(max(shutdowns, default=0.0), 2),
            "daemon_cpu_s": {f"shop{i}": round(per_daemon_cpu[i], 1) for i in range(len(self.daemons))},
            # start-up to stop: the quiet wait, the deadline warp's refunds and the restarts then too
            "daemon_cpu_s_whole_run": {f"shop{i}": round(whole_run[i], 1) for i in range(len(self.daemons))},
            "daemon_cpu_pct_of_core": {f"shop{i}": round(100 * per_daemon_cpu[i] / (active_min * 60), 1)
                                       for i in range(len(self.daemons))},
            "daemon_cpu_pct_of_core_mean": round(100 * sum(per_daemon_cpu.values()) / len(self.daemons)
                                                 / (active_min * 60), 1),
            # what the share of a core is made of, whatever the offered load: every daemon quotes every order
            "daemon_cpu_ms_per_order": round(1000 * sum(per_daemon_cpu.values()) / len(self.daemons)
                                             / max(self.counts["posted"], 1), 1),
            "daemon_rss_peak_mib": round(max(rss), 1),
            "daemon_rss_peak_mib_mean": round(sum(rss) / len(rss), 1),
            "daemon_processes": len(self.samples.rss_peak),
        }


def run_soak(plan: SoakPlan, workdir: Path, say: Callable[[str], None] = print) -> dict:
    """The soak on the plan's protocol: v1 (claims) here, v2 (quotes and awards) in bench/soak_v2.py."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    with LocalNetwork(workdir, list(ORGS), block_time=plan.block_time, protocol=plan.protocol) as net:
        if plan.protocol == 2:
            from bench.soak_v2 import SoakV2  # it builds on this module

            return SoakV2(plan, workdir, net, say).run()
        return Soak(plan, workdir, net, say).run()
