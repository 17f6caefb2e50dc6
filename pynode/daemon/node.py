"""The manufacturer node: `fabmesh node run --config node.toml`.

One cycle (:meth:`Node.cycle`):

1. **Reorg check**: the stored hashes of processed blocks are compared with the
   chain (``reorg.find_fork``); on a fork the store rewinds to the common
   ancestor and every job a vanished block touched is re-evaluated.
2. **Scan**: ``eth_getLogs`` over the confirmed blocks only (head minus
   ``confirmations``), from the checkpoint on, in the events reader's bounded ranges; each batch is decoded on the fast
   path and applied to the jobs table in the *same* SQLite transaction that
   moves ``last_processed`` (``last_seen`` follows the head separately).
3. **Jobs**: every job with something to do is re-read from the chain at the
   confirmed block (``load_order``: rebuilt from events, verified against the
   on-chain hash) and takes its next step. What the chain says decides, never
   the local state alone, so a restart at any point neither repeats nor skips an
   action; transactions go through the actions journal (:mod:`.journal`).

Errors are sorted by type (:func:`pynode.core.errors.classify`): transient ones back off with
jitter, never shorter than a Retry-After (per job, or for the whole cycle with RPC failover; a
rate limit never fails a job), a job's bad input fails that job,
fatal ones stop the node (exit 1).

Stopping (SIGTERM, SIGINT: :func:`install_signal_handlers`) takes a few seconds
at most and exits 0: every wait in a cycle (receipts, resolving the journal)
shares the node's stop event and ends at once with ``Stopping``; a cycle stuck
in one blocking request (an RPC or IPFS call with a 30 s timeout) is cut after
``STOP_GRACE_S``. Cutting anywhere is safe for the same reason a SIGKILL is:
a transaction in flight stays ``sent`` in the journal and the next start
resolves it. The store is closed on the way out. A second signal exits at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from pynode.chain.client import Chain
from pynode.chain.confirmations import Progress
from pynode.chain.contracts import OrderBook, OrderOutOfSync, PartnerRegistry
from pynode.chain.deployment import load_deployment
from pynode.chain.events.decoder import EventDecoder
from pynode.chain.events.reader import LogReader
from pynode.chain.known_orders import KnownOrders
from pynode.chain.orders import ZERO_ADDRESS, OrderTracker, record_actor
from pynode.chain.reorg import find_fork
from pynode.chain.revert import RevertDecoder
from pynode.chain.rpc import chain_id as rpc_chain_id
from pynode.chain.rpc import connect
from pynode.chain.tx import TxReverted
from pynode.core.backoff import Backoff
from pynode.core.errors import (
    FatalError,
    InputError,
    Kind,
    ProviderUnavailable,
    TransientError,
    WrongChain,
    classify,
    retry_after,
)
from pynode.core.fsutil import write_atomic, write_json_atomic
from pynode.core.stop import StopEvent, Stopping
from pynode.crypto.hpke import HpkeKeyPair
from pynode.daemon.adapters import ProductionAdapter, ProductionJob, UnknownJob, make_adapter
from pynode.daemon.config import NodeConfig
from pynode.daemon.journal import JournaledSender, Outcome
from pynode.daemon.jsonlog import JsonLogger
from pynode.daemon.metrics import NodeMetrics
from pynode.daemon.store import Job, JobState, Store
from pynode.documents.quality_report import build_report, canonical_json
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
from pynode.orders.partner import JobPolicy, Partner, is_fatal_revert, is_race_lost
from pynode.protocol.types import OrderState, RecordKind, Status

#: states that hold a slot of ``max_concurrent_jobs``
BUSY_STATES = (JobState.CLAIMING, JobState.CLAIMED, JobState.AWARDED, JobState.PRODUCING, JobState.REPORTING)
#: states with local work: stepped every cycle (the others only when an event touched them, or every REFRESH_S)
WORK_STATES = (JobState.SEEN, JobState.CLAIMING, JobState.AWARDED, JobState.PRODUCING, JobState.REPORTING)
REFRESH_S = 60.0  # orders only change by events; this catches timeouts (finalize, refunds)
MAX_JOB_ATTEMPTS = 20
RIVAL_WAIT_S = 1.0  # a rival's pending claim is mined (or dropped) within a block or two
STOP_GRACE_S = 3.0  # after a stop signal, how long one blocking request may still run before it is cut
RPC_RETRY_S = 5.0  # one request retries a rate limit or outage this long before the cycle's own backoff takes over


@dataclass
class Identity:
    """What the node signs and decrypts with, unlocked once at start."""

    account: LocalAccount
    hpke_keys: dict[str, HpkeKeyPair]


def unlock_identity(config: NodeConfig) -> Identity:
    """Unlocks the keystore and every HPKE key pair of the account; FatalError if anything is unreadable."""
    from pynode.core.settings import Settings
    from pynode.wallet.hpke_keys import HpkeKeyStore
    from pynode.wallet.keystore import Keystore, unlock_keyfile
    from pynode.wallet.password import read_password

    home = config.home or Settings().home
    try:
        if config.password_file is None:
            raise InputError("no password_file in the config (or FABMESH_PASSWORD_FILE): the node cannot prompt")
        password = read_password(config.password_file)
        if config.keystore is not None:
            account = unlock_keyfile(Path(config.keystore), password)
        elif config.account:
            account = Keystore(home / "keystores", 1 << 10).unlock(config.account, password)
        else:
            raise InputError("no account or keystore in the config")
        name = config.hpke_key or config.account
        if not name:
            raise InputError("no hpke_key in the config (needed with a keystore file)")
        store = HpkeKeyStore(home / "hpke", 1 << 10)
        keys = {key_id: store.unlock(name, password, key_id) for key_id in store.key_ids(name)}
        if not keys:
            raise InputError(f"no HPKE key pairs for {name!r} in {home / 'hpke'}")
    except FatalError:
        raise
    except Exception as exc:  # any failure to unlock is fatal at start
        raise FatalError(f"cannot unlock the node's keys: {exc}") from exc
    return Identity(account, keys)


def connect_chain(url: str, config: NodeConfig) -> Chain:
    """A Chain on ``url`` that absorbs short throttling in the request (``RPC_RETRY_S``); longer trouble
    ends the cycle, which backs off and fails over to the next endpoint."""
    w3 = connect(url, retry_timeout_s=RPC_RETRY_S)
    artifacts = config.artifacts if config.artifacts and Path(config.artifacts).exists() else None
    deployment = load_deployment(rpc_chain_id(w3), config.deployments, artifacts)
    reader = LogReader(w3, batch_size=config.log_batch_size)
    registry = PartnerRegistry(w3, deployment["PartnerRegistry"], reader)
    book = OrderBook(w3, deployment["OrderBook"], reader)
    return Chain(w3, deployment, registry, book, RevertDecoder(registry.info.abi, book.info.abi), config.confirmations)


class Node:
    def __init__(self, config: NodeConfig, identity: Identity, *, log: JsonLogger | None = None,
                 metrics: NodeMetrics | None = None, adapter: ProductionAdapter | None = None) -> None:
        self.config = config
        self.identity = identity
        self.account = identity.account
        self.address = to_checksum_address(identity.account.address)
        self.log = log or JsonLogger()
        self.metrics = metrics or NodeMetrics(stale_after_s=max(60.0, 10 * config.poll_interval_s))
        self.work_dir = Path(config.work_dir)
        self.jobs_dir = self.work_dir / "jobs"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.work_dir / "node.db")
        self.adapter = adapter or make_adapter(config.production.adapter, config.production,
                                               state_dir=self.work_dir / "adapter")
        self.policy = JobPolicy.from_config(config.policy)
        self.ipfs = IpfsClient(config.ipfs_api, timeout=30.0)
        self.vault = DesignVault(self.ipfs, raw_leaves=config.ipfs_raw_leaves)
        self.backoff = Backoff(base_s=min(1.0, config.poll_interval_s), cap_s=10.0)
        self._stop = StopEvent()
        self._looping = False  # inside run()'s loop: interrupt() may cut it
        self._rpc_index = 0
        self._chain: Chain | None = None
        self._chain_id: int | None = None
        self._book_address: str | None = None
        self._dirty: set[int] = set()
        self._stepped_at: dict[int, float] = {}
        self._first_cycle = True
        self._cache: dict[Any, Any] = {}  # reads at the head ``_tip``: valid until the head changes
        self._tip: tuple[int, bytes] | None = None
        self._failures = 0
        self.safe_head = -1
        self._awaiting: dict[tuple[int, str], _Mined] = {}  # own mined txs short of confirmation depth
        self._orders: KnownOrders | None = None  # orders as the scanned events build them (see load())
        self._partner_info: tuple[float, Any] | None = None  # (when read, own registry entry at the safe block)

    # -- lifecycle ----------------------------------------------------------------

    def stop(self, *_: object) -> None:
        """Asks the loop to return: the current wait ends at once, the current request finishes."""
        if not self._stop.is_set():
            self.log.info("stopping")
        self._stop.set()

    def interrupt(self) -> None:
        """Cuts the loop short wherever it is (the grace timer after a stop); a no-op outside the loop."""
        if self._looping:
            raise Stopping("a blocking request outlasted the stop grace period")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        self.metrics.stop()
        self.store.close()
        self.ipfs.close()

    def run(self, *, once: bool = False) -> int:
        """The main loop; returns the exit code (0: stopped, also in the middle of a cycle). FatalError propagates."""
        if self.config.metrics_port and self.metrics.port is None:
            self.metrics.start(self.config.metrics_port)
        self.log.info("node_started", account=self.address, work_dir=str(self.work_dir),
                      rpc=self.config.rpc_urls[self._rpc_index])
        try:
            try:
                self._looping = True
                self._loop(once)
            finally:
                self._looping = False  # an interrupt() up to here lands in the handler below, none after
        except Stopping as exc:
            self.log.info("cycle_interrupted", reason=str(exc))
        self.log.info("node_stopped")
        return 0

    def _loop(self, once: bool) -> None:
        while not self.stopping:
            try:
                self.cycle()
                self._failures = 0
            except Exception as exc:  # sorted below
                kind = classify(exc)
                if kind is Kind.FATAL:
                    self.metrics.cycle_failed("fatal")
                    raise
                self.metrics.cycle_failed(kind.value)
                self._failures += 1
                delay = self.backoff.delay(self._failures, retry_after(exc))
                self.log.warning("cycle_failed", error=_brief(exc), kind=kind.value, retry_in_s=round(delay, 2))
                self._failover()
                if once:
                    if self._failures < len(self.config.rpc_urls):
                        continue  # --once: try each endpoint once before giving up
                    raise TransientError(f"no cycle succeeded on any RPC endpoint: {_brief(exc)}") from exc
                self._stop.wait(delay)
                continue
            if once:
                break
            self._stop.wait(self.config.poll_interval_s)

    # -- connections ----------------------------------------------------------------

    @property
    def chain(self) -> Chain:
        if self._chain is None:
            url = self.config.rpc_urls[self._rpc_index]
            chain = connect_chain(url, self.config)
            if self._chain_id is not None and (chain.chain_id != self._chain_id
                                               or chain.book.address != self._book_address):
                raise WrongChain(f"{url} is chain {chain.chain_id} / order book {chain.book.address}, "
                                 f"not chain {self._chain_id} / {self._book_address} this node works on")
            self._chain_id, self._book_address = chain.chain_id, chain.book.address
            self._chain = chain
            self._orders = KnownOrders(chain.book)
            self.partner = Partner(chain, self.vault, self.account, self.identity.hpke_keys, self.policy)
            self.sender = JournaledSender(chain.w3, self.account, chain.sender(self.account),
                                          self.store,
                                          replace_after_s=self.config.tx_replace_after_s,
                                          wait_s=max(120.0, 4 * self.config.tx_replace_after_s), poll_s=0.05,
                                          on_event=self._tx_event, stop=self._stop)
            self.decoder = EventDecoder({chain.book.address: chain.book.info.abi,
                                         chain.registry.address: chain.registry.info.abi})
            self.log.info("connected", rpc=url, chain_id=chain.chain_id, book=chain.book.address)
        return self._chain

    def _failover(self) -> None:
        """After a transient cycle failure: next time, connect to the next RPC URL (round robin)."""
        if len(self.config.rpc_urls) > 1:
            self._rpc_index = (self._rpc_index + 1) % len(self.config.rpc_urls)
        self._chain = None

    def _tx_event(self, event: str, **fields: Any) -> None:
        if event == "tx_sent":
            self.metrics.tx_sent.labels(fields.get("action", "?")).inc()
        self.log.info(event, **fields)

    # -- the cycle ----------------------------------------------------------------------

    def cycle(self) -> None:
        chain = self.chain
        if self._first_cycle:
            self.partner.check_standing()
            self._startup_cleanup()
        t0 = time.perf_counter()
        head_block = chain.w3.eth.get_block("latest")
        head = int(head_block["number"])
        self.sender.clock.saw(head, head_block)
        last_tip = self._tip
        moved = self._new_head(head_block)
        self.safe_head = head - self.config.confirmations
        self.store.note_seen(head)
        # the same head hash is the same chain: nothing to compare; neither when every head since the last
        # cycle's was seen as the child of the one before (the block clock: this cycle's and those a receipt
        # wait read), since the last cycle's head's parent link is the newest stored block
        if moved and not (last_tip is not None and self.sender.clock.chained({"number": last_tip[0],
                                                                               "hash": last_tip[1]})):
            self._check_reorg()
        # the head's parent link is the hash of block head - 1 (the safe block at confirmations = 1)
        self._scan(self.safe_head, {head - 1: "0x" + bytes(head_block["parentHash"]).hex()})
        self._report_confirmations(head)
        t1 = time.perf_counter()
        if self._first_cycle:
            self._resolve_all_pending()
            self._dirty.update(j.order_id for j in self.store.active_jobs())
            self._first_cycle = False
        stepped = self._advance_jobs()
        self.log.debug("cycle", head=head, scan_ms=round(1000 * (t1 - t0), 1),
                       jobs_ms=round(1000 * (time.perf_counter() - t1), 1), stepped=stepped)
        last = self.store.last_processed()
        self.metrics.cycle_ok(last_processed=last if last is not None else -1, head=head)
        self.metrics.set_jobs(self.store.count_by_state())
        del chain

    def _new_head(self, head_block: Mapping[str, Any]) -> bool:
        """Starts the per-head cache (chain time, own registry entry, orders as loaded) on a new head;
        False when the head is the one the last cycle saw, whose reads all still hold."""
        tip = (int(head_block["number"]), bytes(head_block["hash"]))
        if tip == self._tip:
            return False
        self._tip = tip
        self._cache = {"now": int(head_block["timestamp"])}
        return True

    def _startup_cleanup(self) -> None:
        """Removes partial files a killed run left (decryptions and atomic writes in progress)."""
        for pattern in ("**/.*.partial", "**/.*.json.*", "**/.tmp-*"):
            for path in self.work_dir.glob(pattern):
                path.unlink(missing_ok=True)

    def _check_reorg(self) -> None:
        fork = find_fork(self.chain.w3, self.store.known_blocks())
        if fork is None:
            return
        touched = self.store.rewind(fork)
        self._dirty.update(touched)
        self._forget()
        self.sender.sender.nonces.resync()  # the vanished blocks may have held our transactions
        self.log.warning("reorg", common_ancestor=fork, jobs_to_recheck=touched)

    def _scan(self, safe_head: int, known_hashes: Mapping[int, str] | None = None) -> None:
        last = self.store.last_processed()
        start = (last + 1) if last is not None else (self.config.start_block if self.config.start_block is not None
                                                     else self.chain.from_block)
        if start > safe_head:
            return
        book, registry = self.chain.book.address, self.chain.registry.address
        for batch in self.chain.reader.batches([book, registry], start, safe_head, known_hashes=known_hashes):
            started = time.perf_counter()
            events = self.decoder.decode_all(batch.logs)
            self.metrics.observe_decode(len(events), time.perf_counter() - started)
            suspended = False
            with self.store.transaction():
                for ev in events:
                    if ev.address == book and "orderId" in ev.args:
                        if ev.event == "OrderPosted":
                            self.chain.book.note_posted(int(ev.args["orderId"]), ev.block_number)
                        self._orders.fold(ev.event, ev.args)  # type: ignore[union-attr]  # set by load(), first
                        self._apply(ev)
                    elif ev.address == registry and _names(ev, self.address):
                        self._partner_info = None  # our registry entry changed: read it again
                        suspended = suspended or ev.event == "PartnerSuspended"
                self.store.advance(batch.to_block, batch.block_hashes)
            if suspended:
                self.partner.check_standing()  # still suspended now? then stop
            if self.stopping:
                return

    def _forget(self, order_id: int | None = None) -> None:
        """Drops what the scanned events built (a reorg, or the chain disagreeing with it): read it again."""
        if self._orders is not None:
            self._orders.forget(order_id)
        if order_id is None:
            self._partner_info = None

    def _apply(self, ev) -> None:
        order_id = int(ev.args["orderId"])
        job = self.store.get_job(order_id)
        if ev.event == "OrderPosted":
            if job is None:
                spec, terms = ev.args["spec"], ev.args["terms"]
                summary = {"buyer": terms["buyer"], "price": str(terms["price"]), "token": terms["token"],
                           "processes": spec["processes"], "materials": spec["materials"],
                           "posted_block": ev.block_number}
                self.store.upsert_job(order_id, JobState.SEEN, summary, block=ev.block_number)
            else:
                state = JobState.SEEN if job.state is JobState.CLOSED else job.state
                self.store.upsert_job(order_id, state, block=ev.block_number)
        elif job is not None:
            self.store.upsert_job(order_id, job.state, block=ev.block_number)
            if record_actor(ev.event, ev.args) == self.address:
                return  # our own transaction: the step that sent it already decided what comes next
        else:
            return
        self._dirty.add(order_id)

    def _resolve_all_pending(self) -> None:
        for action in self.store.actions(pending=True):
            try:
                outcome = self.sender.resolve(action)
            except TxReverted:
                outcome = None
            self._dirty.add(action.order_id)
            self.log.info("action_resolved", order_id=action.order_id, action=action.kind, tx=action.tx_hash,
                          mined=None if outcome is None else outcome.ok)

    def _due_jobs(self) -> list[Job]:
        now = time.time()
        jobs = {j.order_id: j for j in self.store.active_jobs()}
        for job in self.store.jobs_needing_refresh():
            jobs[job.order_id] = job
        due = []
        for job in jobs.values():
            if job.next_attempt_at > now:
                continue
            if (job.state in WORK_STATES or job.needs_refresh or job.order_id in self._dirty
                    or now - self._stepped_at.get(job.order_id, 0) > REFRESH_S):
                due.append(job)
        # new orders first: a claim is a race; waiting jobs can wait a few ms more
        return sorted(due, key=lambda j: (j.state not in (JobState.SEEN, JobState.CLAIMING), j.order_id))

    def _advance_jobs(self) -> int:
        stepped = 0
        for job in self._due_jobs():
            if self.stopping:
                break
            stepped += 1
            self._dirty.discard(job.order_id)
            self._stepped_at[job.order_id] = time.time()
            try:
                self.step(job)
            except Exception as exc:  # noqa: BLE001 - sorted here
                self._job_error(job, exc)
        return stepped

    def _job_error(self, job: Job, exc: Exception) -> None:
        if isinstance(exc, (OrderOutOfSync, TxReverted)):
            kind = Kind.TRANSIENT  # the chain moved under us: re-read it next time
            self._forget(job.order_id)
        else:
            kind = classify(exc)
        if kind is Kind.FATAL:
            raise exc
        current = self.store.get_job(job.order_id) or job
        # network trouble never fails a job (it may last hours); a chain that keeps refusing does
        stubborn = isinstance(exc, (OrderOutOfSync, TxReverted)) and current.attempts + 1 >= MAX_JOB_ATTEMPTS
        if kind is Kind.INPUT or stubborn:
            self._finish_failed(current, _brief(exc))
            return
        delay = self.backoff.delay(current.attempts, retry_after(exc))
        self.store.record_job_error(job.order_id, _brief(exc), retry_at=time.time() + delay)
        self.log.warning("job_retry", order_id=job.order_id, state=current.state.value, error=_brief(exc),
                         retry_in_s=round(delay, 2))
        if isinstance(exc, ProviderUnavailable):
            raise exc  # the endpoint is down: end the cycle, back off, fail over

    # -- one job -----------------------------------------------------------------------

    def _set(self, job: Job, state: JobState, *, block: int | None = None, **info: Any) -> Job:
        order = dict(job.order)
        order.update({k: v for k, v in info.items() if v is not None})
        new = self.store.upsert_job(job.order_id, state, order, block=block)
        if state != job.state:
            self.log.info("job_state", order_id=job.order_id, state=state.value, previous=job.state.value,
                          **{k: v for k, v in info.items() if v is not None})
        return new

    def load(self, order_id: int) -> OrderTracker | None:
        """The order at the confirmed block, or None while one of the node's own transactions for it is short
        of confirmation depth (the safe block does not show it yet).

        The order comes from the scanned events once the chain's commitment at the safe block confirms them
        (:mod:`pynode.chain.known_orders`: one ``orderHash`` call per change). Someone else's change above the
        safe block needs no read: every transaction the node sends passes the order, so its simulation refuses
        a stale one (and a claim's is made against the pending state first).
        """
        key = ("order", order_id)
        if key not in self._cache:
            if any(own == order_id for own, _ in self._awaiting):
                self._cache[key] = None
            else:
                # _orders is set by load(), which runs before any order is read
                self._cache[key] = self._orders.at(  # type: ignore[union-attr]
                    order_id, max(self.safe_head, 0), self.chain.from_block)
        return self._cache[key]

    def step(self, job: Job) -> None:
        for action in self.store.actions(job.order_id, pending=True):
            self.sender.resolve(action)
        tracker = self.load(job.order_id)
        if tracker is None:
            self._dirty.add(job.order_id)  # an unconfirmed change: look again next cycle
            return
        status = tracker.status
        if status == Status.OPEN:
            self._consider(job, tracker)
        elif not self.partner.is_mine(tracker):
            self._not_ours(job, tracker)
        elif status == Status.CLAIMED:
            self._set(job, JobState.CLAIMED)
        elif status in (Status.AWARDED, Status.IN_PRODUCTION):
            self._produce(job, tracker)
        elif status in (Status.SHIPPED, Status.DISPUTED):
            job = self._set(job, JobState.SHIPPED)
            self._cleanup(job.order_id)
            if status == Status.SHIPPED and self._now() > tracker.state[2] + tracker.terms[6]:
                self._transact(job, "finalize", self.partner.finalize_request(tracker))
                self._dirty.add(job.order_id)  # completed: withdraw next
        elif status == Status.COMPLETED:
            job = self._set(job, JobState.SHIPPED)
            outcome = self._transact(job, "withdraw", self.partner.withdraw_request(tracker))
            if outcome is not None and outcome.ok:
                self._dirty.add(job.order_id)  # done once the safe block shows it PAID, not on the receipt
        elif status == Status.PAID:
            self._finish(job, JobState.DONE, "paid")
        elif status == Status.RESOLVED:
            self._finish(job, JobState.DONE, "resolved")
        else:  # REFUNDED / CANCELLED after we were the partner
            self._finish(job, JobState.CLOSED, status.name.lower())

    def _now(self) -> int:
        """Chain time: the head's timestamp."""
        return self._cache["now"]

    def _info(self):
        """The node's registry entry at the safe block (a capability gained in a block that may still vanish
        does not count yet); read again when a scanned registry event names the node, after a reorg, and
        every REFRESH_S (an expiring certification changes no event)."""
        if self._partner_info is None or time.monotonic() - self._partner_info[0] > REFRESH_S:
            info = self.chain.registry.partner_info(self.address, max(self.safe_head, self.chain.from_block))
            self._partner_info = (time.monotonic(), info)
        return self._partner_info[1]

    def _consider(self, job: Job, tracker: OrderTracker) -> None:
        reason = self.partner.eligible(tracker, self._now(), self._info())
        if reason is not None:
            self._set(job, JobState.SKIPPED, reason=reason)
            return
        busy = sum(self.store.count_by_state()[s.value] for s in BUSY_STATES)
        if job.state not in BUSY_STATES and busy >= self.config.policy.max_concurrent_jobs:
            self.store.record_job_error(job.order_id, "at max_concurrent_jobs", retry_at=time.time()
                                        + self.config.poll_interval_s)
            return
        request = self.partner.claim_request(tracker)
        if job.state is JobState.SEEN and (rival := self._rival_claim_pending(request)) is not None:
            self.metrics.claims_held_back.inc()
            self.log.info("claim_held_back", order_id=job.order_id, reason=rival)
            self.store.record_job_error(job.order_id, rival, retry_at=time.time() + RIVAL_WAIT_S)
            return
        job = self._set(job, JobState.CLAIMING)
        started = time.monotonic()
        try:
            outcome = self._transact(job, "claim", request)
        except TxReverted as exc:
            self._claim_refused(job, exc.reason)
            return
        if outcome is None:
            return
        if not outcome.ok:
            self._claim_refused(job, outcome.reason)
            return
        self.log.info("claimed", order_id=job.order_id, tx=outcome.tx_hash,
                      claim_ms=round(1000 * (time.monotonic() - started), 1))
        self._set(job, JobState.CLAIMED, block=outcome.block_number, claim_tx=outcome.tx_hash)

    def _rival_claim_pending(self, request) -> str | None:
        """Why not to send a claim now: a rival's claim for the order waits in the mempool, so ours would only
        buy a revert. The job looks again shortly: lost if the rival's claim is mined, claimable if it is dropped."""
        try:
            self.sender.sender.simulate(request, "pending")
        except TxReverted as exc:
            if is_race_lost(exc.reason):
                return f"a rival claim is pending: {exc.reason}"
        return None

    def _claim_refused(self, job: Job, reason: str) -> None:
        if is_race_lost(reason):
            self.metrics.claim_races_lost.inc()
            self._set(job, JobState.LOST, reason=f"claim race lost: {reason}")
        elif is_fatal_revert(reason):
            raise FatalError(f"claim refused: {reason}")
        else:
            self._set(job, JobState.SKIPPED, reason=f"claim refused: {reason}")

    def _not_ours(self, job: Job, tracker: OrderTracker) -> None:
        attempted = job.state in BUSY_STATES or any(a.kind == "claim" for a in self.store.actions(job.order_id))
        partner = tracker.state[1]
        if partner == ZERO_ADDRESS:  # cancelled / refunded while open
            self._finish(job, JobState.CLOSED, tracker.status.name.lower())
        elif attempted:
            if job.state in (JobState.CLAIMING, JobState.SEEN):
                self.metrics.claim_races_lost.inc()
            self._finish(job, JobState.LOST, f"order went to {partner}")
        elif job.state is JobState.SEEN:
            wanted = self.partner.eligible(_as_open(tracker), tracker.terms[4], self._info()) is None
            self._finish(job, JobState.LOST if wanted else JobState.SKIPPED, f"order went to {partner}")
        else:
            self._set(job, job.state)  # clears a reorg refresh flag

    def _finish(self, job: Job, state: JobState, reason: str, *, block: int | None = None) -> None:
        self._cleanup(job.order_id)
        self._set(job, state, block=block, reason=reason)

    def _finish_failed(self, job: Job, reason: str) -> None:
        self.log.error("job_failed", order_id=job.order_id, state=job.state.value, error=reason)
        self._cleanup(job.order_id)
        self.store.upsert_job(job.order_id, JobState.FAILED, {**job.order, "reason": reason})

    def _transact(self, job: Job, kind: str, request) -> Outcome | None:
        try:
            outcome = self.sender.send(job.order_id, kind, request)
        except TxReverted:
            self.metrics.tx_failed.labels(kind).inc()
            raise
        if not outcome.ok:
            self.metrics.tx_failed.labels(kind).inc()
            self.log.warning("tx_reverted", order_id=job.order_id, action=kind, tx=outcome.tx_hash,
                             reason=outcome.reason)
        else:
            self.log.info("tx_mined", order_id=job.order_id, action=kind, tx=outcome.tx_hash,
                          block=outcome.block_number)
            if self.config.confirmations:
                self._awaiting[(job.order_id, kind)] = _Mined(outcome)
                self.metrics.awaiting_confirmation.set(len(self._awaiting))
        return outcome

    def _report_confirmations(self, head: int) -> None:
        """Logs how deep each of the node's own mined transactions is, as blocks arrive, until it has
        ``confirmations`` blocks on top. Nothing builds on it before: the job's next step reads the order
        at the safe block and waits while that differs from the head's."""
        if not self._awaiting:
            return
        for (order_id, kind), mined in list(self._awaiting.items()):
            block = mined.outcome.block_number
            progress = Progress(block, head, self.config.confirmations, tx_hash=mined.outcome.tx_hash,
                                order_id=order_id)
            if not progress.done:  # how long it still takes: at the pace the heads arrive (no extra read)
                progress = Progress(block, head, self.config.confirmations, self.sender.clock.block_s,
                                    tx_hash=mined.outcome.tx_hash, order_id=order_id)
            if progress.done:
                del self._awaiting[(order_id, kind)]
                self.log.info("tx_confirmed", action=kind, **progress.fields())
            elif progress.confirmations != mined.reported:
                mined.reported = progress.confirmations
                self.log.info("waiting_for_confirmations", action=kind, **progress.fields())
        self.metrics.awaiting_confirmation.set(len(self._awaiting))

    # -- production ----------------------------------------------------------------------

    def _job_dir(self, order_id: int) -> Path:
        return self.jobs_dir / str(order_id)

    def _produce(self, job: Job, tracker: OrderTracker) -> None:
        order_id = job.order_id
        folder = self._job_dir(order_id)
        meta_path = folder / "report.meta.json"
        meta = _read_json(meta_path)
        attested = self.partner.has_record(tracker, RecordKind.QUALITY_ATTESTED)
        if meta is None:
            if job.state not in (JobState.PRODUCING, JobState.REPORTING):
                job = self._set(job, JobState.AWARDED)
            spec = self._spec(tracker, folder)
            result = None
            if job.state is JobState.PRODUCING and tracker.status == Status.IN_PRODUCTION:
                try:  # already handed over: just ask (no IPFS round trip per cycle)
                    result = self.adapter.poll(order_id)
                    if result is None:
                        return
                except UnknownJob:
                    result = None
            if result is None:
                result = self._hand_over(job, tracker, spec, folder)
                if result is None:
                    return
            job = self.store.get_job(order_id) or job
            meta = self._report(job, tracker, spec, result, folder)
            job = self._set(job, JobState.REPORTING, report_cid=meta["cid"], passed=meta["passed"])
        digest = bytes.fromhex(meta["sha256"])
        if not attested:
            outcome = self._transact(job, "attest", self.partner.attest_request(tracker, meta["cid"], digest,
                                                                                meta["passed"]))
            if outcome is not None and outcome.ok:
                self._set(job, JobState.REPORTING, block=outcome.block_number)
                self._dirty.add(order_id)
            return
        if not meta["passed"]:
            self._finish_failed(job, "quality check failed: attested as not passed")
            return
        outcome = self._transact(job, "ship", self.partner.ship_request(tracker, meta["cid"], digest))
        if outcome is not None and outcome.ok:
            self._cleanup(order_id)
            self._set(job, JobState.SHIPPED, block=outcome.block_number, ship_tx=outcome.tx_hash)

    def _hand_over(self, job: Job, tracker: OrderTracker, spec: dict, folder: Path):
        """Design decrypted, production started on chain, job submitted; the result if already there."""
        order_id = job.order_id
        design = self.partner.fetch_design(order_id, folder / "design", tracker)
        if tracker.status == Status.AWARDED:
            outcome = self._transact(job, "start", self.partner.start_request(tracker))
            if outcome is not None and outcome.ok:
                self._set(job, JobState.PRODUCING, block=outcome.block_number)
                self._dirty.add(order_id)
            return None  # the next step reads the new state once it is confirmed
        if job.state is not JobState.PRODUCING:
            job = self._set(job, JobState.PRODUCING)
        self.adapter.submit(ProductionJob(order_id, design, spec, folder))
        self.log.info("production_submitted", order_id=order_id, adapter=self.adapter.name)
        return self.adapter.poll(order_id)

    def _spec(self, tracker: OrderTracker, folder: Path) -> dict:
        path = folder / "spec.json"
        spec = _read_json(path)
        if spec is None:
            spec = self.partner.spec_document(tracker).model_dump(mode="json")
            write_json_atomic(path, spec)
        return spec

    def _report(self, job: Job, tracker: OrderTracker, spec: Mapping, result, folder: Path) -> dict:
        """Builds, keeps and pins the report once: a restart re-pins the same bytes, never a new report."""
        report_path = folder / "report.json"
        if report_path.is_file():
            data = report_path.read_bytes()
        else:
            started = next((rec[3] for rec in tracker.records if rec[0] == RecordKind.PRODUCTION_STARTED),
                           int(time.time()))
            report = build_report(result, spec, order_id=job.order_id, chain_id=self.chain.chain_id,
                                  contract=self.chain.book.address, partner=self.address, started_at=started,
                                  finished_at=max(started, int(time.time())))
            data = canonical_json(report)
            write_atomic(report_path, data, mode=0o644)
        from pynode.documents.quality_report import parse_report

        passed = parse_report(data).passed
        cid, digest = self.partner.pin_report(data)
        meta = {"cid": cid, "sha256": digest.hex(), "passed": passed}
        write_json_atomic(folder / "report.meta.json", meta)
        self.log.info("report_pinned", order_id=job.order_id, cid=cid, passed=passed)
        return meta

    def _cleanup(self, order_id: int) -> None:
        """Drops the decrypted design and the adapter's files; keeps the report and spec."""
        with contextlib.suppress(InputError):
            self.adapter.cleanup(order_id)
        shutil.rmtree(self._job_dir(order_id) / "design", ignore_errors=True)


@dataclass
class _Mined:
    """One of the node's own transactions, mined, on its way to confirmation depth."""

    outcome: Outcome
    reported: int = -1  # confirmations last logged


def _names(ev, address: str) -> bool:
    """Whether a registry event is about ``address`` (any address argument)."""
    return any(isinstance(v, str) and v.lower() == address.lower() for v in ev.args.values())


def _as_open(tracker: OrderTracker) -> OrderTracker:
    state = OrderState(int(Status.OPEN), ZERO_ADDRESS, 0, tracker.state[3])
    copy = OrderTracker(tracker.order_id, tracker.terms, state, tracker.spec, tracker.docs)
    return copy


def _read_json(path: Path) -> dict | None:
    import json

    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        path.unlink(missing_ok=True)  # torn by a crash: rebuild it
        return None


def _brief(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


def install_signal_handlers(node: Node, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM/SIGINT stop the node (a blocking request is cut after ``grace_s``); a second one exits at once."""

    def on_stop_signal(signum: int, _frame: object) -> None:
        if node.stopping:  # asked again: die of the signal as if unhandled (the store is safe to kill any time)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        node.stop()
        signal.setitimer(signal.ITIMER_REAL, grace_s)

    signal.signal(signal.SIGALRM, lambda *_: node.interrupt())
    signal.signal(signal.SIGTERM, on_stop_signal)
    signal.signal(signal.SIGINT, on_stop_signal)


def run_node(config: NodeConfig, *, once: bool = False, log: JsonLogger | None = None) -> int:
    """Unlocks, runs until SIGTERM (or one cycle) and returns the exit code; FatalError propagates."""
    identity = unlock_identity(config)
    node = Node(config, identity, log=log)
    install_signal_handlers(node)
    try:
        return node.run(once=once)
    finally:
        node.close()
