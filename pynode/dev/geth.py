"""A real geth dev-mode chain on a 127.0.0.1 port: the second EVM client the tests run against.

`geth --dev` starts a one-node proof-of-stake chain (chain id 1337) that seals
a block every `block_period` seconds, with one funded account unlocked in an
ephemeral keystore. It has no time travel and no snapshots (no anvil_*/evm_*
methods), like any real chain. Dev mode itself turns off p2p (no listener, no
discovery); HTTP and WebSocket JSON-RPC and the auth RPC listen on loopback only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pynode.core.errors import FatalError, ProviderUnavailable
from pynode.dev.evm import EvmProcess
from pynode.dev.net import LOOPBACK
from pynode.dev.paths import geth_bin
from pynode.dev.process import ManagedProcess
from pynode.dev.wait import wait_for

GETH_DEV_CHAIN_ID = 1337


class Geth(EvmProcess):
    name = "geth"
    chain_id = GETH_DEV_CHAIN_ID
    listening = re.compile(r"HTTP server started +endpoint=127\.0\.0\.1:(?P<port>\d+) ")
    ws_listening = re.compile(r"WebSocket enabled +url=ws://127\.0\.0\.1:(?P<port>\d+)")

    def __init__(self, workdir: Path, *, block_period: int = 1) -> None:
        argv: list[str | Path] = [geth_bin(), "--dev", "--dev.period", str(block_period),
                # a live network's block gas limit (dev's 11.5M start fits no OrderBookV2 creation, ~10M gas, with
                # the sender's estimate margin)
                "--dev.gaslimit", "30000000",
                "--http", "--http.addr", LOOPBACK, "--http.port", "0",
                "--http.api", "eth,net,web3,txpool",
                # eth_subscribe for pushed heads: both on port 0 share the HTTP server's port (its log names it)
                "--ws", "--ws.addr", LOOPBACK, "--ws.port", "0", "--ws.api", "eth,net,web3",
                "--nodiscover", "--maxpeers", "0", "--ipcdisable", "--port", "0", "--nat", "none",
                # dev mode registers no engine API, so geth opens no auth port; pinned to loopback anyway
                "--authrpc.addr", LOOPBACK, "--authrpc.port", "0",
                # no --datadir: the chain lives in memory and goes with the process
                "--keystore", str(workdir / "geth-keystore"),
                # warnings only, but the lines naming the HTTP and WebSocket ports it bound
                "--verbosity", "2", "--log.vmodule", "rpcstack.go=3"]
        self.process = ManagedProcess("geth", argv, workdir / "geth.log")
        self._dev_account: str | None = None

    def _ready(self) -> bool:
        return super()._ready() and bool(self.rpc("eth_accounts"))

    @property
    def ws_url(self) -> str:
        port = self.process.logged_port(self.ws_listening)
        if port is None:
            raise FatalError("geth has named no WebSocket port (not started yet?)")
        return f"ws://{LOOPBACK}:{port}"

    @property
    def dev_account(self) -> str:
        """The funded, unlocked account dev mode creates."""
        if self._dev_account is None:
            self._dev_account = self.rpc("eth_accounts")[0]
        return self._dev_account

    def fund(self, addresses: Iterable[str], wei: int, timeout: float = 30.0) -> None:
        """Sends `wei` from the dev account to each address and waits until every transfer is mined."""
        # explicit nonces: geth's own pool-nonce lookup can hand out one nonce twice while a block is
        # being sealed, and the second transfer is then refused as an underpriced replacement
        first = int(self.rpc("eth_getTransactionCount", self.dev_account, "pending"), 16)
        hashes = [self.rpc("eth_sendTransaction", {"from": self.dev_account, "to": address,
                                                   "value": hex(wei), "nonce": hex(first + offset)})
                  for offset, address in enumerate(addresses)]
        pending = list(hashes)

        def receipt(tx_hash: str) -> dict | None:
            try:
                return self.rpc("eth_getTransactionReceipt", tx_hash)
            except ProviderUnavailable:  # "transaction indexing is in progress": asked again next round
                return None

        def all_mined() -> bool:
            while pending and (mined := receipt(pending[0])) is not None:
                if int(mined["status"], 16) != 1:
                    raise FatalError(f"geth: funding transfer {pending[0]} failed")
                pending.pop(0)
            return not pending

        try:
            wait_for(all_mined, timeout, interval=0.1, what="funding transfers mined")
        except TimeoutError:
            raise FatalError(f"geth: {len(pending)} funding transfers not mined after {timeout:.0f}s") from None
