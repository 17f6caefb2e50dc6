"""Unit tests of the pure checks: synthetic logs, in-memory documents, fake chain facts; no sockets."""

from __future__ import annotations

import hashlib

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from factories import DictEvidence
from pynode.audit.checks import (
    ATTEST_BY_SIG_SELECTOR,
    ATTEST_SELECTOR,
    ORDER_TYPE,
    audit_order,
    check_money,
    check_signature,
    check_timing,
    rebuild,
)
from pynode.audit.collect import OrderLogs, group_by_order
from pynode.audit.model import AuditContext
from pynode.chain.events.decoder import DecodedLog
from pynode.chain.orders import OrderTracker, make_docs, make_spec, make_terms, order_hash
from pynode.core.units import format_time
from pynode.protocol.eip712 import ATTESTATION_ABI_TYPE, Domain, attestation_message
from pynode.protocol.types import Status

BOOK = "0x" + "b0" * 20
BUYER = Account.from_key(b"\x01" * 32)
MAKER = Account.from_key(b"\x02" * 32)
INSPECTOR = Account.from_key(b"\x03" * 32)
_BOOK_ADDRESS = Account.from_key(b"\x09" * 32).address
CTX = AuditContext(31337, _BOOK_ADDRESS, 100, Domain("fabmesh OrderBook", "1", 31337, _BOOK_ADDRESS))
T0 = 1_800_000_000


class Facts:
    def __init__(self, roles=(), flags=3, expiry=T0 + 10**6, txs=None):
        self.roles, self.flags, self.expiry, self.txs = set(roles), flags, expiry, txs or {}

    def has_role(self, role, account, block):
        return (role, account) in self.roles

    def partner_flags(self, account, block):
        return self.flags

    def cert_expiry(self, account, cert_id, block):
        return self.expiry

    def transaction(self, tx_hash):
        return self.txs[tx_hash]


class Builder:
    """Order logs with correct prevHeads, as the contract would emit them."""

    def __init__(self, oid=1, price=10**17, bond=10**16):
        self.docs = make_docs(1)
        self.spec = make_spec(self.docs)
        self.terms = make_terms(BUYER.address, self.spec, price=price, claim_bond=bond, claim_deadline=T0 + 86400,
                                delivery_deadline=T0 + 7 * 86400)
        self.oid, self.logs, self.tracker, self.block = oid, [], OrderTracker(oid), 10

    def add(self, event, time, **args):
        args = {"orderId": self.oid, "time": time, **args}
        if event in ("Credited",):
            index = len(self.logs)
            self.logs.append(DecodedLog(event, BOOK, self.block, "0x", f"0x{index:064x}", index, args))
            return self
        if event != "OrderPosted":
            args["prevHead"] = self.tracker.head
        self.tracker.apply(event, args)
        self.block += 1
        self.logs.append(DecodedLog(event, BOOK, self.block, "0x", f"0x{len(self.logs):064x}", len(self.logs), args))
        return self

    def posted(self):
        return self.add("OrderPosted", T0, buyer=BUYER.address, reservedFor=self.spec.reserved_for, terms=self.terms,
                        spec=self.spec, docs=self.docs)

    @property
    def order(self) -> OrderLogs:
        return group_by_order(self.logs)[self.oid]

    @property
    def hash(self) -> bytes:
        return order_hash(self.tracker.order)


def test_rebuild_links_every_record_and_names_a_missing_one():
    b = Builder().posted().add("OrderClaimed", T0 + 10, partner=MAKER.address).add(
        "OrderConfirmed", T0 + 20, buyer=BUYER.address)
    _, checks = rebuild(b.order, b.hash, 100)
    assert all(c.ok for c in checks)
    tampered = OrderLogs(1, [b.logs[0], b.logs[2]])
    _, checks = rebuild(tampered, b.hash, 100)
    assert not checks[0].ok and "missing from the logs" in checks[0].reason and "OrderConfirmed" in checks[0].reason
    _, checks = rebuild(OrderLogs(1, b.logs[:2]), b.hash, 100)
    assert checks[0].ok and not checks[1].ok and checks[1].name == "provenance.head"
    _, checks = rebuild(OrderLogs(1, b.logs[1:]), b.hash, 100)
    assert "not OrderPosted" in checks[0].reason


def test_money_balances_and_overpayment():
    price, bond = 10**17, 10**16
    b = Builder().posted().add("OrderClaimed", T0 + 10, partner=MAKER.address)
    b.add("PaymentWithdrawn", T0 + 30, partner=MAKER.address, amount=price, bond=bond)
    assert check_money(1, b.terms, Status.PAID, b.order).ok
    b2 = Builder().posted().add("OrderClaimed", T0 + 10, partner=MAKER.address)
    b2.add("PaymentWithdrawn", T0 + 30, partner=MAKER.address, amount=price, bond=bond)
    b2.add("Credited", T0 + 30, account=BUYER.address, token="0x" + "00" * 20, amount=1)
    bad = check_money(1, b2.terms, Status.PAID, b2.order)
    assert not bad.ok and "paid out more than escrowed (escrowed 0.11 ETH, paid out 0.110000000000000001 ETH)" \
        in bad.reason
    b3 = Builder().posted().add("OrderCancelled", T0 + 5, buyer=BUYER.address)
    assert not check_money(1, b3.terms, Status.CANCELLED, b3.order).ok  # price never credited back
    b3.add("Credited", T0 + 5, account=BUYER.address, token="0x" + "00" * 20, amount=price)
    assert check_money(1, b3.terms, Status.CANCELLED, b3.order).ok


def test_timing_claim_and_shipment_deadlines():
    b = Builder().posted().add("OrderClaimed", T0 + 86401, partner=MAKER.address)
    b.add("OrderAwarded", T0 + 86402, buyer=BUYER.address, partner=MAKER.address, keyEnvelopeCid=b"\x01" * 32)
    b.add("OrderShipped", T0 + 8 * 86400, partner=MAKER.address, reportCid=b"\x02" * 32, reportHash=b"\x03" * 32)
    checks = {c.name: c for c in check_timing(1, b.terms, b.order.events)}
    assert not checks["timing.claim"].ok and not checks["timing.award"].ok
    assert not checks["timing.shipment"].ok
    deadline = format_time(b.terms.delivery_deadline)  # reasons name times as ISO dates, spans in days/hours
    assert f"1 day after the delivery deadline {deadline}" in checks["timing.shipment"].reason


def _attested(b, attester, data):
    b.add("QualityAttested", T0 + 50, attester=attester, reportCid=b"\x02" * 32, reportHash=b"\x03" * 32,
          passed=True)
    log = b.logs[-1]
    return log, Facts(txs={log.tx_hash: {"from": MAKER.address, "to": CTX.book, "input": data}})


def _by_sig(b, signer):
    att = (1, INSPECTOR.address, b"\x02" * 32, b"\x03" * 32, True, 0, T0 + 3600)
    sig = Account.sign_message(attestation_message(CTX.domain, att), signer.key)
    return ATTEST_BY_SIG_SELECTOR + encode([ORDER_TYPE, ATTESTATION_ABI_TYPE, "bytes"],
                                           [b.tracker.order, att, sig.signature])


def test_eip712_signature_recovers_the_inspector_and_a_forgery_is_named():
    b = Builder().posted()
    log, facts = _attested(b, INSPECTOR.address, _by_sig(b, INSPECTOR))
    assert check_signature(1, log, CTX, facts).ok
    b = Builder().posted()
    log, facts = _attested(b, INSPECTOR.address, _by_sig(b, MAKER))
    bad = check_signature(1, log, CTX, facts)
    assert not bad.ok and f"recovers to {MAKER.address}" in bad.reason
    b = Builder().posted()
    log, facts = _attested(b, INSPECTOR.address, ATTEST_SELECTOR + b"\x00" * 32)
    bad = check_signature(1, log, CTX, facts)  # a direct attest sent by someone else than the attester
    assert not bad.ok and "signed by" in bad.reason


def test_audit_order_with_documents_in_memory():
    import json

    from pynode.daemon.adapters.base import ProductionResult
    from pynode.documents.quality_report import build_report, canonical_json
    from pynode.documents.spec import build_spec_document
    from pynode.ipfs.cid import digest_to_cid

    b = Builder()
    design = b"FMSEGENC" + b"\x00" * 64
    design_digest = hashlib.sha256(design).digest()
    spec_doc = build_spec_document(process="CNC_MILLING", material="AL_6061", quantity=1, tolerances={},
                                   certifications=[], region="u33d", design_name="p", design_size=1,
                                   design_sha256=b"\x05" * 32, design_cid=digest_to_cid(design_digest))
    spec_digest = hashlib.sha256(spec_doc).digest()
    b.docs = (design_digest, b"\x05" * 32, spec_digest, b"u33d".ljust(8, b"\0"))
    b.spec = make_spec(b.docs)
    b.terms = make_terms(BUYER.address, b.spec, claim_deadline=T0 + 86400, delivery_deadline=T0 + 7 * 86400)
    b.posted().add("OrderClaimed", T0 + 10, partner=MAKER.address)
    report = canonical_json(build_report(ProductionResult(True, {}), {"process": "X", "material": "Y", "quantity": 1},
                                         order_id=1, chain_id=CTX.chain_id, contract=CTX.book, partner=MAKER.address,
                                         started_at=T0, finished_at=T0, created_at=T0))
    report_digest = keccak(report)
    b.add("OrderShipped", T0 + 60, partner=MAKER.address, reportCid=report_digest,
          reportHash=hashlib.sha256(report).digest())
    evidence = DictEvidence({spec_digest: spec_doc, design_digest: design, report_digest: report})
    _, checks = audit_order(b.order, b.hash, CTX, Facts(), evidence)
    by_name = {c.name: c for c in checks}
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert {"evidence.spec", "evidence.design", "evidence.quality_report", "party.claimant"} <= set(by_name)
    assert json.loads(spec_doc)["design"]["sha256"] == "0x" + "05" * 32
    # the same order against a registry where the partner is suspended
    _, checks = audit_order(b.order, b.hash, CTX, Facts(flags=7), evidence)
    assert [c.name for c in checks if not c.ok] == ["party.claimant"]
    # and with the report edited after the fact
    evidence.docs[report_digest] = report.replace(b'"quantity":1', b'"quantity":2')
    _, checks = audit_order(b.order, b.hash, CTX, Facts(), evidence)
    assert [c.name for c in checks if not c.ok] == ["evidence.quality_report"]
