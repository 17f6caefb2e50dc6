"""The only ``eth_getLogs`` caller in pynode: bounded block ranges, halving on refusals, checked answers.

Hosted providers cap one ``eth_getLogs`` (Alchemy 2,000 blocks or 10,000 logs,
Infura 10,000 logs, QuickNode 10,000 blocks, free tiers 500 or fewer; see
:mod:`pynode.chain.rpc`). So every query here:

* names an explicit block range, never ``latest``: an open end is resolved to a
  head number first, and a range is cut into spans of at most ``batch_size``
  blocks (default 2,000);
* on a ``RangeTooLarge`` / ``ResultTooLarge`` refusal shrinks the span (to the
  span the provider named, else half) down to one block, and grows it back by
  doubling after each answer, never past a block cap the provider stated;
  a rate limit is not a refusal: it is retried (provider, caller), never halved;
* checks the answer: every log inside the asked range, of an asked address and
  topics, one hash per block, no (block, logIndex) twice, then sorts it.

:meth:`LogReader.batches` also returns each span's end block hash, read just
before its logs (the daemon stores it: its next reorg check compares the stored
hashes with the chain, so a reorg between the two reads is caught there, at no
extra request per span); one-shot reads skip it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynode.chain.events.decoder import DecodedLog, EventDecoder
from pynode.chain.reorg import block_hash
from pynode.chain.rpc import request
from pynode.core.address import to_checksum_address
from pynode.core.errors import LogsRefused, RangeTooLarge, TransientError

if TYPE_CHECKING:
    from web3 import Web3

    from pynode.chain.jsonrpc import RpcClient

DEFAULT_BATCH_BLOCKS = 2000

#: one position of an ``eth_getLogs`` topic filter: any topic (None), one topic, or one of several
TopicFilter = str | Sequence[str] | None


class InconsistentLogs(TransientError):
    """The node's answer does not match the question (range, address, topics, hashes): ask again or elsewhere."""


@dataclass(frozen=True, slots=True)
class LogBatch:
    """Raw logs of the blocks ``[from_block, to_block]``, sorted by (block, logIndex).

    ``block_hashes`` holds the hash of every block that has a log plus ``to_block``'s,
    for the store's reorg check.
    """

    from_block: int
    to_block: int
    logs: list[dict[str, Any]]
    block_hashes: dict[int, str]


def _topic_sets(topics: Sequence[TopicFilter]) -> list[frozenset[str] | None]:
    sets: list[frozenset[str] | None] = []
    for position in topics:
        if position is None:
            sets.append(None)
        elif isinstance(position, str):
            sets.append(frozenset({position.lower()}))
        else:
            sets.append(frozenset(t.lower() for t in position))
    return sets


class LogReader:
    """Reads raw or decoded logs over explicit, bounded block ranges (see the module docstring)."""

    def __init__(self, w3: Web3 | RpcClient, *, batch_size: int = DEFAULT_BATCH_BLOCKS) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.w3 = w3
        self.batch_size = batch_size
        self.ceiling = batch_size  # lowered when a provider names its block cap
        self.step = batch_size
        self.requests = 0  # eth_getLogs calls made, for metrics and tests
        self.refusals = 0  # of them refused as too large

    def head(self) -> int:
        return int(request(self.w3, "eth_blockNumber", []), 16)

    def block_hash(self, number: int) -> str:
        found = block_hash(self.w3, number)
        if found is None:
            raise TransientError(f"block {number} is not known to the RPC node yet")
        return found

    # -- one request ---------------------------------------------------------

    def get_logs(self, addresses: Iterable[str], from_block: int, to_block: int,
                 topics: Sequence[TopicFilter] = ()) -> list[dict[str, Any]]:
        """One ``eth_getLogs`` over ``[from_block, to_block]`` (at most ``batch_size`` blocks), checked and sorted."""
        return self._fetch(addresses, from_block, to_block, topics)[0]

    def _fetch(self, addresses: Iterable[str], from_block: int, to_block: int,
               topics: Sequence[TopicFilter]) -> tuple[list[dict[str, Any]], dict[int, str]]:
        """:meth:`get_logs` and the hash of each block that has a log."""
        span = to_block - from_block + 1
        if from_block < 0 or not 1 <= span <= self.batch_size:
            raise ValueError(f"eth_getLogs range [{from_block}, {to_block}] is not 1..{self.batch_size} blocks")
        asked = sorted({to_checksum_address(a) for a in addresses})
        params: dict[str, Any] = {"fromBlock": hex(from_block), "toBlock": hex(to_block), "address": asked}
        if topics:
            params["topics"] = [p if p is None or isinstance(p, str) else list(p) for p in topics]
        self.requests += 1
        logs = request(self.w3, "eth_getLogs", [params])
        return self._checked(logs, from_block, to_block, {a.lower() for a in asked}, _topic_sets(topics))

    @staticmethod
    def _checked(logs: Any, from_block: int, to_block: int, addresses: set[str],
                 topic_sets: list[frozenset[str] | None]) -> tuple[list[dict[str, Any]], dict[int, str]]:
        if not isinstance(logs, list):
            raise InconsistentLogs("eth_getLogs: result is not a list")
        kept: list[dict[str, Any]] = []
        hashes: dict[int, str] = {}
        seen: set[tuple[int, int]] = set()
        ordered = True  # nodes answer in (block, logIndex) order: then no sort, and no duplicate can hide
        last = (-1, -1)
        number_hex, number = None, -1
        filtered = [(position, wanted) for position, wanted in enumerate(topic_sets) if wanted is not None]
        for log in logs:
            try:
                if log["blockNumber"] != number_hex:  # a block's logs come together: parse its number once
                    number_hex = log["blockNumber"]
                    number = int(number_hex, 16)
                index = int(log["logIndex"], 16)
                address, block, log_topics = log["address"].lower(), log["blockHash"], log["topics"]
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise InconsistentLogs(f"eth_getLogs: log without a valid {exc}") from None
            if not from_block <= number <= to_block:
                raise InconsistentLogs(f"eth_getLogs [{from_block}, {to_block}] returned a log of block {number}")
            if address not in addresses:
                raise InconsistentLogs(f"eth_getLogs returned a log of {log['address']}, not asked for")
            for position, wanted in filtered:
                if position >= len(log_topics) or str(log_topics[position]).lower() not in wanted:
                    raise InconsistentLogs(f"eth_getLogs returned a log of block {number} that does not match "
                                           f"topic {position} of the filter")
            if log.get("removed"):
                continue
            if hashes.setdefault(number, block) != block:
                raise InconsistentLogs(f"eth_getLogs returned two hashes for block {number} (reorg while reading)")
            key = (number, index)
            if ordered and key > last:
                last = key
            else:
                if ordered:  # the first log out of order: from here on remember every key
                    ordered = False
                    seen.update((int(k["blockNumber"], 16), int(k["logIndex"], 16)) for k in kept)
                if key in seen:
                    raise InconsistentLogs(f"eth_getLogs returned log {index} of block {number} twice")
                seen.add(key)
            kept.append(log)
        if not ordered:
            kept.sort(key=lambda log: (int(log["blockNumber"], 16), int(log["logIndex"], 16)))
        return kept, hashes

    # -- ranges ----------------------------------------------------------------

    def _shrink(self, refusal: LogsRefused, span: int) -> None:
        self.refusals += 1
        named = refusal.allowed_blocks
        if isinstance(refusal, RangeTooLarge) and named:
            self.ceiling = max(1, min(self.ceiling, named))  # a stated block cap: never grow past it
        self.step = max(1, named if named and named < span else span // 2)

    def _next_batch(self, addresses: list[str], start: int, to_block: int, topics: Sequence[TopicFilter],
                    pin_hashes: bool, known_hashes: Mapping[int, str]) -> LogBatch:
        """The checked batch starting at ``start``: shrunk on refusals, then the step grown for the next one."""
        while True:
            end = min(start + min(self.step, self.ceiling) - 1, to_block)
            try:
                end_hash = (known_hashes.get(end) or self.block_hash(end)) if pin_hashes else None
                logs, hashes = self._fetch(addresses, start, end, topics)
            except LogsRefused as refusal:
                if end == start:
                    raise  # even one block is refused: transient, a later try (or another node) may answer
                self._shrink(refusal, end - start + 1)
                continue
            if end_hash is not None:
                hashes[end] = end_hash
            self.step = min(self.ceiling, self.step * 2)
            return LogBatch(start, end, logs, hashes)

    def batches(self, addresses: Iterable[str], from_block: int, to_block: int,
                topics: Sequence[TopicFilter] = (), *, pin_hashes: bool = True,
                known_hashes: Mapping[int, str] | None = None) -> Iterator[LogBatch]:
        """Checked batches covering ``[from_block, to_block]`` in order, each at most ``batch_size`` blocks.

        Yielding per batch lets the caller apply and checkpoint each one, so a crash
        during a long catch-up loses at most one batch of work. With ``pin_hashes`` the
        end block's hash, read before the logs, is returned in ``block_hashes``; ``known_hashes``
        are hashes the caller read before this call (a head's parent link), not asked again.

        While the caller works on one batch, the next is fetched in a worker thread (the node
        answers while we decode): one batch ahead, never more, asked exactly as it would be
        one after the other (same spans, same shrinking). A fetch's error is raised where that
        batch would have been delivered; closing the iterator waits for the one fetch in
        flight, so no thread outlives it.
        """
        addresses = list(addresses)
        known = known_hashes or {}
        if from_block > to_block:
            return
        batch = self._next_batch(addresses, from_block, to_block, topics, pin_hashes, known)
        if batch.to_block == to_block:
            yield batch  # one span (a daemon's cycle): no thread
            return
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fabmesh-logs")
        try:
            while True:
                ahead = None if batch.to_block == to_block else worker.submit(
                    self._next_batch, addresses, batch.to_block + 1, to_block, topics, pin_hashes, known)
                yield batch
                if ahead is None:
                    return
                batch = ahead.result()
        finally:
            worker.shutdown(wait=True, cancel_futures=True)

    def raw(self, addresses: Iterable[str], from_block: int, to_block: int | None = None,
            topics: Sequence[TopicFilter] = ()) -> list[dict[str, Any]]:
        """Every raw log of ``[from_block, to_block]`` (None: the head, resolved first), in bounded requests."""
        end = self.head() if to_block is None else to_block
        out: list[dict[str, Any]] = []
        for batch in self.batches(addresses, from_block, end, topics, pin_hashes=False):
            out.extend(batch.logs)
        return out

    def events(self, decoder: EventDecoder, addresses: Iterable[str], from_block: int, to_block: int | None = None,
               topics: Sequence[TopicFilter] = ()) -> list[DecodedLog]:
        """Like :meth:`raw`, decoded (each batch while the next is fetched); logs of unknown events are skipped
        (and counted by the decoder)."""
        end = self.head() if to_block is None else to_block
        return [log for batch in self.batches(addresses, from_block, end, topics, pin_hashes=False)
                for log in decoder.decode_all(batch.logs)]
