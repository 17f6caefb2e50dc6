"""Sending transactions: simulate, sign locally, EIP-1559 fees, nonces, receipts.

Every transaction is first simulated (`eth_estimateGas` executes the call, and
a revert comes back with the same revert data as `eth_call`'s), so a revert is
reported with the contract's custom error before any gas is spent. A transaction that
is not mined in time is replaced (same nonce, fees raised by more than the
10% nodes require), and whichever version is mined counts, once ``confirmations``
blocks are on top of its block and that block is still canonical
(:mod:`pynode.chain.confirmations`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import BlockIdentifier, TxParams, TxReceipt

from pynode.chain.confirmations import ConfirmationWaiter, Progress
from pynode.chain.heads import BlockClock
from pynode.chain.revert import RevertDecoder
from pynode.core.errors import FabmeshError, NonceTooLow, TransientError, TxAlreadyKnown
from pynode.core.settings import DEFAULT_CONFIRMATIONS
from pynode.core.stop import StopEvent

GAS_MARGIN = 1.2  # estimates can fall short when state moves between estimate and inclusion
FEE_BUMP_NUM, FEE_BUMP_DEN = 5, 4  # +25% per replacement: above the 10% nodes require
NONCE_RETRIES = 5
TIP_MAX_AGE_S = 30.0  # the node's suggested tip is asked at most this often per sender (a stuck tx is re-priced)


class TxReverted(FabmeshError):
    """The contract refused the call (in simulation or on chain)."""

    def __init__(self, label: str, reason: str, error: str = "") -> None:
        super().__init__(f"{label} reverted: {reason}")
        self.label = label
        self.reason = reason
        self.error = error  # the contract's custom error by name ("" if none is known): what a caller decides on


class TxNotMined(TransientError):
    pass


@dataclass(frozen=True)
class TxRequest:
    """A contract call to send: produced by the typed contract wrappers."""

    to: str | None  # None: contract creation, `data` is the init code
    data: bytes
    label: str
    value: int = 0


@dataclass
class SentTx:
    receipt: Mapping[str, Any]
    replaced: list[str] = field(default_factory=list)

    @property
    def tx_hash(self) -> str:
        return str(self.receipt["transactionHash"].to_0x_hex())

    @property
    def gas_used(self) -> int:
        return int(self.receipt["gasUsed"])

    @property
    def block_number(self) -> int:
        return int(self.receipt["blockNumber"])


def may_hold(head: Mapping[str, Any], looked: int | None, hashes: Sequence[HexBytes | str]) -> bool:
    """Whether a receipt of ``hashes`` is worth asking for at ``head``: the head block lists its
    transactions (read with it, no extra request), so only a head that lists one of them, or one that
    follows blocks not seen (``looked``: the head the receipts were last asked at), can hold one."""
    listed = head.get("transactions")
    if listed is None or looked is None or int(head["number"]) != looked + 1:
        return True
    wanted = {HexBytes(h) for h in hashes}
    return any(HexBytes(t if isinstance(t, (bytes, str)) else t["hash"]) in wanted for t in listed)


def revert_data(exc: Exception) -> bytes:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return data if isinstance(data, bytes) else b""


class NonceManager:
    """Consecutive nonces for one account, safe for concurrent senders in one process.

    The node's pending count is read once, then the next nonce is counted here: one request per
    process instead of one per transaction (a metered provider bills each). Whenever the local count
    may be wrong it is forgotten (:meth:`resync`) and the next reservation reads the node again: a
    transaction refused as NonceTooLow (another sender of the account), one given back unsent
    (:meth:`release` of a nonce below the newest), one never mined (dropped: TxNotMined), one whose
    nonce another transaction took (the journal's resolve), and a reorg (the block clock's break, the
    daemon's rewind). A restart starts from the node's count; the journal re-sends a sent row's own
    signed bytes before anything new is signed, so no gap is left behind.
    """

    def __init__(self, w3: Web3, address: ChecksumAddress) -> None:
        self._w3 = w3
        self._address = address
        self._lock = threading.Lock()
        self._next: int | None = None  # None: ask the node at the next reservation
        self._reserved = 0  # one past the newest nonce handed out
        self._outstanding = 0  # reservations not broadcast yet

    def reserve(self) -> int:
        with self._lock:
            nonce = self._next
            if nonce is None:
                pending = self._w3.eth.get_transaction_count(self._address, "pending")
                # reservations still being signed and broadcast are not in the node's count yet
                nonce = max(pending, self._reserved) if self._outstanding else pending
            self._next = self._reserved = nonce + 1
            self._outstanding += 1
            return nonce

    def sent(self) -> None:
        """The reserved nonce's transaction reached the node: its pending count covers it now."""
        with self._lock:
            self._outstanding -= 1

    def release(self, nonce: int) -> None:
        """Gives back a nonce whose transaction never reached the node: the newest one is reused, an older one
        (a later nonce is out already) would leave a gap, so the node's count decides again."""
        with self._lock:
            self._outstanding -= 1
            if self._next == nonce + 1:
                self._next = self._reserved = nonce
            else:
                self._next = None

    def resync(self) -> None:
        with self._lock:
            self._next = None


class TxSender:
    def __init__(self, w3: Web3, account: LocalAccount, decoder: RevertDecoder, *,
                 confirmations: int = DEFAULT_CONFIRMATIONS, replace_after_s: float = 30.0,
                 give_up_after_s: float = 300.0, poll_s: float = 0.1, stop: StopEvent | None = None,
                 on_progress: Callable[[Progress], None] | None = None, clock: BlockClock | None = None,
                 chain_id: int | None = None, nonces: NonceManager | None = None) -> None:
        self.w3 = w3
        self.account = account
        self.decoder = decoder
        self.confirmations = confirmations  # blocks on top of a receipt's block before the tx counts as done
        self.on_progress = on_progress  # hears every new head while a receipt waits for its confirmations
        self.replace_after_s = replace_after_s
        self.give_up_after_s = give_up_after_s
        self.poll_s = poll_s
        self.stop = stop or StopEvent()  # set: a receipt wait raises Stopping instead of polling on
        # another sender of the account in this process shares its count (``nonces``): nonces are counted here
        self.nonces = nonces or NonceManager(w3, account.address)
        self.clock = clock or BlockClock(min_s=poll_s)  # when new heads arrive: the pace of every receipt poll
        self.clock.on_reorg.append(self.nonces.resync)  # a vanished block may have held our transactions
        self._tip: tuple[float, int] | None = None  # (when asked, the node's suggested tip)
        self._chain_id = chain_id  # the connection's checked chain id, else asked once

    @property
    def address(self) -> str:
        return self.account.address

    def _call_params(self, request: TxRequest) -> dict[str, Any]:
        to = {"to": request.to} if request.to is not None else {}
        return {"from": self.address, **to, "data": HexBytes(request.data), "value": request.value}

    def simulate(self, request: TxRequest, block: BlockIdentifier = "latest") -> bytes:
        """Runs the call without sending it; raises TxReverted with the decoded error.

        Rate limits, timeouts and outages never get here as web3 errors: the provider (chain/rpc.py) raises
        them as TransientError, which passes through, so a throttled simulation is retried, never read as a
        revert. What web3 still raises is the node refusing this call (a revert, or e.g. too little balance).
        """
        params = cast(TxParams, self._call_params(request))
        return bytes(self._refused_as_revert(request, lambda: self.w3.eth.call(params, block)))

    def estimate(self, request: TxRequest) -> int:
        """The gas limit to send with: the node executes the call to estimate it, so this is the
        simulation too (a revert carries the same revert data as eth_call's and is raised the same way)."""
        params = cast(TxParams, self._call_params(request))
        estimate = self._refused_as_revert(request, lambda: self.w3.eth.estimate_gas(params))
        return int(estimate * GAS_MARGIN)

    def _refused_as_revert(self, request: TxRequest, run: Callable[[], Any]) -> Any:
        try:
            return run()
        except (ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError) as exc:
            # a node's plain RPC refusal may carry revert data too: named as web3's contract errors are
            data = revert_data(exc)
            raise TxReverted(request.label, self._reason(exc), self.decoder.name(data)) from exc

    def _reason(self, exc: Exception) -> str:
        data = revert_data(exc)
        return self.decoder.decode(data) if data else str(exc)

    def fees(self) -> tuple[int, int]:
        """EIP-1559 (max fee, tip). The base fee comes from the head block the process read last, while no
        newer block is due (the doubled base fee outlasts several full blocks of +12.5 %), else from one head
        read; the node's tip is asked at most once per ``TIP_MAX_AGE_S`` (tips move slowly, and a stuck
        transaction is re-priced by the replacement anyway)."""
        head = self.clock.current_block()
        if head is None:
            head = self.w3.eth.get_block("latest")
            self.clock.saw(int(head["number"]), head)
        now = self.clock.now()
        if self._tip is None or now - self._tip[0] >= TIP_MAX_AGE_S:
            self._tip = (now, self.w3.eth.max_priority_fee)
        tip = self._tip[1]
        return 2 * head["baseFeePerGas"] + tip, tip

    def seed_tip(self, asked_at: float, tip: int) -> None:
        """The tip a command before this one was suggested at unix time ``asked_at``: used as one asked here,
        while younger than ``TIP_MAX_AGE_S`` (a one-shot command would otherwise ask for it every time)."""
        age = time.time() - asked_at
        if self._tip is None and 0 <= age < TIP_MAX_AGE_S:
            self._tip = (self.clock.now() - age, tip)

    def asked_tip(self) -> tuple[float, int] | None:
        """The tip last asked (or seeded) and the unix time it was asked: for the next command."""
        if self._tip is None:
            return None
        return time.time() - (self.clock.now() - self._tip[0]), self._tip[1]

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.w3.eth.chain_id
        return self._chain_id

    def build(self, request: TxRequest, gas: int) -> dict[str, Any]:
        """The unsigned EIP-1559 transaction for ``request`` (no nonce yet)."""
        max_fee, tip = self.fees()
        return {**self._call_params(request), "gas": gas, "chainId": self.chain_id(), "maxFeePerGas": max_fee,
                "maxPriorityFeePerGas": tip, "type": 2}

    @staticmethod
    def bump(tx: dict[str, Any]) -> None:
        """Raises a transaction's fees for a replacement (same nonce): more than the 10 % nodes require."""
        tx["maxFeePerGas"] = tx["maxFeePerGas"] * FEE_BUMP_NUM // FEE_BUMP_DEN + 1
        tx["maxPriorityFeePerGas"] = tx["maxPriorityFeePerGas"] * FEE_BUMP_NUM // FEE_BUMP_DEN + 1

    def send(self, request: TxRequest) -> SentTx:
        """Simulates (the gas estimate executes the call: a revert is raised, decoded, before anything is
        signed), signs, sends, waits for the receipt and its confirmations."""
        tx = self.build(request, self.estimate(request))
        before = self.clock.head  # the transaction can only be in a block after this one
        hashes = [self._broadcast_new(tx)]
        receipt = self._await(tx, hashes, before)
        if receipt["status"] != 1:
            raise TxReverted(request.label, self.replay_reason(self._call_params(request), receipt["blockNumber"]))
        return SentTx(receipt, replaced=[h.to_0x_hex() for h in hashes[:-1]])

    def _broadcast_new(self, tx: dict[str, Any]) -> HexBytes:
        """Sends with a fresh nonce. Another sender of the same account (a second process) that took
        the nonce first costs a resync and a retry: the refused transaction never entered a pool."""
        attempts = 0
        while True:
            attempts += 1
            tx["nonce"] = self.nonces.reserve()
            try:
                tx_hash = self._broadcast(tx)
            except Exception as exc:
                self.nonces.release(tx["nonce"])
                if isinstance(exc, NonceTooLow) and attempts < NONCE_RETRIES:
                    continue
                raise
            self.nonces.sent()
            return tx_hash

    def _broadcast(self, tx: dict[str, Any]) -> HexBytes:
        signed = self.account.sign_transaction(tx)
        self.broadcast_raw(bytes(signed.raw_transaction))
        return HexBytes(signed.hash)

    def broadcast_raw(self, raw: bytes) -> None:
        """Sends signed bytes; the same bytes sent again (a retry) are no error. NonceTooLow resyncs the nonce."""
        try:
            self.w3.eth.send_raw_transaction(raw)
        except TxAlreadyKnown:  # a retried send of the same bytes
            return
        except NonceTooLow:
            self.nonces.resync()
            raise

    def _await(self, tx: dict[str, Any], hashes: list[HexBytes], looked: int | None) -> TxReceipt:
        """Waits for the receipt of any of ``hashes`` and its confirmations; replaces a stuck transaction.
        The receipts are looked for once per head past ``looked`` (the head before the first send: a
        transaction can only turn up in a new block)."""
        started = last_sent = time.monotonic()
        nonce_used = False  # a replacement was refused as NonceTooLow: one of ours may be mined already
        # The first look asks for the receipt itself, once a block after the send is due (at once while the
        # pace is not known: a chain may mine on demand): a transaction is mostly in the next block, and the
        # head read before it would be a request more; none found, heads pace the rest. Not where head links
        # are compared (a reorg check that skips heads seen linked): that block's head is never read.
        first_look = None if self.clock.links_read else self.clock.now() + self.clock.block_wait()
        while time.monotonic() - started < self.give_up_after_s:
            if first_look is not None:
                self.clock.pause(self.stop, max(first_look - self.clock.now(), 0.0),
                                 f"waiting for the receipt of nonce {tx['nonce']} ({hashes[-1].to_0x_hex()})")
                first_look = None
                receipt = self.receipt(hashes[0])
                if receipt is not None:
                    self.clock.reached(int(receipt["blockNumber"]))
                    if self._await_confirmations(receipt, started + self.give_up_after_s):
                        return receipt
                    self.nonces.resync()  # its block was reorged out: the tx is back in a pool, or gone
                head = None
            else:
                head = self.new_head(None if nonce_used else looked)
            if head is not None:
                worth, looked = nonce_used or may_hold(head, looked, hashes), int(head["number"])
                receipt = next((r for r in map(self.receipt, reversed(hashes)) if r is not None), None) \
                    if worth else None
                if receipt is not None:
                    if self._await_confirmations(receipt, started + self.give_up_after_s, head):
                        return receipt
                    self.nonces.resync()  # its block was reorged out: the tx is back in a pool, or gone
                elif nonce_used:  # none of ours holds the nonce: another sender of the account took it
                    raise NonceTooLow(f"nonce {tx['nonce']} was used by another transaction "
                                      f"({', '.join(h.to_0x_hex() for h in hashes)} not mined)")
                nonce_used = False
            if time.monotonic() - last_sent > self.replace_after_s:
                self.bump(tx)
                try:
                    hashes.append(self._broadcast(tx))
                except NonceTooLow:
                    nonce_used = True
                last_sent = time.monotonic()
            self.clock.pause(self.stop, self.clock.delay(self.poll_s),
                             f"waiting for the receipt of nonce {tx['nonce']} ({hashes[-1].to_0x_hex()})")
        self.nonces.resync()  # never mined: the nonce may be free again
        raise TxNotMined(f"nonce {tx['nonce']} not mined after {self.give_up_after_s:.0f}s "
                         f"({', '.join(h.to_0x_hex() for h in hashes)})")

    def new_head(self, looked: int | None) -> Mapping[str, Any] | None:
        """The head block, if it is past ``looked``, else None.

        The head another part of the process just read serves while no newer block is due (and then
        nothing newer can be there); else one head read, which also serves the confirmation check and
        the next fees."""
        # (before the pace is known, a chain may mine on demand: read at once)
        block = self.clock.current_block() if self.clock.block_s is not None else None
        if block is not None and looked is not None and int(block["number"]) == looked:
            return None
        if block is None:
            block = self.w3.eth.get_block("latest")
            self.clock.saw(int(block["number"]), block)
        # a lower head is another chain (a reorg): its blocks are worth a look too
        return block if looked is None or int(block["number"]) != looked else None

    def receipt(self, tx_hash: HexBytes | str) -> TxReceipt | None:
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except (TransactionNotFound, TimeExhausted):
            return None

    def _await_confirmations(self, receipt: Mapping[str, Any], deadline: float,
                             head: Mapping[str, Any] | None = None) -> bool:
        """True once ``confirmations`` blocks are on top of the receipt's (still canonical) block."""
        waiter = ConfirmationWaiter(self.w3, self.confirmations, stop=self.stop, poll_s=self.poll_s,
                                    on_progress=self.on_progress, clock=self.clock)
        return waiter.wait(receipt, deadline, head)

    def replay_reason(self, params: dict[str, Any], block: int) -> str:
        """Re-runs a mined-but-reverted call at its block to learn why."""
        try:
            self.w3.eth.call(cast(TxParams, params), block - 1)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            return self._reason(exc)
        except Web3RPCError as exc:
            return str(exc)
        return "reverted on chain (state changed after simulation)"
