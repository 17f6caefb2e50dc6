"""`fabmesh node run` (the manufacturer daemon) and `fabmesh node watch-orders` (the buyer's auto-award loop).

Exit codes: 0 after SIGTERM/SIGINT (or one cycle with --once), 1 on a fatal
error (one line on stderr), 2 on usage errors. Logs are JSON lines on stderr.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click
from eth_utils import to_checksum_address

from pynode.cli.context import CliContext, pass_ctx
from pynode.core.backoff import Backoff
from pynode.core.errors import FatalError, Kind, classify, retry_after
from pynode.daemon.jsonlog import JsonLogger


@click.group()
def node() -> None:
    """Run the manufacturer node, or the buyer's order watcher."""


@node.command("run")
@click.option("-c", "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="node.toml (see pynode/daemon/node.example.toml); FABMESH_* env vars override it")
@click.option("--once", is_flag=True, help="Run one cycle and exit (cron, tests)")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info")
def run(config_path: Path, once: bool, log_level: str) -> None:
    """Watch the chain, claim matching orders, produce, attest and ship until stopped."""
    from pynode.daemon.config import NodeConfig
    from pynode.daemon.node import run_node

    config = NodeConfig.load(config_path)  # InputError: one line, exit 1
    code = run_node(config, once=once, log=JsonLogger(level=log_level))
    if code:
        raise SystemExit(code)


@node.command("watch-orders")
@click.option("--hpke-key", help="Name of the buyer's HPKE key (default: the account name)")
@click.option("--min-completed", type=int, default=0, show_default=True,
              help="Award only partners with at least this many completed orders")
@click.option("--max-failed-qa", type=int, default=None, help="Award only partners with at most this many failed QA")
@click.option("--allow", "allowed", multiple=True, help="Award only these partner addresses (repeatable)")
@click.option("--auto-confirm", is_flag=True, help="Also confirm shipped orders automatically")
@click.option("--interval", type=float, default=5.0, show_default=True, help="Seconds between cycles")
@click.option("--once", is_flag=True, help="Run one cycle and exit")
@pass_ctx
def watch_orders(ctx: CliContext, hpke_key: str | None, min_completed: int, max_failed_qa: int | None,
                 allowed: tuple[str, ...], auto_confirm: bool, interval: float, once: bool) -> None:
    """Award the first qualified claim on your orders and publish the key envelope (opt-in automation)."""
    from pynode.orders.buyer import Buyer
    from pynode.orders.design_keys import DesignKeyStore
    from pynode.orders.watch import AwardPolicy, OrderWatcher

    log = JsonLogger()
    account = ctx.account
    name = hpke_key or ctx.account_name()
    try:
        keypair = ctx.hpke_keys.unlock(name, ctx.password(f"Password for HPKE key {name}: "))
    except Exception as exc:  # whatever stops the unlock (wrong password, bad file) stops the watcher
        raise FatalError(f"cannot unlock HPKE key {name!r}: {exc}") from exc
    # a loop's progress is a JSON event like the rest of its log (set before any sender exists)
    ctx.chain.on_progress = lambda progress: log.info("waiting_for_confirmations", **progress.fields())
    buyer = Buyer(ctx.chain, ctx.vault, DesignKeyStore(ctx.settings.home / "design-keys", ctx.ipfs), account)
    policy = AwardPolicy(auto_award=True, auto_confirm=auto_confirm, min_completed=min_completed,
                         max_failed_qa=max_failed_qa,
                         allowed_partners=frozenset(to_checksum_address(a) for a in allowed))
    watcher = OrderWatcher(buyer, keypair, policy, log=log.info)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("watch_started", buyer=account.address)
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
        stop.wait(wait)
    log.info("watch_stopped")
