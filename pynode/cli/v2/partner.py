"""`fabmesh --protocol 2 partner`: PartnerRegistryV2 (bonds locked per order, vetting bound to the profile hash the
certifier saw, unvet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pynode.chain.contracts import region_bytes
from pynode.chain.orders import MATERIAL, PROCESS
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.parsing import ADDRESS, names_of, parse_amount, parse_names
from pynode.cli.partner import _evidence, _pin_evidence, _profile_document, registry_write
from pynode.cli.v2.registry import COMMANDS
from pynode.core.errors import InputError
from pynode.core.units import ETH, format_amount, format_time
from pynode.ipfs.cid import cid_to_digest, digest_to_cid


@click.group()
def partner() -> None:
    """Register as a manufacturer, vet and certify partners, inspect the registry."""


def info_dict(ctx: CliContext, address: str) -> dict:
    registry = ctx.v2.registry
    info = registry.partner_info(address)
    return {
        "address": address, "registered": info.registered, "vetted": info.vetted, "suspended": info.suspended,
        "unbonding": info.unbonding, "processes": names_of(info.capabilities, PROCESS),
        "materials": names_of(info.materials, MATERIAL), "region": info.region, "capacity": info.capacity,
        "bond": info.bond, "locked_bond": info.locked, "free_bond": info.free_bond,
        "unbonding_ready_at": info.unbonding_ready_at or None,
        "profile_cid": digest_to_cid(info.profile_cid) if any(info.profile_cid) else None,
        "profile_hash": "0x" + registry.profile_hash(address).hex(),
        "reputation": {"completed": info.completed, "on_time": info.on_time, "failed_qa": info.failed_qa,
                       "disputes_lost": info.disputes_lost, "abandoned": info.abandoned},
    }


def _readable(data: dict) -> str:
    def text(key: str, value: Any) -> Any:
        if key in ("bond", "locked_bond", "free_bond"):
            return format_amount(value, ETH)
        if key == "unbonding_ready_at":
            return format_time(value) if value else "-"
        return value

    return "\n".join(f"{key}: {text(key, value)}" for key, value in data.items())


@partner.command()
@click.option("--processes", required=True, metavar="LIST", help=f"Comma-separated: {', '.join(PROCESS)}")
@click.option("--materials", required=True, metavar="LIST", help=f"Comma-separated: {', '.join(MATERIAL)}")
@click.option("--region", required=True, help="Geohash prefix of the shop, e.g. u33d")
@click.option("--capacity", type=click.IntRange(0, 2**32 - 1), default=0, help="Parts per week (advisory)")
@click.option("--name", default="", help="Shop name for the public profile document")
@click.option("--contact", default="", help="Public contact for the profile document")
@click.option("--bond", default=None, help="ETH bond; awards lock quotes' bonds out of it [default: the minimum]")
@pass_ctx
def register(ctx: CliContext, processes: str, materials: str, region: str, capacity: int, name: str, contact: str,
             bond: str | None) -> None:
    """Register the --account as a manufacturer with its HPKE key and a bond."""
    from pynode.protocol.v2.types import PartnerProfile

    caps, mats = parse_names(processes, PROCESS, "process"), parse_names(materials, MATERIAL, "material")
    region_raw = region_bytes(region)
    suite, public_key = ctx.hpke_keys.public_key(ctx.account_name())
    registry = ctx.v2.registry
    amount = parse_amount(bond) if bond else registry.min_bond()
    profile_cid = ctx.ipfs.add_bytes(_profile_document(name, caps, mats, region, capacity, contact))
    profile = PartnerProfile(caps, mats, region_raw, capacity, cid_to_digest(profile_cid))
    sent = ctx.send(registry.register(profile, public_key, amount), ctx.v2)
    ctx.emit({"address": ctx.account.address, "tx": sent.tx_hash, "bond": amount, "hpke_suite": suite.name,
              "profile_cid": profile_cid, "profile_hash": "0x" + registry.profile_hash(ctx.account.address).hex()},
             f"registered {ctx.account.address} (bond {format_amount(amount, ETH)}, HPKE {suite.name}); "
             "awaiting vetting")


@partner.command()
@click.argument("address", type=ADDRESS, required=False)
@pass_ctx
def show(ctx: CliContext, address: str | None) -> None:
    """Show a partner (default: the --account), with the profile hash a certifier vets."""
    address = address or ctx.keystore.get(ctx.account_name()).address
    data = info_dict(ctx, address)
    if not data["registered"]:
        raise InputError(f"{address} is not a registered partner")
    ctx.emit(data, _readable(data))


@partner.command(name="list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """Every registered partner, from the registry's events."""
    chain = ctx.v2
    seen = dict.fromkeys(e.args["partner"] for e in chain.registry.logs(("PartnerRegistered",),
                                                                        from_block=chain.from_block))
    rows = [info_dict(ctx, address) for address in seen]
    ctx.emit(rows, "\n".join(f"{r['address']} vetted={'yes' if r['vetted'] else 'no'} "
                             f"free bond {format_amount(r['free_bond'], ETH)} {','.join(r['processes'])}"
                             for r in rows) or "no partners")


def _hash32(text: str) -> bytes:
    raw = text[2:] if text.startswith("0x") else ""
    if len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
        raise click.BadParameter(f"{text!r} is not a 0x-hex 32-byte hash", param_hint="--profile-hash")
    return bytes.fromhex(raw)


@partner.command()
@click.argument("address", type=ADDRESS)
@click.option("--profile-hash", help="The profile hash you reviewed (`partner show`) [default: the current one]")
@_evidence
@pass_ctx
def vet(ctx: CliContext, address: str, profile_hash: str | None, evidence: Path | None) -> None:
    """(certifier) Vet ADDRESS for the profile you reviewed: a profile changed since then is refused."""
    registry = ctx.v2.registry
    seen = _hash32(profile_hash) if profile_hash else registry.profile_hash(address)
    sent = ctx.send(registry.vet(address, seen, _pin_evidence(ctx, evidence)), ctx.v2)
    ctx.emit({"partner": address, "profile_hash": "0x" + seen.hex(), "tx": sent.tx_hash},
             f"vetted {address} (profile 0x{seen.hex()})")


partner.add_command(registry_write("unvet", lambda registry, address, cid: registry.unvet(address, cid), "unvetted",
                                   "(certifier) Withdraw ADDRESS's vetting: no new awards; open orders are untouched.",
                                   v2=True))


for _command in COMMANDS:
    partner.add_command(_command)
