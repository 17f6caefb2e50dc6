"""Sending transactions through the store's actions journal, so a restart never sends one twice.

Order of events for one action: simulate (a revert costs nothing and is not
journaled) -> journal ``planned`` -> sign -> journal ``sent`` with the hash,
nonce and raw bytes -> broadcast -> wait for the receipt -> ``mined`` or
``failed``. A process killed anywhere in between finds the row on restart
(:meth:`JournaledSender.resolve`): a ``planned`` row was never broadcast; a
``sent`` row is looked up by hash, and if the node never saw it and its nonce
is still free, the *same signed bytes* are broadcast again (same nonce: it can
be mined at most once). A stuck transaction is re-signed with the same nonce
and higher fees; the journal keeps the newest hash. A stop (the shared
:class:`~pynode.core.stop.StopEvent`) ends a receipt wait at once with ``Stopping`` and
leaves the row ``sent``, which is exactly what a restart resolves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from pynode.chain.heads import BlockClock
from pynode.chain.tx import FEE_BUMP_DEN, FEE_BUMP_NUM, TxNotMined, TxReverted, TxRequest, TxSender
from pynode.daemon.store import Action, ActionStatus, Store
from pynode.core.errors import NonceTooLow, TransientError, TxAlreadyKnown
from pynode.core.stop import StopEvent


@dataclass(frozen=True)
class Outcome:
    """A mined transaction of an action: ``ok`` False if it reverted on chain (``reason`` says why)."""

    tx_hash: str
    block_number: int
    ok: bool
    reason: str = ""


class JournaledSender:
    def __init__(self, w3: Web3, account: LocalAccount, sender: TxSender, store: Store, *,
                 replace_after_s: float = 30.0, wait_s: float = 60.0, poll_s: float = 0.1,
                 on_event: Callable[..., None] | None = None, stop: StopEvent | None = None) -> None:
        self.w3 = w3
        self.account = account
        self.sender = sender
        self.store = store
        self.replace_after_s = replace_after_s
        self.wait_s = wait_s
        self.poll_s = poll_s
        self.clock = sender.clock if sender is not None else BlockClock(min_s=poll_s)  # when blocks arrive
        self.on_event = on_event or (lambda *a, **k: None)
        self.stop = stop or StopEvent()
        self._chain_id: int | None = None

    # -- sending --------------------------------------------------------------

    def send(self, order_id: int, kind: str, request: TxRequest) -> Outcome:
        """Simulates, journals, signs, broadcasts and waits. Raises TxReverted if the simulation fails."""
        pending = self.store.in_flight(order_id, kind)
        if pending is not None:  # the caller should have resolved it; never double up
            outcome = self.resolve(pending)
            if outcome is not None:
                return outcome
            raise TransientError(f"order {order_id}: {kind} transaction {pending.tx_hash} still pending")
        gas = self.sender.estimate(request)  # the simulation: a revert is raised before anything is journaled
        params = {"from": self.account.address, "to": request.to, "data": HexBytes(request.data),
                  "value": request.value}
        max_fee, tip = self.sender._fees()
        action = self.store.plan_action(order_id, kind)
        # the node's own count, not a cached one: after a reorg or a dropped tx the old next nonce is a gap.
        # (one sender per account, and every journaled tx is settled before the next is planned)
        nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
        if self._chain_id is None:
            self._chain_id = self.w3.eth.chain_id
        tx = {**params, "gas": gas, "nonce": nonce, "chainId": self._chain_id, "maxFeePerGas": max_fee,
              "maxPriorityFeePerGas": tip, "type": 2}
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        self.store.mark_sent(action.id, tx_hash, nonce=nonce, raw_tx="0x" + bytes(signed.raw_transaction).hex())
        try:
            self._broadcast(bytes(signed.raw_transaction))
        except (Web3RPCError, NonceTooLow) as exc:  # the node answered and refused it: it is not in any mempool
            self.store.mark_failed(action.id, f"broadcast refused: {exc}")
            raise TransientError(f"order {order_id}: {kind} broadcast refused: {exc}") from exc
        # any other failure (connection lost mid-request) leaves the row 'sent': the tx may or may not have
        # reached the node, and resolve() finds out (receipt, mempool, nonce) before anything else is sent
        self.on_event("tx_sent", order_id=order_id, action=kind, tx=tx_hash, nonce=nonce)
        return self._await(self.store.get_action(action.id), tx)

    def _broadcast(self, raw: bytes) -> None:
        try:
            self.w3.eth.send_raw_transaction(raw)
        except TxAlreadyKnown:
            return
        except NonceTooLow:
            self.sender.nonces.resync()
            raise

    def _receipt(self, tx_hash: str) -> dict | None:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def _finish(self, action: Action, receipt: dict, params: dict | None) -> Outcome:
        tx_hash = receipt["transactionHash"].to_0x_hex()
        block = receipt["blockNumber"]
        if receipt["status"] == 1:
            self.store.mark_mined(action.id, block, tx_hash=tx_hash)
            return Outcome(tx_hash, block, True)
        reason = "reverted on chain"
        if params is not None:
            reason = self.sender._replay_reason(params, block)
        else:
            tx = self.w3.eth.get_transaction(tx_hash)
            reason = self.sender._replay_reason({"from": tx["from"], "to": tx["to"], "data": tx["input"],
                                                 "value": tx["value"]}, block)
        self.store.mark_failed(action.id, f"mined in block {block} but reverted: {reason}")
        return Outcome(tx_hash, block, False, reason)

    def _await(self, action: Action, tx: dict | None) -> Outcome:
        """Waits for the action's tx; re-signs with higher fees after ``replace_after_s`` (if ``tx`` is known)."""
        started = last_sent = time.monotonic()
        hashes = [action.tx_hash]
        params = None if tx is None else {k: tx[k] for k in ("from", "to", "data", "value")}
        while time.monotonic() - started < self.wait_s:
            for tx_hash in reversed(hashes):
                receipt = self._receipt(tx_hash)
                if receipt is not None:
                    return self._finish(action, receipt, params)
            if tx is not None and time.monotonic() - last_sent > self.replace_after_s:
                tx["maxFeePerGas"] = tx["maxFeePerGas"] * FEE_BUMP_NUM // FEE_BUMP_DEN + 1
                tx["maxPriorityFeePerGas"] = tx["maxPriorityFeePerGas"] * FEE_BUMP_NUM // FEE_BUMP_DEN + 1
                signed = self.account.sign_transaction(tx)
                new_hash = "0x" + bytes(signed.hash).hex()
                action = self.store.mark_sent(action.id, new_hash, raw_tx="0x" + bytes(signed.raw_transaction).hex())
                self._broadcast(bytes(signed.raw_transaction))
                hashes.append(new_hash)
                last_sent = time.monotonic()
                self.on_event("tx_replaced", order_id=action.order_id, action=action.kind, tx=new_hash,
                              replaces=hashes[-2])
            # a receipt can only turn up in a new block: the sender's block clock paces the polls
            self.stop.pause(self.clock.delay(self.poll_s), f"waiting for order {action.order_id}'s {action.kind} tx {hashes[-1]} "
                                         "(journaled as sent: the next start resolves it)")
        raise TxNotMined(f"order {action.order_id}: {action.kind} tx {hashes[-1]} not mined after {self.wait_s:.0f}s")

    # -- after a restart --------------------------------------------------------

    def resolve(self, action: Action, *, wait: bool = True) -> Outcome | None:
        """Settles a planned/sent row left by an earlier run. Returns the mined outcome, or None if nothing mined.

        planned: never signed, so never sent -> failed. sent: receipt by hash; else if the node
        still has it pending, wait; else if its nonce is still free, rebroadcast the same bytes
        and wait; else the nonce went to another tx (a replacement we lost track of) -> failed,
        and the caller re-reads the chain to see what happened.
        """
        if action.status is ActionStatus.PLANNED or not action.tx_hash:
            self.store.mark_failed(action.id, "not broadcast before a restart")
            return None
        receipt = self._receipt(action.tx_hash)
        if receipt is not None:
            return self._finish(action, receipt, None)
        try:
            known = self.w3.eth.get_transaction(action.tx_hash)
        except TransactionNotFound:
            known = None
        if known is None:
            confirmed_nonce = self.w3.eth.get_transaction_count(self.account.address, "latest")
            if action.nonce is not None and confirmed_nonce > action.nonce:
                self.store.mark_failed(action.id, f"nonce {action.nonce} was used by another transaction")
                return None
            if action.raw_tx:
                self._broadcast(bytes.fromhex(action.raw_tx.removeprefix("0x")))
                self.on_event("tx_rebroadcast", order_id=action.order_id, action=action.kind, tx=action.tx_hash)
        if not wait:
            return None
        return self._await(action, None)


def is_revert(exc: BaseException) -> bool:
    return isinstance(exc, TxReverted)
