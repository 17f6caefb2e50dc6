"""`fabmesh wallet`: v3 keystores and the partner HPKE key that goes with each."""

from __future__ import annotations

from pathlib import Path

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.output import write_output
from pynode.core.errors import InputError
from pynode.wallet.keystore import AddressNotRecorded


@click.group()
def wallet() -> None:
    """Create, import and manage accounts (Web3 Secret Storage v3 keystores)."""


def _hpke_summary(ctx: CliContext, name: str) -> dict:
    if not ctx.hpke_keys.exists(name):
        return {}
    suite, public_key = ctx.hpke_keys.public_key(name)
    return {"hpke_suite": suite.name, "hpke_public_key": "0x" + public_key.hex()}


@wallet.command()
@click.argument("name")
@click.option("--pq", is_flag=True, help="Hybrid X25519+ML-KEM-768 HPKE key (post-quantum) instead of X25519.")
@pass_ctx
def new(ctx: CliContext, name: str, pq: bool) -> None:
    """Create account NAME: a new Ethereum key and an HPKE key pair, one password."""
    if ctx.keystore.path_for(name).exists():
        raise InputError(f"an account named {name!r} already exists")
    password = ctx.password(f"Password for {name}: ", confirm=True)
    stored = ctx.keystore.create(name, password)
    ctx.hpke_keys.create(name, password, pq=pq)
    data = {"name": name, "address": stored.address, "keystore": str(stored.path), **_hpke_summary(ctx, name)}
    ctx.emit(data, f"created {name}: {stored.address} (HPKE {data['hpke_suite']})")


@wallet.command(name="import")
@click.argument("name")
@click.argument("keystore_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pq", is_flag=True, help="Hybrid X25519+ML-KEM-768 HPKE key instead of X25519.")
@pass_ctx
def import_(ctx: CliContext, name: str, keystore_file: Path | None, pq: bool) -> None:
    """Import a v3 KEYSTORE_FILE (geth, foundry, brownie), or a private key typed at a hidden prompt.

    The file is checked with its password and stored as it is, plus the address its key derives when it
    names none (foundry's do not).
    """
    if ctx.keystore.path_for(name).exists():
        raise InputError(f"an account named {name!r} already exists")
    password = ctx.password(f"Password for {name}: ")
    if keystore_file is not None:
        stored = ctx.keystore.import_file(name, keystore_file, password)
    else:
        from eth_account import Account

        secret = click.prompt("Private key (hex)", hide_input=True, err=True).strip()
        try:
            key = bytes.fromhex(secret.removeprefix("0x"))
            Account.from_key(key)
        except ValueError as exc:
            raise InputError("not a private key: expected 32 bytes of hex") from exc
        stored = ctx.keystore.create(name, password, private_key=key)
    if not ctx.hpke_keys.exists(name):
        ctx.hpke_keys.create(name, password, pq=pq)
    data = {"name": name, "address": stored.address, "keystore": str(stored.path), **_hpke_summary(ctx, name)}
    ctx.emit(data, f"imported {name}: {stored.address}")


@wallet.command(name="hpke-new")
@click.argument("name")
@click.option("--pq", is_flag=True, help="Hybrid X25519+ML-KEM-768 HPKE key instead of X25519.")
@pass_ctx
def hpke_new(ctx: CliContext, name: str, pq: bool) -> None:
    """Give account NAME a new current HPKE key pair (older ones are kept for open jobs).

    Publish it with `fabmesh partner update --rotate-key`; new key envelopes use it from then on.
    """
    ctx.keystore.get(name)
    keypair = ctx.hpke_keys.create(name, ctx.password(f"Password for {name}: "), pq=pq)
    data = {"name": name, "hpke_suite": keypair.suite.name, "hpke_public_key": "0x" + keypair.public_key.hex(),
            "hpke_key_id": "0x" + keypair.key_id.hex()}
    ctx.emit(data, f"new HPKE key for {name}: {keypair.suite.name}, id 0x{keypair.key_id.hex()}")


@wallet.command(name="list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """List accounts with their addresses and HPKE suites."""
    rows = [{"name": a.name, "address": a.address, **_hpke_summary(ctx, a.name)} for a in ctx.keystore.list()]

    def render(console) -> None:
        from rich.table import Table

        table = Table("name", "address", "HPKE")
        for row in rows:
            table.add_row(row["name"], row["address"], row.get("hpke_suite", "-"))
        console.print(table)

    ctx.emit(rows, render)


@wallet.command()
@click.argument("name")
@pass_ctx
def address(ctx: CliContext, name: str) -> None:
    """Print the address of account NAME (unlocking it once if its file names none)."""
    try:
        stored = ctx.keystore.get(name)
    except AddressNotRecorded:
        ctx.keystore.unlock(name, ctx.password(f"Password for {name}: "))
        stored = ctx.keystore.get(name)
    ctx.emit({"name": name, "address": stored.address, **_hpke_summary(ctx, name)}, stored.address)


@wallet.command()
@click.argument("name")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the keystore here instead of stdout.")
@pass_ctx
def export(ctx: CliContext, name: str, out: Path | None) -> None:
    """Export account NAME's v3 keystore (still encrypted) for geth, foundry or brownie."""
    text = ctx.keystore.export(name)
    if out is None:
        click.echo(text)
    elif out.exists():
        raise InputError(f"{out} already exists")
    else:
        write_output(out, text, mode=0o600)  # private from its creation on
        ctx.emit({"name": name, "out": str(out)}, f"wrote {out}")


@wallet.command()
@click.argument("name")
@pass_ctx
def delete(ctx: CliContext, name: str) -> None:
    """Delete account NAME and its HPKE key (asks first unless -y)."""
    stored = ctx.keystore.get(name)
    ctx.confirm(f"Delete {name} ({stored.address})? Funds it holds stay on chain but its key is gone")
    ctx.keystore.delete(name)
    ctx.hpke_keys.delete(name)
    ctx.emit({"deleted": name, "address": stored.address}, f"deleted {name}")
