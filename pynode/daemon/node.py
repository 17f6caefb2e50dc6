"""The manufacturer node: `fabmesh node run --config node.toml`: the wiring and the cycle.

One cycle (:meth:`Node.cycle`): the reorg check and the scan of the confirmed blocks (:mod:`.sync`), then
every job with something to do takes its next step (:mod:`.steps` carries out what the pure
:func:`.jobs.decide` returns; :mod:`.production` and the journal, :mod:`.journal`, do the work).

Between cycles the loop waits ``poll_interval_s``; with ``ws_url`` a head pushed over WebSocket
(:mod:`pynode.chain.newheads`, through :class:`pynode.daemon.push.HeadPush`) ends the wait at once. The cycle
reads the head and the logs as it does without push, so a socket that drops costs nothing but the wait: the
node polls while the feed reconnects.

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

import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address

from pynode.chain.client import Chain
from pynode.chain.events.decoder import EventDecoder
from pynode.chain.newheads import ws_endpoint
from pynode.core.backoff import Backoff
from pynode.core.errors import Kind, TransientError, WrongChain, classify, retry_after
from pynode.core.settings import Settings
from pynode.core.stop import StopEvent, Stopping
from pynode.daemon.adapters import ProductionAdapter, make_adapter
from pynode.daemon.config import NodeConfig
from pynode.daemon.journal import Awaiting, JournaledSender
from pynode.daemon.jsonlog import JsonLogger
from pynode.daemon.lifecycle import Stoppable
from pynode.daemon.metrics import NodeMetrics
from pynode.daemon.production import Production
from pynode.daemon.push import HeadPush
from pynode.daemon.steps import Steps, brief
from pynode.daemon.store import Store
from pynode.daemon.sync import Sync
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
from pynode.orders.partner import JobPolicy, Partner
from pynode.wallet.identity import Identity
from pynode.wallet.identity import unlock_identity as unlock

if TYPE_CHECKING:
    from pynode.daemon.v2.node import NodeV2

STOP_GRACE_S = 3.0  # after a stop signal, how long one blocking request may still run before it is cut
RPC_RETRY_S = 5.0  # one request retries a rate limit or outage this long before the cycle's own backoff takes over


def unlock_identity(config: NodeConfig) -> Identity:
    """Unlocks the keystore and every HPKE key pair of the account; FatalError if anything is unreadable."""
    return unlock(config.home or Settings().home, password_file=config.password_file, keystore=config.keystore,
                  account=config.account, hpke_key=config.hpke_key)


def connect_chain(url: str, config: NodeConfig) -> Chain:
    """A Chain on ``url`` that absorbs short throttling in the request (``RPC_RETRY_S``); longer trouble
    ends the cycle, which backs off and fails over to the next endpoint."""
    artifacts = config.artifacts if config.artifacts and Path(config.artifacts).exists() else None
    # the node's config is validated already (its own bounds): the same fields, no environment read again
    settings = Settings.model_construct(rpc_url=url, retry_timeout=RPC_RETRY_S, deployments=config.deployments,
                                        artifacts=artifacts, log_batch_size=config.log_batch_size,
                                        confirmations=config.confirmations)
    return Chain.connect(settings)


class Node(Stoppable):
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
        self.dirty: set[int] = set()  # jobs an event, a reorg or an own step touched: step them next cycle
        self.awaiting = Awaiting(config.confirmations, self.log, self.metrics)
        self.sync = Sync(self)
        self.steps = Steps(self)
        self.production = Production(self)
        self._stop = StopEvent()
        self._push = HeadPush(self.log.log)  # between cycles: a pushed head (config.ws_url) or a stop ends the wait
        self._once = False  # one cycle (--once): nothing to wake, no subscription
        self._looping = False  # inside run()'s loop: interrupt() may cut it
        self._rpc_index = 0
        self._chain: Chain | None = None
        self._chain_id: int | None = None
        self._book_address: str | None = None
        self._first_cycle = True
        self._failures = 0

    # -- lifecycle ----------------------------------------------------------------

    def _on_stop(self) -> None:
        self._push.set()

    def close(self) -> None:
        self._push.close()
        self.metrics.stop()
        self.adapter.close()
        self.store.close()
        self.ipfs.close()

    def run(self, *, once: bool = False) -> int:
        """The main loop; returns the exit code (0: stopped, also in the middle of a cycle). FatalError propagates."""
        self._once = once
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
                self.log.warning("cycle_failed", error=brief(exc), kind=kind.value, retry_in_s=round(delay, 2))
                self._failover()
                if once:
                    if self._failures < len(self.config.rpc_urls):
                        continue  # --once: try each endpoint once before giving up
                    raise TransientError(f"no cycle succeeded on any RPC endpoint: {brief(exc)}") from exc
                self._stop.wait(delay)
                continue
            if once:
                break
            self._push.wait(self.config.poll_interval_s)

    # -- connections ----------------------------------------------------------------

    @property
    def chain(self) -> Chain:
        if self._chain is None:
            self._connect()
        assert self._chain is not None
        return self._chain

    def _connect(self) -> None:
        """Connects to the current RPC URL and wires what works through the connection."""
        url = self.config.rpc_urls[self._rpc_index]
        chain = connect_chain(url, self.config)
        if self._chain_id is not None and (chain.chain_id != self._chain_id
                                           or chain.book.address != self._book_address):
            raise WrongChain(f"{url} is chain {chain.chain_id} / order book {chain.book.address}, "
                             f"not chain {self._chain_id} / {self._book_address} this node works on")
        self._chain_id, self._book_address = chain.chain_id, chain.book.address
        self._chain = chain
        self.sync.connected(chain)
        self.partner = Partner(chain, self.vault, self.account, self.identity.hpke_keys, self.policy)
        self.sender = JournaledSender(chain.w3, self.account, chain.sender(self.account), self.store,
                                      replace_after_s=self.config.tx_replace_after_s,
                                      wait_s=max(120.0, 4 * self.config.tx_replace_after_s), poll_s=0.05,
                                      on_event=self._tx_event, stop=self._stop)
        self.decoder = EventDecoder({chain.book.address: chain.book.info.abi,
                                     chain.registry.address: chain.registry.info.abi})
        self.log.info("connected", rpc=url, chain_id=chain.chain_id, book=chain.book.address)
        self._push.follow(None if self._once else ws_endpoint(self.config.ws_url, url), chain.clock)

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
            self.adapter.check()
            self._startup_cleanup()
        t0 = time.perf_counter()
        head_block = chain.w3.eth.get_block("latest")
        head = int(head_block["number"])
        self.sender.clock.saw(head, head_block)
        self.sync.follow(head_block)
        self.awaiting.report(head, self.sender.clock.block_s)
        t1 = time.perf_counter()
        if self._first_cycle:
            self.steps.resolve_all_pending()
            self.dirty.update(j.order_id for j in self.store.active_jobs())
            self._first_cycle = False
        stepped = self.steps.advance()
        self.log.debug("cycle", head=head, scan_ms=round(1000 * (t1 - t0), 1),
                       jobs_ms=round(1000 * (time.perf_counter() - t1), 1), stepped=stepped)
        last = self.store.last_processed()
        self.metrics.cycle_ok(last_processed=last if last is not None else -1, head=head)
        self.metrics.set_jobs(self.store.count_by_state())

    def _startup_cleanup(self) -> None:
        """Removes partial files a killed run left (decryptions and atomic writes in progress)."""
        for pattern in ("**/.*.partial", "**/.*.json.*", "**/.tmp-*"):
            for path in self.work_dir.glob(pattern):
                path.unlink(missing_ok=True)


def install_signal_handlers(node: Stoppable, grace_s: float = STOP_GRACE_S) -> None:
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
    node: Node | NodeV2
    if config.protocol == 2:
        from pynode.daemon.v2.node import NodeV2  # quotes instead of claiming (protocol v2)

        node = NodeV2(config, identity, log=log)
    else:
        node = Node(config, identity, log=log)
    install_signal_handlers(node)
    try:
        return node.run(once=once)
    finally:
        node.close()
        # disarm the grace timer of a stop: armed past this point, it fires once the exiting interpreter has put
        # SIGALRM's default action back, and the node dies of it (exit -14) instead of exiting 0
        signal.setitimer(signal.ITIMER_REAL, 0)
