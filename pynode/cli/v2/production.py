"""The partner's side of a v2 order: fetch and check the awarded design, reject it inside the reject window,
write the quality report, ship with it."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.order import _measurement
from pynode.cli.reports import ReportFacts, report_for, report_options, write_report
from pynode.cli.v2.common import load
from pynode.cli.v2.views import ORDER_ID
from pynode.core.errors import InputError
from pynode.core.units import format_time
from pynode.ipfs.cid import cid_to_digest
from pynode.protocol.v2.types import OrderStatus


@click.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--reason", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Why (the design does not decrypt or match its spec): pinned, its CID goes on chain")
@pass_ctx
def reject(ctx: CliContext, order_id: int, reason: Path) -> None:
    """(partner) Reject an awarded order within its reject window: the buyer is refunded, the bond released."""
    tracker = load(ctx, order_id)
    closes = tracker.reject_window_closes
    if closes is None or ctx.v2.now() > closes:
        raise InputError(f"order {order_id} is {tracker.status.name}" +
                         (f"; its reject window closed at {format_time(closes)}" if closes else ", not AWARDED"))
    reason_cid = ctx.ipfs.add_bytes(reason.read_bytes())
    sent = ctx.send(ctx.v2.book.reject(tracker, cid_to_digest(reason_cid)), ctx.v2)
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "reason_cid": reason_cid},
             f"order {order_id} rejected; reason {reason_cid}")


@click.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--report", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The passing quality report shipped with the parts (`fabmesh order report`)")
@pass_ctx
def ship(ctx: CliContext, order_id: int, report: Path) -> None:
    """(partner) Mark an awarded order shipped with its passing quality report."""
    chain, tracker = ctx.v2, load(ctx, order_id)
    if tracker.status != OrderStatus.AWARDED:
        raise InputError(f"order {order_id} is {tracker.status.name}, not AWARDED")
    data = report_for(report, order_id=order_id, chain_id=chain.chain_id, contract=chain.book.address,
                      partner=tracker.partner, passed=True)
    cid = ctx.ipfs.add_bytes(data, raw_leaves=ctx.vault.raw_leaves)
    sent = ctx.send(chain.book.ship(tracker, cid_to_digest(cid), hashlib.sha256(data).digest()), chain)
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "report_cid": cid}, f"order {order_id} shipped; report {cid}")


@click.command(name="report")
@click.argument("order_id", type=ORDER_ID)
@report_options
@pass_ctx
def report(ctx: CliContext, order_id: int, measures: tuple[str, ...], evidence: tuple[Path, ...], failed: bool,
           notes: str, out: Path) -> None:
    """Write ORDER_ID's quality report (what `order ship` pins) from measurements against its spec."""
    from pynode.orders.spec_document import fetch_spec_document

    if out.exists():
        raise InputError(f"{out} already exists")
    measurements = dict(_measurement(m) for m in measures)
    chain, tracker = ctx.v2, load(ctx, order_id)
    if tracker.partner is None:
        raise InputError(f"order {order_id} is {tracker.status.name} and has no partner to report on")
    spec = fetch_spec_document(ctx.ipfs, tracker).model_dump(mode="json")  # type: ignore[arg-type]  # docs only
    write_report(ctx, spec, ReportFacts(order_id, chain.chain_id, chain.book.address, tracker.partner,
                                        tracker.awarded_at), measurements, evidence, failed, notes, out)


@click.command(name="fetch-design")
@click.argument("order_id", type=ORDER_ID)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the decrypted design (must not exist)")
@pass_ctx
def fetch_design(ctx: CliContext, order_id: int, out: Path) -> None:
    """(partner) Decrypt the design awarded to the --account, verified against its SHA-256, and compare it with
    the geometry the spec published: a design that is not the part quoted is a reason to `order reject`."""
    from pynode.daemon.v2.design import DesignCheck, spec_document

    if out.exists():
        raise InputError(f"{out} already exists")
    chain, tracker = ctx.v2, load(ctx, order_id)
    me = ctx.account.address
    if tracker.partner != me:
        raise InputError(f"order {order_id} is awarded to {tracker.partner or 'nobody'}, not to {me}")
    name = ctx.account_name()
    password = ctx.password(f"Password for {name}: ")
    keys = [ctx.hpke_keys.unlock(name, password, key_id) for key_id in ctx.hpke_keys.key_ids(name)]
    check = DesignCheck(ctx.vault, chain.chain_id, chain.book.address, me, {k.key_id.hex(): k for k in keys})
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fabmesh-design-", dir=out.parent))
    try:
        checked = check.check(tracker, spec_document(ctx.vault, tracker), staging)
        if checked.design is None:
            raise InputError(f"order {order_id}: {checked.reason}; `fabmesh --protocol 2 order reject` it until "
                             f"{format_time(tracker.reject_window_closes or 0)}")
        checked.design.replace(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    ctx.emit({"order_id": order_id, "out": str(out), "bytes": out.stat().st_size, "mismatch": checked.reason},
             f"order {order_id}: design written to {out} ({out.stat().st_size} bytes, SHA-256 verified)"
             + (f"; it is NOT the part the spec describes: {checked.reason}" if checked.reason else ""))
