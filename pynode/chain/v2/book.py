"""OrderBookV2: its views, orders rebuilt from its logs and checked against its commitments, and (BookWritesV2)
a TxRequest for every write.

An order's events do not carry their time or, for the "anyone" transitions, their actor (docs/protocol.md
§9.2): the fold reads each log's block timestamp (``eth_getBlockByHash``, one per block, cached) and, where
needed, its transaction's sender (``eth_getTransactionByHash``); a node that sends ``blockTimestamp`` with each log
(geth 1.16+, anvil) saves the block reads. Logs come through the wrapper's one bounded
LogReader, views over plain JSON-RPC (pynode.chain.calls), as in v1.
"""

from __future__ import annotations

import copy
import time as _time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from pynode.chain.contracts import LOG_INDEX_RETRIES, OrderOutOfSync, _topic_for_uint
from pynode.chain.events.decoder import DecodedLog
from pynode.chain.rpc import request
from pynode.chain.v2.book_tx import BookWritesV2
from pynode.chain.v2.orders import FEE_EVENT, ORDER_EVENTS, ZERO32, OrderTracker, by_sender
from pynode.core.address import to_checksum_address
from pynode.core.errors import InputError, TransientError
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import Attestation, OrderStatus, Quote, Settlement

if TYPE_CHECKING:
    from web3 import Web3

    from pynode.chain.deployment import ContractInfo
    from pynode.chain.events.reader import LogReader
    from pynode.chain.jsonrpc import RpcClient

_CACHE_LIMIT = 10_000
_BATCH = 100  # requests per JSON-RPC batch
_MASK64 = 2**64 - 1


def _remember(cache: dict[str, Any], key: str, value: Any) -> Any:
    """Stores ``value`` in a bounded cache (cleared when full: a few lookups again, no growth)."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


class Arbitration(NamedTuple):
    """``arbitration(orderId)``: the dispute's deposits and ruling, written once the order is disputed."""

    buyer_fee: int  # the buyer's deposit; the partner matches it
    refundable: int  # deposits the book still holds
    ruling: int
    ruled: bool
    created: bool  # the dispute exists at the arbitrator
    failed_qa_counted: bool


class OrderBookV2(BookWritesV2):
    def __init__(self, w3: Web3 | RpcClient, info: ContractInfo, reader: LogReader | None = None, *,
                 chain_id: int | None = None) -> None:
        super().__init__(w3, info, reader)
        self._chain_id = chain_id  # the connection's checked chain id, else asked once
        self._block_times: dict[str, int] = {}  # block hash -> timestamp
        self._senders: dict[str, str] = {}  # tx hash -> from

    # ------------------------------------------------------------------------------- views

    def record_head(self, order_id: int, block: int | str = "latest") -> bytes:
        return bytes(self.call("recordHead", order_id, block=block))

    def genesis(self, order_id: int, block: int | str = "latest") -> bytes:
        return bytes(self.call("genesis", order_id, block=block))

    def arbitration(self, order_id: int, block: int | str = "latest") -> Arbitration:
        return Arbitration(*self.call("arbitration", order_id, block=block))

    def reject_window(self) -> int:
        return int(self.call("rejectWindow"))

    def paused(self) -> bool:
        return bool(self.call("paused"))

    def fee_recipient(self) -> str:
        return str(self.call("feeRecipient"))

    def liability(self, token: str) -> int:
        return int(self.call("liability", token))

    def attestation_nonce(self, inspector: str, order_id: int, block: int | str = "latest") -> int:
        """The inspector's next attestation nonce for the order (NoncesKeyed, key = order id; the key is dropped)."""
        return int(self.call("nonces(address,uint192)", inspector, order_id, block=block)) & _MASK64

    def quote_nonce_bitmap(self, partner: str, word_pos: int) -> int:
        return int(self.call("quoteNonceBitmap", partner, word_pos))

    def quote_nonce_used(self, partner: str, nonce: int) -> bool:
        """Whether the partner cancelled quote nonce ``nonce`` (an award would revert QuoteNonceUsed)."""
        return nonce != 0 and bool(self.quote_nonce_bitmap(partner, nonce >> 8) >> (nonce & 255) & 1)

    def quote_digest(self, quote: Quote) -> bytes:
        return bytes(self.call("quoteDigest", quote))

    def attestation_digest(self, attestation: Attestation) -> bytes:
        return bytes(self.call("attestationDigest", attestation))

    def settlement_digest(self, settlement: Settlement) -> bytes:
        return bytes(self.call("settlementDigest", settlement))

    def registry(self) -> str:
        return str(self.call("registry"))

    def constant(self, name: str) -> int:
        """A bound of the book: FEE_RESPONSE_WINDOW, MAX_FEE_BPS, MIN_REJECT_WINDOW, RULING_OPTIONS, …"""
        if name not in self._views or not name.isupper() or self._views[name].inputs:
            raise InputError(f"OrderBookV2 has no constant {name}")
        return int(self.call(name))

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(request(self.w3, "eth_chainId", []), 16)
        return self._chain_id

    def genesis_of(self, order_id: int) -> bytes:
        """The order's genesis computed here (equal to the ``genesis`` view: chain id, book, order id)."""
        return codec.genesis(self.chain_id(), self.address, order_id)

    # ------------------------------------------------------------------------ log context

    def block_time(self, log: DecodedLog) -> int:
        """The timestamp of the block that holds ``log``: the log's own ``blockTimestamp``, else the block read by its
        hash (a reorged-away block is not answered). Either is checked by the fold's commitment (orderHash)."""
        if log.block_time is not None:
            return log.block_time
        found = self._block_times.get(log.block_hash)
        if found is None:
            block = request(self.w3, "eth_getBlockByHash", [log.block_hash, False])
            if not block:
                raise TransientError(f"block {log.block_hash} is not known to the RPC node (reorg?)")
            found = _remember(self._block_times, log.block_hash, int(block["timestamp"], 16))
        return found

    def tx_sender(self, tx_hash: str) -> str:
        found = self._senders.get(tx_hash)
        if found is None:
            tx = request(self.w3, "eth_getTransactionByHash", [tx_hash])
            if not tx:
                raise TransientError(f"transaction {tx_hash} is not known to the RPC node (reorg?)")
            found = _remember(self._senders, tx_hash, to_checksum_address(tx["from"]))
        return found

    def prefetch(self, logs: Iterable[DecodedLog]) -> None:
        """Asks the block times of ``logs`` and the senders their "anyone" links need in JSON-RPC batches, so the
        fold then finds them cached (a fee collection's sender, rare, is still asked on its own). Replies are
        matched by the hash they carry, not by position; a refused batch or entry leaves the fold to ask."""
        logs = list(logs)
        calls = [("eth_getBlockByHash", [h, False]) for h in dict.fromkeys(
            log.block_hash for log in logs if log.block_time is None) if h not in self._block_times]
        calls += [("eth_getTransactionByHash", [h]) for h in dict.fromkeys(
            log.tx_hash for log in logs if by_sender(log)) if h not in self._senders]
        for _, replies in self._batched(calls):
            for reply in replies:
                found = reply.get("result") if isinstance(reply, dict) else None
                if isinstance(found, dict) and isinstance(found.get("hash"), str):
                    if "timestamp" in found:
                        _remember(self._block_times, found["hash"], int(found["timestamp"], 16))
                    elif "from" in found:
                        _remember(self._senders, found["hash"], to_checksum_address(found["from"]))

    def commitments(self, ids: Sequence[int], block: int, *,
                    records: Callable[[int], bool] = lambda order_id: True) -> dict[int, tuple[bytes, bytes | None]]:
        """Each order's (orderHash, recordHead) at ``block``, the eth_calls in JSON-RPC batches (``_BATCH`` a round
        trip); recordHead is not asked (None) of an order ``records`` says can hold no record. Replies are matched
        by id order; an order with an error among its answers is left out, and so is every order of a short answer
        (the caller reads them one by one)."""
        asked = [(i, name) for i in ids for name in ("orderHash", "recordHead") if name == "orderHash" or records(i)]
        calls = [("eth_call", [{"to": self.address, "data": "0x" + self._views[name].calldata([i]).hex()}, hex(block)])
                 for i, name in asked]
        answers: dict[tuple[int, str], bytes] = {}
        for start, replies in self._batched(calls):
            entries = sorted((r for r in replies if isinstance(r, dict) and isinstance(r.get("id"), int)),
                             key=lambda r: r["id"])
            if len(entries) != len(calls[start:start + _BATCH]):
                continue
            for (order_id, name), entry in zip(asked[start:start + _BATCH], entries):
                if isinstance(result := entry.get("result"), str) and result.startswith("0x"):
                    answers[order_id, name] = bytes(self._views[name].result(bytes.fromhex(result[2:])))
        return {i: (answers[i, "orderHash"], answers.get((i, "recordHead"))) for i in ids
                if (i, "orderHash") in answers and ((i, "recordHead") in answers or not records(i))}

    def _batched(self, calls: list[tuple[str, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
        """Each ``_BATCH`` of ``calls`` asked in one JSON-RPC batch: (its start in ``calls``, its replies; none if
        the answer is not a list)."""
        transport: Any = getattr(self.w3, "provider", self.w3)  # a Web3's provider, or the RpcClient itself
        for start in range(0, len(calls), _BATCH):
            replies = transport.make_batch_request(calls[start:start + _BATCH])
            yield start, replies if isinstance(replies, list) else []

    def apply(self, tracker: OrderTracker, log: DecodedLog) -> None:
        """Folds ``log`` into ``tracker`` with its block time and, when the link needs it, its sender."""
        sender = self.tx_sender(log.tx_hash) if tracker.needs_sender(log) else None
        tracker.apply(log, self.block_time(log), sender)

    # ------------------------------------------------------------------------------ orders

    def fee_logs(self, order_id: int | None, from_block: int, to_block: int) -> list[DecodedLog]:
        """The book's credits earned by ``order_id`` (None: every order) in the range: a completed order's
        fee collection is one of them."""
        topic = None if order_id is None else _topic_for_uint(order_id)
        return self.logs((FEE_EVENT,), None, None, topic, from_block=from_block, to_block=to_block)

    def fold(self, order_id: int, logs: Iterable[DecodedLog], to_block: int, *,
             born_awarded: bool = True) -> OrderTracker:
        """The order rebuilt from its logs (``order_logs``), and its fee collection once completed
        (``born_awarded``: see OrderTracker)."""
        tracker = OrderTracker(order_id, self.genesis_of(order_id), born_awarded=born_awarded)
        logs = list(logs)
        self.prefetch(logs)
        for log in logs:
            self.apply(tracker, log)
        if tracker.posted and tracker.status == OrderStatus.COMPLETED:
            for log in self.fee_logs(order_id, tracker.posted_block or 0, to_block):
                self.apply(tracker, log)
        return tracker

    def matches(self, tracker: OrderTracker, expected: bytes, block: int, record_head: bytes | None = None) -> bool:
        """Whether ``tracker`` is the order the book commits to at ``block`` (``expected``: its orderHash there;
        ``record_head``: its recordHead there if the caller read it, else read when the hash matches)."""
        return (tracker.posted and codec.order_hash(tracker.order) == expected and tracker.record_head == (
            self.record_head(tracker.order_id, block) if record_head is None else record_head))

    def load_order(self, order_id: int, from_block: int, block: int | None = None, *,
                   expected: bytes | None = None) -> OrderTracker:
        """Order ``order_id`` rebuilt from its events, checked against ``orderHash`` and ``recordHead`` at the
        same block (``expected``: the commitment at ``block``, if the caller just read it).

        A node may answer eth_getLogs for its newest block before that block's logs are indexed, so a mismatch
        is re-read a few times before it is reported as :class:`OrderOutOfSync` (missing or forged logs).
        """
        block = self.reader.head() if block is None else block
        expected = self.order_hash(order_id, block) if expected is None else expected
        if expected == ZERO32:
            raise InputError(f"order {order_id} does not exist")
        for attempt in range(LOG_INDEX_RETRIES):
            try:
                logs = self.order_logs(order_id, from_block, block)
                tracker = self.fold(order_id, logs, block)
                if tracker.awarded_with_post and not self.matches(tracker, expected, block):
                    tracker = self.fold(order_id, logs, block, born_awarded=False)  # a batched post and award
            except OrderOutOfSync:
                if attempt == LOG_INDEX_RETRIES - 1:
                    raise
            else:
                if self.matches(tracker, expected, block):
                    return tracker
            _time.sleep(0.1 * (attempt + 1))
        raise OrderOutOfSync(f"order {order_id}: events do not reproduce the on-chain order hash and record head "
                             f"at block {block}")

    def update(self, tracker: OrderTracker, from_block: int, block: int | None = None) -> OrderTracker:
        """``tracker`` brought up to ``block`` by the order's logs after the last it folded (a copy; the argument
        is left as it was), checked like load_order. A mismatch, e.g. a reorg that replaced a folded log,
        rebuilds the order from its events since ``from_block`` instead (load_order)."""
        block = self.reader.head() if block is None else block
        expected = self.order_hash(tracker.order_id, block)
        start, topic = max(tracker.seen[0], from_block), _topic_for_uint(tracker.order_id)
        updated = copy.deepcopy(tracker)
        try:
            logs = self.logs(ORDER_EVENTS, topic, from_block=start, to_block=block)
            self.prefetch(logs)
            for log in logs:
                if (log.block_number, log.log_index) > tracker.seen:
                    self.apply(updated, log)
            if updated.posted and updated.status == OrderStatus.COMPLETED:
                for log in self.fee_logs(tracker.order_id, start, block):
                    if (log.block_number, log.log_index) > tracker.seen:
                        self.apply(updated, log)
        except OrderOutOfSync:
            pass  # the full load below decides
        else:
            if self.matches(updated, expected, block):
                return updated
        return self.load_order(tracker.order_id, from_block, block, expected=expected)

    def load_orders(self, from_block: int, block: int | None = None) -> dict[int, OrderTracker]:
        """Every order posted in [from_block, block], rebuilt from one scan of the order events and one of the
        credits (not hash-checked: see load_order). Orders posted before ``from_block`` are left out."""
        block = self.reader.head() if block is None else block
        logs = self.logs(ORDER_EVENTS, from_block=from_block, to_block=block)
        logs += self.fee_logs(None, from_block, block)
        self.prefetch(log for log in logs if log.event != FEE_EVENT)
        trackers: dict[int, OrderTracker] = {}
        for log in sorted(logs, key=lambda item: (item.block_number, item.log_index)):
            order_id = int(log.args["orderId"])
            if log.event == "OrderPosted":
                self.note_posted(order_id, log.block_number)
                trackers[order_id] = OrderTracker(order_id, self.genesis_of(order_id))
            tracker = trackers.get(order_id)
            if tracker is not None:
                self.apply(tracker, log)
        return trackers
