"""The connection a command or the daemon works with: RPC, deployment, contracts, signer."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3 import Web3

from pynode.chain.contracts import OrderBook, PartnerRegistry
from pynode.chain.deployment import Deployment, load_deployment
from pynode.chain.revert import RevertDecoder
from pynode.chain.rpc import chain_id, connect
from pynode.chain.tx import SentTx, TxRequest, TxSender
from pynode.settings import Settings


@dataclass
class Chain:
    w3: Web3
    deployment: Deployment
    registry: PartnerRegistry
    book: OrderBook
    decoder: RevertDecoder
    confirmations: int
    _senders: dict[str, TxSender] = field(default_factory=dict, repr=False)
    _senders_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def connect(cls, settings: Settings) -> "Chain":
        """Connects and checks that the endpoint is the chain the deployment is for."""
        w3 = connect(settings.rpc_url)
        deployment = load_deployment(chain_id(w3), settings.deployments, settings.artifacts)
        registry = PartnerRegistry(w3, deployment["PartnerRegistry"])
        book = OrderBook(w3, deployment["OrderBook"])
        decoder = RevertDecoder(registry.info.abi, book.info.abi)
        return cls(w3, deployment, registry, book, decoder, settings.confirmations)

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    @property
    def from_block(self) -> int:
        return self.deployment.deploy_block

    def sender(self, account: LocalAccount) -> TxSender:
        """One sender per account on this connection, so threads sending as one account share its nonces."""
        with self._senders_lock:
            sender = self._senders.get(account.address)
            if sender is None:
                sender = TxSender(self.w3, account, self.decoder, confirmations=self.confirmations)
                self._senders[account.address] = sender
            return sender

    def simulate(self, account: LocalAccount, request: TxRequest) -> bytes:
        return self.sender(account).simulate(request)

    def send(self, account: LocalAccount, request: TxRequest) -> SentTx:
        return self.sender(account).send(request)
