"""`fabmesh attest`: quality attestations by the partner or an inspector, direct or signed for relay."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from pynode.chain.orders import OrderTracker
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.output import write_output
from pynode.cli.reports import checked_report
from pynode.core.errors import InputError
from pynode.core.units import format_time
from pynode.documents.signed_attestation import parse_signed_attestation, sign_attestation
from pynode.ipfs.cid import cid_to_digest


def _report(ctx: CliContext, tracker: OrderTracker, report: Path, passed: bool) -> tuple[str, bytes, bytes]:
    data = checked_report(ctx, tracker, report, passed=passed)
    cid = ctx.ipfs.add_bytes(data, raw_leaves=ctx.vault.raw_leaves)
    return cid, cid_to_digest(cid), hashlib.sha256(data).digest()


@click.command()
@click.argument("order_id", type=click.IntRange(1))
@click.option("--report", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The quality report document; pinned, its CID and SHA-256 go on chain")
@click.option("--pass/--fail", "passed", required=True, help="The verdict")
@click.option("--sign-only", "sign_out", type=click.Path(dir_okay=False, path_type=Path),
              help="(inspector) Write an EIP-712 signed attestation here for anyone to relay; send nothing")
@click.option("--valid-for", type=click.IntRange(60), default=7 * 86400, show_default=True,
              help="Seconds the signed attestation stays valid")
@pass_ctx
def attest(ctx: CliContext, order_id: int, report: Path, passed: bool, sign_out: Path | None, valid_for: int) -> None:
    """Attest ORDER_ID's quality with a report, as its partner or as an inspector.

    With --sign-only an inspector signs (EIP-712) without sending; anyone then
    submits the file with `fabmesh relay-attestation`.
    """
    chain = ctx.chain
    tracker = chain.settled_order(order_id)
    assert tracker is not None  # it waits (wait_s > 0): an order or NotConfirmed, never None
    cid, report_cid, report_hash = _report(ctx, tracker, report, passed)
    if sign_out is None:
        sent = ctx.send(chain.book.attest(tracker, report_cid, report_hash, passed))
        ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "report_cid": cid, "passed": passed},
                 f"order {order_id} attested {'pass' if passed else 'fail'} with report {cid}")
        return
    if sign_out.exists():
        raise InputError(f"{sign_out} already exists")
    inspector = ctx.account
    deadline = chain.w3.eth.get_block("latest")["timestamp"] + valid_for
    signed = sign_attestation(inspector, domain=chain.book.domain(),
                              order_id=order_id, report_cid=report_cid, report_hash=report_hash, passed=passed,
                              nonce=chain.book.call("nonces", inspector.address), deadline=deadline)
    write_output(sign_out, signed.to_json())
    ctx.emit({"order_id": order_id, "signed_attestation": str(sign_out), "report_cid": cid, "deadline": deadline},
             f"signed attestation for order {order_id} written to {sign_out} (valid until {format_time(deadline)})")


@click.command(name="relay-attestation")
@click.argument("signed_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def relay_attestation(ctx: CliContext, signed_file: Path) -> None:
    """Submit an inspector's signed attestation (any account pays the gas)."""
    signed = parse_signed_attestation(signed_file.read_bytes())
    chain = ctx.chain
    if (signed.chain_id, signed.order_book) != (chain.chain_id, chain.book.address):
        raise InputError(f"attestation is for chain {signed.chain_id} / {signed.order_book}, "
                         f"connected to chain {chain.chain_id} / {chain.book.address}")
    if signed.recover_signer(chain.book.domain()) != signed.inspector:
        raise InputError(f"signature was not made by the named inspector {signed.inspector}")
    tracker = chain.settled_order(signed.order_id)
    assert tracker is not None  # as above
    sent = ctx.send(chain.book.attest_by_sig(tracker, signed.as_tuple(), signed.signature))
    ctx.emit({"order_id": signed.order_id, "inspector": signed.inspector, "tx": sent.tx_hash},
             f"relayed {signed.inspector}'s attestation of order {signed.order_id}")
