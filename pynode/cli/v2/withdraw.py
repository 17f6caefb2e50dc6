"""`fabmesh --protocol 2 withdraw`: every v2 credit of the --account (payments a refused push left, refunds, price
differences, deposits, fees; a panel member's rewards) paid out to a recipient of its choice."""

from __future__ import annotations

import click

from pynode.chain.v2.orders import ZERO_ADDRESS
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.parsing import ADDRESS
from pynode.core.units import ETH, format_amount


@click.command()
@click.option("--token", "tokens", type=ADDRESS, multiple=True, help="Also withdraw credits in this ERC-20")
@click.option("--to", "recipient", type=ADDRESS, help="Where the payout goes [default: the --account]")
@pass_ctx
def withdraw(ctx: CliContext, tokens: tuple[str, ...], recipient: str | None) -> None:
    """Withdraw payments of completed orders (as partner) and credited refunds, bonds and fees."""
    chain, me = ctx.v2, ctx.account.address
    to = recipient or me
    paid, lines = [], []
    for token in (ZERO_ADDRESS, *tokens):
        amount = chain.book.credits(me, token)
        if amount:
            sent = ctx.send(chain.book.withdraw(token, to), chain)
            paid.append({"source": "OrderBookV2", "token": token, "amount": amount, "tx": sent.tx_hash})
            lines.append(f"{format_amount(amount, chain.token_unit(token))} withdrawn to {to}")
    if chain.panel_ is not None and (reward := chain.panel_.credit(me)):
        sent = ctx.send(chain.panel_.withdraw(to), chain)
        paid.append({"source": "PanelArbitrator", "token": ZERO_ADDRESS, "amount": reward, "tx": sent.tx_hash})
        lines.append(f"{format_amount(reward, ETH)} of arbitration rewards withdrawn to {to}")
    ctx.emit({"credits": paid, "to": to}, "\n".join(lines) or "nothing to withdraw")
