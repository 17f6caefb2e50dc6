"""The connection a command or the daemon works with: RPC, deployment, contracts, signer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, overload

from pynode.chain.confirmations import NotConfirmed, Progress, block_time, safe_block
from pynode.chain.contracts import OrderBook, PartnerRegistry
from pynode.chain.deployment import Deployment, load_deployment
from pynode.chain.erc20 import read_unit
from pynode.chain.events.reader import LogReader
from pynode.chain.heads import BlockClock
from pynode.chain.jsonrpc import RpcClient
from pynode.chain.orders import ORDER_EVENTS, OrderTracker
from pynode.chain.revert import RevertDecoder
from pynode.chain.rpc import request
from pynode.core.stop import StopEvent
from pynode.core.units import Unit

# Reads (views, logs, the chain id) go over ``rpc``, plain JSON-RPC; web3 and the signer's libraries load on the
# first write or block wait (``w3``), so a read command starts without them (bench/cli_bench.py).
if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

    from pynode.chain.tx import SentTx, TxRequest, TxSender
    from pynode.core.plain_settings import PlainSettings
    from pynode.core.settings import Settings

SETTLE_WAIT_S = 300.0  # how long a command waits for an order's newest change to reach confirmation depth


class Connection:
    """What a connection (v1's Chain, v2's ChainV2) derives from its endpoint and its deployment record."""

    rpc: RpcClient
    deployment: Deployment
    decoder: RevertDecoder
    confirmations: int
    on_progress: Callable[[Progress], None] | None
    clock: BlockClock
    _senders: dict[str, TxSender]
    _senders_lock: threading.Lock
    #: the node's tip as a command before this one asked it (unix time, tip), for this connection's senders
    tip_hint: tuple[float, int] | None = None

    def sender(self, account: LocalAccount) -> TxSender:
        """One sender per account on this connection, so threads sending as one account share its nonces."""
        with self._senders_lock:
            sender = self._senders.get(account.address)
            if sender is None:
                from pynode.chain.tx import TxSender

                sender = TxSender(self.w3, account, self.decoder, confirmations=self.confirmations,
                                  on_progress=self.on_progress, clock=self.clock, chain_id=self.chain_id)
                if self.tip_hint is not None:
                    sender.seed_tip(*self.tip_hint)
                self._senders[account.address] = sender
            return sender

    def asked_tip(self) -> tuple[float, int] | None:
        """The newest tip this connection's senders asked the node for (unix time, tip), if any did."""
        with self._senders_lock:
            asked = [tip for sender in self._senders.values() if (tip := sender.asked_tip()) is not None]
        return max(asked, default=None)

    def simulate(self, account: LocalAccount, request: TxRequest) -> bytes:
        return self.sender(account).simulate(request)

    def send(self, account: LocalAccount, request: TxRequest) -> SentTx:
        return self.sender(account).send(request)

    @cached_property
    def w3(self) -> Web3:
        """web3 on the same endpoint and retries as ``rpc``: for signing, sending and block waits."""
        from pynode.chain.provider import connect

        return connect(self.rpc.endpoint_uri, retry_timeout_s=self.rpc.retry_timeout_s)

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    @property
    def from_block(self) -> int:
        return self.deployment.deploy_block


@dataclass
class Chain(Connection):
    rpc: RpcClient
    deployment: Deployment
    registry: PartnerRegistry
    book: OrderBook
    decoder: RevertDecoder
    confirmations: int
    #: hears every new head while a sent tx or an order's newest change waits for confirmation depth
    on_progress: Callable[[Progress], None] | None = None
    #: the heads this connection has seen and when: one pace for every wait, one head block for the fees
    clock: BlockClock = field(default_factory=BlockClock, repr=False)
    _senders: dict[str, TxSender] = field(default_factory=dict, repr=False)
    _senders_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: each payment token's symbol and decimals, read once per connection (they do not change)
    _units: dict[str, Unit] = field(default_factory=dict, repr=False)
    _units_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def connect(cls, settings: Settings | PlainSettings) -> Chain:
        """Connects and checks that the endpoint is the chain the deployment is for."""
        rpc = RpcClient(settings.rpc_url, retry_timeout_s=settings.retry_timeout)
        chain_id = int(request(rpc, "eth_chainId", []), 16)
        deployment = load_deployment(chain_id, settings.deployments, settings.artifacts, protocol=1)
        reader = LogReader(rpc, batch_size=settings.log_batch_size)
        registry = PartnerRegistry(rpc, deployment["PartnerRegistry"], reader)
        book = OrderBook(rpc, deployment["OrderBook"], reader)
        decoder = RevertDecoder(registry.info.abi, book.info.abi)
        return cls(rpc, deployment, registry, book, decoder, settings.confirmations)

    def token_unit(self, token: str) -> Unit:
        """How amounts in ``token`` (the zero address: ETH) read: its symbol and decimals, read once."""
        key = token.lower()
        with self._units_lock:
            known = self._units.get(key)
        if known is None:
            known = read_unit(self.rpc, token)
            with self._units_lock:
                self._units[key] = known
        return known

    @property
    def reader(self) -> LogReader:
        """The connection's one events reader (shared by the contract wrappers: one adaptive span)."""
        return self.book.reader

    def head(self) -> int:
        """The head's number, read as the whole head block: the connection's clock keeps it, so the fees of a
        transaction sent right after need no read of their own."""
        block = self.w3.eth.get_block("latest")
        self.clock.saw(int(block["number"]), block)
        return int(block["number"])

    def safe_block(self) -> int:
        """The newest block with ``confirmations`` blocks on top: reads that lead to an action are made there."""
        return safe_block(self.head(), self.confirmations)

    # Only wait_s <= 0 can give None: the default wait returns the order or raises NotConfirmed.
    @overload
    def settled_order(self, order_id: int, *, stop: StopEvent | None = None,
                      head: int | None = None) -> OrderTracker: ...

    @overload
    def settled_order(self, order_id: int, *, wait_s: float, stop: StopEvent | None = None,
                      head: int | None = None) -> OrderTracker | None: ...

    def settled_order(self, order_id: int, *, wait_s: float = SETTLE_WAIT_S, stop: StopEvent | None = None,
                      head: int | None = None) -> OrderTracker | None:
        """The order as of the safe block, once its newest change has ``confirmations`` blocks on top.

        A write passes the current order back, so acting needs the confirmed order to *be* the current one.
        Waits up to ``wait_s`` (reporting progress); then NotConfirmed, or None when ``wait_s`` is 0.
        ``head``: the head the caller just read (saves reading it again).
        """
        stop = stop or StopEvent()
        deadline = time.monotonic() + wait_s
        seen = -1
        while True:
            head = self.head() if head is None else head
            safe = safe_block(head, self.confirmations)
            if self.confirmations <= 0:
                return self.book.load_order(order_id, self.from_block, head)
            if safe >= self.from_block and (settled := self.book.order_hash(order_id, safe)) == \
                    self.book.order_hash(order_id, head):
                return self.book.load_order(order_id, self.from_block, safe, expected=settled)
            if wait_s <= 0 and self.on_progress is None:
                return None  # nobody to tell how deep the change is
            if head != seen:
                seen = head
                progress = self.change_progress(order_id, max(safe + 1, self.from_block), head)
                if self.on_progress is not None:
                    self.on_progress(progress)
            if wait_s <= 0:
                return None
            if time.monotonic() >= deadline:
                raise NotConfirmed(f"order {order_id} changed in block {progress.block}, which has "
                                   f"{progress.confirmations} of {self.confirmations} confirmations after "
                                   f"{wait_s:.0f} s: the chain is not producing blocks")
            stop.pause(min(1.0, (progress.block_time_s or 4.0) / 4), f"waiting for order {order_id} to settle")
            head = None

    def change_progress(self, order_id: int, from_block: int, head: int) -> Progress:
        """How deep the order's newest change (after the safe block) is."""
        topic = "0x" + order_id.to_bytes(32, "big").hex()
        logs = self.book.logs(ORDER_EVENTS, topic, from_block=from_block, to_block=head)
        changed = max((log.block_number for log in logs), default=head)
        pace = None
        if changed > 0:
            first = self.w3.eth.get_block(min(changed, head - 1))
            last = self.w3.eth.get_block(head)
            pace = block_time((int(first["number"]), int(first["timestamp"])), (head, int(last["timestamp"])))
        return Progress(changed, head, self.confirmations, pace, order_id=order_id)
