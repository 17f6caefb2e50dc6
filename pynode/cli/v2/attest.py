"""`fabmesh --protocol 2 attest` and `relay-attestation`: quality attestations on v2's record chain by an inspector
the order's spec names (accredited in the registry), sent directly or signed (EIP-712, nonces keyed per order) for
anyone to relay. The file is v1's fabmesh/signed-attestation document with the signature under v2's types."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.output import write_output
from pynode.cli.reports import report_for
from pynode.cli.v2.common import load
from pynode.cli.v2.views import ORDER_ID
from pynode.core.errors import InputError
from pynode.core.units import format_time
from pynode.ipfs.cid import cid_to_digest


@click.command()
@click.argument("order_id", type=ORDER_ID)
@click.option("--report", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The quality report document; pinned, its CID and SHA-256 go on chain")
@click.option("--pass/--fail", "passed", required=True, help="The verdict")
@click.option("--sign-only", "sign_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an EIP-712 signed attestation here for anyone to relay; send nothing")
@click.option("--valid-for", type=click.IntRange(60), default=7 * 86400, show_default=True,
              help="Seconds the signed attestation stays valid")
@pass_ctx
def attest(ctx: CliContext, order_id: int, report: Path, passed: bool, sign_out: Path | None, valid_for: int) -> None:
    """Attest ORDER_ID's quality with a report, as its partner or as an inspector."""
    from pynode.documents.signed_attestation import SignedAttestation
    from pynode.protocol.v2 import eip712
    from pynode.protocol.v2.types import Attestation

    if sign_out is not None and sign_out.exists():
        raise InputError(f"{sign_out} already exists")
    chain, tracker = ctx.v2, load(ctx, order_id)
    inspector = ctx.account
    if inspector.address not in tracker.spec.inspectors:
        raise InputError(f"order {order_id}'s spec does not name {inspector.address} among its inspectors")
    data = report_for(report, order_id=order_id, chain_id=chain.chain_id, contract=chain.book.address,
                      partner=tracker.partner, passed=passed)
    cid = ctx.ipfs.add_bytes(data, raw_leaves=ctx.vault.raw_leaves)
    digest, report_hash = cid_to_digest(cid), hashlib.sha256(data).digest()
    if sign_out is None:
        sent = ctx.send(chain.book.attest(tracker, digest, report_hash, passed), chain)
        ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "report_cid": cid, "passed": passed},
                 f"order {order_id} attested {'pass' if passed else 'fail'} with report {cid}")
        return
    deadline = chain.now() + valid_for
    attestation = Attestation(order_id, inspector.address, digest, report_hash, passed,
                              chain.book.attestation_nonce(inspector.address, order_id), deadline)
    signed = SignedAttestation(chain.chain_id, chain.book.address, *attestation,
                               signature=eip712.sign(inspector, chain.domain, attestation))
    write_output(sign_out, signed.to_json())
    ctx.emit({"order_id": order_id, "signed_attestation": str(sign_out), "report_cid": cid, "deadline": deadline},
             f"signed attestation for order {order_id} written to {sign_out} (valid until {format_time(deadline)})")


@click.command(name="relay-attestation")
@click.argument("signed_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def relay_attestation(ctx: CliContext, signed_file: Path) -> None:
    """Submit an inspector's signed attestation (any account pays the gas)."""
    from pynode.documents.signed_attestation import parse_signed_attestation
    from pynode.protocol.v2 import eip712
    from pynode.protocol.v2.types import Attestation

    signed = parse_signed_attestation(signed_file.read_bytes())
    chain = ctx.v2
    if (signed.chain_id, signed.order_book) != (chain.chain_id, chain.book.address):
        raise InputError(f"attestation is for chain {signed.chain_id} / {signed.order_book}, "
                         f"connected to chain {chain.chain_id} / {chain.book.address}")
    attestation = Attestation(*signed.as_tuple())
    try:
        signer = eip712.recover(chain.domain, attestation, signed.signature)
    except Exception:  # noqa: BLE001 - a malformed signature is a finding, not a crash (eth-keys has its own types)
        raise InputError(f"{signed_file.name}: the signature does not recover") from None
    if signer != signed.inspector:
        raise InputError(f"signature was not made by the named inspector {signed.inspector}")
    sent = ctx.send(chain.book.attest_by_sig(load(ctx, signed.order_id), attestation, signed.signature), chain)
    ctx.emit({"order_id": signed.order_id, "inspector": signed.inspector, "tx": sent.tx_hash},
             f"relayed {signed.inspector}'s attestation of order {signed.order_id}")
