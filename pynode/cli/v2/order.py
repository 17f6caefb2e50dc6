"""`fabmesh --protocol 2 order`: v2 orders (escrow-first post, award with a signed quote, ship, confirm, dispute,
recover), over pynode.orders.v2.buyer.BuyerV2 and the v2 wrappers."""

from __future__ import annotations

from pathlib import Path

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.v2.common import buyer, load, read_quote
from pynode.cli.v2.posting import draft, post
from pynode.cli.v2.production import fetch_design, reject, report, ship
from pynode.cli.v2.views import ORDER_ID, order_summary, print_order, readable
from pynode.core.units import ETH, format_amount, format_time
from pynode.protocol.v2.types import OrderStatus


@click.group()
def order() -> None:
    """Post, award, confirm, dispute and recover escrowed orders."""


for command in (post, draft, report, fetch_design, reject, ship):
    order.add_command(command)


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
