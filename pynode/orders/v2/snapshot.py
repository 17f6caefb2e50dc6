"""The book's parameters an order's terms copy (rejectWindow, disputeTimeout, feeBps: the snapshot), and the one
the last post from this home found, kept in the home dir.

Governance changes them rarely, and a post read all three every time (three eth_calls a metered provider bills).
The record is only a starting point: the book refuses terms whose snapshot is not its current one
(SnapshotMismatch) in the post's simulation, before anything is signed or escrowed, and the post then reads the
parameters and goes again (orders/v2/buyer.py BuyerV2.post). Only for escrow-first posts: a quote-first draft's
terms are signed by a partner, so they are read fresh.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pynode.core.fsutil import write_atomic

if TYPE_CHECKING:
    from pynode.chain.v2.book import OrderBookV2
    from pynode.protocol.v2.types import OrderTerms


class Snapshot(NamedTuple):
    reject_window: int
    dispute_timeout: int
    fee_bps: int

    @classmethod
    def of(cls, terms: OrderTerms) -> Snapshot:
        return cls(terms.reject_window, terms.dispute_timeout, terms.fee_bps)


def read_snapshot(book: OrderBookV2) -> Snapshot:
    return Snapshot(book.reject_window(), book.dispute_timeout(), book.fee_bps())


class SnapshotRecord:
    def __init__(self, home: Path, chain_id: int, book: str) -> None:
        self.path = home / "chains" / f"{chain_id}-{book.lower()}-snapshot.json"

    def load(self) -> Snapshot | None:
        try:
            data = json.loads(self.path.read_text())
            found = Snapshot(*(data[k] for k in Snapshot._fields))
        except (OSError, ValueError, TypeError, KeyError):
            return None  # none yet, or torn: read from the book by this post
        return found if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in found) else None

    def save(self, snapshot: Snapshot) -> None:
        write_atomic(self.path, json.dumps(snapshot._asdict()), mode=0o644)
