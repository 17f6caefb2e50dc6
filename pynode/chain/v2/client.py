"""The protocol-v2 connection a command or the daemon works with: the RPC endpoint, the v2 deployment record
(<chainId>.v2.json, pynode.chain.deployment.load_deployment(protocol=2)), its wrappers and one sender per account.

v1's Chain (pynode.chain.client) stays as it is until the stack moves to v2; reads go over plain JSON-RPC
(``rpc``) as there, web3 loads on the first write.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynode.chain.client import Connection
from pynode.chain.deployment import Deployment, load_deployment
from pynode.chain.erc20 import read_unit
from pynode.chain.events.reader import LogReader
from pynode.chain.heads import BlockClock, read_head
from pynode.chain.jsonrpc import RpcClient
from pynode.chain.revert import RevertDecoder
from pynode.chain.rpc import request
from pynode.chain.v2.arbitrator import PanelArbitrator
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.manager import AccessManager
from pynode.chain.v2.registry import PartnerRegistryV2
from pynode.core.errors import InputError
from pynode.core.units import Unit

if TYPE_CHECKING:
    from collections.abc import Callable

    from pynode.chain.confirmations import Progress
    from pynode.chain.tx import TxSender
    from pynode.core.plain_settings import PlainSettings
    from pynode.core.settings import Settings
    from pynode.protocol.eip712 import Domain


@dataclass
class ChainV2(Connection):
    rpc: RpcClient
    deployment: Deployment
    book: OrderBookV2
    registry: PartnerRegistryV2
    manager: AccessManager
    panel_: PanelArbitrator | None
    decoder: RevertDecoder
    confirmations: int
    on_progress: Callable[[Progress], None] | None = None
    clock: BlockClock = field(default_factory=BlockClock, repr=False)
    _senders: dict[str, TxSender] = field(default_factory=dict, repr=False)
    _senders_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _units: dict[str, Unit] = field(default_factory=dict, repr=False)

    @classmethod
    def connect(cls, settings: Settings | PlainSettings) -> ChainV2:
        """Connects and checks that the endpoint is the chain the v2 record is for."""
        rpc = RpcClient(settings.rpc_url, retry_timeout_s=settings.retry_timeout)
        chain_id = int(request(rpc, "eth_chainId", []), 16)
        deployment = load_deployment(chain_id, settings.deployments, settings.artifacts, protocol=2)
        reader = LogReader(rpc, batch_size=settings.log_batch_size)
        panel = deployment.contracts.get("PanelArbitrator")
        decoder = RevertDecoder(*(info.abi for info in deployment.contracts.values()))
        return cls(rpc, deployment, OrderBookV2(rpc, deployment["OrderBookV2"], reader, chain_id=chain_id),
                   PartnerRegistryV2(rpc, deployment["PartnerRegistryV2"], reader),
                   AccessManager(rpc, deployment["AccessManager"], reader),
                   PanelArbitrator(rpc, panel, reader) if panel else None, decoder, settings.confirmations)

    @cached_property
    def domain(self) -> Domain:
        """The book's EIP-712 domain (quotes, attestations, settlements), read once."""
        return self.book.domain()

    @property
    def panel(self) -> PanelArbitrator:
        if self.panel_ is None:
            raise InputError(f"{self.deployment.source} names no PanelArbitrator")
        return self.panel_

    def arbitrator(self, address: str) -> PanelArbitrator:
        """The PanelArbitrator an order's terms name; another arbitrator is not one this client can drive."""
        panel = self.panel
        if int(address, 16) != int(panel.address, 16):
            raise InputError(f"the order's arbitrator {address} is not the deployment's PanelArbitrator "
                             f"{panel.address}: use that arbitrator's own tools")
        return panel

    def token_unit(self, token: str) -> Unit:
        """How amounts in ``token`` (the zero address: ETH) read, read once per connection."""
        key = token.lower()
        if key not in self._units:
            self._units[key] = read_unit(self.rpc, token)
        return self._units[key]

    def now(self) -> int:
        """The head block's timestamp: the time the contracts compare deadlines with."""
        return int(self.head_block()["timestamp"])

    def head_block(self) -> dict[str, Any]:
        """The head block in one request (a loop that needs its number, timestamp and transaction hashes pays
        once; :func:`pynode.chain.heads.head_fields`); the connection's clock keeps it, so a transaction sent
        right after takes its base fee from it (no read of its own)."""
        return read_head(self.rpc, self.clock)

    def head(self) -> int:
        return self.book.reader.head()

