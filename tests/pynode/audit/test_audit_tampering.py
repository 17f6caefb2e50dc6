"""Each kind of tampering is detected and named by the check that catches it.

Real on-chain situations on anvil + Kubo, except the dropped log, which is an
input-level test: the verifier takes the logs as input, and one record is removed.
"""

from __future__ import annotations

import pytest

from audit_helpers import BrokenBook, names, now
from pynode.ipfs.cid import cid_to_digest

pytestmark = pytest.mark.integration


def failed(result, name: str) -> list:
    return [c for c in result.failures() if c.name == name]


def test_report_whose_content_no_longer_matches_its_hash(market, auditor):
    oid = market.post()
    market.claim_award(oid)
    original = market.report(oid)
    edited = market.report(oid, length=10.09)  # same order, different measurement: a different document
    market.chain.send(market.maker, market.chain.book.attest(market.tracker(oid), edited.digest, original.sha256,
                                                             True))
    result = auditor.audit(order_ids=[oid])
    assert not result.ok
    (bad,) = failed(result, "evidence.quality_report")
    assert "content no longer matches its hash" in bad.reason and edited.cid in bad.reason


def test_provenance_record_missing_from_the_logs(market, auditor):
    oid = market.full_order(inspector_sig=False)
    logs = auditor.logs()
    assert auditor.audit(order_ids=[oid], logs=logs).ok
    attested = next(i for i, log in enumerate(logs) if log.event == "QualityAttested" and log.args["orderId"] == oid)
    result = auditor.audit(order_ids=[oid], logs=logs[:attested] + logs[attested + 1:])
    (bad,) = failed(result, "provenance.records")
    assert "OrderShipped" in bad.reason and "missing from the logs" in bad.reason
    # dropping the newest record leaves a consistent prefix that no longer reaches the on-chain head
    last = max(i for i, log in enumerate(logs) if log.event in ("PaymentWithdrawn",) and log.args["orderId"] == oid)
    result = auditor.audit(order_ids=[oid], logs=logs[:last] + logs[last + 1:])
    (bad,) = failed(result, "provenance.head")
    assert "orderHash" in bad.reason


def test_attestation_after_the_certification_expired(chain, ipfs, dev_accounts, tmp_path, anvil, auditor):
    from audit_helpers import Market

    market = Market(chain, ipfs, dev_accounts, tmp_path, cert_expiry=now(chain) + 2 * 86400)
    oid = market.post()
    market.claim_award(oid)  # certified at the claim block
    anvil.rpc("evm_increaseTime", 3 * 86400)
    anvil.rpc("evm_mine")
    market.attest(oid)  # the partner attests after its ISO 9001 expired
    result = auditor.audit(order_ids=[oid])
    assert "party.claimant" in names(result.all_checks, ok=True)
    (bad,) = failed(result, "attestation.authority")
    assert "certification 1 expired" in bad.reason


def test_inspector_role_is_judged_at_the_attestation_block(market, auditor, chain, dev_accounts):
    oid = market.post()
    market.claim_award(oid)
    market.attest(oid, who=market.inspector)
    inspector_role = chain.book.role("INSPECTOR_ROLE")
    chain.send(dev_accounts["admin"], chain.book.request("revoke", "revokeRole", inspector_role,
                                                        market.inspector.address))
    result = auditor.audit(order_ids=[oid])
    assert result.ok, result.failures()  # it held the role when it attested; losing it later changes nothing


@pytest.fixture
def broken(chain, settings, dev_accounts, tmp_path):
    return BrokenBook(chain, settings, dev_accounts["admin"], tmp_path)


def _broken_domain(broken):
    """BrokenOrderBook has no eip712Domain(): the domain it would have, were it the OrderBook."""
    from pynode.protocol.eip712 import Domain

    return Domain("fabmesh OrderBook", "1", broken.chain.chain_id, broken.address)


def _broken_auditor(broken, ipfs):
    from pynode.audit.ipfs_evidence import IpfsEvidence
    from pynode.audit.verify import Auditor

    return Auditor(broken.chain, IpfsEvidence(ipfs, timeout=5), confirmations=0, domain=_broken_domain(broken))


def _posted_on_broken(broken, market, oid: int = 1, price: int = 10**17, bond: int = 10**16):
    """An order on the broken book that reuses a real order's documents (so evidence fetches succeed)."""
    real = market.tracker(market.post())
    terms = real.terms._replace(price=price, claim_bond=bond)
    broken.emit("OrderPosted", orderId=oid, buyer=market.buyer.address, reservedFor=real.spec.reserved_for,
                terms=terms, spec=real.spec, docs=real.docs)
    broken.emit("OrderClaimed", orderId=oid, partner=market.maker.address)
    broken.emit("OrderAwarded", orderId=oid, buyer=market.buyer.address, partner=market.maker.address,
                keyEnvelopeCid=cid_to_digest(market.ipfs.add_bytes(b"{}")))  # fetchable (not an envelope)
    return oid


def test_attestation_by_an_account_without_the_role(broken, market, ipfs, dev_accounts):
    oid = _posted_on_broken(broken, market)
    stranger = dev_accounts["stranger"]
    report = market.report(oid)
    tracker = broken.trackers[oid]
    broken.chain.send(stranger, broken.chain.book.attest(tracker, report.digest, report.sha256, True))
    result = _broken_auditor(broken, ipfs).audit(order_ids=[oid])
    (bad,) = failed(result, "attestation.authority")
    assert stranger.address in bad.reason and "INSPECTOR_ROLE" in bad.reason
    assert "attestation.signature" in names(result.all_checks, ok=True)  # it did sign its own transaction


def test_forged_eip712_signature(broken, market, ipfs, dev_accounts):
    from eth_account import Account

    from pynode.protocol.eip712 import attestation_message

    oid = _posted_on_broken(broken, market)
    inspector, forger = dev_accounts["inspector"], dev_accounts["stranger"]
    broken.transact("setRole", broken.chain.book.role("INSPECTOR_ROLE"), inspector.address, True)
    report = market.report(oid)
    att = (oid, inspector.address, report.digest, report.sha256, True, 0, now(broken.chain) + 3600)
    forged = Account.sign_message(attestation_message(_broken_domain(broken), att), forger.key)
    broken.chain.send(market.maker, broken.chain.book.attest_by_sig(broken.trackers[oid], att, forged.signature))
    result = _broken_auditor(broken, ipfs).audit(order_ids=[oid])
    (bad,) = failed(result, "attestation.signature")
    assert "forged EIP-712 signature" in bad.reason and forger.address in bad.reason
    assert "attestation.authority" in names(result.all_checks, ok=True)
    assert "provenance.head" in names(result.all_checks, ok=True)


def test_order_paid_out_more_than_escrowed(broken, market, ipfs):
    price, bond = 10**17, 10**16
    oid = _posted_on_broken(broken, market, price=price, bond=bond)
    report = market.report(oid)
    broken.emit("OrderShipped", orderId=oid, partner=market.maker.address, reportCid=report.digest,
                reportHash=report.sha256)
    broken.emit("OrderConfirmed", orderId=oid, buyer=market.buyer.address)
    broken.emit("PaymentWithdrawn", orderId=oid, partner=market.maker.address, amount=2 * price, bond=bond)
    result = _broken_auditor(broken, ipfs).audit(order_ids=[oid])
    assert result.orders[0].status == "PAID"
    assert "provenance.head" in names(result.all_checks, ok=True)
    (bad,) = failed(result, "money.escrow")
    # escrowed price + bond, paid out 2 price + bond
    assert "paid out more than escrowed (escrowed 0.11 ETH, paid out 0.21 ETH)" in bad.reason


def test_shipment_after_the_delivery_deadline(market, auditor, anvil):
    oid = market.post(delivery=2 * 86400)
    market.claim_award(oid)
    anvil.rpc("evm_increaseTime", 3 * 86400)
    anvil.rpc("evm_mine")
    market.ship(oid)  # the contract allows a late shipment until someone takes the refund
    result = auditor.audit(order_ids=[oid])
    (bad,) = failed(result, "timing.shipment")
    assert "after the delivery deadline" in bad.reason
    assert {c.name for c in result.failures()} == {"timing.shipment"}
