"""Entry point of the `fabmesh` command.

Exit codes: 0 ok, 1 error (one line on stderr), 2 usage.
"""

from __future__ import annotations

import sys

import click

from pynode import __version__
from pynode.errors import FabmeshError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="fabmesh")
def cli() -> None:
    """fabmesh: trustless coordination for distributed manufacturing.

    Buyers post escrowed orders with encrypted designs, manufacturers run
    `fabmesh node run`, auditors verify provenance with `fabmesh audit`.
    """


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="fabmesh", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:  # usage errors exit 2, others 1
        exc.show()
        sys.exit(exc.exit_code)
    except FabmeshError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(0)
