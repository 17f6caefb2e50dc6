"""The v2 watcher's transactions in flight: many orders' at once, one per order, none lost across a restart.

:meth:`Sends.submit` simulates (the gas estimate executes the call: a revert is raised before anything is
signed), takes the account's next nonce (chain/tx.py's NonceManager, shared with every other sender of the
account in the process), signs, journals the row (send_journal.py) and broadcasts, without waiting for the
receipt. :meth:`Sends.poll` is called once a cycle with the transactions of the blocks that arrived since
the last one (the watcher reads them anyway): a pending transaction is looked up only when a block lists one
of its hashes, so a hundred pending awards cost no request a block until they are mined. One found is done
once ``confirmations`` blocks are on top of it (its receipt asked again then: a reorged one is pending again).
A transaction unseen for ``replace_after_s`` is re-signed with the same nonce and higher fees (the journal
keeps every hash); a replacement refused as nonce-too-low means one version was mined, or another
transaction of the account took the nonce, which the receipts decide (``lost``: the order is decided again).
Rows left ``sent`` by a previous run are looked up at once, and their signed bytes broadcast again if the node
does not know them (same nonce: mined at most once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hexbytes import HexBytes
from web3.exceptions import Web3RPCError

from pynode.chain.jsonrpc import RpcClient
from pynode.chain.rpc import request
from pynode.chain.tx import NONCE_RETRIES, TxRequest, TxSender
from pynode.core.errors import NonceTooLow, TransientError
from pynode.orders.v2.send_journal import SendJournal, SentRow

MAX_GAP_BLOCKS = 16  # blocks a slow cycle skipped read for their transactions; past it every send is looked up


def listed_since(rpc: RpcClient, last: int | None, head_block: Mapping[str, Any],
                 pending: int) -> list[HexBytes] | None:
    """The transaction hashes of the blocks after ``last`` up to the head (``head_block``, read with its hashes):
    the head's own, and those of blocks a slow cycle skipped (one request each, while fewer than the ``pending``
    sends they spare a lookup of). None: not known (the first cycle, a reorg, a long gap), every send is looked
    up; with nothing pending nothing is read."""
    head = int(head_block["number"])
    if not pending:
        return []
    if last is None or head < last:
        return None
    skipped = range(last + 1, head)
    # as many blocks as sends: looking each send up is no dearer, and finds the receipt a listing would lead to
    if len(skipped) >= pending or len(skipped) > MAX_GAP_BLOCKS:
        return None
    listed = list(head_block["transactions"]) if head > last else []
    for number in skipped:
        listed += map(HexBytes, request(rpc, "eth_getBlockByNumber", [hex(number), False])["transactions"])
    return listed


@dataclass
class InFlight:
    row: int
    order_id: int
    action: str
    nonce: int
    tx: dict[str, Any]
    hashes: list[str]
    raw: bytes
    detail: dict[str, Any]
    sent_at: float  # monotonic time of the newest broadcast
    look: bool = False  # ask its receipts whatever the blocks say (restored, or a replacement was refused)
    found_in: int | None = None  # the block a receipt was last found in


@dataclass(frozen=True)
class Landed:
    """A transaction of an action mined (``ok``), reverted on chain, or its nonce lost to another one."""

    order_id: int
    action: str
    tx_hash: str
    block: int | None
    ok: bool
    reason: str
    detail: Mapping[str, Any] = field(default_factory=dict)


class Sends:
    def __init__(self, sender: TxSender, journal: SendJournal, *, confirmations: int = 0,
                 replace_after_s: float = 30.0, log: Callable[..., None] | None = None) -> None:
        self.sender = sender
        self.journal = journal
        self.confirmations = confirmations
        self.replace_after_s = replace_after_s
        self.log = log or (lambda *a, **k: None)
        self._by_order: dict[int, InFlight] = {row.order_id: self._restored(row) for row in journal.open_rows()}

    @staticmethod
    def _restored(row: SentRow) -> InFlight:
        return InFlight(row.id, row.order_id, row.action, row.nonce, row.tx, list(row.hashes), row.raw_tx,
                        row.detail, sent_at=time.monotonic(), look=True)

    def busy(self, order_id: int) -> bool:
        return order_id in self._by_order

    def pending(self) -> list[InFlight]:
        return list(self._by_order.values())

    def __len__(self) -> int:
        return len(self._by_order)

    def submit(self, order_id: int, action: str, request: TxRequest, *, ready: Callable[[], object] | None = None,
               **detail: Any) -> str:
        """Simulates, signs, journals and broadcasts ``request`` for ``order_id``; its hash. TxReverted if the
        simulation fails (nothing journaled); TransientError if the node refused the broadcast. ``ready`` runs
        once the simulation passed, before anything is journaled (an award's key envelope is published then)."""
        if order_id in self._by_order:
            raise TransientError(f"order {order_id}: a {self._by_order[order_id].action} is in flight")
        sender = self.sender
        tx = sender.build(request, sender.estimate(request))
        if ready is not None:
            ready()
        attempts = 0
        while True:
            attempts += 1
            nonce = sender.nonces.reserve()
            tx["nonce"] = nonce
            raw, tx_hash = self._sign(tx)
            row = self.journal.sent(order_id, action, nonce, tx_hash, raw, tx, detail)
            try:
                sender.broadcast_raw(raw)
                break
            except (Web3RPCError, NonceTooLow) as exc:  # the node answered and refused it: it is in no pool
                sender.nonces.release(nonce)
                self.journal.finish(row, "refused", f"{type(exc).__name__}: {exc}"[:300])
                # another sender of the account (the buyer's own CLI posting meanwhile) took the nonce: the same
                # simulated transaction goes out again with the node's count, not the whole step next cycle
                if isinstance(exc, NonceTooLow) and attempts < NONCE_RETRIES:
                    continue
                raise TransientError(f"order {order_id}: {action} broadcast refused: {exc}") from exc
            except BaseException:  # the request may have reached the node: the row stays, poll() finds out
                sender.nonces.sent()
                sender.nonces.resync()
                self._by_order[order_id] = InFlight(row, order_id, action, nonce, tx, [tx_hash], raw, detail,
                                                    time.monotonic(), look=True)
                raise
        sender.nonces.sent()
        self._by_order[order_id] = InFlight(row, order_id, action, nonce, tx, [tx_hash], raw, detail,
                                            time.monotonic())
        return tx_hash

    def _sign(self, tx: dict[str, Any]) -> tuple[bytes, str]:
        signed = self.sender.account.sign_transaction(tx)
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()

    def poll(self, head: int, listed: Iterable[bytes | str] | None) -> list[Landed]:
        """What landed, given the head and the hashes of every block since the last poll (``None``: not known,
        every pending transaction is looked up)."""
        seen = None if listed is None else {HexBytes(h) for h in listed}
        landed = []
        for flight in list(self._by_order.values()):
            outcome = self._check(flight, head, seen)
            if outcome is not None:
                del self._by_order[flight.order_id]
                landed.append(outcome)
        return landed

    def _check(self, flight: InFlight, head: int, seen: set[HexBytes] | None) -> Landed | None:
        if flight.found_in is not None and not flight.look:
            if head - flight.found_in < self.confirmations:
                return None  # found, not deep enough yet: asked again when it is
        elif not (flight.look or seen is None or any(HexBytes(h) in seen for h in flight.hashes)):
            if time.monotonic() - flight.sent_at > self.replace_after_s:
                self._replace(flight)
            return None
        receipt = self._receipt(flight)
        if receipt is not None:
            return self._found(flight, receipt, head)
        flight.found_in = None
        if flight.look:
            return self._unseen(flight)
        return None

    def _receipt(self, flight: InFlight) -> Mapping[str, Any] | None:
        return next((r for r in map(self.sender.receipt, reversed(flight.hashes)) if r is not None), None)

    def _found(self, flight: InFlight, receipt: Mapping[str, Any], head: int) -> Landed | None:
        block = int(receipt["blockNumber"])
        flight.found_in, flight.look = block, False
        if head - block < self.confirmations:
            return None  # asked again once deep enough: still there, or reorged out
        tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
        if receipt["status"] == 1:
            self.journal.finish(flight.row, "mined", tx_hash)
            return Landed(flight.order_id, flight.action, tx_hash, block, True, "", flight.detail)
        params = {k: flight.tx[k] for k in ("from", "to", "data", "value")}
        reason = self.sender.replay_reason(params, block)
        self.journal.finish(flight.row, "reverted", reason[:300])
        return Landed(flight.order_id, flight.action, tx_hash, block, False, reason, flight.detail)

    def _unseen(self, flight: InFlight) -> Landed | None:
        """No receipt for a flight looked up on purpose (restored, or a replacement refused): the node is given
        the newest signed bytes again (a restart's row may never have reached it); if their nonce is used and
        still no version of ours is mined, another transaction of the account took it."""
        flight.look = False
        try:
            self.sender.broadcast_raw(flight.raw)
            flight.sent_at = time.monotonic()
            return None
        except NonceTooLow:
            receipt = self._receipt(flight)  # mined between the look and the broadcast
            if receipt is not None:
                flight.look = True
                return None
        reason = f"nonce {flight.nonce} was used by another transaction ({', '.join(flight.hashes)} not mined)"
        self.sender.nonces.resync()  # the account's count moved past what this process counted
        self.journal.finish(flight.row, "lost", reason)
        return Landed(flight.order_id, flight.action, flight.hashes[-1], None, False, reason, flight.detail)

    def _replace(self, flight: InFlight) -> None:
        """Same nonce, fees raised: a stuck transaction is priced into a block."""
        TxSender.bump(flight.tx)
        raw, tx_hash = self._sign(flight.tx)
        self.journal.replaced(flight.row, [*flight.hashes, tx_hash], raw, flight.tx)
        flight.sent_at = time.monotonic()
        try:
            self.sender.broadcast_raw(raw)
        except NonceTooLow:  # a version already sent was mined since, or another took the nonce: receipts decide
            flight.look = True
            return
        flight.hashes.append(tx_hash)
        flight.raw = raw
        self.log("tx_replaced", order_id=flight.order_id, action=flight.action, tx=tx_hash,
                 replaces=flight.hashes[-2])
