"""`fabmesh node run` (the manufacturer daemon) and `fabmesh node watch-orders` (the buyer's auto-award loop).

Exit codes: 0 after SIGTERM/SIGINT (or one cycle with --once), 1 on a fatal
error (one line on stderr), 2 on usage errors. Logs are JSON lines on stderr.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.core.address import to_checksum_address
from pynode.core.backoff import Backoff
from pynode.core.errors import FatalError, Kind, classify, retry_after
from pynode.daemon.jsonlog import JsonLogger

if TYPE_CHECKING:
    from pynode.chain.newheads import Wake
    from pynode.crypto.hpke import HpkeKeyPair
    from pynode.daemon.config import NodeConfig, WatchConfig
    from pynode.orders.v2.watch import OrderWatcherV2
    from pynode.orders.watch import OrderWatcher


@click.group()
def node() -> None:
    """Run the manufacturer node, or the buyer's order watcher."""


@node.command("run")
@click.option("-c", "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="node.toml (see pynode/daemon/node.example.toml); FABMESH_* env vars override it")
@click.option("--once", is_flag=True, help="Run one cycle and exit (cron, tests)")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info")
@pass_ctx
def run(ctx: CliContext, config_path: Path, once: bool, log_level: str) -> None:
    """Watch the chain, quote matching orders (protocol 1: claim them), produce, attest and ship until stopped."""
    from pynode.daemon.config import NodeConfig
    from pynode.daemon.node import run_node

    config = NodeConfig.load(config_path)  # InputError: one line, exit 1
    config = config.model_copy(update={"protocol": _protocol(ctx, config)})
    code = run_node(config, once=once, log=JsonLogger(level=log_level))
    if code:
        raise SystemExit(code)


def _protocol(ctx: CliContext, config: NodeConfig | WatchConfig | None) -> int:
    """The TOML's protocol when it (or FABMESH_PROTOCOL) names one, else the command's: --protocol, default 2."""
    if config is not None and "protocol" in config.model_fields_set:
        return config.protocol
    return ctx.settings.protocol


@node.command("watch-orders")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="watch.toml (pynode/daemon/watch.example.toml); protocol 2 awards signed quotes by its [award] "
                   "policy (the claim options below are protocol 1's)")
@click.option("--hpke-key", help="Name of the buyer's HPKE key (default: the account name)")
@click.option("--min-completed", type=int, default=0, show_default=True,
              help="Award only partners with at least this many completed orders")
@click.option("--max-failed-qa", type=int, default=None, help="Award only partners with at most this many failed QA")
@click.option("--allow", "allowed", multiple=True, help="Award only these partner addresses (repeatable)")
@click.option("--auto-confirm", is_flag=True, help="Also confirm shipped orders automatically")
@click.option("--interval", type=float, default=5.0, show_default=True, help="Seconds between cycles")
@click.option("--ws-url", help="WebSocket endpoint whose pushed heads start a cycle at once (eth_subscribe); "
                               "'rpc': the RPC URL's own port [env: FABMESH_WS_URL, ETH_WS_URL; default: poll only]")
@click.option("--once", is_flag=True, help="Run one cycle and exit")
@pass_ctx
def watch_orders(ctx: CliContext, config_path: Path | None, hpke_key: str | None, min_completed: int,
                 max_failed_qa: int | None, allowed: tuple[str, ...], auto_confirm: bool, interval: float,
                 ws_url: str | None, once: bool) -> None:
    """Award your orders and publish the key envelope (opt-in automation): v2 (the default) the quote its [award]
    policy picks, v1 (watch.toml protocol = 1, or --protocol 1) the first qualified claim."""
    from pynode.chain.newheads import HeadFeed, Wake, ws_endpoint
    from pynode.cli.context import load_settings
    from pynode.daemon.config import WatchConfig
    from pynode.orders.buyer import Buyer
    from pynode.orders.design_keys import DesignKeyStore
    from pynode.orders.v2.watch import OrderWatcherV2
    from pynode.orders.watch import AwardPolicy, OrderWatcher

    config = WatchConfig.load(config_path) if config_path is not None else None  # a bad file: before any prompt
    v2 = _protocol(ctx, config) == 2
    log = JsonLogger()
    ws = ws_endpoint(load_settings(ws_url=ws_url).ws_url if ws_url else ctx.settings.ws_url, ctx.settings.rpc_url)
    account = ctx.account
    name = hpke_key or ctx.account_name()
    try:
        keypair = ctx.hpke_keys.unlock(name, ctx.password(f"Password for HPKE key {name}: "))
    except Exception as exc:  # whatever stops the unlock (wrong password, bad file) stops the watcher
        raise FatalError(f"cannot unlock HPKE key {name!r}: {exc}") from exc
    stop, wake = threading.Event(), Wake()  # a pushed head, a quote or a stop ends the wait between cycles
    watcher: OrderWatcher | OrderWatcherV2
    if v2:
        watcher = _watcher_v2(ctx, keypair, config or WatchConfig(protocol=2), log, wake)
        clock = ctx.v2.clock
    else:
        # a loop's progress is a JSON event like the rest of its log (set before any sender exists)
        ctx.chain.on_progress = lambda progress: log.info("waiting_for_confirmations", **progress.fields())
        buyer = Buyer(ctx.chain, ctx.vault, DesignKeyStore(ctx.settings.home / "design-keys", ctx.ipfs), account)
        policy = AwardPolicy(auto_award=True, auto_confirm=auto_confirm, min_completed=min_completed,
                             max_failed_qa=max_failed_qa,
                             allowed_partners=frozenset(to_checksum_address(a) for a in allowed))
        watcher, clock = OrderWatcher(buyer, keypair, policy, log=log.info), ctx.chain.clock

    def on_stop(*_: object) -> None:
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    log.info("watch_started", buyer=account.address, ws=ws)
    feed = HeadFeed(ws, wake, log=log.log) if ws is not None and not once else None
    if feed is not None:
        feed.clock = clock  # an award's receipt wait ends on a pushed head too
        feed.start()
    try:
        _watch(watcher, log, stop, wake, interval, once)
    finally:
        if feed is not None:
            feed.close()
        if isinstance(watcher, OrderWatcherV2):
            watcher.close()
    log.info("watch_stopped")


def _watcher_v2(ctx: CliContext, keypair: HpkeKeyPair, config: WatchConfig, log: JsonLogger,
                wake: Wake) -> OrderWatcherV2:
    """The v2 watcher over the v2 deployment, its quotes off the deployment's pubsub channel (receiving at once)."""
    from pynode.ipfs.pubsub import KuboPubsub
    from pynode.orders.design_keys import DesignKeyStore
    from pynode.orders.quote_channel import QuoteChannel
    from pynode.orders.v2.buyer import BuyerV2
    from pynode.orders.v2.send_journal import SendJournal
    from pynode.orders.v2.watch import OrderWatcherV2

    chain = ctx.v2
    chain.on_progress = lambda progress: log.info("waiting_for_confirmations", **progress.fields())
    buyer = BuyerV2(chain, ctx.vault, DesignKeyStore(ctx.settings.home / "design-keys", ctx.ipfs), ctx.account)
    channel = QuoteChannel(KuboPubsub(ctx.settings.ipfs_api), buyer.domain, log=log.info)
    # its sends journaled per deployment and account: a restart looks up what it sent instead of deciding again
    name = f"{chain.chain_id}-{chain.book.address}-{ctx.account.address}.sqlite"
    journal = SendJournal(ctx.settings.home / "watch-v2" / name)
    watcher = OrderWatcherV2(buyer, keypair, config.award, config.watch, channel, log=log.info, on_quote=wake.set,
                             journal=journal)
    watcher.start()
    log.info("watch_policy", protocol=2, mode=config.award.mode, wait_s=config.award.wait_s,
             allow=list(config.award.allow), min_completed=config.award.min_completed)
    return watcher


def _watch(watcher: OrderWatcher | OrderWatcherV2, log: JsonLogger, stop: threading.Event, wake: Wake, interval: float,
           once: bool) -> None:
    """Cycles until stopped: the next one after ``interval`` or a pushed head; after a transient failure, after
    its backoff (a push does not cut that short)."""
    backoff, failures = Backoff(base_s=min(1.0, interval), cap_s=60.0), 0
    while not stop.is_set():
        wait = interval
        try:
            watcher.cycle()
            failures = 0
        except Exception as exc:  # sorted by type: transient trouble waits for the next cycle
            if classify(exc) is Kind.FATAL:
                raise
            wait = max(interval, backoff.delay(failures, retry_after(exc)))
            failures += 1
            log.warning("watch_cycle_failed", error=f"{type(exc).__name__}: {exc}"[:300], retry_in_s=round(wait, 2))
        if once:
            break
        if failures:
            stop.wait(wait)
        else:
            wake.wait(wait)
