"""`fabmesh quote`: a partner's signed quote for an open v2 order, as a file (fabmesh/signed-quote,
pynode/documents/quote.py) to hand to the buyer, who awards it with `fabmesh --protocol 2 order award --quote`.

Losing quotes cost no gas: nothing is sent. Daemons exchange the same documents with buyer watchers on their own
(`fabmesh node run`); this command is the manual path, like `attest --sign-only`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.output import write_output
from pynode.cli.parsing import ADDRESS, DURATION, TIME, parse_amount
from pynode.cli.v2.common import buyer, load, read_draft
from pynode.cli.v2.views import ORDER_ID
from pynode.core.errors import InputError
from pynode.core.units import ETH, format_amount, format_duration, format_time
from pynode.protocol.v2.types import OrderStatus

MAX_NONCE = (1 << 256) - 1


@click.command()
@click.argument("order_id", type=ORDER_ID, required=False)
@click.option("--draft", "draft_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Quote the buyer's `order draft` instead of a posted ORDER_ID (quote-first)")
@click.option("--sign-only", "out", required=True, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Write the signed quote to this file ('-': stdout) for the buyer; nothing is sent")
@click.option("--price", required=True,
              help="What you ask: ETH (0.04) or whole tokens of the order's token (125.5), at most its escrow")
@click.option("--lead-time", type=DURATION, required=True, help="Award to shipment: 5d, 36h, 90m")
@click.option("--bond", help="ETH the award locks out of your registry bond [default: the order's minimum]")
@click.option("--expiry", type=TIME, default="+1d", show_default=True, help="Until when the buyer may award it")
@click.option("--payee", type=ADDRESS, help="Who the payment goes to [default: the --account]")
@click.option("--nonce", type=click.IntRange(1, MAX_NONCE),
              help="Quote nonce (cancel it with invalidateQuoteNonces) [default: random]")
@pass_ctx
def quote(ctx: CliContext, order_id: int | None, draft_file: Path | None, out: Path, price: str, lead_time: int,
          bond: str | None, expiry: int, payee: str | None, nonce: int | None) -> None:
    """(protocol 2) Sign a quote for an open order as a file to hand to its buyer.

    The quote names the order's terms hash, so it awards that order only (a
    draft's: the buyer posts it already awarded, `order post --draft --quote`). It is
    checked as the buyer's `order award --quote` will check it (price within the
    escrow, bond, lead time before the delivery deadline, expiry, your registry
    entry and free bond) before it is written.
    """
    from pynode.documents.quote import sign_quote
    from pynode.protocol.v2.codec import terms_hash
    from pynode.protocol.v2.types import Quote

    to_stdout = str(out) == "-"
    if not to_stdout and out.exists():
        raise InputError(f"{out} already exists")
    if (order_id is None) == (draft_file is None):
        raise click.UsageError("give the ORDER_ID of a posted order or --draft FILE")
    chain = ctx.v2
    if order_id is None:
        draft = read_draft(ctx, draft_file)  # type: ignore[arg-type]  # given: checked above
        order_id, terms, spec = draft.order_id, draft.terms, draft.spec
    else:
        tracker = load(ctx, order_id)
        if tracker.status != OrderStatus.OPEN:
            raise InputError(f"order {order_id} is {tracker.status.name}: only an OPEN order takes quotes")
        terms, spec = tracker.terms, tracker.spec
    unit = chain.token_unit(terms.token)
    amount = parse_amount(price, unit.decimals, token_units=int(terms.token, 16) != 0)
    locked = terms.min_bond if bond is None else parse_amount(bond)
    partner = ctx.account
    signed = sign_quote(partner, chain.domain, Quote(
        terms_hash(terms), partner.address, payee or partner.address, amount, locked, lead_time, expiry,
        nonce or 1 + secrets.randbelow(MAX_NONCE)))
    buyer(ctx).check_quote(terms, spec, signed)  # what the buyer's award checks: refused here, not there
    document = signed.to_json()
    if to_stdout:
        click.echo(document.decode())
        return
    write_output(out, document)
    q = signed.quote
    ctx.emit({"order_id": order_id, "signed_quote": str(out), "partner": q.partner, "payee": q.payee,
              "price": q.price, "bond": q.bond, "lead_time": q.lead_time, "expiry": q.expiry, "nonce": str(q.nonce)},
             f"quote for order {order_id} written to {out}: {format_amount(q.price, unit)}, bond "
             f"{format_amount(q.bond, ETH)}, ships {format_duration(q.lead_time)} after award, valid until "
             f"{format_time(q.expiry)}")
