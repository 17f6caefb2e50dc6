"""Entry point of the `fabmesh` command.

Exit codes: 0 ok, 1 error, 2 usage; an error is one line on stderr. Rate limits
and outages of the RPC endpoint or Kubo are retried with backoff for
FABMESH_RETRY_TIMEOUT seconds (default 60) before a command gives up.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pynode import __version__
from pynode.cli.attest import attest, relay_attestation
from pynode.cli.audit import audit, export
from pynode.cli.check import check
from pynode.cli.context import CliContext, load_settings
from pynode.cli.dev import dev
from pynode.cli.node import node
from pynode.cli.order import order
from pynode.cli.partner import partner
from pynode.cli.wallet import wallet
from pynode.cli.withdraw import withdraw
from pynode.core.errors import FabmeshError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="fabmesh")
@click.option("-r", "--rpc-url", envvar=["FABMESH_RPC_URL", "ETH_RPC_URL"], help="JSON-RPC endpoint [env: ETH_RPC_URL]")
@click.option("--ipfs-api", envvar="FABMESH_IPFS_API", help="Kubo RPC API, e.g. http://127.0.0.1:5001")
@click.option("--account", envvar="FABMESH_ACCOUNT", help="Account name in the fabmesh keystore directory")
@click.option("--keystore", envvar="FABMESH_KEYSTORE", type=click.Path(dir_okay=False, path_type=Path),
              help="Path of a v3 keystore file to sign with (instead of --account)")
@click.option("--password-file", envvar="FABMESH_PASSWORD_FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the keystore password (else a hidden prompt)")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON data on stdout")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation")
@click.pass_context
def cli(click_ctx: click.Context, rpc_url, ipfs_api, account, keystore, password_file, as_json, yes) -> None:
    """fabmesh: trustless coordination for distributed manufacturing.

    Buyers post escrowed orders with encrypted designs, manufacturers run
    `fabmesh node run`, auditors verify provenance with `fabmesh audit`.

    Rate limits (HTTP 429) and outages of the RPC endpoint or IPFS are retried
    with backoff for FABMESH_RETRY_TIMEOUT seconds (default 60), then the
    command exits 1 with one line. FABMESH_LOG_BATCH_SIZE caps the blocks of
    one eth_getLogs (default 2000).
    """
    settings = load_settings(rpc_url=rpc_url, ipfs_api=ipfs_api, account=account, keystore=keystore,
                             password_file=password_file)
    click_ctx.obj = CliContext(settings=settings, json=as_json, yes=yes)


cli.add_command(wallet)
cli.add_command(dev)
cli.add_command(node)
cli.add_command(partner)
cli.add_command(order)
cli.add_command(check)
cli.add_command(attest)
cli.add_command(relay_attestation)
cli.add_command(withdraw)
cli.add_command(audit)
cli.add_command(export)


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
