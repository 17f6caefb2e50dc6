"""brownie on an anvil of its own: the contract tests and `make gas`.

brownie's `development` network is anvil at 127.0.0.1:8545, its fixed default, and brownie attaches
to whatever already answers there: another checkout's run, any local network. `development_anvil`
starts anvil on a port it bound (with brownie's development settings) and points that network at it;
brownie, connecting afterwards, attaches to it.

    python -m scripts.brownie_anvil run scripts/gas.py    (= `brownie run scripts/gas.py` on its own anvil)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pynode.dev.anvil import Anvil


def development_anvil(workdir: Path) -> Anvil:
    """A started anvil that brownie's `development` network now names; the caller stops it."""
    from brownie._config import CONFIG  # here: brownie hashes the sources of module-level imports, not a .so

    settings = CONFIG.networks["development"]["cmd_settings"]
    anvil = Anvil(workdir, accounts=settings["accounts"], balance_eth=10_000, gas_limit=settings["gas_limit"],
                  base_fee=settings["base_fee"]).start()
    CONFIG.networks["development"]["host"] = anvil.rpc_url
    return anvil


def main(argv: list[str]) -> None:
    """Runs the brownie command `argv` (its default network) against an anvil started for it."""
    from brownie._cli.__main__ import main as brownie

    with tempfile.TemporaryDirectory(prefix="brownie-anvil-") as workdir:
        anvil = development_anvil(Path(workdir))
        try:
            sys.argv = ["brownie", *argv]
            brownie()
        finally:
            anvil.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
