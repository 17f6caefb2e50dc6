"""The v2 order tracker folds the book's events into the Order the book commits to: the protocol vectors' order
(docs/vectors/v2.json: posted, awarded, serials, a failed attestation, shipped) rebuilt from synthetic logs
hashes to the vector's order hash and record head; every later path hashes to the Order codec builds by hand;
forged and missing logs are caught."""

from __future__ import annotations

from typing import Any

import pytest
from v2_logs import (
    BUYER,
    ENVELOPE,
    INSPECTOR,
    LINKS,
    ORDER_ID,
    PARTNER,
    QUOTE_HASH,
    RECORDS,
    REPORT,
    REPORT_PASSED,
    STRANGER,
    V2,
    Chain,
    awarded,
    b,
    fold,
    posted,
    recorded,
    vector_logs,
)

from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.v2.orders import ZERO32, OrderTracker
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import Order, OrderStatus, RecordKind, Transition


def test_the_vector_order_rebuilds_from_its_logs_to_its_hash_and_record_head() -> None:
    t = fold(vector_logs(Chain()))
    assert t.genesis == b(V2["transition_chain"]["genesis"])
    assert codec.order_hash(t.order) == b(V2["order"]["hash"])
    assert t.record_head == b(RECORDS[-1]["head"])
    assert [(x.kind, x.actor, x.evidence, x.time) for x in t.transitions] == [
        (x["kind"], x["actor"], b(x["evidence"]), x["time"]) for x in LINKS]
    assert [x.kind for x in t.records] == [RecordKind.SERIALS_RECORDED, RecordKind.QUALITY_ATTESTED]
    state = V2["state"]["value"]
    assert (t.status, t.buyer, t.partner, t.payee, t.price, t.bond, t.due_by) == (
        OrderStatus.SHIPPED, BUYER, PARTNER, state["payee"], state["price"], state["bond"], state["due_by"])
    assert t.shipped_at == LINKS[2]["time"] and t.awarded_at == LINKS[1]["time"]
    assert t.inspection_closes == LINKS[2]["time"] + t.terms.inspection_window
    assert t.fee == state["price"] * t.terms.fee_bps // 10_000
    assert (t.key_envelope_cid, t.quote_hash, t.report) == (ENVELOPE, QUOTE_HASH, REPORT)
    assert [(a.inspector, a.passed) for a in t.attestations] == [(INSPECTOR, REPORT_PASSED)]
    assert t.spec.inspectors == (INSPECTOR,) and not t.terminal


def expected(t: OrderTracker, kind: Transition, actor: str, evidence: bytes, time: int, **state: Any) -> bytes:
    """The order hash after one more link, built from codec alone."""
    head = codec.link(t.state.head, kind, actor, evidence, time)
    return codec.order_hash(Order(t.terms, t.state._replace(head=head, **state)))


def test_confirmation_and_the_later_fee_collection_fold_by_hand() -> None:
    chain = Chain()
    t = fold(vector_logs(chain))
    # the award's price difference, an earlier credit a second scan of the credits hands over after the completion
    difference = chain.log("Credited", account=BUYER, token="0x" + "00" * 20, orderId=ORDER_ID, amount=10**16)
    done = chain.log("OrderCompleted", orderId=ORDER_ID, kind=Transition.CONFIRMED)
    want = expected(t, Transition.CONFIRMED, BUYER, ZERO32, 1_800_300_000, status=OrderStatus.COMPLETED)
    # a payee that refused the push is credited in the completion's transaction: not a fee collection
    refused = chain.log("Credited", done.tx_hash, account=PARTNER, token="0x" + "00" * 20, orderId=ORDER_ID,
                        amount=5)
    for log in (done, refused, difference):
        assert not t.needs_sender(log)
        t.apply(log, 1_800_300_000)
    assert codec.order_hash(t.order) == want and t.status == OrderStatus.COMPLETED and t.terminal
    fee = chain.log("Credited", account=STRANGER, token="0x" + "00" * 20, orderId=ORDER_ID, amount=t.fee)
    assert t.needs_sender(fee)
    want = expected(t, Transition.FEE_COLLECTED, STRANGER, t.fee.to_bytes(32, "big"), 1_800_400_000,
                    status=OrderStatus.FEE_COLLECTED)
    t.apply(fee, 1_800_400_000, STRANGER)
    assert codec.order_hash(t.order) == want


def test_a_dispute_settled_folds_the_split_and_the_arbitration_record() -> None:
    chain = Chain()
    t = fold(vector_logs(chain))
    evidence = b"\x0e" * 32
    disputed = chain.log("OrderDisputed", orderId=ORDER_ID, arbitrator=t.terms.arbitrator, evidenceCid=evidence,
                         fee=10**17)
    want = expected(t, Transition.DISPUTED, BUYER, evidence, 1_800_250_000, status=OrderStatus.DISPUTED,
                    stamp=1_800_250_000)
    t.apply(disputed, 1_800_250_000)
    assert codec.order_hash(t.order) == want
    assert (t.disputed_at, t.dispute_expires) == (1_800_250_000, 1_800_250_000 + t.terms.dispute_timeout)
    paid = codec.link(t.record_head, RecordKind.ARBITRATION_FEE_PAID, PARTNER, (10**17).to_bytes(32, "big"),
                      1_800_260_000)
    fee_record = chain.log("Recorded", orderId=ORDER_ID, kind=RecordKind.ARBITRATION_FEE_PAID, actor=PARTNER,
                           evidence=(10**17).to_bytes(32, "big"), head=paid)
    created = chain.log("ArbitrationCreated", fee_record.tx_hash, orderId=ORDER_ID, arbitrator=t.terms.arbitrator,
                        disputeId=7)
    t.apply(fee_record, 1_800_260_000)
    t.apply(created, 1_800_260_000)
    assert (t.record_head, t.dispute_id) == (paid, 7)
    split = (3 * 10**16, 6 * 10**16 - 6 * 10**14, 6 * 10**14, False)
    resolved = chain.log("OrderResolved", orderId=ORDER_ID, kind=Transition.SETTLED, toBuyer=split[0],
                         toPayee=split[1], fee=split[2], bondToBuyer=split[3])
    want = expected(t, Transition.SETTLED, PARTNER, codec.split_evidence(*split), 1_800_270_000,
                    status=OrderStatus.RESOLVED)
    t.apply(resolved, 1_800_270_000, PARTNER)
    assert codec.order_hash(t.order) == want and t.resolution == split


def test_a_quote_first_order_has_no_posted_link() -> None:
    chain = Chain()
    first = posted(chain)
    t = fold([(first, 1_799_900_000), (awarded(chain, first.tx_hash), 1_799_900_000)])
    evidence = codec.award_evidence(codec.terms_hash(t.terms), QUOTE_HASH, ENVELOPE)
    assert [x.kind for x in t.transitions] == [Transition.AWARDED]
    assert t.head == codec.link(t.genesis, Transition.AWARDED, BUYER, evidence, 1_799_900_000)
    assert t.state.stamp == 1_799_900_000 and t.reject_window_closes == 1_799_900_000 + t.terms.reject_window


def test_a_post_and_award_batched_in_one_transaction_keeps_its_posted_link() -> None:
    """A contract buyer (a Safe batch) posting and awarding in one transaction: born_awarded=False folds the
    escrow-first chain (what load_order tries when the quote-first reading does not match)."""
    chain = Chain()
    first = posted(chain)
    items = [(first, 1_799_900_000), (awarded(chain, first.tx_hash), 1_799_900_000)]
    quote_first = fold(items)
    t = OrderTracker(ORDER_ID, quote_first.genesis, born_awarded=False)
    for log, time in items:
        t.apply(log, time)
    assert quote_first.awarded_with_post and t.awarded_with_post
    assert [x.kind for x in t.transitions] == [Transition.POSTED, Transition.AWARDED]
    posted_head = codec.link(t.genesis, Transition.POSTED, BUYER, codec.terms_hash(t.terms), 1_799_900_000)
    evidence = codec.award_evidence(codec.terms_hash(t.terms), QUOTE_HASH, ENVELOPE)
    assert t.head == codec.link(posted_head, Transition.AWARDED, BUYER, evidence, 1_799_900_000) != quote_first.head


def test_timed_out_refunds_and_cancellations_fold() -> None:
    chain = Chain()
    t = fold([(posted(chain), 1)])
    assert t.partner is None and t.payee is None and t.price == t.terms.price
    refund = chain.log("OrderRefunded", orderId=ORDER_ID, reason=0)
    assert t.needs_sender(refund)
    want = expected(t, Transition.REFUNDED, STRANGER, ZERO32, 2, status=OrderStatus.REFUNDED)
    t.apply(refund, 2, STRANGER)
    assert codec.order_hash(t.order) == want
    t = fold([(posted(Chain()), 1)])
    want = expected(t, Transition.CANCELLED, BUYER, ZERO32, 3, status=OrderStatus.CANCELLED)
    t.apply(Chain().log("OrderCancelled", orderId=ORDER_ID), 3)
    assert codec.order_hash(t.order) == want


def test_a_forged_report_folds_to_another_order_hash() -> None:
    """What load_order compares: a shipment log whose report was changed does not give the stored hash."""
    t = fold(vector_logs(Chain(), report=(REPORT[0], b"\x01" * 32)))
    assert codec.order_hash(t.order) != b(V2["order"]["hash"])


def test_a_missing_award_is_out_of_sync() -> None:
    chain = Chain()
    items = vector_logs(chain)
    del items[1]  # the OrderAwarded log
    with pytest.raises(OrderOutOfSync, match="while OPEN"):
        fold(items)


def test_a_forged_record_head_is_out_of_sync() -> None:
    chain = Chain()
    items = vector_logs(chain)
    items[2] = (recorded(chain, RECORDS[0], head=b"\x02" * 32), RECORDS[0]["time"])
    with pytest.raises(OrderOutOfSync, match="record chain"):
        fold(items)


def test_an_attestation_without_its_record_is_out_of_sync() -> None:
    chain = Chain()
    items = vector_logs(chain)
    del items[3]  # the attestation's Recorded link
    with pytest.raises(OrderOutOfSync, match="QualityAttested"):
        fold(items)


def test_logs_before_the_post_and_foreign_terms_are_out_of_sync() -> None:
    chain = Chain()
    with pytest.raises(OrderOutOfSync, match="before its OrderPosted"):
        fold([(awarded(chain), 1)])
    data = bytearray(b(V2["order_posted"]["posted"]))
    data[40] ^= 1  # another price: terms of another order id
    with pytest.raises(OrderOutOfSync, match="another order id"):
        fold([(posted(chain, data=bytes(data)), 1)])
    with pytest.raises(OrderOutOfSync, match="second OrderPosted"):
        fold([(posted(chain), 1), (posted(chain), 2)])


def test_a_link_by_anyone_needs_its_sender() -> None:
    chain = Chain()
    t = fold(vector_logs(chain))
    with pytest.raises(ValueError, match="sender"):
        t.apply(chain.log("OrderCompleted", orderId=ORDER_ID, kind=Transition.FINALIZED), 1_800_600_000)
