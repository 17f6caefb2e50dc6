"""`fabmesh audit order|partner|all` and `fabmesh export epcis`: verify provenance trusting nobody.

Exit 0 only when every check verifies; 1 with the failing checks listed otherwise. On protocol 2 (the default)
both run on the v2 record (pynode.audit.v2), and `--quote FILE` checks awards against signed-quote documents;
`--protocol 1` audits the v1 record.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pynode.audit.ipfs_evidence import IpfsEvidence
from pynode.audit.model import AuditResult
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.output import write_output
from pynode.core.errors import InputError

if TYPE_CHECKING:
    from pynode.audit.v2.verify import AuditorV2
    from pynode.audit.verify import Auditor


def _auditor_v2(ctx: CliContext, batch_size: int, ipfs_timeout: float, quotes: tuple[Path, ...]) -> AuditorV2:
    from pynode.audit.v2.verify import AuditorV2
    from pynode.documents.quote import parse_signed_quote

    documents = []
    for path in quotes:
        try:
            documents.append(parse_signed_quote(path.read_bytes()))
        except OSError as exc:
            raise InputError(f"cannot read quote {path}: {exc.strerror}") from exc
    v2 = ctx.v2
    return AuditorV2(v2.rpc, v2.deployment, IpfsEvidence(ctx.ipfs, timeout=ipfs_timeout),
                     confirmations=v2.confirmations, batch_size=batch_size, quotes=documents)


def _auditor(ctx: CliContext, batch_size: int, ipfs_timeout: float,
             quotes: tuple[Path, ...] = ()) -> Auditor | AuditorV2:
    if ctx.settings.protocol == 2:
        return _auditor_v2(ctx, batch_size, ipfs_timeout, quotes)
    if quotes:
        raise click.UsageError("--quote is protocol 2's (protocol 1 has no quotes): drop --protocol 1")
    from pynode.audit.verify import Auditor  # v1 only: its checks and chain reads stay off the v2 path

    return Auditor(ctx.chain, IpfsEvidence(ctx.ipfs, timeout=ipfs_timeout), batch_size=batch_size)


def _report(ctx: CliContext, result: AuditResult, html: Path | None) -> None:
    if html is not None:
        from pynode.audit.report_html import render_html

        write_output(html, render_html(result), overwrite=True)
    if ctx.json:
        click.echo(json.dumps(result.as_dict(), sort_keys=True))
    else:
        from rich.table import Table  # only a human table: --json stays free of rich

        table = Table(title=f"fabmesh audit · {result.scope} · chain {result.chain_id} · block {result.block}")
        for column in ("", "order", "check", "result"):
            table.add_column(column, overflow="fold")
        for check in result.all_checks:
            table.add_row("[green]✓[/]" if check.ok else "[red]✗[/]",
                          "" if check.order_id is None else str(check.order_id), check.name, check.reason)
        ctx.console.print(table)
        failures = result.failures()
        verdict = "[bold green]VERIFIED[/]" if result.ok else f"[bold red]FAILED[/]: {len(failures)} failing checks"
        ctx.console.print(f"{verdict} ({len(result.orders)} orders, {len(result.all_checks)} checks, "
                          f"{result.seconds:.2f} s)" + (f"; HTML report {html}" if html else ""))
    if not result.ok:
        for check in result.failures():
            click.echo(f"✗ order {check.order_id} {check.name}: {check.reason}", err=True)
        raise SystemExit(1)


def _json_flag(ctx: click.Context, _param, value: bool) -> bool:
    cli = ctx.find_object(CliContext)
    if value and cli is not None:  # the group made it (main)
        cli.json = True
    return value


def _common(fn):
    fn = click.option("--json", "local_json", is_flag=True, expose_value=False, callback=_json_flag,
                      help="Print only JSON data on stdout (same as the global --json)")(fn)
    fn = click.option("--html", "html", type=click.Path(dir_okay=False, path_type=Path),
                      help="Also write a self-contained HTML report to FILE")(fn)
    fn = click.option("--batch-size", default=2000, show_default=True, help="Blocks per eth_getLogs")(fn)
    fn = click.option("--ipfs-timeout", default=30.0, show_default=True, help="Seconds per IPFS document")(fn)
    fn = click.option("--quote", "quotes", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
                      help="(protocol 2) A signed-quote document to check the award against; repeatable")(fn)
    return fn


@click.group()
def audit() -> None:
    """Verify orders from the chain, IPFS content addresses and signatures alone."""


@audit.command("order")
@click.argument("order_id", type=int)
@_common
@pass_ctx
def audit_order(ctx: CliContext, order_id: int, html, batch_size: int, ipfs_timeout: float, quotes) -> None:
    """Audit one order."""
    _report(ctx, _auditor(ctx, batch_size, ipfs_timeout, quotes).audit(order_ids=[order_id]), html)


@audit.command("partner")
@click.argument("address")
@_common
@pass_ctx
def audit_partner(ctx: CliContext, address: str, html, batch_size: int, ipfs_timeout: float, quotes) -> None:
    """Audit every order ADDRESS took part in."""
    from eth_utils import is_address

    if not is_address(address):
        raise InputError(f"not an address: {address!r}")
    _report(ctx, _auditor(ctx, batch_size, ipfs_timeout, quotes).audit(partner=address), html)


@audit.command("all")
@click.option("--from-block", type=int, help="Only orders posted from this block on [default: deployment block]")
@_common
@pass_ctx
def audit_all(ctx: CliContext, from_block: int | None, html, batch_size: int, ipfs_timeout: float,
              quotes) -> None:
    """Audit every order."""
    _report(ctx, _auditor(ctx, batch_size, ipfs_timeout, quotes).audit(from_block=from_block), html)


@click.group()
def export() -> None:
    """Export provenance in standard formats."""


@export.command("epcis")
@click.argument("order_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the EPCIS 2.0 JSON-LD document here [default: stdout]")
@pass_ctx
def export_epcis_cmd(ctx: CliContext, order_id: int, output: Path | None) -> None:
    """ORDER_ID's provenance as EPCIS 2.0 JSON-LD, each event with its GS1 event hash."""
    if ctx.settings.protocol == 2:
        document = _epcis_v2(ctx, order_id)
    else:
        from pynode.audit.collect import group_by_order
        from pynode.audit.epcis import export_epcis
        from pynode.audit.verify import Auditor

        auditor = Auditor(ctx.chain, IpfsEvidence(ctx.ipfs))
        orders = group_by_order(auditor.logs())
        if order_id not in orders or not orders[order_id].events:
            raise InputError(f"order {order_id} has no events on chain {ctx.chain.chain_id}")
        document = export_epcis(orders[order_id], ctx.chain.chain_id, ctx.chain.book.address, int(time.time()))
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        write_output(output, text + "\n", overwrite=True)
        if not ctx.json:
            click.echo(f"wrote {len(document['epcisBody']['eventList'])} EPCIS events to {output}", err=True)


def _epcis_v2(ctx: CliContext, order_id: int) -> dict:
    from pynode.audit.v2.epcis import export_epcis_v2

    auditor = _auditor_v2(ctx, 2000, 30.0, ())
    folded = auditor.folded(order_id)
    if folded is None or folded.tracker is None:
        raise InputError(f"order {order_id} has no events on chain {auditor.chain_id}")
    if folded.broken is not None:
        raise InputError(f"order {order_id}: its logs do not fold ({folded.error}); `fabmesh audit order` names why")
    return export_epcis_v2(folded, auditor.chain_id, auditor.book.address, int(time.time()))
