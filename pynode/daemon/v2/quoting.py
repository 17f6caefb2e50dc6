"""The node's quotes: the shop's state for the policy, keyed nonces that survive a restart, sign, publish, repeat.

A quote's nonce is keyed by its order: ``(order id mod 2**192) << 64 | n``, where ``n`` counts the quotes
this node signed for that order and is written to the job's row, in one commit with the signed quote, *before*
the quote leaves the node. Orders never share a nonce (their ids differ), and a restart continues the count: a
nonce never goes out in two quotes (a quote signed by a node killed before the commit was never seen by anyone).
A quote lives in the job's row (its document, expiry, nonce) until it expires or the order leaves Open; while it
lives it counts against the shop's free machines (``quotes_open``) and is published again when the buyer announces
the order again (:meth:`Quotes.asked`: pubsub only reaches who listens at the moment, and a buyer announcing is
listening), and every ``REPUBLISH_S`` for listeners that do not announce. The other way, the buyers' order
announcements are queued by :class:`Listener` for the node's cycle.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from eth_account.signers.local import LocalAccount

from pynode.daemon.steps import brief
from pynode.daemon.store import Job, JobState, Store
from pynode.documents.order_announcement import OrderAnnouncement
from pynode.documents.quote import SignedQuote, parse_signed_quote, sign_quote
from pynode.orders.quote_channel import QuoteChannel
from pynode.orders.quote_policy import Quoted, ShopState, cert_ids
from pynode.protocol.v2.types import OrderSpec

REPUBLISH_S = 30.0  # a quote still open is published again this often (and whenever its order is announced)
PASS_S = 5.0  # how often the open quotes are looked at for that (each pass reads and decodes the quoted jobs)
ASKED_GAP_S = 1.0  # a quote answers announcements of its order at most this often
_KEY_MASK = (1 << 192) - 1


def quote_nonce(order_id: int, n: int) -> int:
    """The ``n``-th (from 1) quote nonce of this node for ``order_id``."""
    return (order_id & _KEY_MASK) << 64 | n


def live_quote(job: Job, now: int) -> dict[str, Any] | None:
    """The job's signed quote if it is still open at chain time ``now``."""
    quote = job.order.get("quote")
    return quote if isinstance(quote, dict) and job.state is JobState.SEEN and int(quote["expiry"]) >= now \
        else None


def open_quotes(store: Store, now: int) -> int:
    """How many jobs hold a quote open at ``now`` (``Acts.quote_now``): :func:`live_quote`'s rule (a SEEN job whose kept
    quote's expiry is ``now`` or later), counted by the store (a quote decision asks it; decoding every job's
    row for it cost a busy node most of its quoting time)."""
    return store.count([JobState.SEEN], at_least=("$.quote.expiry", now))


def shop_state(me: str, info: Any, certifications: Mapping[int, int], store: Store, busy: Iterable[JobState],
               max_jobs: int, capacity: int | None, now: int) -> ShopState:
    """What the quote policy knows of the shop: its registry entry (``PartnerInfoV2``; an unvetted profile
    quotes nothing), the jobs in flight and the quotes still open (counted by the store)."""
    vetted = bool(info.vetted) and not info.suspended
    return ShopState(partner=me, processes=info.capabilities if vetted else 0,
                     materials=info.materials if vetted else 0, certifications=dict(certifications),
                     jobs_in_flight=store.count(busy), max_jobs=max_jobs, free_bond=info.free_bond,
                     capacity=capacity, quotes_open=open_quotes(store, now))


def certifications_of(spec: OrderSpec, expiry: Callable[[int], int]) -> dict[int, int]:
    """The expiry of each certification the order requires (``expiry``: the registry's view for one id)."""
    return {cert: expiry(cert) for cert in cert_ids(spec.cert_ids)}


class Quotes:
    """Signs, keeps and publishes the node's quotes on one deployment's channel."""

    def __init__(self, account: LocalAccount, channel: QuoteChannel, store: Store,
                 log: Callable[..., None]) -> None:
        self.account = account
        self.channel = channel
        self.store = store
        self.log = log
        self._published: dict[int, float] = {}  # job key -> when its quote last went out
        self._signed: dict[int, SignedQuote] = {}  # job key -> its open quote, parsed (published again as is)
        self._passed = float("-inf")  # when the open quotes were last looked at

    def next_nonce(self, job: Job) -> int:
        return quote_nonce(int(job.order["order_id"]), int(job.order.get("quotes_signed", 0)) + 1)

    def issue(self, job: Job, quoted: Quoted) -> SignedQuote:
        """Signs the quote, keeps it with the nonce's use (one commit), then publishes it."""
        n = int(job.order.get("quotes_signed", 0)) + 1
        quote = quoted.quote._replace(nonce=quote_nonce(int(job.order["order_id"]), n))
        signed = sign_quote(self.account, self.channel.domain, quote)
        kept = {"document": signed.to_json().decode(), "expiry": quote.expiry, "nonce": str(quote.nonce),
                "price": str(quote.price), "lead_time": quote.lead_time}
        self.store.upsert_job(job.order_id, JobState.SEEN, {**job.order, "quotes_signed": n, "quote": kept})
        self.publish(job.order_id, signed)
        self.log("quote_signed", order_id=job.order["order_id"], price=str(quote.price), bond=str(quote.bond),
                 lead_time=quote.lead_time, expiry=quote.expiry, nonce=str(quote.nonce), cost=str(quoted.cost),
                 machine_s=quoted.machine_s)
        return signed

    def publish(self, order_id: int, signed: SignedQuote) -> None:
        self.channel.publish_quote(signed)
        self._published[order_id] = time.monotonic()
        self._signed[order_id] = signed

    def _again(self, job: Job, quote: dict[str, Any]) -> None:
        signed = self._signed.get(job.order_id) or parse_signed_quote(quote["document"])  # parsed after a restart
        self.publish(job.order_id, signed)

    def asked(self, job: Job, now: int) -> bool:
        """The buyer announced the order again: the job's open quote goes out again (at most every
        ``ASKED_GAP_S``); True if it did."""
        quote = live_quote(job, now)
        if quote is None or time.monotonic() - self._published.get(job.order_id, float("-inf")) < ASKED_GAP_S:
            return False
        self._again(job, quote)
        return True

    def pass_due(self) -> bool:
        """Whether :meth:`republish` has anything to look at yet (it runs every ``PASS_S``)."""
        return time.monotonic() - self._passed >= PASS_S

    def republish(self, jobs: Iterable[Job], now: int) -> int:
        """Publishes again every open quote last sent ``REPUBLISH_S`` ago or more; returns how many."""
        self._passed, sent = time.monotonic(), 0
        for job in jobs:
            quote = live_quote(job, now)
            if quote is None:
                self._published.pop(job.order_id, None)
                self._signed.pop(job.order_id, None)
                continue
            if time.monotonic() - self._published.get(job.order_id, 0.0) >= REPUBLISH_S:
                self._again(job, quote)
                sent += 1
        return sent


class Listener:
    """The order announcements heard on the channel, queued by a thread of their own (the stream blocks) until
    the cycle drains them; a stream that ended is opened again by the next cycle."""

    def __init__(self, channel: QuoteChannel, log: Any, limit: int = 10_000) -> None:
        self.channel = channel
        self.log = log
        self.heard: queue.Queue[OrderAnnouncement] = queue.Queue(maxsize=limit)
        self._thread: threading.Thread | None = None

    def keep_listening(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._listen, name="announcements", daemon=True)
            self._thread.start()

    def _listen(self) -> None:
        try:
            for announcement in self.channel.announcements():
                try:
                    self.heard.put_nowait(announcement)
                except queue.Full:
                    self.log.warning("announcement_dropped", order_id=str(announcement.order_id))
        except Exception as exc:  # noqa: BLE001 - the channel sorted it already: only what ends the stream gets here
            self.log.warning("announcements_ended", error=brief(exc))

    def drain(self) -> list[OrderAnnouncement]:
        drained = []
        while True:
            try:
                drained.append(self.heard.get_nowait())
            except queue.Empty:
                return drained
