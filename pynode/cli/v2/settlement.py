"""Settling a shipped or disputed v2 order by a split both parties agree on: one party signs the split (EIP-712
Settlement) into a fabmesh/signed-settlement file (pynode/documents/signed_settlement.py, `arbitration offer`),
the other sends it (`arbitration settle`); deposits go back to whoever paid them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.output import write_output
from pynode.cli.parsing import DURATION, parse_amount
from pynode.cli.v2.common import load, read_document
from pynode.cli.v2.views import ORDER_ID
from pynode.core.errors import InputError
from pynode.core.units import format_amount, format_time
from pynode.documents.signed_settlement import SignedSettlement, parse_signed_settlement
from pynode.protocol.v2.types import OrderStatus, Settlement


def _parties(tracker: Any) -> tuple[str, str]:
    if tracker.status not in (OrderStatus.SHIPPED, OrderStatus.DISPUTED):
        raise InputError(f"order {tracker.order_id} is {tracker.status.name}: only a SHIPPED or DISPUTED order "
                         "is settled")
    return tracker.buyer, tracker.partner


@click.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--buyer-share", required=True, help="Part of the price back to the buyer: ETH or whole tokens")
@click.option("--bond-to-buyer", is_flag=True, help="The partner's bond goes to the buyer too")
@click.option("--valid-for", type=DURATION, default="3d", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_ctx
def offer(ctx: CliContext, order_id: int, buyer_share: str, bond_to_buyer: bool, valid_for: int, out: Path) -> None:
    """(buyer or partner) Sign a split of ORDER_ID for the other party to settle with; nothing is sent."""
    from pynode.protocol.v2 import eip712

    if out.exists():
        raise InputError(f"{out} already exists")
    chain, tracker = ctx.v2, load(ctx, order_id)
    me = ctx.account
    if me.address not in _parties(tracker):
        raise InputError(f"{me.address} is neither the buyer nor the partner of order {order_id}")
    unit = chain.token_unit(tracker.terms.token)
    share = parse_amount(buyer_share, unit.decimals, token_units=int(tracker.terms.token, 16) != 0)
    if share > tracker.price:
        raise click.BadParameter(f"more than the price {format_amount(tracker.price, unit)}",
                                 param_hint="--buyer-share")
    settlement = Settlement(order_id, share, bond_to_buyer, chain.now() + valid_for)
    signed = SignedSettlement(chain.chain_id, chain.book.address, settlement, me.address,
                              eip712.sign(me, chain.domain, settlement))
    write_output(out, signed.to_json())
    ctx.emit({"order_id": order_id, "offer": str(out), "buyer_share": share, "bond_to_buyer": bond_to_buyer,
              "deadline": settlement.deadline},
             f"settlement offer for order {order_id} written to {out}: {format_amount(share, unit)} to the buyer"
             f"{', the bond too' if bond_to_buyer else ''}, valid until {format_time(settlement.deadline)}")


@click.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--offer", "offer_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The other party's signed split (`arbitration offer`)")
@pass_ctx
def settle(ctx: CliContext, order_id: int, offer_file: Path) -> None:
    """(buyer or partner) Settle ORDER_ID by the split the other party signed."""
    from pynode.protocol.v2 import eip712

    signed = read_document(offer_file, parse_signed_settlement)
    chain, tracker = ctx.v2, load(ctx, order_id)
    buyer, partner = _parties(tracker)
    if (signed.chain_id, signed.order_book, signed.settlement.order_id) != (chain.chain_id, chain.book.address,
                                                                             order_id):
        raise InputError(f"{offer_file.name} settles order {signed.settlement.order_id} on chain {signed.chain_id} "
                         f"/ {signed.order_book}, not order {order_id} here")
    other = partner if ctx.account.address == buyer else buyer
    try:
        signer = eip712.recover(chain.domain, signed.settlement, signed.signature)
    except Exception:  # noqa: BLE001 - a malformed signature is a finding, not a crash (eth-keys has its own types)
        signer = None
    if signer != other or signed.signer != other:
        raise InputError(f"{offer_file.name} is not signed by the other party {other}")
    if chain.now() > signed.settlement.deadline:
        raise InputError(f"the offer expired at {format_time(signed.settlement.deadline)}")
    sent = ctx.send(chain.book.settle(tracker, signed.settlement, signed.signature), chain)
    ctx.emit({"order_id": order_id, "buyer_share": signed.settlement.buyer_share, "tx": sent.tx_hash},
             f"order {order_id} settled")
