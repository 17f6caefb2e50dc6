"""`fabmesh arbitration`: a disputed v2 order at the deployment's PanelArbitrator (k-of-n votes, appeal rounds;
contracts/v2/README.md): the partner's matching fee, members' votes, appeals, the ruling's execution, and where
the dispute stands. Each command takes the ORDER_ID; the dispute id is the one the order's events name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pynode.chain.v2.arbitrator import PanelArbitrator, Phase
from pynode.chain.v2.orders import OrderTracker
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.v2.common import load
from pynode.cli.v2.settlement import offer, settle
from pynode.cli.v2.views import ORDER_ID
from pynode.core.errors import InputError
from pynode.core.units import ETH, format_amount, format_time
from pynode.ipfs.cid import cid_to_digest
from pynode.protocol.v2.types import OrderStatus


def _dispute_id(tracker: OrderTracker) -> int:
    if tracker.dispute_id is None:
        raise InputError(f"order {tracker.order_id} has no dispute at its arbitrator"
                         + (" yet: the partner has not matched the fee" if tracker.status == OrderStatus.DISPUTED
                            else f" (it is {tracker.status.name})"))
    return tracker.dispute_id


def _at_panel(ctx: CliContext, order_id: int) -> tuple[OrderTracker, PanelArbitrator, int]:
    """The order, the arbitrator its terms name and its dispute there."""
    tracker = load(ctx, order_id)
    return tracker, ctx.v2.arbitrator(tracker.terms.arbitrator), _dispute_id(tracker)


def ruling_text(ruling: int) -> str:
    return "refused to arbitrate" if ruling == 0 else f"{ruling - 1}% of the price to the buyer"


@click.group()
def arbitration() -> None:
    """(protocol 2) Vote, appeal, execute and inspect PanelArbitrator disputes."""


@arbitration.command(name="pay-fee")
@click.argument("order_id", type=ORDER_ID)
@pass_ctx
def pay_fee(ctx: CliContext, order_id: int) -> None:
    """(partner) Match the buyer's arbitration deposit: the dispute goes to the panel (else the buyer wins by
    default after the fee response window)."""
    chain, tracker = ctx.v2, load(ctx, order_id)
    if tracker.status != OrderStatus.DISPUTED or tracker.dispute_id is not None:
        raise InputError(f"order {order_id} is {tracker.status.name}"
                         + (": the fee is matched already" if tracker.dispute_id is not None else ", not DISPUTED"))
    fee = chain.book.arbitration(order_id).buyer_fee
    sent = ctx.send(chain.book.pay_arbitration_fee(tracker, fee), chain)
    ctx.emit({"order_id": order_id, "fee": fee, "tx": sent.tx_hash},
             f"order {order_id}: fee {format_amount(fee, ETH)} matched; the panel decides")


@arbitration.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--buyer-share", type=click.IntRange(0, 100), help="Percent of the price returned to the buyer")
@click.option("--refuse", is_flag=True, help="Refuse to arbitrate (ruling 0: settled like an expired dispute)")
@pass_ctx
def vote(ctx: CliContext, order_id: int, buyer_share: int | None, refuse: bool) -> None:
    """(panel member) Vote a ruling on ORDER_ID's dispute."""
    if (buyer_share is None) == (not refuse):
        raise click.UsageError("give either --buyer-share PERCENT or --refuse")
    ruling = 0 if refuse else int(buyer_share or 0) + 1
    _, panel, dispute_id = _at_panel(ctx, order_id)
    sent = ctx.send(panel.vote(dispute_id, ruling), ctx.v2)
    ctx.emit({"order_id": order_id, "dispute_id": dispute_id, "ruling": ruling, "tx": sent.tx_hash},
             f"voted '{ruling_text(ruling)}' on dispute {dispute_id} (order {order_id})")


@arbitration.command()
@click.argument("order_id", type=ORDER_ID)
@pass_ctx
def appeal(ctx: CliContext, order_id: int) -> None:
    """Appeal the provisional ruling inside its appeal window, paying the appeal cost."""
    chain = ctx.v2
    _, panel, dispute_id = _at_panel(ctx, order_id)
    start, end = panel.appeal_period(dispute_id)
    if not start <= chain.now() < end:
        raise InputError(f"dispute {dispute_id} is not appealable now" +
                         (f" (window {format_time(start)} to {format_time(end)})" if end else ""))
    cost = panel.appeal_cost(dispute_id)
    sent = ctx.send(panel.appeal(dispute_id, cost), chain)
    ctx.emit({"order_id": order_id, "dispute_id": dispute_id, "cost": cost, "tx": sent.tx_hash},
             f"appealed dispute {dispute_id} ({format_amount(cost, ETH)}): a new round needs more votes")


@arbitration.command()
@click.argument("order_id", type=ORDER_ID)
@pass_ctx
def execute(ctx: CliContext, order_id: int) -> None:
    """Pass the final ruling to the book and apply it to the order (anyone)."""
    chain = ctx.v2
    tracker, panel, dispute_id = _at_panel(ctx, order_id)
    txs = []
    if panel.phase(dispute_id) != Phase.EXECUTED:
        txs.append(ctx.send(panel.execute_ruling(dispute_id), chain).tx_hash)
    if tracker.status == OrderStatus.DISPUTED:
        txs.append(ctx.send(chain.book.execute_ruling(load(ctx, order_id)), chain).tx_hash)
    ruling = chain.book.arbitration(order_id).ruling
    ctx.emit({"order_id": order_id, "dispute_id": dispute_id, "ruling": ruling, "txs": txs},
             f"order {order_id}: ruling '{ruling_text(ruling)}' executed")


def _fallback(verb: str, function: str, help_text: str) -> click.Command:
    @click.command(name=verb, help=help_text)
    @click.argument("order_id", type=ORDER_ID)
    @pass_ctx
    def command(ctx: CliContext, order_id: int) -> None:
        tracker = load(ctx, order_id)
        if tracker.status != OrderStatus.DISPUTED:
            raise InputError(f"order {order_id} is {tracker.status.name}, not DISPUTED")
        sent = ctx.send(getattr(ctx.v2.book, function)(tracker), ctx.v2)
        ctx.emit({"order_id": order_id, "tx": sent.tx_hash}, f"order {order_id}: {verb} done")

    return command


@arbitration.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--evidence", "evidence_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="Photos, measurements, a statement: pinned, its CID goes on the record chain")
@pass_ctx
def evidence(ctx: CliContext, order_id: int, evidence_file: Path) -> None:
    """(buyer or partner) Add evidence to a disputed order for the arbitrator (ERC-1497 Evidence)."""
    tracker = load(ctx, order_id)
    if tracker.status != OrderStatus.DISPUTED:
        raise InputError(f"order {order_id} is {tracker.status.name}, not DISPUTED")
    cid = ctx.ipfs.add_bytes(evidence_file.read_bytes())
    sent = ctx.send(ctx.v2.book.submit_evidence(tracker, cid_to_digest(cid)), ctx.v2)
    ctx.emit({"order_id": order_id, "evidence_cid": cid, "tx": sent.tx_hash},
             f"order {order_id}: evidence {cid} recorded")


arbitration.add_command(offer)
arbitration.add_command(settle)
arbitration.add_command(_fallback("claim-default", "claim_default",
                                  "The partner did not match the fee in time: the buyer wins by default (anyone)."))
arbitration.add_command(_fallback("settle-expired", "settle_expired",
                                  "No ruling within the dispute timeout: split half and half (anyone)."))


@arbitration.command()
@click.argument("order_id", type=ORDER_ID)
@pass_ctx
def status(ctx: CliContext, order_id: int) -> None:
    """Where ORDER_ID's dispute stands: deposits, the panel's round, votes, ruling and deadlines."""
    chain, tracker = ctx.v2, load(ctx, order_id)
    book_side = chain.book.arbitration(order_id)
    data: dict[str, Any] = {"order_id": order_id, "status": tracker.status.name, "dispute_id": tracker.dispute_id,
                            "buyer_fee": book_side.buyer_fee, "ruled": book_side.ruled, "ruling": book_side.ruling}
    if tracker.dispute_id is None:
        if tracker.disputed_at is not None:
            data["fee_due_by"] = tracker.disputed_at + chain.book.constant("FEE_RESPONSE_WINDOW")
    else:
        panel = chain.arbitrator(tracker.terms.arbitrator)
        d = panel.dispute(tracker.dispute_id)
        start, end = panel.appeal_period(tracker.dispute_id)
        data.update({"phase": Phase(d.phase).name, "round": d.round, "votes_needed": d.quorum + d.round,
                     "panel_size": d.size, "ruling": d.ruling, "votes_for_ruling": panel.votes_for(
                         tracker.dispute_id, d.round, d.ruling), "voting_closes": d.round_start + panel.voting_period(),
                     "appeal_from": start or None, "appeal_until": end or None, "pot": d.pot})
    ctx.emit(data, "\n".join(f"{key}: {_readable(key, value)}" for key, value in data.items()))


def _readable(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("fee_due_by", "voting_closes", "appeal_from", "appeal_until"):
        return format_time(value)
    if key in ("buyer_fee", "pot"):
        return format_amount(value, ETH)
    return f"{value} ({ruling_text(value)})" if key == "ruling" else str(value)
