"""`order post` and `order draft` on protocol v2: escrow-first (post, then quotes arrive) and quote-first (a draft
whose terms a partner quotes, posted already awarded with `order post --draft FILE --quote FILE`)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from pynode.chain.orders import MATERIAL, PROCESS, ZERO_ADDRESS
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.order import _tolerance
from pynode.cli.output import write_output
from pynode.cli.parsing import ADDRESS, DURATION, TIME, parse_amount
from pynode.cli.v2.common import buyer, read_draft, read_quote
from pynode.core.errors import InputError
from pynode.core.units import format_amount

if TYPE_CHECKING:
    from pynode.orders.v2.buyer import PreparedOrder
    from pynode.orders.v2.snapshot import Snapshot

_REQUIRED = ("design", "process", "material", "qty", "price", "award_by", "deliver_by")
_ORDER_OPTIONS = (
    click.option("--design", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="The design file; encrypted before it leaves this machine"),
    click.option("--process", help=f"One of {', '.join(PROCESS)}"),
    click.option("--material", help=f"One of {', '.join(MATERIAL)}"),
    click.option("--qty", type=click.IntRange(1, 10**9)),
    click.option("--price", help="Escrow, the most a quote may ask: ETH (0.5) or whole tokens with --token"),
    click.option("--token", type=ADDRESS, help="Pay in this allow-listed ERC-20 instead of ETH"),
    click.option("--award-by", type=TIME, help="Award deadline: +2d, 2026-12-01T12:00Z"),
    click.option("--deliver-by", type=TIME, help="Delivery deadline: a quote's lead time must fit"),
    click.option("--inspection", type=DURATION, default="3d", show_default=True,
                 help="Window to dispute after shipping"),
    click.option("--min-bond", default="0", show_default=True, help="Least ETH bond a quote must lock"),
    click.option("--arbitrator", type=ADDRESS, help="The order's ERC-792 arbitrator [default: the PanelArbitrator]"),
    click.option("--inspector", "inspectors", type=ADDRESS, multiple=True, help="An inspector the spec accepts"),
    click.option("--cert", "certs", multiple=True, help="Required certification (repeatable)"),
    click.option("--region", default="", help="Geohash prefix where the parts are needed"),
    click.option("--tolerance", "tolerances", multiple=True, metavar="NAME=NOMINAL±TOL[UNIT]", help="(repeatable)"),
    click.option("--notes", default=""),
)


def _order_options(command):
    for option in reversed(_ORDER_OPTIONS):
        command = option(command)
    return command


def _given(options: dict[str, Any]) -> list[str]:
    """The order options typed on the command line (not defaults)."""
    click_ctx = click.get_current_context()
    return [name for name in options if click_ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]


def _prepare(ctx: CliContext, options: dict[str, Any], snapshot: Snapshot | None = None) -> PreparedOrder:
    """The order the options describe, sealed and pinned, its terms fixed (nothing escrowed; ``snapshot``: the
    book's parameters as the record has them, None: read)."""
    from pynode.orders.v2.buyer import OrderRequestV2

    missing = [name for name in _REQUIRED if options[name] is None]
    if missing:
        raise click.UsageError(f"missing option --{missing[0].replace('_', '-')}")
    if options["deliver_by"] <= options["award_by"]:
        raise click.BadParameter("must be after --award-by", param_hint="--deliver-by")
    if options["award_by"] <= time.time():
        raise click.BadParameter("must be in the future", param_hint="--award-by")
    token = options["token"]
    price = parse_amount(options["price"], ctx.v2.token_unit(token).decimals, token_units=True) if token \
        else parse_amount(options["price"])
    if price == 0:
        raise click.BadParameter("must be more than zero", param_hint="--price")
    request = OrderRequestV2(
        design=options["design"], process=options["process"], material=options["material"],
        quantity=options["qty"], price=price, award_deadline=options["award_by"],
        delivery_deadline=options["deliver_by"], inspection_window=options["inspection"],
        arbitrator=options["arbitrator"] or "", min_bond=parse_amount(options["min_bond"]),
        inspectors=options["inspectors"], token=token or ZERO_ADDRESS, region=options["region"],
        certifications=options["certs"], tolerances=dict(_tolerance(t) for t in options["tolerances"]),
        notes=options["notes"])
    _, public_key = ctx.hpke_keys.public_key(ctx.account_name())
    prepared = buyer(ctx).prepare(request, public_key, snapshot=snapshot)
    if prepared.geometry_skipped:
        click.echo(f"note: the spec publishes no geometry: {prepared.geometry_skipped}", err=True)
    return prepared


def _from_draft(ctx: CliContext, path: Path) -> PreparedOrder:
    from pynode.ipfs.vault import SealedDesign
    from pynode.orders.v2.buyer import PreparedOrder

    draft = read_draft(ctx, path)
    design = SealedDesign(content_key=b"", **draft.design)  # the key stays in the design-key store: award seals it
    return PreparedOrder(draft.terms, draft.spec, draft.docs, design, draft.spec_cid, draft.key_backup_cid, None,
                         None)


@click.command()
@_order_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the draft (must not exist)")
@pass_ctx
def draft(ctx: CliContext, out: Path, **options: Any) -> None:
    """Seal and pin DESIGN and fix the order's terms without posting: the draft a partner quotes
    (`quote --draft`) for a quote-first `order post --draft FILE --quote FILE`."""
    from pynode.documents.order_draft import OrderDraft

    if out.exists():
        raise InputError(f"{out} already exists")
    prepared = _prepare(ctx, options)
    sealed = prepared.design
    document = OrderDraft(ctx.v2.chain_id, ctx.v2.book.address, prepared.terms, prepared.spec, prepared.docs,
                          {"cid": sealed.cid, "plaintext_sha256": sealed.plaintext_sha256,
                           "plaintext_size": sealed.plaintext_size, "ciphertext_size": sealed.ciphertext_size},
                          prepared.spec_cid, prepared.key_backup_cid)
    write_output(out, document.to_json())
    ctx.emit({"order_id": document.order_id, "draft": str(out), "design_cid": sealed.cid,
              "spec_cid": prepared.spec_cid, "key_backup_cid": prepared.key_backup_cid},
             f"draft of order {document.order_id} written to {out}; nothing escrowed: a partner quotes it with "
             f"`fabmesh quote --draft {out} --sign-only FILE`")


@click.command()
@_order_options
@click.option("--draft", "draft_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Post this `order draft` instead of the options above")
@click.option("--quote", "quote_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="With --draft: post quote-first, already awarded to this signed quote of the draft")
@pass_ctx
def post(ctx: CliContext, draft_file: Path | None, quote_file: Path | None, **options: Any) -> None:
    """Encrypt DESIGN, pin it and post an escrowed order for quotes (escrow-first); or post a draft, with
    --quote already awarded (quote-first)."""
    if draft_file is not None and (given := _given(options)):
        raise click.UsageError(f"--draft fixes the order: --{given[0].replace('_', '-')} cannot change it")
    if quote_file is not None and draft_file is None:
        raise click.UsageError("a quote names fixed terms: write them with `order draft`, have the partner quote "
                               "the draft, then `order post --draft FILE --quote FILE`")
    from pynode.orders.v2.snapshot import Snapshot, SnapshotRecord

    signed = read_quote(quote_file) if quote_file else None
    record = SnapshotRecord(ctx.settings.home, ctx.v2.chain_id, ctx.v2.book.address)
    prepared = _from_draft(ctx, draft_file) if draft_file else _prepare(ctx, options, record.load())
    actions = buyer(ctx)
    if signed is None:
        posted = actions.post(prepared)
        if draft_file is None:  # what the book took, for the next post
            with contextlib.suppress(OSError):  # a cache: a home it cannot write to costs reads, not the post
                record.save(Snapshot.of(posted.order.terms))
        line = f"quotes name it with `fabmesh quote {posted.order_id} --sign-only FILE`"
    else:
        actions.check_quote(prepared.terms, prepared.spec, signed)  # before the HPKE key is unlocked
        posted = actions.post_awarded(prepared, signed, ctx.hpke_keys.unlock(ctx.account_name(), ctx.password()))
        line = (f"awarded to {signed.quote.partner} at "
                f"{format_amount(signed.quote.price, ctx.v2.token_unit(prepared.terms.token))}; "
                f"key envelope {posted.envelope_cid}")
    ctx.emit({"order_id": posted.order_id, "tx": posted.sent.tx_hash, "gas_used": posted.sent.gas_used,
              "design_cid": prepared.design.cid, "spec_cid": prepared.spec_cid,
              "key_backup_cid": prepared.key_backup_cid, "key_envelope_cid": posted.envelope_cid,
              "partner": signed.quote.partner if signed else None},
             f"order {posted.order_id} posted: design {prepared.design.cid}, spec {prepared.spec_cid}; {line}")
