"""The off-chain quote channel: signed quotes (daemons → buyer watchers) and order announcements (buyer
watchers → daemons) on pubsub topics of one deployment, with no server of ours in between.

Topics are ``fabmesh/v2/<chain id>/<book, lowercase hex>/quotes`` and ``…/orders``, so one deployment's
traffic never reaches another's subscribers. Receiving is strict, and every drop is counted by reason
and logged: a message must parse with its document's reader; a quote must name this deployment's domain,
be unexpired and be signed by its partner (ECDSA recovery: an ERC-1271 partner's quote travels as a file).
A quote is remembered by its EIP-712 digest only once verified (a forged copy arriving first cannot shadow
the real one), an announcement by its fields; both memories are bounded (least recently seen goes first).
The exact bytes of what was delivered are remembered too, so a repeat (what publishers send most) is dropped
before it is parsed or its signature recovered.

Pubsub is best effort: what is published while a subscriber is reconnecting never reaches it, so a
publisher repeats what is still open (a repeat is dropped as a duplicate). A subscription that Kubo cuts
(restart, outage) is resubscribed with backoff; IPFS unavailable is transient, anything else ends the
iteration with its error.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import NamedTuple, TypeVar

from pynode.core.backoff import Backoff
from pynode.core.errors import InputError, Kind, classify
from pynode.core.stop import StopEvent, Stopping
from pynode.core.strict_json import brief
from pynode.documents.order_announcement import OrderAnnouncement, parse_order_announcement
from pynode.documents.quote import SignedQuote, parse_signed_quote
from pynode.ipfs.pubsub import Pubsub, PubsubMessage, Subscription
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import eip712

T = TypeVar("T")
MAX_SEEN = 4096  # digests remembered per kind: far more than the quotes open at once on one book


class VerifiedQuote(NamedTuple):
    signed: SignedQuote
    digest: bytes  # EIP-712 digest under the deployment's domain
    peer: str  # the libp2p peer that published it (Kubo's 'from'); who the partner is, only the signature says


def topics(chain_id: int, book: str) -> tuple[str, str]:
    """The (quotes, orders) topic names of a deployment."""
    base = f"fabmesh/v2/{chain_id}/{book.lower()}"
    return f"{base}/quotes", f"{base}/orders"


class SeenSet:
    """A bounded memory of keys: :meth:`add` says whether a key is new; past ``limit`` the oldest is forgotten."""

    def __init__(self, limit: int = MAX_SEEN) -> None:
        self.limit = limit
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def add(self, key: Hashable) -> bool:
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self.limit:
            self._keys.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._keys)


class QuoteChannel:
    """One deployment's channel over a :class:`~pynode.ipfs.pubsub.Pubsub` (Kubo's, in production).

    ``stats`` counts what was delivered, dropped as a duplicate, dropped as invalid (by reason) and how
    often a subscription was reopened. :meth:`close` (any thread) ends every iteration.
    """

    def __init__(self, pubsub: Pubsub, domain: Domain, *, clock: Callable[[], float] = time.time,
                 max_seen: int = MAX_SEEN, backoff: Backoff | None = None,
                 log: Callable[..., None] | None = None) -> None:
        self.pubsub = pubsub
        self.domain = domain
        self.quotes_topic, self.orders_topic = topics(domain.chain_id, domain.verifying_contract)
        self.stats: Counter[str] = Counter()
        self._clock = clock
        self._seen_quotes = SeenSet(max_seen)
        self._seen_orders = SeenSet(max_seen)
        self._seen_bytes = SeenSet(max_seen)  # of delivered messages only: a forgery never shadows its original
        self._backoff = backoff or Backoff(base_s=0.1, cap_s=2.0)  # a local Kubo restarts in seconds
        self._log = log or (lambda *a, **k: None)
        self._stop = StopEvent()
        self._open: set[Subscription] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ publishing

    def publish_quote(self, signed: SignedQuote) -> bytes:
        """Publishes a quote signed under this deployment's domain; returns its digest."""
        if (signed.chain_id, signed.order_book) != (self.domain.chain_id, self.domain.verifying_contract):
            raise InputError(f"signed quote is for chain {signed.chain_id} / {signed.order_book}, the channel "
                             f"for chain {self.domain.chain_id} / {self.domain.verifying_contract}")
        self.pubsub.publish(self.quotes_topic, signed.to_json())
        return eip712.digest(self.domain, signed.quote)

    def announce(self, announcement: OrderAnnouncement) -> None:
        if (announcement.chain_id, announcement.order_book) != (self.domain.chain_id, self.domain.verifying_contract):
            raise InputError("order announcement is for another deployment than the channel's")
        self.pubsub.publish(self.orders_topic, announcement.to_json())

    # ------------------------------------------------------------------ receiving (pure decisions)

    def accept_quote(self, data: bytes, peer: str = "") -> VerifiedQuote | None:
        """The verified quote in ``data``, or None (dropped, counted and logged) if invalid or seen before."""
        if self._repeated(data):
            return None
        try:
            signed = parse_signed_quote(data)
        except InputError as exc:
            self._drop("quote", "malformed", peer, str(exc))
            return None
        if (signed.chain_id, signed.order_book) != (self.domain.chain_id, self.domain.verifying_contract):
            self._drop("quote", "other_deployment", peer, f"chain {signed.chain_id} / {signed.order_book}")
            return None
        digest = eip712.digest(self.domain, signed.quote)
        if digest in self._seen_quotes:
            self._seen_quotes.add(digest)  # refreshes it: a quote still being repeated stays remembered
            self.stats["duplicate"] += 1
            return None
        try:
            signer = signed.recover_signer(self.domain)
        except InputError as exc:
            self._drop("quote", "bad_signature", peer, str(exc))
            return None
        if signer != signed.quote.partner:
            self._drop("quote", "bad_signature", peer, f"signed by {signer}, not the partner")
            return None
        if signed.quote.expiry < self._clock():
            self._drop("quote", "expired", peer, f"expired at {signed.quote.expiry}")
            return None
        self._seen_quotes.add(digest)
        self._delivered(data)
        return VerifiedQuote(signed, digest, peer)

    def accept_announcement(self, data: bytes, peer: str = "") -> OrderAnnouncement | None:
        if self._repeated(data):
            return None
        try:
            announcement = parse_order_announcement(data)
        except InputError as exc:
            self._drop("order", "malformed", peer, str(exc))
            return None
        if (announcement.chain_id, announcement.order_book) != (self.domain.chain_id,
                                                                self.domain.verifying_contract):
            self._drop("order", "other_deployment", peer, f"chain {announcement.chain_id}")
            return None
        if not self._seen_orders.add(announcement):
            self.stats["duplicate"] += 1
            return None
        self._delivered(data)
        return announcement

    def _repeated(self, data: bytes) -> bool:
        """Whether ``data`` is byte for byte a message delivered before (counted as a duplicate)."""
        if data in self._seen_bytes:
            self._seen_bytes.add(data)  # refreshes it, as a repeat refreshes the parsed memories
            self.stats["duplicate"] += 1
            return True
        return False

    def _delivered(self, data: bytes) -> None:
        self._seen_bytes.add(bytes(data))
        self.stats["delivered"] += 1

    def _drop(self, kind: str, reason: str, peer: str, detail: str) -> None:
        self.stats[f"invalid_{reason}"] += 1
        self._log(f"{kind}_dropped", reason=reason, peer=peer, error=brief(detail, 200))

    # ------------------------------------------------------------------ receiving (the streams)

    def quotes(self) -> Iterator[VerifiedQuote]:
        """Verified quotes as they arrive, until :meth:`close`."""
        return self._stream(self.quotes_topic, self.accept_quote)

    def announcements(self) -> Iterator[OrderAnnouncement]:
        return self._stream(self.orders_topic, self.accept_announcement)

    def _stream(self, topic: str, accept: Callable[[bytes, str], T | None]) -> Iterator[T]:
        attempt = 0
        while not self._stop.is_set():
            try:
                with self._subscription(topic) as subscription:
                    attempt = 0
                    message: PubsubMessage
                    for message in subscription:
                        accepted = accept(message.data, message.sender)
                        if accepted is not None:
                            yield accepted
            except Exception as exc:  # sorted by type: transient resubscribes, the rest ends the stream
                if self._stop.is_set():
                    return
                if classify(exc) is not Kind.TRANSIENT:
                    raise
                wait = self._backoff.delay(attempt)
                attempt += 1
                self.stats["reconnects"] += 1
                self._log("pubsub_resubscribe", topic=topic, error=brief(str(exc), 200), retry_in_s=round(wait, 2))
                try:
                    self._stop.pause(wait, "resubscribing")
                except Stopping:
                    return

    @contextmanager
    def _subscription(self, topic: str) -> Iterator[Subscription]:
        """An open subscription that :meth:`close` (any thread) can cut, closed on the way out."""
        subscription = self.pubsub.subscribe(topic)
        with self._lock:
            self._open.add(subscription)
            if self._stop.is_set():  # closed while it was subscribing
                subscription.close()
        try:
            yield subscription
        finally:
            with self._lock:
                self._open.discard(subscription)
            subscription.close()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            for subscription in list(self._open):
                subscription.close()

