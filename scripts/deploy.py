"""Deploys the contracts to any chain, signed from a v3 keystore: v2 (AccessManager, PartnerRegistryV2,
OrderBookV2, optionally a PanelArbitrator), the default, or with `--protocol 1` v1 (PartnerRegistry + OrderBook).

    python scripts/deploy.py --rpc-url URL --keystore FILE --password-file FILE \\
        [--admin SAFE] [--governor A]... [--guardian A]... [--certifier A]... [--token A]... \\
        [--fee-recipient A] [--governance-delay S] [--panel-member A... --panel-quorum K] ...
    python scripts/deploy.py --protocol 1 --rpc-url URL --keystore FILE --password-file FILE \\
        [--admin SAFE] [--certifier A]... [--inspector A]... [--arbitrator A]... [--token A]... \\
        [--confirmations N] [--deployments-dir DIR] [--force]

(`make deploy ARGS="..."` installs the toolchain first.) Compiles the contracts
from their sources with the pinned solc, sends every transaction with pynode's
own sender (simulated first, EIP-1559 fees, each counted after N
confirmations), and writes deployments/<chainId>.v2.json (v1: <chainId>.json) plus the standard-JSON
input of each contract for block-explorer verification. Progress goes to
stderr, the record's path to stdout. Exit codes: 0 deployed, 1 error (one
line; nothing is written unless the whole deployment succeeded), 2 usage (also an option of the other protocol).
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
from pynode.deploy.deployer_v2 import DeployPlanV2, PanelPlan
from pynode.protocol.v2.governance import GOVERNANCE_DELAY
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


V1_ONLY = ("inspector", "arbitrator", "dispute_timeout")
V2_ONLY = ("guardian", "fee_recipient", "governance_delay", "panel_member", "panel_quorum", "arbitration_cost_wei",
           "appeal_cost_wei", "appeal_window", "voting_period")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--protocol", type=click.IntRange(1, 2), default=2, show_default=True,
              help="2: the v2 contracts under an AccessManager; 1: PartnerRegistry + OrderBook")
@click.option("-r", "--rpc-url", required=True, envvar=["FABMESH_RPC_URL", "ETH_RPC_URL"],
              help="JSON-RPC endpoint [env: ETH_RPC_URL]")
@click.option("--keystore", required=True, envvar="FABMESH_KEYSTORE", type=_file,
              help="v3 keystore file of the deploying account (geth, foundry, fabmesh) [env: FABMESH_KEYSTORE]")
@click.option("--password-file", envvar="FABMESH_PASSWORD_FILE", type=_file,
              help="File holding the keystore password (else a hidden prompt) [env: FABMESH_PASSWORD_FILE]")
@click.option("--admin", type=_Address(),
              help="Final admin (a Safe, a timelock): v1 DEFAULT_ADMIN_ROLE, v2 the AccessManager's ADMIN_ROLE with "
                   "the governance delay; the deployer renounces its roles [default: the deployer]")
@_addresses("GOVERNANCE holder [default: the admin]", "--governor")
@_addresses("CERTIFIER holder on the registry", "--certifier")
@_addresses("v1: INSPECTOR_ROLE holder on the order book", "--inspector")
@_addresses("v1: ARBITRATOR_ROLE holder on the order book", "--arbitrator")
@_addresses("v2: GUARDIAN holder (pauses, de-lists, suspends at once)", "--guardian")
@_addresses("ERC-20 token to allow-list for payments", "--token")
@click.option("--fee-recipient", type=_Address(), help="v2: the book's fee recipient [default: the admin]")
@click.option("--governance-delay", type=click.IntRange(0), default=GOVERNANCE_DELAY, show_default=True,
              help="v2: seconds every governance call waits (at least the default)")
@_addresses("v2: a member of a PanelArbitrator to deploy", "--panel-member")
@click.option("--panel-quorum", type=click.IntRange(1), help="v2: votes that decide a panel ruling")
@click.option("--arbitration-cost-wei", type=click.IntRange(0), default=10**16, show_default=True,
              help="v2: the panel's fee per dispute")
@click.option("--appeal-cost-wei", type=click.IntRange(0), default=2 * 10**16, show_default=True,
              help="v2: the panel's fee per appeal")
@click.option("--appeal-window", type=click.IntRange(1), default=2 * 86400, show_default=True,
              help="v2: seconds")
@click.option("--voting-period", type=click.IntRange(1), default=5 * 86400, show_default=True,
              help="v2: seconds")
@click.option("--min-bond-wei", type=click.IntRange(0), default=MIN_BOND, show_default=True)
@click.option("--unbonding-delay", type=click.IntRange(0), default=UNBONDING_DELAY, show_default=True,
              help="Seconds")
@click.option("--dispute-timeout", type=click.IntRange(0), default=DISPUTE_TIMEOUT, show_default=True,
              help="v1: seconds")
@click.option("--confirmations", type=click.IntRange(0, 64), default=2, show_default=True,
              help="Blocks on top of the last transaction's block before the record is written")
@click.option("--deployments-dir", type=click.Path(file_okay=False, path_type=Path),
              default=CHECKOUT / "deployments", show_default="deployments/", help="Where the record goes")
@click.option("--force", is_flag=True, help="Replace an existing record for this chain")
@click.pass_context
def main(ctx: click.Context, protocol: int, rpc_url: str, keystore: Path, password_file: Path | None,
         admin: str | None, governor: tuple, certifier: tuple, inspector: tuple, arbitrator: tuple, guardian: tuple,
         token: tuple, fee_recipient: str | None, governance_delay: int, panel_member: tuple, panel_quorum: int | None,
         arbitration_cost_wei: int, appeal_cost_wei: int, appeal_window: int, voting_period: int, min_bond_wei: int,
         unbonding_delay: int, dispute_timeout: int, confirmations: int, deployments_dir: Path, force: bool) -> None:
    """Deploy the contracts and write deployments/<chainId>.v2.json (--protocol 1: <chainId>.json)."""
    foreign = [name for name in (V2_ONLY if protocol == 1 else V1_ONLY)
               if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    if foreign:
        raise click.UsageError(f"--{foreign[0].replace('_', '-')} is not an option of protocol {protocol}")
    if protocol == 1:
        plan: DeployPlan | DeployPlanV2 = DeployPlan(
            admin=admin, governors=governor, certifiers=certifier, inspectors=inspector, arbitrators=arbitrator,
            tokens=token, min_bond=min_bond_wei, unbonding_delay=unbonding_delay, dispute_timeout=dispute_timeout)
    else:
        if bool(panel_member) != (panel_quorum is not None):
            raise click.UsageError("--panel-member and --panel-quorum go together")
        panel = PanelPlan(panel_member, panel_quorum, arbitration_cost_wei, appeal_cost_wei, appeal_window,
                          voting_period) if panel_member and panel_quorum else None
        plan = DeployPlanV2(admin=admin, governors=governor, guardians=guardian, certifiers=certifier, tokens=token,
                            fee_recipient=fee_recipient, panel=panel, min_bond=min_bond_wei,
                            unbonding_delay=unbonding_delay, governance_delay=governance_delay)
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
