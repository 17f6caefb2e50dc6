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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from pynode.chain.confirmations import Progress
from pynode.chain.tx import TxNotMined, TxRequest, TxSender, may_hold
from pynode.core.errors import NonceTooLow, TransientError
from pynode.core.stop import StopEvent
from pynode.daemon.store import Action, ActionStatus, Store


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
        self.clock = sender.clock  # when blocks arrive: the pace of every receipt poll
        self.on_event = on_event or (lambda *a, **k: None)
        self.stop = stop or StopEvent()

    # -- sending --------------------------------------------------------------

    def send(self, order_id: int, kind: str, request: TxRequest) -> Outcome:
        """Simulates, journals, signs, broadcasts and waits. Raises TxReverted if the simulation fails."""
        pending = self.store.in_flight(order_id, kind)
        if pending is not None:  # the caller should have resolved it; never double up
            outcome = self.resolve(pending)
            if outcome is not None:
                return outcome
            raise TransientError(f"order {order_id}: {kind} transaction {pending.tx_hash} still pending")
        sent, tx, before = self.submit(order_id, kind, request)
        return self._await(sent, tx, before)

    def submit(self, order_id: int, kind: str, request: TxRequest) -> tuple[Action, dict, int | None]:
        """Simulates, journals, signs and broadcasts without waiting: the sent row, the transaction and the head
        before it (a caller that keeps several in flight looks each up later with ``resolve(wait=False)``).
        Raises TxReverted if the simulation fails."""
        # the simulation: a revert is raised before anything is journaled
        tx = self.sender.build(request, self.sender.estimate(request))
        action = self.store.plan_action(order_id, kind)
        before = self.sender.clock.head  # the transaction can only be in a block after this one
        # the node's pending count (chain/tx.py's NonceManager); the journal keeps the nonce of every
        # transaction it sent
        nonce = self.sender.nonces.reserve()
        tx["nonce"] = nonce
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        sent = self.store.mark_sent(action.id, tx_hash, nonce=nonce, raw_tx="0x" + bytes(signed.raw_transaction).hex())
        try:
            self.sender.broadcast_raw(bytes(signed.raw_transaction))
        except (Web3RPCError, NonceTooLow) as exc:  # the node answered and refused it: it is not in any mempool
            self.sender.nonces.release(nonce)
            self.store.mark_failed(action.id, f"broadcast refused: {exc}")
            raise TransientError(f"order {order_id}: {kind} broadcast refused: {exc}") from exc
        self.sender.nonces.sent()
        # any other failure (connection lost mid-request) leaves the row 'sent': the tx may or may not have
        # reached the node, and resolve() finds out (receipt, mempool, nonce) before anything else is sent
        self.on_event("tx_sent", order_id=order_id, action=kind, tx=tx_hash, nonce=nonce)
        return sent, tx, before

    def _finish(self, action: Action, receipt: Mapping[str, Any], params: dict[str, Any] | None) -> Outcome:
        tx_hash = receipt["transactionHash"].to_0x_hex()
        block = receipt["blockNumber"]
        if receipt["status"] == 1:
            self.store.mark_mined(action.id, block, tx_hash=tx_hash)
            return Outcome(tx_hash, block, True)
        if params is None:
            tx = self.w3.eth.get_transaction(tx_hash)
            params = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
        reason = self.sender.replay_reason(params, block)
        self.store.mark_failed(action.id, f"mined in block {block} but reverted: {reason}")
        return Outcome(tx_hash, block, False, reason)

    def _await(self, action: Action, tx: dict | None, looked: int | None = None) -> Outcome:
        """Waits for the action's tx, looking for its receipt once per new head (the sender's block clock
        paces the polls); re-signs with higher fees after ``replace_after_s`` (if ``tx`` is known)."""
        started = last_sent = time.monotonic()
        hashes = [cast(str, action.tx_hash)]  # a sent row carries its hash (planned ones never get here)
        params = None if tx is None else {k: tx[k] for k in ("from", "to", "data", "value")}
        while time.monotonic() - started < self.wait_s:
            head = self.sender.new_head(looked)
            if head is not None:
                worth, looked = may_hold(head, looked, hashes), int(head["number"])
                for tx_hash in reversed(hashes) if worth else ():
                    receipt = self.sender.receipt(tx_hash)
                    if receipt is not None:
                        return self._finish(action, receipt, params)
            if tx is not None and time.monotonic() - last_sent > self.replace_after_s:
                self.sender.bump(tx)
                signed = self.account.sign_transaction(tx)
                new_hash = "0x" + bytes(signed.hash).hex()
                action = self.store.mark_sent(action.id, new_hash, raw_tx="0x" + bytes(signed.raw_transaction).hex())
                try:
                    self.sender.broadcast_raw(bytes(signed.raw_transaction))
                except NonceTooLow:
                    # a version already sent was mined since the last look: its receipt ends the wait (and puts
                    # its hash in the journal); this one never left
                    last_sent = time.monotonic()
                    continue
                hashes.append(new_hash)
                last_sent = time.monotonic()
                self.on_event("tx_replaced", order_id=action.order_id, action=action.kind, tx=new_hash,
                              replaces=hashes[-2])
            self.clock.pause(self.stop, self.clock.delay(self.poll_s),
                             f"waiting for order {action.order_id}'s {action.kind} "
                             f"tx {hashes[-1]} (journaled as sent: the next start resolves it)")
        self.sender.nonces.resync()  # not mined: dropped, or behind a gap; the node's count decides next time
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
        receipt = self.sender.receipt(action.tx_hash)
        if receipt is not None:
            return self._finish(action, receipt, None)
        try:
            known = self.w3.eth.get_transaction(HexStr(action.tx_hash))
        except TransactionNotFound:
            known = None
        if known is None:
            confirmed_nonce = self.w3.eth.get_transaction_count(self.account.address, "latest")
            if action.nonce is not None and confirmed_nonce > action.nonce:
                self.store.mark_failed(action.id, f"nonce {action.nonce} was used by another transaction")
                self.sender.nonces.resync()  # a transaction of ours was replaced behind our back
                return None
            if action.raw_tx:
                self.sender.broadcast_raw(bytes.fromhex(action.raw_tx.removeprefix("0x")))
                self.on_event("tx_rebroadcast", order_id=action.order_id, action=action.kind, tx=action.tx_hash)
        if not wait:
            return None
        return self._await(action, None)


@dataclass
class _Mined:
    """One of the node's own transactions, mined, on its way to confirmation depth."""

    outcome: Outcome
    reported: int = -1  # confirmations last logged


class Awaiting:
    """The node's own mined transactions short of confirmation depth: logged as blocks arrive until they
    have ``confirmations`` blocks on top. Nothing builds on one before: the job's next step reads the order
    at the safe block, and waits while one of these is about it (:meth:`about`)."""

    def __init__(self, confirmations: int, log: Any, metrics: Any) -> None:
        self.confirmations = confirmations
        self.log = log
        self.metrics = metrics
        self.entries: dict[tuple[int, str], _Mined] = {}

    def add(self, order_id: int, kind: str, outcome: Outcome) -> None:
        if self.confirmations:
            self.entries[(order_id, kind)] = _Mined(outcome)
            self.metrics.awaiting_confirmation.set(len(self.entries))

    def about(self, order_id: int) -> bool:
        return any(own == order_id for own, _ in self.entries)

    def report(self, head: int, block_s: float | None) -> None:
        """Logs each one's depth at ``head``; ``block_s``: the pace the heads arrive (how long it still takes)."""
        if not self.entries:
            return
        for (order_id, kind), mined in list(self.entries.items()):
            block = mined.outcome.block_number
            progress = Progress(block, head, self.confirmations, tx_hash=mined.outcome.tx_hash, order_id=order_id)
            if not progress.done:  # no extra read: at the pace the heads arrive
                progress = Progress(block, head, self.confirmations, block_s, tx_hash=mined.outcome.tx_hash,
                                    order_id=order_id)
            if progress.done:
                del self.entries[(order_id, kind)]
                self.log.info("tx_confirmed", action=kind, **progress.fields())
            elif progress.confirmations != mined.reported:
                mined.reported = progress.confirmations
                self.log.info("waiting_for_confirmations", action=kind, **progress.fields())
        self.metrics.awaiting_confirmation.set(len(self.entries))
