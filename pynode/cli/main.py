"""Entry point of the `fabmesh` command.

Exit codes: 0 ok, 1 error, 2 usage; an error is one line on stderr. Rate limits
and outages of the RPC endpoint or Kubo are retried with backoff for
FABMESH_RETRY_TIMEOUT seconds (default 60) before a command gives up.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path

import click

from pynode.core.errors import FabmeshError

#: name -> (module:attribute, the one-line help `fabmesh --help` lists). A command's module is imported only when
#: the command runs or shows its own help: `--version`, `--help` and every command stay clear of what the others
#: import (web3, eth_account, cryptography, pydantic). tests/pynode/cli/test_lazy_cli.py holds each line to its
#: command's own short help.
COMMANDS = {
    "attest": ("pynode.cli.attest:attest",
               "Attest ORDER_ID's quality with a report, as its partner or as an inspector."),
    "arbitration": ("pynode.cli.v2.arbitration:arbitration",
                    "(protocol 2) Vote, appeal, execute and inspect PanelArbitrator disputes."),
    "audit": ("pynode.cli.audit:audit", "Verify orders from the chain, IPFS content addresses and signatures alone."),
    "check": ("pynode.cli.check:check",
              "Check the RPC endpoint, chain id, contract code, Kubo and the account's balance."),
    "dev": ("pynode.cli.dev:dev", "A local network of real processes: anvil and one Kubo node per organization."),
    "export": ("pynode.cli.audit:export", "Export provenance in standard formats."),
    "governance": ("pynode.cli.v2.governance:governance",
                   "(protocol 2) Schedule, execute, cancel and inspect delayed AccessManager operations."),
    "node": ("pynode.cli.node:node", "Run the manufacturer node, or the buyer's order watcher."),
    "order": ("pynode.cli.order:order", "Post, award, confirm, dispute and recover escrowed orders."),
    "partner": ("pynode.cli.partner:partner",
                "Register as a manufacturer, vet and certify partners, inspect the registry."),
    "quote": ("pynode.cli.v2.quote:quote",
              "(protocol 2) Sign a quote for an open order as a file to hand to its buyer."),
    "relay-attestation": ("pynode.cli.attest:relay_attestation",
                          "Submit an inspector's signed attestation (any account pays the gas)."),
    "wallet": ("pynode.cli.wallet:wallet", "Create, import and manage accounts (Web3 Secret Storage v3 keystores)."),
    "withdraw": ("pynode.cli.withdraw:withdraw",
                 "Withdraw payments of completed orders (as partner) and credited refunds, bonds and fees."),
}
#: the protocol-2 variant of a command both protocols have, run unless --protocol 1 (FABMESH_PROTOCOL=1) picks the
#: v1 one in COMMANDS; the commands only v2 has (arbitration, governance, quote) always talk to the v2 record
V2_COMMANDS = {
    "attest": "pynode.cli.v2.attest:attest",
    "order": "pynode.cli.v2.order:order",
    "partner": "pynode.cli.v2.partner:partner",
    "relay-attestation": "pynode.cli.v2.attest:relay_attestation",
    "withdraw": "pynode.cli.v2.withdraw:withdraw",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use; its help lists them from COMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target = COMMANDS[cmd_name][0]
        if ctx is None or ctx.params.get("protocol") != 1:  # protocol 2 unless 1 is asked for
            target = V2_COMMANDS.get(cmd_name, target)
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own listing, of stand-ins that carry only the help line (so it shortens them as always)."""
        listing = click.Group(commands=[click.Command(name, help=line) for name, (_, line) in COMMANDS.items()])
        listing.format_commands(ctx, formatter)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from pynode import __version__  # reads the installed metadata: only when asked

    click.echo(f"fabmesh, version {__version__}")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("-r", "--rpc-url", envvar=["FABMESH_RPC_URL", "ETH_RPC_URL"], help="JSON-RPC endpoint [env: ETH_RPC_URL]")
@click.option("--ipfs-api", envvar="FABMESH_IPFS_API", help="Kubo RPC API, e.g. http://127.0.0.1:5001")
@click.option("--account", envvar="FABMESH_ACCOUNT", help="Account name in the fabmesh keystore directory")
@click.option("--keystore", envvar="FABMESH_KEYSTORE", type=click.Path(dir_okay=False, path_type=Path),
              help="Path of a v3 keystore file to sign with (instead of --account)")
@click.option("--password-file", envvar="FABMESH_PASSWORD_FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the keystore password (else a hidden prompt)")
@click.option("--protocol", type=click.IntRange(1, 2), envvar="FABMESH_PROTOCOL",
              help="Protocol version: 2 (contracts/v2, the <chainId>.v2.json record), or 1 (the v1 contracts, "
                   "<chainId>.json) [default: 2]")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON data on stdout")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation")
@click.pass_context
def cli(click_ctx: click.Context, rpc_url, ipfs_api, account, keystore, password_file, protocol, as_json,
        yes) -> None:
    """fabmesh: trustless coordination for distributed manufacturing.

    Buyers post escrowed orders with encrypted designs, manufacturers run
    `fabmesh node run`, auditors verify provenance with `fabmesh audit`.

    Rate limits (HTTP 429) and outages of the RPC endpoint or IPFS are retried
    with backoff for FABMESH_RETRY_TIMEOUT seconds (default 60), then the
    command exits 1 with one line. FABMESH_LOG_BATCH_SIZE caps the blocks of
    one eth_getLogs (default 2000).
    """
    from pynode.cli.context import CliContext, load_settings

    settings = load_settings(rpc_url=rpc_url, ipfs_api=ipfs_api, account=account, keystore=keystore,
                             password_file=password_file, protocol=protocol)
    click_ctx.obj = CliContext(settings=settings, json=as_json, yes=yes)


def foreign_error(exc: Exception) -> str | None:
    """Our one line for an exception a library raised past our mappings (None: not a library's).

    chain/rpc.py and ipfs/client.py map what they know; whatever still escapes is
    named here by its origin, never by the library's own text.
    """
    import ipfshttpclient.exceptions
    import requests
    from web3.exceptions import Web3Exception, Web3RPCError

    if isinstance(exc, Web3RPCError):
        error = exc.rpc_response.get("error") if isinstance(exc.rpc_response, dict) else None
        if isinstance(error, dict):
            return f"the RPC node refused the request (JSON-RPC error {error.get('code')}: " \
                   f"{str(error.get('message', ''))[:200]})"
        return "the RPC node refused the request"
    if isinstance(exc, Web3Exception):
        return f"the RPC node's answer could not be used ({type(exc).__name__})"
    if isinstance(exc, requests.RequestException):
        return f"the RPC endpoint could not be reached ({type(exc).__name__})"
    if isinstance(exc, ipfshttpclient.exceptions.Error):
        return f"the IPFS request failed ({type(exc).__name__})"
    return None


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="fabmesh", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:  # usage errors exit 2, others 1; one line either way
        hint = f" (see '{exc.ctx.command_path} -h')" if isinstance(exc, click.UsageError) and exc.ctx else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except FabmeshError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        message = foreign_error(exc)
        if message is None:
            raise  # our own bug: the traceback is the report
        click.echo(f"error: {message}", err=True)
        sys.exit(1)
    sys.exit(0)
