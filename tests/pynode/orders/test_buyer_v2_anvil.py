"""BuyerV2 on a real anvil and Kubo (pynode/orders/v2/buyer.py): quote-first with a real envelope, every bad quote
refused before anything is sealed or spent, a shipped report checked before the escrow is released, a dispute
with the arbitrator's fee, cancel and refund; errors are one line and nothing escrowed is lost."""

from __future__ import annotations

import time

import pytest

from pynode.chain.tx import TxReverted
from pynode.core.errors import InputError
from pynode.crypto.envelope import OrderContext
from pynode.documents.quote import SignedQuote
from pynode.ipfs.cid import cid_to_digest
from pynode.orders.v2.buyer import QuoteRefused, ReportRefused
from pynode.orders.v2.snapshot import Snapshot, SnapshotRecord, read_snapshot
from pynode.protocol.v2 import eip712
from pynode.protocol.v2.types import OrderStatus
from v2_parties import DAY, cli_buyer_v2, ship, v2_chain, vetted_shop

pytestmark = pytest.mark.integration

PRICE = 10**17


@pytest.fixture
def parties(anvil, kubo, dev_accounts, v2_deployments_dir, tmp_path):
    chain = v2_chain(anvil, kubo, v2_deployments_dir, tmp_path / "home")
    shop = vetted_shop(chain, anvil, dev_accounts["certifier"])
    return chain, shop, cli_buyer_v2(chain, anvil, kubo.api_url, tmp_path)


def balance(chain, address: str) -> int:
    return chain.w3.eth.get_balance(address)


def awarded_to(chain, party, shop, price: int):
    posted = party.buyer.post(party.prepare(f"order-{time.monotonic_ns()}"))
    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    party.buyer.award(tracker, shop.quote(chain, posted.order.terms, price), party.keypair)
    return chain.book.load_order(posted.order_id, chain.from_block)


def test_quote_first_posts_the_order_awarded_with_an_envelope_the_partner_opens(parties):
    chain, shop, party = parties
    prepared = party.prepare("quote-first")
    before = balance(chain, party.buyer.account.address)
    posted = party.buyer.post_awarded(prepared, shop.quote(chain, prepared.terms, 6 * 10**16), party.keypair)
    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    assert (tracker.status, tracker.partner, tracker.price) == (OrderStatus.AWARDED, shop.address, 6 * 10**16)
    assert before - balance(chain, party.buyer.account.address) >= PRICE  # escrowed
    assert posted.envelope_cid is not None and cid_to_digest(posted.envelope_cid) == tracker.key_envelope_cid
    context = OrderContext(chain_id=chain.chain_id, contract=chain.book.address, order_id=posted.order_id,
                           recipient=shop.address, design_sha256=bytes(tracker.docs.design_sha256))
    key = party.buyer.vault.content_key_from_envelope(posted.envelope_cid, shop.keypair, context)
    assert key == prepared.design.content_key


def test_a_stale_snapshot_is_refused_before_anything_is_spent_and_the_post_goes_again_with_the_books(parties):
    chain, _shop, party = parties
    current = read_snapshot(chain.book)
    stale = current._replace(fee_bps=current.fee_bps + 1)  # a record older than a governance change
    prepared = party.prepare("stale-snapshot", snapshot=stale)
    before = balance(chain, party.buyer.account.address)
    posted = party.buyer.post(prepared)
    assert Snapshot.of(posted.order.terms) == current and posted.order_id != prepared.order_id
    assert posted.order.spec == prepared.spec and posted.order.docs == prepared.docs  # nothing sealed again
    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    assert tracker.status == OrderStatus.OPEN and tracker.terms == posted.order.terms
    assert PRICE <= before - balance(chain, party.buyer.account.address) < 2 * PRICE  # escrowed once


def test_the_snapshot_record_is_a_cache_a_torn_file_is_none(tmp_path):
    record = SnapshotRecord(tmp_path, 31337, "0x" + "Ab" * 20)
    assert record.load() is None
    record.save(Snapshot(2 * DAY, 30 * DAY, 25))
    assert SnapshotRecord(tmp_path, 31337, "0x" + "ab" * 20).load() == (2 * DAY, 30 * DAY, 25)
    assert SnapshotRecord(tmp_path, 1, "0x" + "ab" * 20).load() is None  # another chain's book
    for torn in ("", "{", "[]", '{"reject_window": 1}', '{"reject_window": -1, "dispute_timeout": 1, "fee_bps": 1}',
                 '{"reject_window": true, "dispute_timeout": 1, "fee_bps": 1}'):
        record.path.write_text(torn)
        assert record.load() is None


def test_bad_quotes_are_refused_before_anything_is_sealed_or_spent(parties, anvil, dev_accounts):
    chain, shop, party = parties
    buyer = party.buyer
    posted = buyer.post(party.prepare("refusals"))
    other = party.prepare("other-terms")
    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    terms, good = posted.order.terms, shop.quote(chain, posted.order.terms, 5 * 10**16, nonce=7)
    forged = SignedQuote(good.chain_id, good.order_book, good.quote._replace(price=10**16), good.signature)
    stranger = vetted_shop(chain, anvil, dev_accounts["certifier"], vet=False)
    refusals = {
        "signed by": forged,
        "wrong order": shop.quote(chain, other.terms, 5 * 10**16),
        "price out of range": shop.quote(chain, terms, PRICE + 1),
        "expired": shop.quote(chain, terms, 5 * 10**16, expiry=chain.now() - 1),
        "late": shop.quote(chain, terms, 5 * 10**16, lead_time=30 * DAY),
        "bond unavailable": shop.quote(chain, terms, 5 * 10**16, bond=10**21),
        "not awardable": stranger.quote(chain, terms, 5 * 10**16),
    }
    spent = balance(chain, buyer.account.address)
    for expected, signed in refusals.items():
        with pytest.raises(QuoteRefused, match=expected) as refused:
            buyer.award(tracker, signed, party.keypair)
        assert "\n" not in str(refused.value) and refused.value.reason in (expected, "bad signature")
    with pytest.raises(InputError, match="wrong order"):  # quote-first: nothing posted, nothing escrowed
        buyer.post_awarded(other, good, party.keypair)
    assert chain.book.order_hash(other.order_id) == bytes(32)
    # the shop cancels nonce 7: the buyer sees it before sealing anything
    chain.send(shop.account, chain.book.invalidate_quote_nonces(7 >> 8, 1 << (7 & 255)))
    with pytest.raises(InputError, match="cancelled"):
        buyer.award(tracker, good, party.keypair)
    assert balance(chain, buyer.account.address) == spent  # no transaction was sent
    assert chain.book.load_order(posted.order_id, chain.from_block).status == OrderStatus.OPEN
    assert eip712.recover(chain.book.domain(), good.quote, good.signature) == shop.address


def test_confirm_checks_the_shipped_report_before_releasing_the_escrow(parties):
    chain, shop, party = parties
    lied = ship(chain, party, shop, awarded_to(chain, party, shop, 8 * 10**16), order_id=12345)
    with pytest.raises(ReportRefused, match="order_id 12345"):
        party.buyer.confirm(lied)
    assert chain.book.load_order(lied.order_id, chain.from_block).status == OrderStatus.SHIPPED

    shipped = ship(chain, party, shop, awarded_to(chain, party, shop, 8 * 10**16))
    credited = chain.book.credits(shop.address)
    party.buyer.confirm(shipped)
    assert chain.book.load_order(shipped.order_id, chain.from_block).status == OrderStatus.COMPLETED
    paid = chain.book.credits(shop.address) - credited
    assert paid in (0, 8 * 10**16 - shipped.fee)  # pushed to the payee, or credited when the push is refused
    with pytest.raises(InputError, match="not SHIPPED"):
        party.buyer.confirm(chain.book.load_order(shipped.order_id, chain.from_block))


def test_a_dispute_deposits_the_arbitrators_fee_with_pinned_evidence(parties, tmp_path):
    chain, shop, party = parties
    shipped = ship(chain, party, shop, awarded_to(chain, party, shop, 7 * 10**16))
    with pytest.raises(InputError, match="cannot read evidence"):
        party.buyer.dispute(shipped, tmp_path / "missing.pdf")
    evidence = tmp_path / "photos.txt"
    evidence.write_text("bore is 10.4 mm\n")
    _, evidence_cid, fee = party.buyer.dispute(shipped, evidence)
    tracker = chain.book.load_order(shipped.order_id, chain.from_block)
    assert tracker.status == OrderStatus.DISPUTED
    assert fee == chain.arbitrator(tracker.terms.arbitrator).arbitration_cost() > 0
    assert chain.book.arbitration(tracker.order_id).buyer_fee == fee
    assert party.buyer.vault.ipfs.cat_bytes(evidence_cid, max_size=1024) == evidence.read_bytes()


def test_cancel_credits_the_escrow_back_and_refund_waits_for_the_award_deadline(parties, anvil):
    chain, _, party = parties
    buyer = party.buyer
    posted = buyer.post(party.prepare("cancelled"))
    credited = chain.book.credits(buyer.account.address)
    buyer.cancel(chain.book.load_order(posted.order_id, chain.from_block))
    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    assert tracker.status == OrderStatus.CANCELLED
    assert chain.book.credits(buyer.account.address) - credited == PRICE
    with pytest.raises(InputError, match="only an OPEN order"):
        buyer.cancel(tracker)

    late = buyer.post(party.prepare("refunded", award_deadline=chain.now() + 3))
    open_ = chain.book.load_order(late.order_id, chain.from_block)
    with pytest.raises(TxReverted, match="NotYetRefundable"):  # the simulation's revert, decoded: nothing sent
        buyer.refund(open_)
    time.sleep(4)
    anvil.rpc("evm_mine")
    buyer.refund(open_)
    assert chain.book.load_order(late.order_id, chain.from_block).status == OrderStatus.REFUNDED
