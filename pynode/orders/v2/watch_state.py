"""What the v2 watcher decides besides the award policy, pure (no chain, no IPFS, no clock): where a quote off
the channel goes, which rejections are news, when an order is announced again, and what a status calls for.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from enum import Enum

from pynode.orders.award_policy import Rejection
from pynode.orders.quote_channel import MAX_SEEN, VerifiedQuote
from pynode.orders.v2.settings import WatchLoopSettings
from pynode.protocol.v2.types import OrderStatus, Quote


class QuoteInbox:
    """Verified quotes by the terms hash they name, in arrival order. The channel carries every buyer's quotes, and
    one may arrive before its order is seen on chain, so any terms hash is kept; past ``limit`` quotes the oldest
    go first. A quote whose award reverted is ``exclude``d: the policy then picks the next."""

    def __init__(self, limit: int = MAX_SEEN) -> None:
        self.limit = limit
        self._quotes: OrderedDict[bytes, VerifiedQuote] = OrderedDict()  # digest -> quote, oldest first
        self._excluded: set[bytes] = set()

    def add(self, verified: VerifiedQuote) -> bool:
        if verified.digest in self._quotes:
            return False
        self._quotes[verified.digest] = verified
        if len(self._quotes) > self.limit:
            self._excluded.discard(self._quotes.popitem(last=False)[0])
        return True

    def for_terms(self, terms_hash: bytes) -> dict[Quote, VerifiedQuote]:
        """The quotes naming ``terms_hash``, not excluded, in arrival order, each by its Quote."""
        return {v.signed.quote: v for digest, v in self._quotes.items()
                if v.signed.quote.terms_hash == terms_hash and digest not in self._excluded}

    def exclude(self, digest: bytes) -> None:
        if digest in self._quotes:
            self._excluded.add(digest)

    def forget(self, terms_hash: bytes) -> None:
        """A settled order's quotes are of no further use."""
        for digest in [d for d, v in self._quotes.items() if v.signed.quote.terms_hash == terms_hash]:
            del self._quotes[digest]
            self._excluded.discard(digest)

    def __len__(self) -> int:
        return len(self._quotes)


class RejectionMemory:
    """Which (order, quote, reason) were logged already: each rejection is told once, and again if its reason
    changes (an expired quote first outbid, say)."""

    def __init__(self) -> None:
        self._told: dict[int, set[tuple[Quote, str]]] = {}

    def fresh(self, order_id: int, rejected: Iterable[Rejection]) -> list[Rejection]:
        told = self._told.setdefault(order_id, set())
        news = [r for r in rejected if (r.quote, r.reason.value) not in told]
        told.update((r.quote, r.reason.value) for r in news)
        return news

    def forget(self, order_id: int) -> None:
        self._told.pop(order_id, None)


class Step(Enum):
    DONE = "done"  # terminal: nothing more to do, ever
    DECIDE = "decide"  # open: the award policy decides
    CONFIRM = "confirm"
    REFUND = "refund"
    NONE = "none"  # nothing to do now


_TERMINAL = {OrderStatus.COMPLETED, OrderStatus.RESOLVED, OrderStatus.REFUNDED, OrderStatus.REJECTED,
             OrderStatus.CANCELLED, OrderStatus.FEE_COLLECTED}


def next_step(settings: WatchLoopSettings, status: OrderStatus, due_by: int, now: int, *,
              confirm_refused: bool = False) -> Step:
    """What the order's status calls for at chain time ``now``: the policy for an open order; a confirmation of
    a shipment (unless its report was refused: that is the buyer's to dispute, not retried); a refund of an
    award its partner did not ship by ``due_by`` (the book refunds only after it)."""
    if status in _TERMINAL:
        return Step.DONE
    if status == OrderStatus.OPEN:
        return Step.DECIDE
    if status == OrderStatus.SHIPPED and settings.auto_confirm and not confirm_refused:
        return Step.CONFIRM
    if status == OrderStatus.AWARDED and settings.refund_late and now > due_by:
        return Step.REFUND
    return Step.NONE


def announce_due(last: float | None, now: float, every_s: float) -> bool:
    """Whether an open order is announced (again): at first sight, then every ``every_s``."""
    return last is None or now - last >= every_s
