"""`fabmesh dev`: start and stop a local chain + Kubo nodes for trying fabmesh by hand."""

from __future__ import annotations

from pathlib import Path

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.dev import session
from pynode.dev.session import ORGANIZATIONS


def _workdir(ctx: CliContext, given: Path | None) -> Path:
    return given or ctx.settings.home / "dev"


_dir_option = click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path),
                           help="Where the network keeps its state [default: $FABMESH_HOME/dev]")


@click.group()
def dev() -> None:
    """A local network of real processes: anvil and one Kubo node per organization."""


@dev.command()
@_dir_option
@click.option("--orgs", default=",".join(ORGANIZATIONS), show_default=True,
              help="Comma-separated organizations, one Kubo node each")
@click.option("--block-time", type=float, help="Mine every N seconds instead of on each transaction")
@pass_ctx
def up(ctx: CliContext, workdir: Path | None, orgs: str, block_time: float | None) -> None:
    """Start anvil and the Kubo nodes, deploy the contracts of the protocol (--protocol, default 2), and leave
    them running."""
    names = [o.strip() for o in orgs.split(",") if o.strip()]
    directory = _workdir(ctx, workdir)
    state = session.up(directory, names, block_time, ctx.settings.protocol)
    state["password_file"], state["accounts"] = _dev_wallets(ctx, directory, state["protocol"])

    def render(console) -> None:
        from rich.table import Table

        table = Table("organization", "Kubo API (--ipfs-api)")
        for org, api in state["ipfs_api"].items():
            table.add_row(org, api)
        console.print(table)
        console.print(f"export ETH_RPC_URL={state['rpc_url']}")
        console.print(f"export FABMESH_DEPLOYMENTS={state['deployments']}")
        console.print(f"export FABMESH_PASSWORD_FILE={state['password_file']}")
        if state["protocol"] == 1:  # the commands' default is 2: they would look for a record not deployed
            console.print("export FABMESH_PROTOCOL=1")
        if block_time is None:  # blocks only come with transactions: none would ever land on top of the last
            console.print("export FABMESH_CONFIRMATIONS=0  # anvil mines on demand (with --block-time: the default 2)")
        first_org, first_api = next(iter(state["ipfs_api"].items()))
        console.print(f"export FABMESH_IPFS_API={first_api}  # {first_org}'s node; --ipfs-api picks another")
        console.print(f"accounts (anvil's funded keys, for local use only): {', '.join(state['accounts'])}")
        console.print("stop with: fabmesh dev down")

    ctx.emit(state, render)


def _dev_wallets(ctx: CliContext, directory: Path, protocol: int) -> tuple[str, dict[str, str]]:
    """Keystores for anvil's role accounts, so `--account buyer` etc. work at once (existing names are kept); on
    protocol 2 also the guardian, the panelists and the governance Safe's owners."""
    from pynode.dev.accounts import dev_accounts, safe_owner_accounts, v2_accounts

    password_file = directory / "password"
    if not password_file.exists():
        password_file.write_text("fabmesh-dev\n")
    password = password_file.read_text().strip()
    created = {}
    accounts = dev_accounts() | (v2_accounts() | safe_owner_accounts() if protocol == 2 else {})
    for role, account in accounts.items():
        if not ctx.keystore.path_for(role).exists():
            ctx.keystore.create(role, password, private_key=account.key)
            ctx.hpke_keys.create(role, password, pq=False)
        created[role] = ctx.keystore.get(role).address
    return str(password_file), created


@dev.command()
@_dir_option
@pass_ctx
def down(ctx: CliContext, workdir: Path | None) -> None:
    """Stop everything `fabmesh dev up` started."""
    stopped = session.down(_workdir(ctx, workdir))
    ctx.emit({"stopped": stopped}, f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


@dev.command()
@_dir_option
@pass_ctx
def status(ctx: CliContext, workdir: Path | None) -> None:
    """Show the running local network, if any."""
    state = session.status(_workdir(ctx, workdir))
    if state is None:
        ctx.emit(None, "no local network")
        return
    lines = [f"rpc {state['rpc_url']} (chain {state['chain_id']})"]
    lines += [f"{name}: {'running' if alive else 'stopped'}" for name, alive in state["alive"].items()]
    ctx.emit(state, "\n".join(lines))
