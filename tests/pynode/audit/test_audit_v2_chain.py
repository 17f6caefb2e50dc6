"""The v2 auditor on a real anvil and a real Kubo: orders driven through the v2 wrappers with real documents (an
encrypted design, its spec, a key envelope sealed to the partner's HPKE key, quality reports, dispute evidence)
— a completed order, an attested one, a dispute ruled by the PanelArbitrator after an appeal, and a fee change
waited out through the AccessManager — audit clean from the chain and IPFS alone, and export as EPCIS documents
that recompute; a shipment whose report on IPFS does not hash to the chain's reportHash fails by name."""

from __future__ import annotations

import hashlib
import json

import pytest
from eth_utils import keccak

from pynode.audit.ipfs_evidence import IpfsEvidence
from pynode.audit.report_html import render_html
from pynode.audit.v2.epcis import export_epcis_v2, verify_document_v2
from pynode.audit.v2.verify import AuditorV2
from pynode.chain.contracts import region_bytes
from pynode.chain.deployment import load_deployment
from pynode.chain.orders import MATERIAL, PROCESS
from pynode.chain.provider import connect
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxSender
from pynode.chain.v2.arbitrator import PanelArbitrator
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.manager import AccessManager, restricted_call
from pynode.chain.v2.orders import ZERO_ADDRESS
from pynode.chain.v2.registry import PartnerRegistryV2
from pynode.core.units import format_duration
from pynode.crypto.envelope import OrderContext
from pynode.crypto.hpke import generate_keypair
from pynode.daemon.adapters.base import ProductionResult
from pynode.dev.accounts import DEV_GOVERNANCE_DELAY, v2_accounts
from pynode.dev.deploy import deploy_v2
from pynode.documents.quality_report import build_report, canonical_json
from pynode.documents.quote import SignedQuote, sign_quote
from pynode.documents.spec import build_spec_document
from pynode.ipfs.cid import cid_to_digest
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import Attestation, OrderDocs, OrderSpec, OrderStatus, OrderTerms, PartnerProfile, Quote

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

DAY = 86400
PRICE = 10**17
TOLERANCES = {"length": {"nominal": 10.0, "plus": 0.1, "minus": 0.1, "unit": "mm"}}
SPEC = {"process": "CNC_MILLING", "material": "AL_6061", "quantity": 2, "tolerances": TOLERANCES}


class Market:
    """A v2 deployment with a registered, vetted maker (real HPKE key) and the documents of each order on Kubo."""

    def __init__(self, anvil, kubo, accounts, tmp) -> None:
        deploy_v2(anvil.rpc_url, anvil.chain_id, tmp)
        self.anvil, self.accounts, self.tmp = anvil, accounts, tmp
        self.deployment = load_deployment(anvil.chain_id, tmp, None, protocol=2)
        self.w3 = connect(anvil.rpc_url)
        self.decoder = RevertDecoder(*(info.abi for info in self.deployment.contracts.values()))
        self.book = OrderBookV2(self.w3, self.deployment["OrderBookV2"])
        self.registry = PartnerRegistryV2(self.w3, self.deployment["PartnerRegistryV2"])
        self.panel = PanelArbitrator(self.w3, self.deployment["PanelArbitrator"])
        self.manager = AccessManager(self.w3, self.deployment["AccessManager"])
        self.ipfs = IpfsClient(kubo.api_url, timeout=30)
        self.vault = DesignVault(self.ipfs)
        self.buyer, self.maker = accounts["buyer"], accounts["maker"]
        self.maker_keys = generate_keypair()
        self.quotes: list[SignedQuote] = []
        profile = PartnerProfile(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], region_bytes("u33d"), 40, keccak(b"p"))
        self.send(self.maker, self.registry.register(profile, self.maker_keys.public_key, 5 * self.registry.min_bond()))
        self.send(accounts["certifier"], self.registry.vet(self.maker.address, self.registry.profile_hash(
            self.maker.address), keccak(b"vetting")))

    def send(self, account, request):
        return TxSender(self.w3, account, self.decoder, confirmations=0).send(request)

    def now(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def travel(self, seconds: int) -> None:
        self.anvil.rpc("evm_increaseTime", seconds)
        self.anvil.rpc("evm_mine")

    def order(self, label: str, inspectors: tuple[str, ...] = ()):
        """Terms, spec and docs of a new order whose design, spec document and (later) envelope are on Kubo."""
        design = self.tmp / f"{label}.step"
        design.write_bytes(f"ISO-10303-21; {label}\n".encode() * 64)
        sealed = self.vault.seal(design)
        spec_cid = self.ipfs.add_bytes(build_spec_document(
            process="CNC_MILLING", material="AL_6061", quantity=2, tolerances=TOLERANCES, certifications=[],
            region="u33d", design_name=design.name, design_size=sealed.plaintext_size,
            design_sha256=sealed.plaintext_sha256, design_cid=sealed.cid))
        docs = OrderDocs(cid_to_digest(sealed.cid), sealed.plaintext_sha256, cid_to_digest(spec_cid),
                         region_bytes("u33d"))
        spec = OrderSpec(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], 0, inspectors, codec.docs_hash(docs))
        now = self.now()
        terms = OrderTerms(self.buyer.address, ZERO_ADDRESS, PRICE, 10**16, self.panel.address, now + DAY,
                           now + 10 * DAY, 3 * DAY, self.book.reject_window(), self.book.dispute_timeout(),
                           self.book.fee_bps(), codec.spec_hash(spec))
        context = OrderContext(self.deployment.chain_id, self.book.address, codec.order_id(terms), self.maker.address,
                               sealed.plaintext_sha256)
        envelope = cid_to_digest(self.vault.publish_envelope(sealed.content_key, self.maker_keys.public_key, context))
        quote = sign_quote(self.maker, self.book.domain(), Quote(codec.terms_hash(terms), self.maker.address,
                                                                  self.maker.address, PRICE, 2 * 10**16, 5 * DAY,
                                                                  now + DAY, 0))
        self.quotes.append(quote)
        return terms, spec, docs, quote, envelope

    def post_awarded(self, label: str, inspectors: tuple[str, ...] = ()) -> int:
        terms, spec, docs, quote, envelope = self.order(label, inspectors)
        self.send(self.buyer, self.book.post_awarded(terms, spec, docs, quote.quote, quote.signature, envelope))
        return codec.order_id(terms)

    def tracker(self, order_id: int):
        return self.book.load_order(order_id, self.deployment.deploy_block)

    def report(self, order_id: int, passed: bool = True) -> tuple[bytes, bytes]:
        now = self.now()
        report = build_report(ProductionResult(passed=passed, measurements={"length": 10.02 if passed else 11.0}),
                              SPEC, order_id=order_id, chain_id=self.deployment.chain_id, contract=self.book.address,
                              partner=self.maker.address, started_at=now - 100, finished_at=now, created_at=now)
        data = canonical_json(report)
        return cid_to_digest(self.ipfs.add_bytes(data)), hashlib.sha256(data).digest()

    def ship(self, order_id: int, report: tuple[bytes, bytes] | None = None) -> None:
        self.send(self.maker, self.book.ship(self.tracker(order_id), *(report or self.report(order_id))))

    def auditor(self) -> AuditorV2:
        return AuditorV2(self.w3, self.deployment, IpfsEvidence(self.ipfs, timeout=10), quotes=self.quotes)


@pytest.fixture(scope="module")
def market(anvil, kubo, dev_accounts, tmp_path_factory):
    m = Market(anvil, kubo, dev_accounts | v2_accounts(), tmp_path_factory.mktemp("audit-v2"))
    yield m
    m.ipfs.close()


def _failures(result) -> list[str]:
    return [f"{c.order_id} {c.name}: {c.reason}" for c in result.failures()]


def test_v2_orders_audit_clean_and_export_as_epcis(market):
    m, accounts = market, market.accounts
    admin, inspector, recipient = accounts["admin"], accounts["inspector"], accounts["auditor"]
    # a fee change scheduled through the manager, its delay waited out, then executed
    fee_call = restricted_call(m.book, "setFee", 100, recipient.address)
    m.send(admin, m.manager.schedule(fee_call))
    m.travel(DEV_GOVERNANCE_DELAY + 1)
    m.send(admin, m.manager.execute(fee_call))
    m.send(accounts["certifier"], m.registry.accredit_inspector(inspector.address, m.now() + 365 * DAY, keccak(b"a")))

    # completed, escrow-first: post, award the signed quote with the sealed envelope, ship, confirm
    terms, spec, docs, quote, envelope = m.order("completed")
    m.send(m.buyer, m.book.post(terms, spec, docs))
    completed = codec.order_id(terms)
    m.send(m.buyer, m.book.award(m.tracker(completed), quote.quote, quote.signature, envelope))
    m.ship(completed)
    m.send(m.buyer, m.book.confirm(m.tracker(completed)))

    # attested by the inspector the spec names, then shipped and confirmed
    attested = m.post_awarded("attested", (inspector.address,))
    m.send(inspector, m.book.attest(m.tracker(attested), *m.report(attested), True))
    nonce = m.book.attestation_nonce(inspector.address, attested)
    relayed = Attestation(attested, inspector.address, *m.report(attested), True, nonce, m.now() + DAY)
    m.send(accounts["stranger"], m.book.attest_by_sig(m.tracker(attested), relayed,
                                                      eip712.sign(inspector, m.book.domain(), relayed)))
    m.ship(attested)
    m.send(m.buyer, m.book.confirm(m.tracker(attested)))

    # disputed: both deposits, the panel decides 51, the buyer appeals, all three decide 61, executed
    disputed = m.post_awarded("disputed")
    m.ship(disputed)
    evidence = cid_to_digest(m.ipfs.add_bytes(b"photos of the out-of-tolerance bracket"))
    m.send(m.buyer, m.book.dispute(m.tracker(disputed), evidence, m.panel.arbitration_cost()))
    m.send(m.maker, m.book.pay_arbitration_fee(m.tracker(disputed), m.book.arbitration(disputed).buyer_fee))
    dispute_id = m.tracker(disputed).dispute_id
    assert dispute_id is not None
    members = [accounts["arbitrator"], accounts["panelist"], accounts["panelist2"]]
    for member in members[:2]:
        m.send(member, m.panel.vote(dispute_id, 51))
    m.send(m.buyer, m.panel.appeal(dispute_id, m.panel.appeal_cost(dispute_id)))
    for member in members:
        m.send(member, m.panel.vote(dispute_id, 61))
    m.send(accounts["stranger"], m.panel.execute_ruling(dispute_id))
    m.send(accounts["stranger"], m.book.execute_ruling(m.tracker(disputed)))
    assert m.tracker(disputed).status == OrderStatus.RESOLVED

    # the guardian suspends the maker at once; governance reinstates it after the manager's delay
    m.send(accounts["guardian"], m.registry.suspend(m.maker.address, keccak(b"complaint")))
    reinstate = restricted_call(m.registry, "reinstate", m.maker.address)
    m.send(admin, m.manager.schedule(reinstate))
    m.travel(DEV_GOVERNANCE_DELAY + 1)
    m.send(admin, m.manager.execute(reinstate))

    auditor = m.auditor()
    result = auditor.audit()
    assert result.ok, _failures(result)
    names = {c.name for c in result.all_checks}
    assert {"chain.genesis", "chain.transitions", "chain.records", "params.snapshot", "quote.terms", "quote.document",
            "attestation.inspector", "attestation.accredited", "evidence.quality_report", "evidence.key_envelope",
            "evidence.spec", "evidence.design", "evidence.dispute", "arbitration.fees", "arbitration.panel",
            "arbitration.ruling", "governance.operation", "governance.parameter", "governance.grant"} <= names
    by_order = {o.order_id: o for o in result.orders}
    panel = next(c for c in by_order[disputed].checks if c.name == "arbitration.panel")
    assert "1 appeals, ruling 61 executed" in panel.reason
    signatures = [c.reason for c in by_order[attested].checks if c.name == "attestation.signature"]
    assert len(signatures) == 2 and "the inspector's own attest" in signatures[0]
    assert f"relayed by {accounts['stranger'].address} recovers to inspector {inspector.address}" in signatures[1]
    quote_check = next(c for c in by_order[completed].checks if c.name == "quote.document")
    assert f"signed by partner {m.maker.address}" in quote_check.reason
    fee = [c for c in result.checks if c.name == "governance.operation" and "executed" in c.reason]
    assert fee and "OrderBookV2.setFee" in fee[0].reason and "PartnerRegistryV2.reinstate" in fee[-1].reason
    changes = [c.reason for c in result.checks if c.name == "governance.parameter"]
    assert any("PartnerSuspended" in r and "may call it without delay" in r for r in changes)
    assert any("PartnerReinstated" in r and "through a scheduled operation" in r for r in changes)
    assert f"(delay {format_duration(DEV_GOVERNANCE_DELAY)})" in fee[-1].reason
    assert by_order[completed].status == "COMPLETED" and by_order[disputed].status == "RESOLVED"
    actors = {e["event"]: e["actor"] for e in by_order[disputed].timeline}
    assert (actors["OrderShipped"], actors["OrderDisputed"], actors["OrderResolved"]) == (
        m.maker.address, m.buyer.address, accounts["stranger"].address)
    html = render_html(result)
    assert "VERIFIED" in html and "0.1 ETH" in html and "3 days" in html
    json.dumps(result.as_dict())

    for order_id in (completed, attested, disputed):
        folded = auditor.folded(order_id, result.block)
        assert folded is not None
        document = export_epcis_v2(folded, m.deployment.chain_id, m.book.address, created=1_700_000_000)
        assert verify_document_v2(json.loads(json.dumps(document))) == []
        transitions = [e for e in document["epcisBody"]["eventList"] if e["fabmesh:chain"] == "transition"]
        assert transitions[-1]["fabmesh:head"] == "0x" + m.tracker(order_id).head.hex()


def test_a_report_on_ipfs_that_does_not_hash_to_the_chain_fails_its_named_check(market):
    m = market
    order_id = m.post_awarded("forged-report")
    digest, _ = m.report(order_id)
    m.ship(order_id, (digest, hashlib.sha256(b"another report").digest()))  # the chain commits to other bytes
    result = m.auditor().audit(order_ids=[order_id])
    failed = {c.name: c.reason for c in result.failures()}
    assert set(failed) == {"evidence.quality_report"}, failed
    assert "its content no longer matches its hash" in failed["evidence.quality_report"]


def test_cli_audit_and_epcis_export_on_protocol_2(market, kubo, fabmesh_main, monkeypatch, tmp_path):
    m = market
    for name, value in (("HOME", tmp_path / "home"), ("RPC_URL", m.anvil.rpc_url), ("IPFS_API", kubo.api_url),
                        ("DEPLOYMENTS", m.tmp), ("CONFIRMATIONS", 0)):
        monkeypatch.setenv(f"FABMESH_{name}", str(value))
    order_id = m.post_awarded("cli")
    m.ship(order_id)
    m.send(m.buyer, m.book.confirm(m.tracker(order_id)))
    quote = tmp_path / "quote.json"
    quote.write_bytes(m.quotes[-1].to_json())

    result = fabmesh_main("--protocol", "2", "--json", "audit", "order", order_id, "--quote", quote)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "VERIFIED" and data["orders"][0]["status"] == "COMPLETED"
    reasons = {c["name"]: c["reason"] for c in data["orders"][0]["checks"]}
    assert f"signed by partner {m.maker.address}" in reasons["quote.document"]

    result = fabmesh_main("audit", "order", order_id)  # the human table, on the default protocol (2)
    assert result.exit_code == 0 and "VERIFIED" in result.stdout and "chain.records" in result.stdout

    epcis = tmp_path / "order.jsonld"
    result = fabmesh_main("--protocol", "2", "export", "epcis", order_id, "-o", epcis)
    assert result.exit_code == 0, result.stderr
    assert verify_document_v2(json.loads(epcis.read_text())) == []

    # bad input: one line and a non-zero exit
    other = tmp_path / "other.json"
    other.write_bytes(sign_quote(m.maker, m.book.domain(), m.quotes[-1].quote._replace(price=1)).to_json())
    result = fabmesh_main("--protocol", "2", "audit", "order", order_id, "--quote", other)
    assert result.exit_code == 1 and "quote.document" in result.stderr and "matches none" in result.stderr
    result = fabmesh_main("--protocol", "2", "audit", "order", order_id, "--quote", tmp_path / "missing.json")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "cannot read quote" in result.stderr
    result = fabmesh_main("--protocol", "1", "audit", "order", order_id, "--quote", quote)
    assert result.exit_code == 2 and "--quote is protocol 2's" in result.stderr
    result = fabmesh_main("--protocol", "2", "export", "epcis", 12345)
    assert result.exit_code == 1 and "order 12345 has no events" in result.stderr
