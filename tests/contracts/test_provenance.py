"""Provenance: an auditor rebuilds every order's hash chain from eth_getLogs alone and compares it with the
stored commitment; serial batches are Merkle roots in the chain; tampering with any log is detected."""

import pytest
from brownie import web3
from eth_abi import encode
from eth_utils import event_abi_to_log_topic, keccak

from conftest import DAY, cid
from pynode.chain.orders import ORDER_EVENTS, OrderTracker, order_hash
from pynode.protocol.types import RecordKind, Status


def fetch_order_events(book):
    """(name, args, log) for every order event of `book`, in chain order, from eth_getLogs only."""
    contract = web3.eth.contract(address=book.address, abi=book.abi)
    by_topic = {
        event_abi_to_log_topic(abi): abi["name"]
        for abi in book.abi
        if abi["type"] == "event" and abi["name"] in ORDER_EVENTS
    }
    events = []
    for log in web3.eth.get_logs({"address": book.address, "fromBlock": 0, "toBlock": "latest"}):
        name = by_topic.get(bytes(log["topics"][0]))
        if name:
            events.append((name, contract.events[name]().process_log(log)["args"], log))
    return events


def audit(book, events):
    """Folds logs per order; returns {orderId: OrderTracker}. Raises if a prevHead does not chain."""
    trackers = {}
    for name, args, _ in events:
        order_id = args["orderId"]
        tracker = trackers.setdefault(order_id, OrderTracker(order_id))
        tracker.apply(name, args)
    return trackers


def merkle_root(leaves):
    """OpenZeppelin MerkleProof-compatible root: sorted-pair keccak over keccak'd leaves."""
    level = sorted(keccak(encode(["bytes32"], [keccak(leaf)])) for leaf in leaves)
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            pair = level[i:i + 2]
            nxt.append(keccak(b"".join(sorted(pair))) if len(pair) == 2 else pair[0])
        level = nxt
    return level[0]


@pytest.fixture
def busy_book(book, orders, maker, maker2, inspector, arbitrator, buyer, stranger, makers, chain):
    """Several orders interleaved through every kind of record."""
    a = orders.to_status(Status.IN_PRODUCTION, maker)
    b = orders.to_status(Status.CLAIMED, maker2)
    orders.call(a, "recordSerials", merkle_root([b"SN-0001", b"SN-0002", b"SN-0003"]), sender=maker)
    orders.call(a, "attest", cid("qa"), cid("qa-sha"), False, sender=maker)
    orders.award(b)
    orders.ship(a)
    orders.call(a, "attest", cid("inspection"), cid("inspection-sha"), True, sender=inspector)
    orders.dispute(a)
    orders.call(a, "resolve", 10**16, True, cid("ruling"), sender=arbitrator)
    orders.ship(b)
    orders.confirm(b)
    orders.call(b, "withdrawPayment", sender=maker2)
    c = orders.post()
    orders.call(c, "cancel", sender=buyer)
    d = orders.post()
    chain.sleep(DAY + 1)
    orders.call(d, "refund", sender=stranger)
    return {t.order_id: t for t in (a, b, c, d)}


def test_audit_rebuilds_every_chain_from_logs_and_matches_storage(book, busy_book):
    trackers = audit(book, fetch_order_events(book))
    assert set(trackers) == set(busy_book)
    for order_id, tracker in trackers.items():
        assert book.orderHash(order_id) == "0x" + order_hash(tracker.order).hex()
        assert tracker.order == busy_book[order_id].order
    statuses = {oid: t.status for oid, t in trackers.items()}
    assert sorted(statuses.values()) == sorted([Status.RESOLVED, Status.PAID, Status.CANCELLED, Status.REFUNDED])


def test_audit_records_carry_kinds_actors_and_times(book, busy_book, maker, inspector, arbitrator):
    trackers = audit(book, fetch_order_events(book))
    first = trackers[min(trackers)]
    kinds = [r.kind for r in first.records]
    assert kinds == [RecordKind.POSTED, RecordKind.CLAIMED, RecordKind.AWARDED, RecordKind.PRODUCTION_STARTED,
                     RecordKind.SERIALS_RECORDED, RecordKind.QUALITY_ATTESTED, RecordKind.SHIPPED,
                     RecordKind.QUALITY_ATTESTED, RecordKind.DISPUTED, RecordKind.RESOLVED]
    actors = {r.kind: r.actor for r in first.records}
    assert actors[RecordKind.CLAIMED] == maker and actors[RecordKind.RESOLVED] == arbitrator
    assert first.records[7].actor == inspector
    times = [r.time for r in first.records]
    assert times == sorted(times)
    claim_deadline, delivery_deadline = first.terms.claim_deadline, first.terms.delivery_deadline
    assert times[1] <= claim_deadline and times[6] <= delivery_deadline


def test_audit_serials_root_is_in_the_chain(book, busy_book):
    trackers = audit(book, fetch_order_events(book))
    first = trackers[min(trackers)]
    serials = [r for r in first.records if r.kind == RecordKind.SERIALS_RECORDED]
    assert serials[0].evidence == merkle_root([b"SN-0001", b"SN-0002", b"SN-0003"])


def test_audit_detects_tampered_evidence(book, busy_book):
    events = fetch_order_events(book)
    index = next(i for i, (name, _, _) in enumerate(events) if name == "OrderShipped")
    name, args, log = events[index]
    forged = dict(args)
    forged["reportHash"] = cid("forged")
    events[index] = (name, forged, log)
    with pytest.raises(ValueError, match="prevHead"):
        audit(book, events)  # the next record of that order no longer chains


def test_audit_detects_dropped_record(book, busy_book):
    events = fetch_order_events(book)
    order_id = events[-1][1]["orderId"]
    # drop the last record of one order: its chain is valid but falls short of the stored commitment
    trimmed = events[:-1]
    trackers = audit(book, trimmed)
    assert book.orderHash(order_id) != "0x" + order_hash(trackers[order_id].order).hex()
