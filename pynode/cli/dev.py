"""`fabmesh dev`: start and stop a local chain + Kubo nodes for trying fabmesh by hand."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from pynode.cli.context import CliContext, pass_ctx
from pynode.dev import session
from pynode.dev.demo import ORGANIZATIONS


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
    """Start anvil and the Kubo nodes, deploy the contracts, and leave them running."""
    names = [o.strip() for o in orgs.split(",") if o.strip()]
    state = session.up(_workdir(ctx, workdir), names, block_time)

    def render(console) -> None:
        table = Table("organization", "Kubo API (--ipfs-api)")
        for org, api in state["ipfs_api"].items():
            table.add_row(org, api)
        console.print(table)
        console.print(f"export ETH_RPC_URL={state['rpc_url']}")
        console.print(f"export FABMESH_DEPLOYMENTS={state['deployments']}")
        console.print("stop with: fabmesh dev down")

    ctx.emit(state, render)


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
