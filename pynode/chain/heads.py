"""When to look at the chain again: polls paced by the arrival of new heads.

A metered provider bills every request, and between two blocks nothing a node
reads can change. :class:`BlockClock` learns, from the heads a process sees
anyway (no extra request), when blocks arrive by the local clock, and times the
next poll to land just after the next block is due instead of every few
milliseconds. A late block is looked for again at a fraction of the block time;
a chain whose pace is not known yet is polled at ``unknown_s``.

The clock also notices when the chain it is shown is not the one it saw
before (a parent-hash break, a different block at the same height, a shorter
chain) and tells its listeners (the sender resyncs its locally counted nonce),
at no extra request: only heads read whole carry the hashes it compares.

With pushed heads (chain/newheads.py) the clock is told of each new block as it arrives
(:meth:`BlockClock.pushed`): the head it keeps is no longer current, and a wait paced by it
(:meth:`BlockClock.pause`: a receipt, a confirmation) ends then instead of when the block was due.
Without push it never hears one, and every wait is the stop event's own, as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hexbytes import HexBytes

from pynode.chain.rpc import request

if TYPE_CHECKING:
    from pynode.chain.jsonrpc import RpcClient
    from pynode.core.stop import StopEvent

MARGIN = 0.1  # of a block time: poll this long after a block is due (its propagation, our clock's skew)
LATE = 0.125  # of a block time: how often a late block is looked for
SMOOTHING = 0.3  # weight of a new block-time sample
UNKNOWN_POLL_S = 0.5  # before two heads were seen
MAX_POLL_S = 2.0  # never longer between polls (a chain whose blocks come on demand has no pace)
STOP_CHECK_S = 0.1  # a wait a push may end looks at the stop event this often (it cannot wait on both)


class BlockClock:
    """The heads one connection has seen and when (shared by its waits: one process, one pace)."""

    def __init__(self, *, min_s: float = 0.05, max_s: float = MAX_POLL_S, unknown_s: float = UNKNOWN_POLL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.min_s = min_s
        self.max_s = max(max_s, min_s)
        self.unknown_s = unknown_s
        self._clock = clock
        self._lock = threading.Lock()
        self.head: int | None = None
        self.seen_at = 0.0  # when ``head`` was first seen
        self.block_s: float | None = None
        self.block: Mapping[str, Any] | None = None  # the head block itself, when it was read whole
        self._linked: Mapping[str, Any] | None = None  # the newest head block read whole (for the parent link)
        #: every head block from this height to ``_linked`` was read whole, each the child of the one before
        self.chained_since: int | None = None
        self.reorgs = 0  # breaks noticed
        #: someone asks whether heads were seen linked (:meth:`chained`): every head is then read whole
        self.links_read = False
        self.on_reorg: list[Callable[[], None]] = []  # told of every break (outside the lock)
        self._news = threading.Condition(self._lock)  # a pushed head: waits paced by this clock end
        self.pushes = 0  # heads pushed to this clock (0: no push, every wait the stop event's own)
        self._stale = False  # a head was pushed since ``block`` was read: it is not the head any more

    def saw(self, head: int, block: Mapping[str, Any] | None = None) -> bool:
        """Notes a head read from the chain (``block``: the head block, if read whole); True if it is new
        (a different height than the last one)."""
        now = self._clock()
        with self._lock:
            broke = self._breaks(head, block)
            chain_s = _chain_pace(self._linked, block, head)
            if block is not None and "hash" in block:
                if broke or not self._continues(block):
                    self.chained_since = head
                self._linked = block
            self._stale = False
            if head == self.head and not broke:
                self.block = block or self.block
                new = False
            else:
                if self.head is not None and head > self.head:
                    # the chain's own timestamps when two heads read whole show it (the first sighting of a
                    # block can be late), else the local clock between sightings
                    sample = chain_s or (now - self.seen_at) / (head - self.head)
                    self.block_s = sample if self.block_s is None else \
                        (1 - SMOOTHING) * self.block_s + SMOOTHING * sample
                self.head, self.seen_at, self.block = head, now, block
                new = True
        if broke:
            self.reorgs += 1
            for listener in list(self.on_reorg):
                listener()
        return new

    def pushed(self) -> None:
        """A new head was pushed: the one kept is not current, and a paced wait may look now."""
        with self._lock:
            self.pushes += 1
            self._stale = True
            self._news.notify_all()

    def pause(self, stop: StopEvent, seconds: float, doing: str = "waiting") -> None:
        """``stop.pause(seconds, doing)`` that a head pushed since the last head read ends (at once if one was
        pushed before the pause: the block holding a transaction arrives while it is being sent)."""
        with self._lock:
            pushing = self.pushes > 0
        if not pushing:
            stop.pause(seconds, doing)
            return
        deadline = self._clock() + max(0.0, seconds)
        while (left := deadline - self._clock()) > 0:
            with self._news:
                if self._news.wait_for(lambda: self._stale, timeout=min(left, STOP_CHECK_S)):
                    break
            stop.check(doing)
        stop.check(doing)

    def now(self) -> float:
        """The local clock this one runs on (monotonic seconds)."""
        return self._clock()

    def reached(self, number: int) -> None:
        """Notes that the chain is at least ``number`` blocks long (a receipt's block): a newer head if it is
        above the last one, never a step back (a receipt's block is no head). No pace sample: when that
        block arrived is not known (it was found when it was due, which would bias the pace upwards)."""
        with self._lock:
            if self.head is None or number > self.head:
                self.head, self.seen_at, self.block = number, self._clock(), None

    def chained(self, block: Mapping[str, Any]) -> bool:
        """Whether ``block`` (a head read before) and every head since were seen linked parent to child."""
        with self._lock:
            self.links_read = True
            last = self._linked
            return (self.chained_since is not None and last is not None and "hash" in block
                    and self.chained_since <= int(block["number"]) <= int(last["number"])
                    and (int(block["number"]) != int(last["number"])
                         or HexBytes(block["hash"]) == HexBytes(last["hash"])))

    def _continues(self, block: Mapping[str, Any]) -> bool:
        """Whether ``block`` is the last head block again or its child (lock held)."""
        last = self._linked
        if last is None or "hash" not in last:
            return False
        number = int(last["number"])
        if int(block["number"]) == number:
            return HexBytes(block["hash"]) == HexBytes(last["hash"])
        return int(block["number"]) == number + 1 and HexBytes(block["parentHash"]) == HexBytes(last["hash"])

    def _breaks(self, head: int, block: Mapping[str, Any] | None) -> bool:
        """Whether ``head`` (and its block) contradicts the chain seen so far (lock held)."""
        if self.head is not None and head < self.head:
            return True  # shorter than before: blocks we saw are gone
        last = self._linked
        if block is None or last is None or "hash" not in block or "hash" not in last:
            return False
        number = int(last["number"])
        if head == number:
            return HexBytes(block["hash"]) != HexBytes(last["hash"])
        if head == number + 1:
            return HexBytes(block["parentHash"]) != HexBytes(last["hash"])
        return False  # blocks in between not seen: the daemon's stored hashes decide (chain/reorg.py)

    def current_block(self) -> Mapping[str, Any] | None:
        """The head block last read, while no newer block is due yet (it is still the head, or one behind
        at most; before the pace is known, for ``unknown_s``; never longer than ``max_s``, the longest
        time between two polls); None if there is none or it may be older."""
        with self._lock:
            fresh_s = min(self.unknown_s if self.block_s is None else self.block_s, self.max_s)
            if self.block is None or self._stale or self._clock() >= self.seen_at + fresh_s:
                return None
            return self.block

    def block_wait(self) -> float:
        """Seconds one block takes, with the margin, never more than ``max_s`` (a pace learned across a time
        jump, as on a dev chain, would wait days); 0 while the pace is not known."""
        with self._lock:
            return min((self.block_s or 0.0) * (1 + MARGIN), self.max_s)

    def delay(self, floor_s: float | None = None) -> float:
        """Seconds until the next poll is worth it (at least ``floor_s``, or the clock's ``min_s``)."""
        low = self.min_s if floor_s is None else max(floor_s, 0.0)
        with self._lock:
            if self.block_s is None or self.head is None:
                return min(max(low, self.unknown_s), self.max_s)
            wait = self.seen_at + self.block_s * (1 + MARGIN) - self._clock()
            if wait <= 0:  # the block is late: look again soon
                wait = self.block_s * LATE
            return min(max(low, wait), self.max_s)


def head_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A raw ``eth_getBlockByNumber`` answer (read without web3, whose reply formatting costs a polling daemon
    more CPU than the request) with the fields the clock, the fees and the receipt waits read, shaped as web3's
    ``get_block`` gives them: numbers as ints, hashes as HexBytes."""
    block: dict[str, Any] = {"number": int(raw["number"], 16), "hash": HexBytes(raw["hash"]),
                             "parentHash": HexBytes(raw["parentHash"]), "timestamp": int(raw["timestamp"], 16),
                             "transactions": [HexBytes(t) for t in raw.get("transactions", ())]}
    if "baseFeePerGas" in raw:
        block["baseFeePerGas"] = int(raw["baseFeePerGas"], 16)
    return block


def read_head(rpc: RpcClient, clock: BlockClock) -> dict[str, Any]:
    """The head block in one request (:func:`head_fields`), shown to ``clock`` first: a transaction sent after
    takes its base fee from it, and a break in the chain reaches the clock's listeners (the nonces' resync)."""
    block = head_fields(request(rpc, "eth_getBlockByNumber", ["latest", False]))
    clock.saw(block["number"], block)
    return block


def _chain_pace(last: Mapping[str, Any] | None, block: Mapping[str, Any] | None, head: int) -> float | None:
    """Seconds per block by the chain's timestamps between two head blocks, if both carry one and differ."""
    if last is None or block is None or "timestamp" not in last or "timestamp" not in block:
        return None
    blocks = head - int(last["number"])
    seconds = int(block["timestamp"]) - int(last["timestamp"])
    return seconds / blocks if blocks > 0 and seconds > 0 else None
