"""OrderWatcherV2's other paths, in process on a real anvil and Kubo (quotes handed in as the channel would:
really signed, verified by digest): a quote whose nonce the shop cancelled after quoting fails its award check,
is excluded and the next best is awarded; a reputation floor rejects every quote with its reason and the order
waits; a give-up cancels; a lying shipped report is refused once and not retried; an award not shipped by its
due date is refunded; a restarted watcher picks up its journaled award instead of sealing another."""

from __future__ import annotations

import time

import pytest

from harness import RecordingLog
from pynode.orders.award_policy import AwardSettings
from pynode.orders.quote_channel import VerifiedQuote
from pynode.orders.v2.send_journal import SendJournal
from pynode.orders.v2.settings import WatchLoopSettings
from pynode.orders.v2.watch import OrderWatcherV2
from pynode.protocol.v2 import eip712
from pynode.protocol.v2.types import OrderStatus
from v2_parties import cli_buyer_v2, ship, v2_chain, vetted_shop

pytestmark = pytest.mark.integration

NO_WINDOW = AwardSettings(wait_s=0, award_margin_s=5)


@pytest.fixture
def world(anvil, kubo, dev_accounts, v2_deployments_dir, tmp_path):
    chain = v2_chain(anvil, kubo, v2_deployments_dir, tmp_path / "home")
    shops = [vetted_shop(chain, anvil, dev_accounts["certifier"]) for _ in range(2)]
    return chain, shops, cli_buyer_v2(chain, anvil, kubo.api_url, tmp_path)


def watcher(party, award: AwardSettings = NO_WINDOW, journal: SendJournal | None = None,
            **loop) -> tuple[OrderWatcherV2, RecordingLog]:
    log = RecordingLog()
    return OrderWatcherV2(party.buyer, party.keypair, award, WatchLoopSettings(**loop), None, log=log.info,
                          journal=journal), log


def settle(watch: OrderWatcherV2, cycles: int = 10) -> None:
    """Cycles until no transaction of the watcher is in flight (sends are pipelined: a cycle sends, a later one
    sees the receipt; automine puts each in a block of its own)."""
    watch.cycle()
    for _ in range(cycles):
        if not watch.sends:
            return
        watch.cycle()
    raise AssertionError(f"still in flight: {watch.sends.pending()}")


def hand_in(watch: OrderWatcherV2, chain, signed) -> None:
    watch.receive(VerifiedQuote(signed, eip712.digest(chain.book.domain(), signed.quote), "test"))


def status(chain, order_id: int) -> OrderStatus:
    return chain.book.load_order(order_id, chain.from_block).status


def test_a_quote_cancelled_after_quoting_is_excluded_and_the_next_best_awarded(world):
    chain, (cheap, dear), party = world
    posted = party.buyer.post(party.prepare("cancelled-nonce"))
    watch, log = watcher(party)
    hand_in(watch, chain, cheap.quote(chain, posted.order.terms, 5 * 10**16, nonce=3))
    hand_in(watch, chain, dear.quote(chain, posted.order.terms, 6 * 10**16))
    chain.send(cheap.account, chain.book.invalidate_quote_nonces(0, 1 << 3))
    watch.cycle()
    assert [e["partner"] for e in log.named("award_failed")] == [cheap.address]
    assert "cancelled" in log.named("award_failed")[0]["error"] and status(chain, posted.order_id) == OrderStatus.OPEN
    settle(watch)
    assert watch.stats.awarded == {posted.order_id: dear.address}
    assert chain.book.load_order(posted.order_id, chain.from_block).partner == dear.address


def test_a_reputation_floor_rejects_new_partners_with_its_reason_and_the_order_waits(world):
    chain, (first, second), party = world
    posted = party.buyer.post(party.prepare("floor"))
    watch, log = watcher(party, AwardSettings(wait_s=0, award_margin_s=5, min_completed=1))
    for shop in (first, second):
        hand_in(watch, chain, shop.quote(chain, posted.order.terms, 5 * 10**16))
    watch.cycle()
    watch.cycle()  # told once
    rejected = log.named("quote_rejected")
    assert sorted((e["partner"], e["reason"]) for e in rejected) == sorted(
        (shop.address, "too few completed") for shop in (first, second))
    assert all("0 completed, fewer than 1" in e["detail"] for e in rejected)
    assert log.named("award_waiting") and status(chain, posted.order_id) == OrderStatus.OPEN


def test_an_order_no_award_can_reach_in_time_is_given_up_and_cancelled_or_kept(world):
    chain, _, party = world
    kept = party.buyer.post(party.prepare("kept", award_deadline=chain.now() + 20))
    watch, log = watcher(party, AwardSettings(award_margin_s=30), on_give_up="keep")
    watch.cycle()
    assert [e["reason"] for e in log.named("award_given_up")] == ["award deadline passed"]
    assert status(chain, kept.order_id) == OrderStatus.OPEN

    cancelled = party.buyer.post(party.prepare("cancelled", award_deadline=chain.now() + 20))
    credited = chain.book.credits(party.buyer.account.address)
    watch, log = watcher(party, AwardSettings(award_margin_s=30))
    settle(watch)
    assert sorted(watch.stats.cancelled) == sorted([kept.order_id, cancelled.order_id])  # the kept one too, now
    assert status(chain, cancelled.order_id) == OrderStatus.CANCELLED
    assert chain.book.credits(party.buyer.account.address) - credited == 2 * cancelled.order.terms.price


def test_a_lying_report_is_refused_once_and_an_unshipped_award_refunded(world, anvil):
    chain, (shop, _), party = world
    lied = party.buyer.post(party.prepare("lied"))
    late = party.buyer.post(party.prepare("late"))
    for posted, lead in ((lied, 86_400), (late, 2)):
        tracker = chain.book.load_order(posted.order_id, chain.from_block)
        party.buyer.award(tracker, shop.quote(chain, posted.order.terms, 5 * 10**16, lead_time=lead), party.keypair)
    ship(chain, party, shop, chain.book.load_order(lied.order_id, chain.from_block), order_id=12345)
    time.sleep(3)
    anvil.rpc("evm_mine")

    watch, log = watcher(party, auto_confirm=True)
    settle(watch)
    watch.cycle()
    refused = log.named("confirm_refused")
    assert [e["order_id"] for e in refused] == [lied.order_id]  # once: left to the buyer to dispute
    assert status(chain, lied.order_id) == OrderStatus.SHIPPED
    assert watch.stats.refunded == [late.order_id] and status(chain, late.order_id) == OrderStatus.REFUNDED


def test_a_restarted_watcher_picks_up_its_journaled_award_instead_of_sealing_another(world, anvil, tmp_path):
    """Killed with its award in a pool, the watcher finds the journal's row on its next start: it waits for that
    award's receipt and awards nothing else, though a cheaper quote has arrived since."""
    chain, (shop, cheaper), party = world
    posted = party.buyer.post(party.prepare("pending"))
    path = tmp_path / "sends.sqlite"
    first, _ = watcher(party, journal=SendJournal(path))
    hand_in(first, chain, shop.quote(chain, posted.order.terms, 6 * 10**16))
    anvil.rpc("evm_setAutomine", False)
    try:
        first.cycle()
        assert [f.action for f in first.sends.pending()] == ["award"]  # sent, not mined
        # the process dies here: the next one starts from the same journal
        again, _ = watcher(party, journal=SendJournal(path))
        hand_in(again, chain, cheaper.quote(chain, posted.order.terms, 5 * 10**16))
        again.cycle()
        assert again.stats.sent == {} and [f.action for f in again.sends.pending()] == ["award"]
    finally:
        anvil.rpc("evm_setAutomine", True)
    anvil.rpc("evm_mine")
    settle(again)
    assert again.stats.awarded == {posted.order_id: shop.address} and again.stats.sent == {}
    assert status(chain, posted.order_id) == OrderStatus.AWARDED
    assert again.journal.counts() == {"award mined": 1}
