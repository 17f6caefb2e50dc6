"""`fabmesh partner`: the registry of manufacturers, from either side of the counter."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pynode.chain.contracts import PartnerRegistry, region_bytes
from pynode.chain.orders import MATERIAL, PROCESS
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.parsing import ADDRESS, TIME, names_of, parse_amount, parse_names
from pynode.core.errors import InputError
from pynode.core.units import ETH, format_amount, format_time
from pynode.ipfs.cid import cid_to_digest, digest_to_cid

if TYPE_CHECKING:  # a write's types: `partner list` and `partner show` start without web3 (test_lazy_cli.py)
    from pynode.chain.tx import TxRequest

ZERO32 = b"\x00" * 32


@click.group()
def partner() -> None:
    """Register as a manufacturer, vet and certify partners, inspect the registry."""


def _pin_evidence(ctx: CliContext, path: Path | None) -> bytes:
    """A file's CID digest for on-chain evidence fields, or zero when none is given."""
    return cid_to_digest(ctx.ipfs.add_bytes(path.read_bytes())) if path else ZERO32


def _profile_document(name: str, capabilities: int, materials: int, region: str, capacity: int,
                      contact: str) -> bytes:
    return json.dumps({"type": "fabmesh/partner-profile", "version": 1, "name": name, "contact": contact,
                       "processes": names_of(capabilities, PROCESS), "materials": names_of(materials, MATERIAL),
                       "region": region, "capacity": capacity}, sort_keys=True, separators=(",", ":")).encode()


def _info_dict(ctx: CliContext, address: str) -> dict:
    info = ctx.chain.registry.partner_info(address)
    return {
        "address": address, "registered": info.registered, "vetted": info.vetted, "suspended": info.suspended,
        "unbonding": info.unbonding, "processes": names_of(info.capabilities, PROCESS),
        "materials": names_of(info.materials, MATERIAL), "region": info.region, "capacity": info.capacity,
        "bond_wei": info.bond, "unbonding_ready_at": info.unbonding_ready_at,
        "profile_cid": digest_to_cid(info.profile_cid) if any(info.profile_cid) else None,
        "reputation": {"completed": info.completed, "on_time": info.on_time, "failed_qa": info.failed_qa,
                       "disputes_lost": info.disputes_lost},
    }


def _readable_info(data: dict) -> dict:
    """A partner's facts for people: the bond in ETH, the unbonding time as a date ("-": not unbonding)."""
    readable = {k: v for k, v in data.items() if k not in ("bond_wei", "unbonding_ready_at")}
    readable["bond"] = format_amount(data["bond_wei"], ETH)
    readable["unbonding_ready_at"] = format_time(data["unbonding_ready_at"]) if data["unbonding_ready_at"] else "-"
    return readable


_process_option = click.option("--processes", "processes", required=True, metavar="LIST",
                               help=f"Comma-separated: {', '.join(PROCESS)}")
_material_option = click.option("--materials", "materials", required=True, metavar="LIST",
                                help=f"Comma-separated: {', '.join(MATERIAL)}")


@partner.command()
@_process_option
@_material_option
@click.option("--region", required=True, help="Geohash prefix of the shop, e.g. u33d")
@click.option("--capacity", type=click.IntRange(0, 2**32 - 1), default=0, help="Parts per week (advisory)")
@click.option("--name", default="", help="Shop name for the public profile document")
@click.option("--contact", default="", help="Public contact for the profile document")
@click.option("--bond", default=None, help="ETH bond [default: the registry minimum]")
@pass_ctx
def register(ctx: CliContext, processes: str, materials: str, region: str, capacity: int, name: str, contact: str,
             bond: str | None) -> None:
    """Register the --account as a manufacturer with its HPKE key and a bond."""
    caps = parse_names(processes, PROCESS, "process")
    mats = parse_names(materials, MATERIAL, "material")
    region_raw = region_bytes(region)
    suite, public_key = ctx.hpke_keys.public_key(ctx.account_name())
    registry = ctx.chain.registry
    amount = parse_amount(bond) if bond else registry.min_bond()
    profile_cid = ctx.ipfs.add_bytes(_profile_document(name, caps, mats, region, capacity, contact))
    profile = (caps, mats, region_raw, capacity, cid_to_digest(profile_cid))
    sent = ctx.send(registry.register(profile, public_key, amount))
    ctx.emit({"address": ctx.account.address, "tx": sent.tx_hash, "bond_wei": amount, "hpke_suite": suite.name,
              "profile_cid": profile_cid},
             f"registered {ctx.account.address} (bond {format_amount(amount, ETH)}, HPKE {suite.name}); "
             "awaiting vetting")


@partner.command()
@click.option("--processes", metavar="LIST", help="New process list (clears vetting)")
@click.option("--materials", metavar="LIST", help="New material list (clears vetting)")
@click.option("--region", help="New geohash prefix")
@click.option("--capacity", type=click.IntRange(0, 2**32 - 1), help="New capacity hint")
@click.option("--rotate-key", is_flag=True, help="Publish the account's current HPKE key (see `wallet hpke-new`)")
@pass_ctx
def update(ctx: CliContext, processes, materials, region, capacity, rotate_key) -> None:
    """Update the profile and/or rotate the HPKE key; new key envelopes use the new key."""
    registry = ctx.chain.registry
    address = ctx.account.address
    results = {}
    if any(v is not None for v in (processes, materials, region, capacity)):
        info = registry.partner_info(address)
        caps = parse_names(processes, PROCESS, "process") if processes else info.capabilities
        mats = parse_names(materials, MATERIAL, "material") if materials else info.materials
        new_region = region if region is not None else info.region
        new_capacity = capacity if capacity is not None else info.capacity
        profile_cid = ctx.ipfs.add_bytes(_profile_document("", caps, mats, new_region, new_capacity, ""))
        profile = (caps, mats, region_bytes(new_region), new_capacity, cid_to_digest(profile_cid))
        results["profile_tx"] = ctx.send(registry.update_profile(profile)).tx_hash
    if rotate_key:
        _, public_key = ctx.hpke_keys.public_key(ctx.account_name())
        results["rotate_tx"] = ctx.send(registry.rotate_encryption_key(public_key)).tx_hash
    if not results:
        raise click.UsageError("nothing to update: give a profile field or --rotate-key")
    ctx.emit(results, "updated")


@partner.command()
@click.argument("address", type=ADDRESS, required=False)
@pass_ctx
def show(ctx: CliContext, address: str | None) -> None:
    """Show a partner (default: the --account)."""
    address = address or ctx.keystore.get(ctx.account_name()).address
    data = _info_dict(ctx, address)
    if not data["registered"]:
        raise InputError(f"{address} is not a registered partner")
    ctx.emit(data, "\n".join(f"{k}: {v}" for k, v in _readable_info(data).items()))


@partner.command(name="list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """Every registered partner, from the registry's events."""
    registry = ctx.chain.registry
    events = registry.logs(("PartnerRegistered",), from_block=ctx.chain.from_block)
    rows = [_info_dict(ctx, e.args["partner"]) for e in events]

    def render(console) -> None:
        from rich.table import Table  # only a human table: --json stays free of rich

        table = Table("address", "vetted", "suspended", "processes", "materials", "region", "done")
        for r in rows:
            table.add_row(r["address"], "yes" if r["vetted"] else "no", "yes" if r["suspended"] else "no",
                          ",".join(r["processes"]), ",".join(r["materials"]), r["region"],
                          str(r["reputation"]["completed"]))
        console.print(table)

    ctx.emit(rows, render)


_evidence = click.option("--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help="File pinned to IPFS whose CID goes on chain")


def registry_write(name: str, write: Callable[[Any, str, bytes], TxRequest], done: str, help_text: str, *,
                   v2: bool = False) -> click.Command:
    """A command writing ADDRESS to the partner registry (v1's, or v2's with ``v2``: ``write`` gets that one) with
    the CID of an --evidence file (zero without one)."""
    @click.command(name=name, help=help_text)
    @click.argument("address", type=ADDRESS)
    @_evidence
    @pass_ctx
    def command(ctx: CliContext, address: str, evidence: Path | None) -> None:
        chain = ctx.v2 if v2 else ctx.chain
        sent = ctx.send(write(chain.registry, address, _pin_evidence(ctx, evidence)), chain)
        ctx.emit({"partner": address, "tx": sent.tx_hash}, f"{done} {address}")

    return command


partner.add_command(registry_write("vet", PartnerRegistry.vet, "vetted", "(certifier) Mark ADDRESS as vetted."))
partner.add_command(registry_write("suspend", PartnerRegistry.suspend, "suspended",
                                   "(governance) Suspend ADDRESS: it can no longer claim orders."))


@partner.command()
@click.argument("address", type=ADDRESS)
@click.option("--cert", "cert", required=True, help="ISO_9001, AS9100, ISO_13485 or a numeric id")
@click.option("--expires", type=TIME, required=True, help="Expiry: +365d, 2027-06-30, …")
@_evidence
@pass_ctx
def certify(ctx: CliContext, address: str, cert: str, expires: int, evidence: Path | None) -> None:
    """(certifier) Attach a certification with an expiry."""
    if expires <= time.time():
        raise click.BadParameter("expiry must be in the future", param_hint="--expires")
    from pynode.orders.buyer import cert_id

    sent = ctx.send(ctx.chain.registry.certify(address, cert_id(cert), expires, _pin_evidence(ctx, evidence)))
    ctx.emit({"partner": address, "cert": cert, "expires": expires, "tx": sent.tx_hash},
             f"certified {address}: {cert} until {format_time(expires)}")


@partner.command(name="revoke-cert")
@click.argument("address", type=ADDRESS)
@click.option("--cert", "cert", required=True)
@_evidence
@pass_ctx
def revoke_cert(ctx: CliContext, address: str, cert: str, evidence: Path | None) -> None:
    """(certifier) Revoke a certification."""
    from pynode.orders.buyer import cert_id

    sent = ctx.send(ctx.chain.registry.revoke_certification(address, cert_id(cert), _pin_evidence(ctx, evidence)))
    ctx.emit({"partner": address, "cert": cert, "tx": sent.tx_hash}, f"revoked {cert} of {address}")


@partner.command()
@click.argument("address", type=ADDRESS)
@pass_ctx
def reinstate(ctx: CliContext, address: str) -> None:
    """(governance) Lift a suspension."""
    sent = ctx.send(ctx.chain.registry.reinstate(address))
    ctx.emit({"partner": address, "tx": sent.tx_hash}, f"reinstated {address}")


@partner.command()
@pass_ctx
def unbond(ctx: CliContext) -> None:
    """Start unbonding the --account's bond (it can be withdrawn after the delay)."""
    sent = ctx.send(ctx.chain.registry.start_unbonding())
    ready = ctx.chain.registry.partner_info(ctx.account.address).unbonding_ready_at
    ctx.emit({"tx": sent.tx_hash, "ready_at": ready}, f"unbonding; withdrawable from {format_time(ready)}")


@partner.command(name="withdraw-bond")
@pass_ctx
def withdraw_bond(ctx: CliContext) -> None:
    """Withdraw the bond after the unbonding delay."""
    sent = ctx.send(ctx.chain.registry.withdraw_bond())
    ctx.emit({"tx": sent.tx_hash}, "bond withdrawn")
