"""What every local EVM node process (anvil, geth) shares: a loopback JSON-RPC port, start, stop."""

from __future__ import annotations

import re
from typing import Any, Self

from pynode.chain.rpc import map_error
from pynode.core.errors import FatalError
from pynode.dev.net import LOOPBACK, post_json
from pynode.dev.process import ManagedProcess


class EvmProcess:
    """A chain process serving JSON-RPC on 127.0.0.1; subclasses build `process`.

    The process binds port 0 and logs the port the OS gave it (`listening` finds it in
    this run's log): a port picked here and bound later could be taken in between by
    any other process on the machine.
    """

    name = "evm"
    chain_id: int
    process: ManagedProcess
    listening: re.Pattern[str]
    port: int | None = None

    @property
    def rpc_url(self) -> str:
        if self.port is None:
            raise FatalError(f"{self.name} has no JSON-RPC port until it has started")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Where ``eth_subscribe`` is served (anvil: on the JSON-RPC port)."""
        return self.rpc_url.replace("http://", "ws://", 1)

    def rpc(self, method: str, *params: object) -> Any:  # JSON-RPC results: the caller knows the shape
        reply = post_json(self.rpc_url, {"jsonrpc": "2.0", "id": 1, "method": method,
                                         "params": list(params)})
        if "error" in reply:
            # a transient reply (geth's indexer catching up) comes back typed, as the runtime sees it
            raise map_error(method, reply["error"]) or RuntimeError(f"{self.name} {method}: {reply['error']}")
        return reply["result"]

    def _ready(self) -> bool:
        if self.port is None:
            self.port = self.process.logged_port(self.listening)
            if self.port is None:
                return False
        return int(self.rpc("eth_chainId"), 16) == self.chain_id

    def start(self, timeout: float = 30.0) -> Self:
        self.port = None
        self.process.start()
        self.process.wait_ready(self._ready, timeout)
        return self

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
