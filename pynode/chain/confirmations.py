"""Confirmation depth: the blocks the CLI and the daemon may act on.

``confirmations = N`` means a block counts once N blocks are mined on top of it.
Reads that lead to an action are made at the *safe block*, head − N, and a sent
transaction counts as done once N blocks are on top of its block and that block
is still the canonical one at its height. N = 0 acts on the head itself (a dev
chain that mines only when a transaction arrives never puts a block on top).
One default for the CLI and the daemon: :data:`pynode.core.settings.DEFAULT_CONFIRMATIONS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hexbytes import HexBytes

from pynode.chain.heads import BlockClock
from pynode.core.errors import TransientError
from pynode.core.stop import StopEvent

if TYPE_CHECKING:  # a read command imports this module for safe_block; web3 loads with the first wait
    from web3 import Web3
    from web3.types import BlockData


def safe_block(head: int, confirmations: int) -> int:
    """The newest block with ``confirmations`` blocks on top (-1 if the chain is not that long yet)."""
    return head - confirmations


def blocks_on_top(block: int, head: int) -> int:
    return max(head - block, 0)


def is_confirmed(block: int, head: int, confirmations: int) -> bool:
    """Whether something in ``block`` may be acted on at ``head``."""
    return block <= safe_block(head, confirmations)


@dataclass(frozen=True)
class Progress:
    """How far a block (a transaction's, or the newest change to an order) is from confirmation depth."""

    block: int
    head: int
    required: int
    block_time_s: float | None = None
    tx_hash: str | None = None
    order_id: int | None = None  # set when the block holds the newest change to this order

    @property
    def confirmations(self) -> int:
        return min(blocks_on_top(self.block, self.head), self.required)

    @property
    def done(self) -> bool:
        return self.confirmations >= self.required

    @property
    def remaining_s(self) -> float | None:
        if self.block_time_s is None:
            return None
        return (self.required - self.confirmations) * self.block_time_s

    def line(self) -> str:
        if self.done:
            return f"confirmed: {self.confirmations}/{self.required} (block {self.block})"
        eta = "" if self.remaining_s is None else f", ~{self.remaining_s:.0f} s"
        return f"waiting for confirmations: {self.confirmations}/{self.required} (block {self.block}{eta})"

    def fields(self) -> dict[str, Any]:
        """For a JSON log event."""
        eta = None if self.remaining_s is None else round(self.remaining_s, 1)
        return {"block": self.block, "head": self.head, "confirmations": self.confirmations,
                "required": self.required, "eta_s": eta, "tx": self.tx_hash, "order_id": self.order_id}


def block_time(first: tuple[int, int], last: tuple[int, int]) -> float | None:
    """Seconds per block between two (number, timestamp) points by the chain's own clock."""
    (n0, t0), (n1, t1) = first, last
    return (t1 - t0) / (n1 - n0) if n1 > n0 else None


class NotConfirmed(TransientError):
    """A mined transaction did not reach confirmation depth in time (the chain stopped producing blocks?)."""


class ConfirmationWaiter:
    """Waits until a receipt's block has ``confirmations`` blocks on top and is still canonical.

    ``on_progress`` hears every new head (0/N first), so a command can say what it waits for.
    One request per poll (the head block), paced by the connection's :class:`BlockClock` (the head
    the receipt was just found at serves the first look); the receipt's block is compared with the
    head itself or the head's parent link while that covers it, and fetched only at depth (the
    check that decides). A progress line's pace comes from the heads' timestamps, or the clock.
    """

    def __init__(self, w3: Web3, confirmations: int, *, stop: StopEvent | None = None, poll_s: float = 0.1,
                 on_progress: Callable[[Progress], None] | None = None, clock: BlockClock | None = None) -> None:
        self.w3 = w3
        self.confirmations = confirmations
        self.stop = stop or StopEvent()
        self.poll_s = poll_s
        self.on_progress = on_progress
        self.clock = clock or BlockClock(min_s=poll_s)

    def _block(self, number: int) -> BlockData:
        return self.w3.eth.get_block(number)

    def wait(self, receipt: Mapping[str, Any], deadline: float, head: Mapping[str, Any] | None = None) -> bool:
        """True once the receipt is confirmed; False if its block left the canonical chain (look again).

        ``head``: the head block the caller just read (it serves the first look). Raises NotConfirmed at
        ``deadline`` (a ``time.monotonic()`` value).
        """
        number = receipt["blockNumber"]
        tx = HexBytes(receipt["transactionHash"]).to_0x_hex()
        want = HexBytes(receipt["blockHash"])
        if self.confirmations <= 0:
            return True
        seen = None  # the head's hash: a new head at the same height (a reorg) is news too
        first: tuple[int, int] | None = None  # (number, timestamp) of the first head seen: the chain's pace
        progress = Progress(number, number, self.confirmations)
        head_block = head or self.clock.current_block()  # the head the receipt was just found at, if still fresh
        doing = f"waiting for {self.confirmations} confirmations of {tx}"
        if head_block is None and self.clock.head == number:
            # the receipt's block is the newest one known: nothing is on top of it before the next is due
            self.clock.pause(self.stop, self.clock.delay(self.poll_s), doing)
        while True:
            if head_block is None or int(head_block["number"]) < number:
                head_block = self.w3.eth.get_block("latest")
                self.clock.saw(int(head_block["number"]), head_block)
            height = int(head_block["number"])
            if head_block["hash"] != seen:
                seen = head_block["hash"]
                if height < number:
                    return False  # the chain got shorter than the receipt's block: reorged out
                if height == number:
                    held = HexBytes(head_block["hash"])
                elif height == number + 1:
                    held = HexBytes(head_block["parentHash"])
                else:
                    held = None
                progress = Progress(number, height, self.confirmations, None, tx)
                if held is None and progress.done:
                    held = HexBytes(self._block(number)["hash"])  # the check that decides
                if held is not None and held != want:
                    return False  # another block holds that height now: reorged out
                if self.on_progress is not None:
                    # the pace by the chain's clock between heads seen here, else by the local clock: no extra read
                    stamp = (height, int(head_block["timestamp"]))
                    first = first or stamp
                    pace = block_time(first, stamp) or self.clock.block_s
                    progress = Progress(number, height, self.confirmations, pace, tx)
                    self.on_progress(progress)
                if progress.done:
                    return True
            head_block = None
            if time.monotonic() >= deadline:
                raise NotConfirmed(f"transaction {tx} is in block {number} but has {progress.confirmations} of "
                                   f"{self.confirmations} confirmations: the chain is not producing blocks "
                                   "(confirmations = 0 suits a chain that mines on demand)")
            self.clock.pause(self.stop, self.clock.delay(self.poll_s), doing)
