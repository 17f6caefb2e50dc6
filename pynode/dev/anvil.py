"""A real anvil chain on a 127.0.0.1 port."""

from __future__ import annotations

import re
from pathlib import Path

from pynode.dev.evm import EvmProcess
from pynode.dev.net import LOOPBACK
from pynode.dev.paths import anvil_bin
from pynode.dev.process import ManagedProcess

# anvil's default mnemonic: its first accounts are funded and unlocked, which
# makes them the local network's admin and role accounts.
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"


class Anvil(EvmProcess):
    name = "anvil"
    listening = re.compile(r"^Listening on 127\.0\.0\.1:(?P<port>\d+)$", re.MULTILINE)

    def __init__(self, workdir: Path, *, chain_id: int = 31337,
                 accounts: int = 10, balance_eth: int = 1_000_000,
                 block_time: float | None = None, base_fee: int = 0, max_persisted_states: int | None = None,
                 gas_limit: int | None = None, detached: bool = False) -> None:
        self.chain_id = chain_id
        argv: list[str | Path] = [anvil_bin(), "--host", LOOPBACK, "--port", "0",
                "--chain-id", str(chain_id), "--accounts", str(accounts),
                "--balance", str(balance_eth), "--mnemonic", DEFAULT_MNEMONIC,
                # brownie's own anvil runs with base fee 0 and brownie sends development
                # transactions at gas price 0; the deploy script attaches brownie here.
                "--base-fee", str(base_fee)]
        if block_time is not None:
            argv += ["--block-time", str(block_time)]
        if gas_limit is not None:
            argv += ["--gas-limit", str(gas_limit)]
        # anvil spills old block states to a cache directory it never cleans up (about 7 GB for a chain
        # mined 20,000 blocks long): keep it in the workdir, and let long chains keep none on disk.
        argv += ["--cache-path", str(workdir / "anvil-states")]
        if max_persisted_states is not None:
            argv += ["--max-persisted-states", str(max_persisted_states)]
        self.process = ManagedProcess("anvil", argv, workdir / "anvil.log", detached=detached)
