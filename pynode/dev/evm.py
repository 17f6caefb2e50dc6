"""What every local EVM node process (anvil, geth) shares: a loopback JSON-RPC port, start, stop."""

from __future__ import annotations

from typing import Self

from pynode.dev.net import LOOPBACK, post_json
from pynode.dev.process import ManagedProcess


class EvmProcess:
    """A chain process serving JSON-RPC at 127.0.0.1:`port`; subclasses build `process`."""

    name = "evm"
    port: int
    chain_id: int
    process: ManagedProcess

    @property
    def rpc_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def rpc(self, method: str, *params: object) -> object:
        reply = post_json(self.rpc_url, {"jsonrpc": "2.0", "id": 1, "method": method,
                                         "params": list(params)})
        if "error" in reply:
            raise RuntimeError(f"{self.name} {method}: {reply['error']}")
        return reply["result"]

    def _ready(self) -> bool:
        return int(self.rpc("eth_chainId"), 16) == self.chain_id

    def start(self, timeout: float = 30.0) -> Self:
        self.process.start()
        self.process.wait_ready(self._ready, timeout)
        return self

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
