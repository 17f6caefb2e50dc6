"""`fabmesh --protocol 2 partner` beyond registering and vetting: certifications and inspector accreditation (the
certifier), suspension (the guardian, instant), the partner's own bond and quote nonces. Reinstating a partner
is governance: `fabmesh governance schedule registry reinstate ADDRESS`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.parsing import ADDRESS, TIME, parse_amount
from pynode.cli.partner import _evidence, _pin_evidence, registry_write
from pynode.core.errors import InputError
from pynode.core.units import ETH, format_amount, format_time


def _future(expires: int) -> int:
    if expires <= time.time():
        raise click.BadParameter("must be in the future", param_hint="--expires")
    return expires


@click.command()
@click.argument("address", type=ADDRESS)
@click.option("--cert", required=True, help="ISO_9001, AS9100, ISO_13485 or a numeric id")
@click.option("--expires", type=TIME, required=True, help="Expiry: +365d, 2027-06-30, …")
@_evidence
@pass_ctx
def certify(ctx: CliContext, address: str, cert: str, expires: int, evidence: Path | None) -> None:
    """(certifier) Attach a certification with an expiry."""
    from pynode.orders.buyer import cert_id

    sent = ctx.send(ctx.v2.registry.certify(address, cert_id(cert), _future(expires), _pin_evidence(ctx, evidence)),
                    ctx.v2)
    ctx.emit({"partner": address, "cert": cert, "expires": expires, "tx": sent.tx_hash},
             f"certified {address}: {cert} until {format_time(expires)}")


@click.command()
@click.argument("inspector", type=ADDRESS)
@click.option("--expires", type=TIME, required=True, help="Expiry: +365d, 2027-06-30, …")
@_evidence
@pass_ctx
def accredit(ctx: CliContext, inspector: str, expires: int, evidence: Path | None) -> None:
    """(certifier) Accredit INSPECTOR: specs that name it accept its attestations until the expiry."""
    sent = ctx.send(ctx.v2.registry.accredit_inspector(inspector, _future(expires), _pin_evidence(ctx, evidence)),
                    ctx.v2)
    ctx.emit({"inspector": inspector, "expires": expires, "tx": sent.tx_hash},
             f"accredited inspector {inspector} until {format_time(expires)}")


suspend = registry_write("suspend", lambda registry, address, cid: registry.suspend(address, cid), "suspended",
                         "(guardian) Suspend ADDRESS at once: no new awards; its open orders and bond are untouched.",
                         v2=True)


@click.command(name="add-bond")
@click.argument("amount")
@pass_ctx
def add_bond(ctx: CliContext, amount: str) -> None:
    """Top up the --account's registry bond by AMOUNT ETH (also while orders lock part of it)."""
    value = parse_amount(amount)
    if value == 0:
        raise click.BadParameter("must be more than zero", param_hint="AMOUNT")
    sent = ctx.send(ctx.v2.registry.add_bond(value), ctx.v2)
    ctx.emit({"amount": value, "tx": sent.tx_hash}, f"bond topped up by {format_amount(value, ETH)}")


@click.command()
@pass_ctx
def unbond(ctx: CliContext) -> None:
    """Start unbonding: no new awards; the free bond is withdrawable after the delay."""
    registry = ctx.v2.registry
    sent = ctx.send(registry.start_unbonding(), ctx.v2)
    ready = registry.partner_info(ctx.account.address).unbonding_ready_at
    ctx.emit({"tx": sent.tx_hash, "ready_at": ready}, f"unbonding; withdrawable from {format_time(ready)}")


@click.command(name="withdraw-bond")
@click.option("--to", "recipient", type=ADDRESS, help="Where the bond goes [default: the --account]")
@pass_ctx
def withdraw_bond(ctx: CliContext, recipient: str | None) -> None:
    """Withdraw the free bond (bond less what open orders lock) after the unbonding delay."""
    registry, me = ctx.v2.registry, ctx.account.address
    info = registry.partner_info(me)
    if not info.unbonding or ctx.v2.now() < info.unbonding_ready_at:
        raise InputError("not withdrawable: `partner unbond` first" if not info.unbonding else
                         f"the bond is withdrawable from {format_time(info.unbonding_ready_at)}")
    sent = ctx.send(registry.withdraw_bond(recipient or me), ctx.v2)
    ctx.emit({"amount": info.free_bond, "to": recipient or me, "tx": sent.tx_hash},
             f"{format_amount(info.free_bond, ETH)} of bond withdrawn to {recipient or me}")


@click.command(name="cancel-quote")
@click.argument("nonces", type=click.IntRange(1, (1 << 256) - 1), nargs=-1, required=True)
@pass_ctx
def cancel_quote(ctx: CliContext, nonces: tuple[int, ...]) -> None:
    """Cancel the --account's signed quotes with these NONCES (one transaction per 256-nonce word)."""
    words: dict[int, int] = {}
    for nonce in nonces:
        words[nonce >> 8] = words.get(nonce >> 8, 0) | 1 << (nonce & 255)
    txs = [ctx.send(ctx.v2.book.invalidate_quote_nonces(word, mask), ctx.v2).tx_hash for word, mask in words.items()]
    ctx.emit({"nonces": [str(n) for n in nonces], "txs": txs}, f"cancelled {len(nonces)} quote nonce(s)")


COMMANDS = (certify, accredit, suspend, add_bond, unbond, withdraw_bond, cancel_quote)
