"""Deploys PartnerRegistry + OrderBook to any chain, signed from a v3 keystore.

    python scripts/deploy.py --rpc-url URL --keystore FILE --password-file FILE \\
        [--admin SAFE] [--certifier A]... [--inspector A]... [--arbitrator A]... [--token A]... \\
        [--confirmations N] [--deployments-dir DIR] [--force]

(`make deploy ARGS="..."` installs the toolchain first.) Compiles the contracts
from their sources with the pinned solc, sends every transaction with pynode's
own sender (simulated first, EIP-1559 fees, each counted after N
confirmations), and writes deployments/<chainId>.json plus the standard-JSON
input of each contract for block-explorer verification. Progress goes to
stderr, the record's path to stdout. Exit codes: 0 deployed, 1 error (one
line; nothing is written unless the whole deployment succeeded), 2 usage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from eth_utils import is_address, to_checksum_address

from pynode.chain.provider import connect
from pynode.core.errors import FabmeshError
from pynode.deploy import deploy
from pynode.deploy.compiler import CHECKOUT
from pynode.deploy.deployer import DISPUTE_TIMEOUT, MIN_BOND, UNBONDING_DELAY, DeployPlan
from pynode.wallet.keystore import unlock_keyfile
from pynode.wallet.password import read_password

_file = click.Path(dir_okay=False, path_type=Path)


class _Address(click.ParamType):
    name = "ADDRESS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not is_address(value):
            self.fail(f"{value!r} is not an address", param, ctx)
        return to_checksum_address(value)


def _addresses(help_text: str, *names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(*names, multiple=True, type=_Address(), help=help_text + " (repeatable)")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-r", "--rpc-url", required=True, envvar=["FABMESH_RPC_URL", "ETH_RPC_URL"],
              help="JSON-RPC endpoint [env: ETH_RPC_URL]")
@click.option("--keystore", required=True, envvar="FABMESH_KEYSTORE", type=_file,
              help="v3 keystore file of the deploying account (geth, foundry, fabmesh) [env: FABMESH_KEYSTORE]")
@click.option("--password-file", envvar="FABMESH_PASSWORD_FILE", type=_file,
              help="File holding the keystore password (else a hidden prompt) [env: FABMESH_PASSWORD_FILE]")
@click.option("--admin", type=_Address(),
              help="Final DEFAULT_ADMIN_ROLE holder (a Safe, a timelock); the deployer renounces its roles "
                   "[default: the deployer]")
@_addresses("GOVERNANCE_ROLE holder [default: the admin]", "--governor")
@_addresses("CERTIFIER_ROLE holder on the registry", "--certifier")
@_addresses("INSPECTOR_ROLE holder on the order book", "--inspector")
@_addresses("ARBITRATOR_ROLE holder on the order book", "--arbitrator")
@_addresses("ERC-20 token to allow-list for payments", "--token")
@click.option("--min-bond-wei", type=click.IntRange(0), default=MIN_BOND, show_default=True)
@click.option("--unbonding-delay", type=click.IntRange(0), default=UNBONDING_DELAY, show_default=True,
              help="Seconds")
@click.option("--dispute-timeout", type=click.IntRange(0), default=DISPUTE_TIMEOUT, show_default=True,
              help="Seconds")
@click.option("--confirmations", type=click.IntRange(0, 64), default=2, show_default=True,
              help="Blocks on top of the last transaction's block before the record is written")
@click.option("--deployments-dir", type=click.Path(file_okay=False, path_type=Path),
              default=CHECKOUT / "deployments", show_default="deployments/", help="Where the record goes")
@click.option("--force", is_flag=True, help="Replace an existing record for this chain")
def main(rpc_url: str, keystore: Path, password_file: Path | None, admin: str | None, governor: tuple,
         certifier: tuple, inspector: tuple, arbitrator: tuple, token: tuple, min_bond_wei: int,
         unbonding_delay: int, dispute_timeout: int, confirmations: int, deployments_dir: Path, force: bool) -> None:
    """Deploy PartnerRegistry + OrderBook and write deployments/<chainId>.json."""
    plan = DeployPlan(admin=admin, governors=governor, certifiers=certifier, inspectors=inspector,
                      arbitrators=arbitrator, tokens=token, min_bond=min_bond_wei, unbonding_delay=unbonding_delay,
                      dispute_timeout=dispute_timeout)
    account = unlock_keyfile(keystore, read_password(password_file, prompt="Deployer keystore password: "))

    def progress(line: str) -> None:
        click.echo(line, err=True)

    path, result = deploy(connect(rpc_url), account, plan, deployments_dir, confirmations=confirmations,
                          force=force, progress=progress)
    for name, deployed in result.contracts.items():
        progress(f"{name} {deployed.address}")
    click.echo(str(path))


def run(argv: list[str] | None = None) -> None:
    try:
        main.main(args=argv, prog_name="deploy.py", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except FabmeshError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - a bug or an unmapped library error: still one line and a failing exit
        click.echo(f"error: deploy stopped by an unexpected {type(exc).__name__}", err=True)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    run()
