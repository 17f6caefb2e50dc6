"""`fabmesh withdraw`: pull everything the --account is owed."""

from __future__ import annotations

import click

from pynode.chain.orders import ZERO_ADDRESS
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.parsing import ADDRESS
from pynode.core.units import format_amount
from pynode.protocol.types import Status


@click.command()
@click.option("--token", "tokens", type=ADDRESS, multiple=True, help="Also withdraw credits in this ERC-20")
@pass_ctx
def withdraw(ctx: CliContext, tokens: tuple[str, ...]) -> None:
    """Withdraw payments of completed orders (as partner) and credited refunds, bonds and fees."""
    chain, me = ctx.chain, ctx.account.address
    safe = max(chain.safe_block(), chain.from_block)  # only what has `confirmations` blocks on top is paid out
    done = []
    for tracker in chain.book.load_orders(chain.from_block, safe).values():
        if tracker.status == Status.COMPLETED and tracker.state.partner == me:
            settled = chain.settled_order(tracker.order_id)  # hash-checked before paying out
            assert settled is not None  # it waits (wait_s > 0): an order or NotConfirmed, never None
            sent = ctx.send(chain.book.simple("withdrawPayment", settled))
            done.append({"order_id": settled.order_id, "tx": sent.tx_hash})
    credits = []
    lines = [f"order {d['order_id']}: payment withdrawn" for d in done]
    safe = max(chain.safe_block(), chain.from_block)
    for token in (ZERO_ADDRESS, *tokens):
        amount = chain.book.credits(me, token, block=safe)
        if amount:
            sent = ctx.send(chain.book.withdraw(token))
            credits.append({"token": token, "amount": amount, "tx": sent.tx_hash})
            lines.append(f"{format_amount(amount, chain.token_unit(token))} withdrawn")
    ctx.emit({"payments": done, "credits": credits}, "\n".join(lines) or "nothing to withdraw")
