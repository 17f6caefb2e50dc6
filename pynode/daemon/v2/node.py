"""The manufacturer node on protocol v2 (node.toml ``protocol = 2``): quote by policy, carry out the awards.

One cycle (:meth:`NodeV2.cycle`): the book's order events over the confirmed blocks (head minus
``confirmations``, from the checkpoint on, in the wrapper's bounded LogReader ranges) and the order
announcements heard on the quote channel mark jobs, and the scanned events are folded into the orders the node
knows (a new one born from its OrderPosted log); every job with something to do takes the step the pure
:func:`.decide.decide` returns on its order at the confirmed block, the quote decisions last and for at most
QUOTE_BUDGET_S a cycle (:func:`in_turn`). An order is read from the chain, checked
against ``orderHash`` and ``recordHead`` (``OrderBookV2.load_order`` / ``update``), only when the node has none
or read it REFRESH_S ago; its ``orderHash`` is compared before a job ends on a folded order, and every
transaction's simulation refuses a stale one. Open quotes are published again when their order is announced
again (and every 30 s). A cycle costs one head read (and the safe block's at confirmations >= 1) and one
eth_getLogs; a checkpointed block that left the chain (``chain.reorg.find_fork``, asked only when the safe block
does not continue the blocks the last cycle saw) rewinds the store and every active order is read again
(:mod:`.scan`).
Between cycles the node waits ``poll_interval_s``; with ``ws_url`` a head pushed over WebSocket ends the wait
at once (:class:`pynode.daemon.push.HeadPush`, as in v1): the cycle reads the chain as it does polling.
Transactions go through the v1 journal (:class:`~pynode.daemon.journal.JournaledSender`: simulated, journaled,
resolved after a restart) and are pipelined across jobs: a step broadcasts without waiting (``submit``), so
many jobs' transactions are in flight at once (the account's nonces counted by the sender's NonceManager),
while a job whose transaction is in flight only looks it up (``resolve(wait=False)``) until it is mined:
one in flight per order. After that the job waits until the safe block shows it. Errors are sorted by type as
in v1 (:func:`pynode.daemon.jobs.on_error`). A transaction is not re-signed with higher fees while pipelined
(the journal's fee bump lives in its receipt wait).

The store keys a job by the low 63 bits of its v2 order id (:func:`.scan.job_key`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from pynode.chain.deployment import load_deployment
from pynode.chain.events.reader import LogReader
from pynode.chain.heads import read_head
from pynode.chain.jsonrpc import RpcClient
from pynode.chain.newheads import ws_endpoint
from pynode.chain.provider import connect
from pynode.chain.reorg import block_at
from pynode.chain.revert import RevertDecoder
from pynode.chain.rpc import request
from pynode.chain.tx import TxReverted, TxSender
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.orders import ZERO32, OrderTracker
from pynode.chain.v2.registry import PartnerRegistryV2
from pynode.core.backoff import Backoff
from pynode.core.errors import Kind, classify, retry_after
from pynode.core.stop import StopEvent, Stopping
from pynode.daemon.adapters import ProductionAdapter, make_adapter
from pynode.daemon.config import NodeConfig
from pynode.daemon.jobs import REFRESH_S
from pynode.daemon.journal import JournaledSender, Outcome
from pynode.daemon.jsonlog import JsonLogger
from pynode.daemon.lifecycle import Stoppable
from pynode.daemon.metrics import NodeMetrics
from pynode.daemon.push import HeadPush
from pynode.daemon.steps import brief
from pynode.daemon.store import Action, Job, JobState, Store
from pynode.daemon.v2.act import Acts
from pynode.daemon.v2.quoting import Listener
from pynode.daemon.v2.scan import Known, Scan
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.pubsub import KuboPubsub
from pynode.ipfs.vault import DesignVault
from pynode.orders.quote_channel import QuoteChannel
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderStatus
from pynode.wallet.identity import Identity

WORK_STATES = (JobState.AWARDED, JobState.PRODUCING, JobState.REPORTING)
#: a cycle's time for quote decisions, taken after every other due job has stepped: a burst of new orders (each a
#: spec read, a signature, a commit and a publish) does not hold an award's next step back by seconds a cycle
QUOTE_BUDGET_S = 1.0


def in_turn(jobs: Iterable[Job], quoting: Callable[[Job], bool], clock: Callable[[], float],
            budget_s: float) -> Iterator[Job]:
    """The due jobs in the order a cycle steps them: the ones with work, a transaction or an event first (in the
    order given), then the quote decisions while ``budget_s`` of ``clock`` has not passed since the first of them
    started; the rest stay due for the next cycle."""
    jobs = list(jobs)
    yield from (job for job in jobs if not quoting(job))
    until = None
    for job in (job for job in jobs if quoting(job)):
        now = clock()
        until = now + budget_s if until is None else until
        if now > until:
            return
        yield job


class NodeV2(Stoppable):
    def __init__(self, config: NodeConfig, identity: Identity, *, log: JsonLogger | None = None,
                 adapter: ProductionAdapter | None = None) -> None:
        self.config = config
        self.identity = identity
        self.account = identity.account
        self.address = to_checksum_address(identity.account.address)
        self.log = log or JsonLogger()
        self.metrics = NodeMetrics(stale_after_s=max(60.0, 10 * config.poll_interval_s))
        self.work_dir = Path(config.work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.work_dir / "node.db")
        self.adapter = adapter or make_adapter(config.production.adapter, config.production,
                                               state_dir=self.work_dir / "adapter")
        self.ipfs = IpfsClient(config.ipfs_api, timeout=30.0)
        self.vault = DesignVault(self.ipfs, raw_leaves=config.ipfs_raw_leaves)
        self.pubsub = KuboPubsub(config.ipfs_api)
        self.backoff = Backoff(base_s=min(1.0, config.poll_interval_s), cap_s=10.0)
        self.dirty: set[int] = set()  # job keys an event, an announcement or an own step touched
        self.trackers: dict[int, Known] = {}  # job key -> its order as last read, scanned events folded in
        self.stepped_at: dict[int, float] = {}
        #: job key -> block of the node's own last mined transaction for it: the job waits until the safe block
        #: reaches it (before, the order read there is the one the transaction changed)
        self.settling: dict[int, int] = {}
        self.scan = Scan(self)
        self._stop = StopEvent()
        self._push = HeadPush(self.log.log)  # between cycles: a pushed head (config.ws_url) or a stop ends the wait
        self._once = False  # one cycle (--once): no subscription
        self._connected = False
        self._first_cycle = True
        self._looping = False
        self.safe = 0
        self.now = 0

    # -- lifecycle ------------------------------------------------------------------------

    def _on_stop(self) -> None:
        self._push.set()
        if self._connected:
            self.channel.close()  # ends the announcements' stream

    def close(self) -> None:
        self._push.close()
        self.metrics.stop()
        if self._connected:
            self.channel.close()
        self.adapter.close()
        self.store.close()
        self.ipfs.close()
        self.pubsub.close()

    def run(self, *, once: bool = False) -> int:
        self.log.info("node_started", account=self.address, protocol=2, work_dir=str(self.work_dir))
        if self.config.metrics_port and self.metrics.port is None:
            self.metrics.start(self.config.metrics_port)
        failures, self._once = 0, once
        self._looping = True
        try:
            while not self.stopping:
                try:
                    self.cycle()
                    failures = 0
                except Exception as exc:  # sorted by type: fatal stops the node, the rest backs off
                    kind = classify(exc)
                    self.metrics.cycle_failed(kind.value)
                    if kind is Kind.FATAL:
                        raise
                    failures += 1
                    delay = self.backoff.delay(failures, retry_after(exc))
                    self.log.warning("cycle_failed", error=brief(exc), retry_in_s=round(delay, 2))
                    self._connected = self._connected and not once
                    if once:
                        raise
                    self._stop.wait(delay)
                    continue
                if once:
                    break
                self._push.wait(self.config.poll_interval_s)
        except Stopping as exc:
            self.log.info("cycle_interrupted", reason=str(exc))
        finally:
            self._looping = False
        self.log.info("node_stopped")
        return 0

    # -- connections ---------------------------------------------------------------------------

    def connect(self) -> None:
        url = self.config.rpc_urls[0]
        # reads (heads, logs, views) over plain JSON-RPC, as the CLI's: web3 (and requests under it) only sign,
        # send and look up the node's own transactions; per request it costs a polling daemon several times the CPU
        rpc = RpcClient(url, retry_timeout_s=5.0)
        w3 = connect(url, retry_timeout_s=5.0)
        chain_id = int(request(rpc, "eth_chainId", []), 16)
        artifacts = self.config.artifacts if self.config.artifacts and self.config.artifacts.exists() else None
        deployment = load_deployment(chain_id, self.config.deployments, artifacts, protocol=2)
        reader = LogReader(rpc, batch_size=self.config.log_batch_size)
        self.rpc, self.w3, self.chain_id, self.from_block = rpc, w3, chain_id, deployment.deploy_block
        self.book = OrderBookV2(rpc, deployment["OrderBookV2"], reader, chain_id=chain_id)
        self.registry = PartnerRegistryV2(rpc, deployment["PartnerRegistryV2"], reader)
        decoder = RevertDecoder(*(info.abi for info in deployment.contracts.values()))
        self.tx = TxSender(w3, self.account, decoder, confirmations=self.config.confirmations, stop=self._stop,
                           chain_id=chain_id)
        self.sender = JournaledSender(w3, self.account, self.tx, self.store,
                                      replace_after_s=self.config.tx_replace_after_s,
                                      wait_s=max(120.0, 4 * self.config.tx_replace_after_s), poll_s=0.05,
                                      on_event=self._tx_event, stop=self._stop)
        self.channel = QuoteChannel(self.pubsub, self.book.domain(), log=self.log.info)
        self.listener = Listener(self.channel, self.log)
        self.acts = Acts(self)
        self._connected = True
        self.log.info("connected", rpc=url, chain_id=chain_id, book=self.book.address, protocol=2)
        self._push.follow(None if self._once else ws_endpoint(self.config.ws_url, url), self.tx.clock)

    def _tx_event(self, event: str, **fields: Any) -> None:
        if event == "tx_sent":
            self.metrics.tx_sent.labels(fields.get("action", "?")).inc()
        job = self.store.get_job(fields["order_id"]) if isinstance(fields.get("order_id"), int) else None
        if job is not None:  # the journal names the store's key: log the order's id, as every other event
            fields["order_id"] = job.order["order_id"]
        self.log.info(event, **fields)

    # -- the cycle ---------------------------------------------------------------------------------

    def cycle(self) -> None:
        if not self._connected:
            self.connect()
        if self._first_cycle:
            self.acts.check_standing()
            self.adapter.check()
        self.listener.keep_listening()
        # one head read a cycle, shared by the scan, the reorg check, the receipts and the fees (the sender's clock)
        head_block = read_head(self.rpc, self.tx.clock)
        head = int(head_block["number"])
        head_hash, head_parent = "0x" + bytes(head_block["hash"]).hex(), "0x" + bytes(head_block["parentHash"]).hex()
        self.safe = max(head - self.config.confirmations, self.from_block)
        if self.safe == head:
            self.now, safe_hash, safe_parent = int(head_block["timestamp"]), head_hash, head_parent
        else:  # gone when the chain shrank since the head was read: transient, the next cycle rewinds
            safe_block = block_at(self.rpc, self.safe)
            self.now, safe_hash, safe_parent = (int(safe_block["timestamp"], 16), safe_block["hash"],
                                                safe_block["parentHash"])
        self.scan.check_reorg(safe_hash, safe_parent)
        self.scan.link_head(head, head_hash, head_parent)
        self.scan.events(safe_hash)
        self.scan.drain_heard()
        if self._first_cycle:
            for action in self.store.actions(pending=True):
                self._resolve(action)
            self.dirty.update(job.order_id for job in self.store.active_jobs())
            self._first_cycle = False
        for job in in_turn(self.due(), self.quoting, time.monotonic, QUOTE_BUDGET_S):
            if self.stopping:
                break
            self.step(job)
        if self.acts.quotes.pass_due():
            self.acts.quotes.republish(self.store.jobs([JobState.SEEN]), self.acts.quote_now())
        self.metrics.cycle_ok(last_processed=self.safe, head=head)
        self.metrics.set_jobs(self.store.count_by_state())
        self.log.debug("cycle", head=head, safe=self.safe)

    def due(self) -> list[Job]:
        picked, now = [], time.time()
        self.settling = {key: block for key, block in self.settling.items() if block > self.safe}
        in_flight = {action.order_id for action in self.store.actions(pending=True)}
        for job in self.store.active_jobs():
            if job.next_attempt_at > now or job.order_id in self.settling:
                continue
            if job.order_id in self.dirty or job.order_id in in_flight or job.state in WORK_STATES or \
                    time.monotonic() - self.stepped_at.get(job.order_id, 0.0) > REFRESH_S or \
                    (job.state is JobState.SEEN and not self.acts.quote_live(job)):
                picked.append(job)
        return picked

    def quoting(self, job: Job) -> bool:
        """Whether the job's step is a quote decision: SEEN, its order open as far as the scan folded it (an award
        to this shop, a cancellation, is work to do now)."""
        known = self.trackers.get(job.order_id)
        return job.state is JobState.SEEN and (known is None or known.tracker.status == OrderStatus.OPEN)

    # -- one job ---------------------------------------------------------------------------------

    def load(self, job: Job) -> OrderTracker | None:
        """The job's order at the safe block (None: not in the book): as the scan folded it, or read from the chain
        (checked) when the node has none or it was read REFRESH_S ago (a log a node answered late is not lost)."""
        order_id, known = int(job.order["order_id"]), self.trackers.get(job.order_id)
        if known is not None and time.monotonic() - known.read_at < REFRESH_S:
            return known.tracker
        if known is not None:
            tracker = self.book.update(known.tracker, self.from_block, self.safe)
        else:
            expected = self.book.order_hash(order_id, self.safe)
            if expected == ZERO32:
                return None
            tracker = self.book.load_order(order_id, self.from_block, self.safe, expected=expected)
        self.trackers[job.order_id] = Known(tracker, time.monotonic(), True)
        return tracker

    def verified(self, job: Job, tracker: OrderTracker) -> bool:
        """Whether the book commits to ``tracker`` at the safe block (its orderHash: the transition chain, status,
        partner): asked once before a job ends on a folded order. A mismatch drops it: the next step reads it."""
        known = self.trackers.get(job.order_id)
        if known is not None and known.checked:
            return True
        if self.book.order_hash(tracker.order_id, self.safe) == codec.order_hash(tracker.order):
            if known is not None:
                known.checked = True
            return True
        self.trackers.pop(job.order_id, None)
        self.dirty.add(job.order_id)
        return False

    def step(self, job: Job) -> None:
        """The job's next step; a failure is sorted by type (:meth:`.act.Acts.job_error`), fatal stops the node."""
        self.stepped_at[job.order_id] = time.monotonic()
        self.dirty.discard(job.order_id)
        try:
            pending = self.store.actions(job.order_id, pending=True)
            for action in pending:
                self._resolve(action, wait=False)
            if pending:
                # in flight: looked up again next cycle; mined just now: the order read here would be the one the
                # transaction changed (acting on it sent a ship twice), so the job waits for the safe block first
                return
            tracker = self.load(job)
            if tracker is None:
                self.acts.set(job, JobState.CLOSED, reason="the order is not on chain (a reorg took its post away)")
            else:
                self.acts.step(job, tracker)
        except Exception as exc:  # noqa: BLE001 - sorted by type in job_error
            self.acts.job_error(job, exc)

    def _resolve(self, action: Action, *, wait: bool = True) -> Outcome | None:
        """A journaled transaction looked up (``wait``: until mined, after a restart); once mined, settled."""
        try:
            outcome = self.sender.resolve(action, wait=wait)
        except TxReverted:
            outcome = None
        self.dirty.add(action.order_id)
        if outcome is not None:
            job = self.store.get_job(action.order_id)
            if job is not None:
                self.acts.settled(job, action.kind, outcome)
        elif wait:
            self._tx_event("action_resolved", order_id=action.order_id, action=action.kind, tx=action.tx_hash,
                           mined=None)
        return outcome

