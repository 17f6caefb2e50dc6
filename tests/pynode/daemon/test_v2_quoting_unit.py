"""The v2 node's shop state for the quote policy (pynode.daemon.v2.quoting.shop_state), counted by the store: the
jobs in flight and the open quotes, held to live_quote's rule over jobs in every state; and a quote kept with its
nonce before it goes out. Without sockets."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from eth_account import Account

from pynode.chain.v2.orders import ZERO_ADDRESS
from pynode.core.errors import IpfsUnavailable
from pynode.daemon.store import JobState, Store
from pynode.daemon.v2.decide import BUSY_STATES
from pynode.daemon.v2.quoting import Quotes, live_quote, open_quotes, quote_nonce, shop_state
from pynode.documents.quote import SignedQuote
from pynode.orders.quote_policy import Quoted
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2.types import Quote

NOW = 1_000_000
ME = "0x" + "11" * 20
PARTNER = Account.from_key(b"\x05" * 32)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "node.sqlite") as opened:
        yield opened


def quote(expiry: int | str) -> dict:
    return {"document": "{}", "expiry": expiry, "nonce": "1", "price": "10", "lead_time": 60}


def fill(store: Store) -> None:
    """A job in every state, with and without a kept quote, expiring before, at and after NOW."""
    key = 0
    for state in JobState:
        for kept in (None, quote(NOW - 1), quote(NOW), quote(NOW + 30), "not a dict"):
            key += 1
            order = {"order_id": str(key)} if kept is None else {"order_id": str(key), "quote": kept}
            store.upsert_job(key, state, order)


def test_open_quotes_counts_what_live_quote_calls_open(store: Store) -> None:
    fill(store)
    for now in (NOW - 2, NOW - 1, NOW, NOW + 30, NOW + 31):
        expected = sum(live_quote(job, now) is not None for job in store.jobs())
        assert open_quotes(store, now) == expected
    assert open_quotes(store, NOW) == 2  # the SEEN jobs whose quote expires at NOW or later


def test_shop_state_counts_the_busy_jobs_and_the_open_quotes(store: Store) -> None:
    fill(store)
    info = SimpleNamespace(vetted=True, suspended=False, capabilities=3, materials=5, free_bond=7)
    shop = shop_state(ME, info, {9: NOW + 1}, store, BUSY_STATES, 20, 4, NOW)
    busy = sum(job.state in BUSY_STATES for job in store.active_jobs())
    assert (shop.jobs_in_flight, shop.quotes_open) == (busy, 2) and busy == 5 * len(BUSY_STATES)
    assert (shop.processes, shop.materials, shop.free_bond, shop.max_jobs, shop.capacity) == (3, 5, 7, 20, 4)
    suspended = shop_state(ME, SimpleNamespace(**{**vars(info), "suspended": True}), {}, store, BUSY_STATES, 20,
                           None, NOW)
    assert (suspended.processes, suspended.materials) == (0, 0)  # a suspended profile quotes nothing


class Channel:
    """Stands in for the quote channel: records what would have gone out, or fails like a Kubo that is away."""

    def __init__(self, fail: bool = False) -> None:
        self.domain = Domain("fabmesh OrderBook", "2", 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
        self.fail = fail
        self.sent: list[SignedQuote] = []

    def publish_quote(self, signed: SignedQuote) -> None:
        if self.fail:
            raise IpfsUnavailable("the IPFS API did not answer (pubsub/pub)")
        self.sent.append(signed)


ORDER_ID = 7 << 100 | 5  # a v2 id wider than the store's key
QUOTED = Quoted(Quote(b"\x01" * 32, PARTNER.address, PARTNER.address, 10**15, 0, 600, NOW + 600, 0), ZERO_ADDRESS,
                10**14, 60)


def test_a_quote_goes_out_only_after_its_nonce_and_itself_are_kept_in_one_commit(store: Store) -> None:
    channel = Channel()
    quotes = Quotes(PARTNER, channel, store, lambda *a, **k: None)  # type: ignore[arg-type]  # recording stand-in
    job = store.upsert_job(5, JobState.SEEN, {"order_id": str(ORDER_ID)})
    before = store._db.total_changes
    signed = quotes.issue(job, QUOTED)
    row = store.get_job(5)
    assert row is not None and store._db.total_changes == before + 1  # one row write: one commit
    assert row.order["quotes_signed"] == 1 and channel.sent == [signed]
    assert int(row.order["quote"]["nonce"]) == signed.quote.nonce == quote_nonce(ORDER_ID, 1)
    assert live_quote(row, NOW) is not None and signed.quote.nonce == quotes.next_nonce(job)
    assert quotes.issue(row, QUOTED).quote.nonce == quote_nonce(ORDER_ID, 2)  # the next one counts on


def test_a_quote_whose_publish_fails_has_its_nonce_kept_so_a_retry_signs_the_next(store: Store) -> None:
    failing = Channel(fail=True)
    quotes = Quotes(PARTNER, failing, store, lambda *a, **k: None)  # type: ignore[arg-type]  # recording stand-in
    job = store.upsert_job(5, JobState.SEEN, {"order_id": str(ORDER_ID)})
    with pytest.raises(IpfsUnavailable):
        quotes.issue(job, QUOTED)
    row = store.get_job(5)
    assert row is not None and row.order["quotes_signed"] == 1  # the nonce may have gone out: never signed again
    assert quotes.next_nonce(row) == quote_nonce(ORDER_ID, 2)
