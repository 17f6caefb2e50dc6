"""The auditor against real orders on anvil + Kubo: an honest order verifies, each kind of tampering is named."""

from __future__ import annotations

import pytest

from audit_helpers import names

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


def test_logs_are_fetched_in_bounded_ranges(market, chain, ipfs):
    from pynode.audit.ipfs_evidence import IpfsEvidence
    from pynode.audit.verify import Auditor

    first = market.full_order(inspector_sig=False)
    second = market.full_order(inspector_sig=False)
    small = Auditor(chain, IpfsEvidence(ipfs, timeout=5), batch_size=3, confirmations=0)
    result = small.audit()
    assert result.ok, result.failures()
    assert {first, second} <= {o.order_id for o in result.orders}
    blocks = small.head() - chain.from_block + 1
    assert small.reader.requests >= blocks // 3  # one eth_getLogs per 3 blocks at most
    partner = small.audit(partner=market.maker.address)
    assert {o.order_id for o in partner.orders} == {o.order_id for o in result.orders}
