"""Every way an order can end on the real contracts verifies, money included: dispute + ruling, refunds, cancel."""

from __future__ import annotations

import pytest

from audit_helpers import names

pytestmark = pytest.mark.integration


def test_disputed_and_resolved_order_verifies(market, auditor, chain, dev_accounts, tmp_path):
    from pynode.ipfs.cid import cid_to_digest

    oid = market.post()
    market.claim_award(oid)
    market.ship(oid)
    evidence = tmp_path / "photo.txt"
    evidence.write_bytes(b"bracket arrived bent\n")
    market.buyer_api.dispute(oid, evidence)
    ruling = cid_to_digest(market.ipfs.add_bytes(b"ruling: 60% to the buyer, partner lost\n"))
    chain.send(dev_accounts["arbitrator"], chain.book.resolve(market.tracker(oid), 6 * 10**16, True, ruling))
    result = auditor.audit(order_ids=[oid])
    assert result.ok, result.failures()
    assert result.orders[0].status == "RESOLVED"
    assert {"evidence.dispute", "evidence.ruling", "party.arbitrator", "timing.dispute", "money.escrow"} <= names(
        result.all_checks)
    assert {d["label"] for d in result.orders[0].documents} >= {"dispute evidence", "ruling"}


def test_refunds_and_cancel_settle_the_escrow(market, auditor, chain, anvil):
    cancelled = market.post()
    market.buyer_api.act("cancel", cancelled)
    abandoned = market.post(delivery=2 * 86400)
    market.claim_award(abandoned)
    anvil.rpc("evm_increaseTime", 3 * 86400)
    anvil.rpc("evm_mine")
    market.buyer_api.act("refund", abandoned)
    result = auditor.audit(order_ids=[cancelled, abandoned])
    assert result.ok, result.failures()
    statuses = {o.order_id: o.status for o in result.orders}
    assert statuses == {cancelled: "CANCELLED", abandoned: "REFUNDED"}
    money = {c.order_id: c.reason for c in result.all_checks if c.name == "money.escrow"}
    assert "escrowed = released + refunded + fees" in money[abandoned]
