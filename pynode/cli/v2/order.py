"""`fabmesh --protocol 2 order`: v2 orders (escrow-first post, award with a signed quote, ship, confirm, dispute,
recover), over pynode.orders.v2.buyer.BuyerV2 and the v2 wrappers."""

from __future__ import annotations

from pathlib import Path

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.reports import report_for
from pynode.cli.v2.common import buyer, load, read_quote
from pynode.cli.v2.posting import draft, post
from pynode.cli.v2.views import ORDER_ID, order_summary, print_order, readable
from pynode.core.errors import InputError
from pynode.core.units import ETH, format_amount, format_time
from pynode.ipfs.cid import cid_to_digest
from pynode.protocol.v2.types import OrderStatus


@click.group()
def order() -> None:
    """Post, award, confirm, dispute and recover escrowed orders."""


order.add_command(post)
order.add_command(draft)


@order.command(name="list")
@click.option("--mine", is_flag=True, help="Only orders where the --account is buyer or partner")
@click.option("--status", type=click.Choice([s.name for s in OrderStatus if s != OrderStatus.NONE],
                                            case_sensitive=False))
@pass_ctx
def list_(ctx: CliContext, mine: bool, status: str | None) -> None:
    """Every v2 order, rebuilt from the order book's events."""
    chain = ctx.v2
    me = ctx.keystore.get(ctx.account_name()).address if mine else None
    rows = [order_summary(t) for t in chain.book.load_orders(chain.from_block).values()
            if (not status or t.status.name == status.upper()) and (me is None or me in (t.buyer, t.partner))]
    for row in rows:
        del row["transitions"], row["records"]

    def render(console) -> None:
        from rich.table import Column, Table  # only a human table: --json stays free of rich

        table = Table("id", "status", "buyer", "partner", Column("price", no_wrap=True), "process",
                      Column("award by (UTC)", no_wrap=True), Column("due by (UTC)", no_wrap=True))
        for r in rows:
            unit = chain.token_unit(r["token"])
            table.add_row(str(r["order_id"]), r["status"], r["buyer"][:10], (r["partner"] or "-")[:10],
                          format_amount(r["price"], unit), ",".join(r["processes"]), format_time(r["award_deadline"]),
                          readable("due_by", r["due_by"], unit))
        console.print(table)

    ctx.emit(rows, render)


@order.command()
@click.argument("order_id", type=ORDER_ID)
@pass_ctx
def show(ctx: CliContext, order_id: int) -> None:
    """One order: terms, state, deadlines, documents and both its chains (transitions and records)."""
    data = order_summary(load(ctx, order_id))
    ctx.emit(data, lambda console: print_order(console, data, ctx.v2.token_unit(data["token"])))


@order.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--quote", "quote_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The partner's signed quote (`fabmesh quote --sign-only`)")
@pass_ctx
def award(ctx: CliContext, order_id: int, quote_file: Path) -> None:
    """Award ORDER_ID to a signed quote: checked (signature, order, price, bond, expiry, partner), then the
    design key sealed to the partner and the award sent."""
    signed = read_quote(quote_file)
    tracker = load(ctx, order_id)
    actions = buyer(ctx)
    actions.check_quote(tracker.terms, tracker.spec, signed)  # before the HPKE key is unlocked: a bad file is cheap
    keypair = ctx.hpke_keys.unlock(ctx.account_name(), ctx.password())
    sent, envelope_cid = actions.award(tracker, signed, keypair)
    quote, unit = signed.quote, ctx.v2.token_unit(tracker.terms.token)
    ctx.emit({"order_id": order_id, "partner": quote.partner, "payee": quote.payee, "price": quote.price,
              "bond": quote.bond, "tx": sent.tx_hash, "key_envelope_cid": envelope_cid},
             f"order {order_id} awarded to {quote.partner} at {format_amount(quote.price, unit)}; "
             f"key envelope {envelope_cid}")


def _buyer_action(verb: str, help_text: str) -> click.Command:
    @click.command(name=verb, help=help_text)
    @click.argument("order_id", type=ORDER_ID)
    @pass_ctx
    def command(ctx: CliContext, order_id: int) -> None:
        sent = getattr(buyer(ctx), verb)(load(ctx, order_id))
        ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "gas_used": sent.gas_used},
                 f"order {order_id}: {verb} done")

    return command


order.add_command(_buyer_action("confirm", "Confirm a shipment whose report checks out: the payee is paid."))
order.add_command(_buyer_action("cancel", "Cancel an open order; the escrow is credited back to you."))
order.add_command(_buyer_action("refund", "Refund after a missed award or due date (anyone may call)."))


@order.command()
@click.argument("order_id", type=ORDER_ID)
@pass_ctx
def finalize(ctx: CliContext, order_id: int) -> None:
    """Complete a shipped order after a silent inspection window (anyone)."""
    sent = ctx.send(ctx.v2.book.finalize(load(ctx, order_id)), ctx.v2)
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash}, f"order {order_id}: finalize done")


@order.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Photos, measurements, a report: pinned, its CID goes on chain")
@pass_ctx
def dispute(ctx: CliContext, order_id: int, evidence: Path) -> None:
    """Dispute a shipped order with the arbitrator's fee as deposit (the partner must match it)."""
    sent, evidence_cid, fee = buyer(ctx).dispute(load(ctx, order_id), evidence)
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "evidence_cid": evidence_cid, "fee": fee},
             f"order {order_id} disputed with evidence {evidence_cid} (deposit {format_amount(fee, ETH)})")


# ------------------------------------------------------------------ partner side

@order.command()
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


@order.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--report", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The passing quality report shipped with the parts (`fabmesh order report`)")
@pass_ctx
def ship(ctx: CliContext, order_id: int, report: Path) -> None:
    """(partner) Mark an awarded order shipped with its passing quality report."""
    import hashlib

    chain, tracker = ctx.v2, load(ctx, order_id)
    if tracker.status != OrderStatus.AWARDED:
        raise InputError(f"order {order_id} is {tracker.status.name}, not AWARDED")
    data = report_for(report, order_id=order_id, chain_id=chain.chain_id, contract=chain.book.address,
                      partner=tracker.partner, passed=True)
    cid = ctx.ipfs.add_bytes(data, raw_leaves=ctx.vault.raw_leaves)
    sent = ctx.send(chain.book.ship(tracker, cid_to_digest(cid), hashlib.sha256(data).digest()), chain)
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "report_cid": cid}, f"order {order_id} shipped; report {cid}")
