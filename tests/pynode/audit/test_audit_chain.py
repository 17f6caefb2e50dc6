"""The auditor against real orders on anvil + Kubo: an honest order verifies, each kind of tampering is named."""

from __future__ import annotations

import pytest

from audit_helpers import names, now

pytestmark = pytest.mark.integration


def test_honest_order_verifies_every_check(market, auditor):
    oid = market.full_order()
    result = auditor.audit(order_ids=[oid])
    assert result.ok, [c for c in result.failures()]
    got = names(result.all_checks)
    assert {"provenance.records", "provenance.head", "evidence.spec", "evidence.design", "evidence.key_envelope",
            "evidence.quality_report", "party.claimant", "attestation.signature", "attestation.authority",
            "timing.claim", "timing.award", "timing.shipment", "money.escrow"} <= got
    (order,) = result.orders
    assert order.status == "PAID"
    assert [e["event"] for e in order.timeline][:3] == ["OrderPosted", "OrderClaimed", "OrderAwarded"]
