"""Audit speed: orders fully verified per second, against the time of just fetching their logs.

A real anvil and a real Kubo; N finished orders (default 1,000), each posted,
claimed, awarded with its own key envelope, attested by the inspector, shipped
with its own quality report, confirmed and paid out. Design ciphertext and spec
document are shared (one upload); envelopes and reports are one per order.

* logs: ``Auditor.logs()``: every OrderBook log from the deploy block in
  bounded ``eth_getLogs`` ranges, checked and decoded, nothing else.
* audit: ``Auditor.audit()`` from scratch (fresh caches): the same fetch, then
  every check of every order: hash chain vs ``orderHash``, every IPFS document
  (fetched once per run and cached), registry state and roles at each record's
  block, the attestation transaction's signer, timing and money.

Writes ``audit_orders_per_s`` and ``audit_ratio_vs_logs`` (audit time / log
fetch time) to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_utils import keccak

from bench.common import record
from pynode.audit.collect import group_by_order
from pynode.audit.ipfs_evidence import IpfsEvidence
from pynode.audit.verify import Auditor
from pynode.chain.client import Chain
from pynode.chain.contracts import region_bytes
from pynode.chain.orders import (
    CERT,
    MATERIAL,
    PROCESS,
    ZERO_ADDRESS,
    OrderTracker,
    docs_hash,
    pack_cert_ids,
    spec_hash,
)
from pynode.core.settings import Settings
from pynode.crypto.envelope import OrderContext, build_envelope
from pynode.crypto.hpke import generate_keypair
from pynode.crypto.segmented import generate_content_key
from pynode.daemon.adapters.base import ProductionResult
from pynode.dev.accounts import role_plan
from pynode.dev.anvil import DEFAULT_MNEMONIC, Anvil
from pynode.dev.deploy import deploy
from pynode.dev.kubo import KuboNode
from pynode.documents.quality_report import build_report, canonical_json, report_hashes
from pynode.documents.spec import build_spec_document
from pynode.ipfs.cid import cid_to_digest
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
from pynode.protocol.types import OrderDocs, OrderSpec, OrderTerms

ROLES = ("admin", "buyer", "maker", "maker2", "inspector", "certifier", "arbitrator")
TOLERANCES = {"length": {"nominal": 10.0, "plus": 0.1, "minus": 0.1, "unit": "mm"}}


def accounts():
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return {r: Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
            for i, r in enumerate(ROLES)}


class Sender:
    """eth_sendTransaction from anvil's unlocked accounts, mined PER_BLOCK to a block (as a busy chain would:
    it also keeps the run inside the state history anvil keeps for the auditor's historical eth_calls)."""

    PER_BLOCK = 200

    def __init__(self, chain: Chain) -> None:
        self.w3 = chain.w3
        self.last = None
        self.pending = 0
        self.w3.provider.make_request("evm_setAutomine", [False])

    def send(self, frm: str, request) -> None:
        reply = self.w3.provider.make_request("eth_sendTransaction", [{
            "from": frm, "to": request.to, "data": "0x" + request.data.hex(), "value": hex(request.value),
            "gas": hex(1_000_000)}])
        if "error" in reply:
            raise RuntimeError(f"{request.label}: {reply['error']}")
        self.last = reply["result"]
        self.pending += 1
        if self.pending >= self.PER_BLOCK:
            self.mine()

    def mine(self) -> None:
        if self.pending:
            self.w3.provider.make_request("evm_mine", [])
            self.pending = 0

    def settle(self) -> None:
        self.mine()
        if self.last:
            receipt = self.w3.eth.wait_for_transaction_receipt(self.last, timeout=300)
            assert receipt["status"] == 1, receipt


def trackers(auditor: Auditor) -> dict[int, OrderTracker]:
    out = {}
    for oid, order in group_by_order(auditor.logs()).items():
        t = OrderTracker(oid)
        for log in order.events:
            t.apply(log.event, log.args)
        out[oid] = t
    return out


def build_orders(chain: Chain, ipfs: IpfsClient, acc: dict, n: int, work: Path) -> None:
    book, registry = chain.book, chain.registry
    buyer, maker, inspector, certifier = acc["buyer"], acc["maker"], acc["inspector"], acc["certifier"]
    maker_keys = generate_keypair()
    profile = (PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], b"u33d".ljust(8, b"\0"), 10**6, keccak(b"profile"))
    chain.send(maker, registry.register(profile, maker_keys.public_key, registry.min_bond()))
    chain.send(certifier, registry.vet(maker.address, keccak(b"vetting")))
    now = chain.w3.eth.get_block("latest")["timestamp"]
    chain.send(certifier, registry.certify(maker.address, CERT["ISO_9001"], now + 10 * 365 * 86400, keccak(b"c")))

    design = work / "part.step"
    design.write_bytes(b"ISO-10303-21; bench part\n" * 400)
    sealed = DesignVault(ipfs).seal(design)
    spec_doc = build_spec_document(process="CNC_MILLING", material="AL_6061", quantity=1, tolerances=TOLERANCES,
                                   certifications=["ISO_9001"], region="u33d", design_name="part.step",
                                   design_size=sealed.plaintext_size, design_sha256=sealed.plaintext_sha256,
                                   design_cid=sealed.cid)
    spec_cid = ipfs.add_bytes(spec_doc)
    docs = OrderDocs(design_cid=cid_to_digest(sealed.cid), design_sha256=sealed.plaintext_sha256,
                     spec_cid=cid_to_digest(spec_cid), region=region_bytes("u33d"))
    spec = OrderSpec(reserved_for=ZERO_ADDRESS, processes=PROCESS["CNC_MILLING"], materials=MATERIAL["AL_6061"],
                     cert_ids=pack_cert_ids(CERT["ISO_9001"]), docs_hash=docs_hash(docs))
    terms = OrderTerms(buyer=buyer.address, token=ZERO_ADDRESS, price=10**15, claim_bond=10**14,
                       claim_deadline=now + 30 * 86400, delivery_deadline=now + 60 * 86400,
                       inspection_window=3 * 86400, fee_bps=book.fee_bps(), spec_hash=spec_hash(spec))
    tx = Sender(chain)
    auditor = Auditor(chain, IpfsEvidence(ipfs), confirmations=0)
    for _ in range(n):
        tx.send(buyer.address, book.post(terms, spec, docs))
    tx.settle()
    ts = trackers(auditor)
    for t in ts.values():
        tx.send(maker.address, book.claim(t))
    tx.settle()
    ts = trackers(auditor)
    key = generate_content_key()
    for oid, t in ts.items():
        context = OrderContext(chain_id=chain.chain_id, contract=book.address, order_id=oid, recipient=maker.address,
                               design_sha256=sealed.plaintext_sha256)
        cid = ipfs.add_bytes(build_envelope(key, maker_keys.public_key, context))
        tx.send(buyer.address, book.award(t, cid_to_digest(cid)))
    tx.settle()
    ts = trackers(auditor)
    reports = {}
    for oid, t in ts.items():
        report = build_report(ProductionResult(passed=True, measurements={"length": 10.01}), {
            "process": "CNC_MILLING", "material": "AL_6061", "quantity": 1, "tolerances": TOLERANCES},
            order_id=oid, chain_id=chain.chain_id, contract=book.address, partner=maker.address,
            started_at=now, finished_at=now + 60, created_at=now + 60)
        data = canonical_json(report)
        reports[oid] = (cid_to_digest(ipfs.add_bytes(data)), bytes.fromhex(report_hashes(data)["sha256"][2:]))
        tx.send(inspector.address, book.attest(t, *reports[oid], True))
    tx.settle()
    ts = trackers(auditor)
    for oid, t in ts.items():
        tx.send(maker.address, book.ship(t, *reports[oid]))
    tx.settle()
    for function, who in (("confirm", buyer), ("withdrawPayment", maker)):
        ts = trackers(auditor)
        for t in ts.values():
            tx.send(who.address, book.simple(function, t))
        tx.settle()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    acc = accounts()
    with tempfile.TemporaryDirectory(prefix="fabmesh-audit-bench-") as tmp, \
            Anvil(Path(tmp)) as anvil, KuboNode(Path(tmp) / "kubo") as kubo:
        work = Path(tmp)
        deploy(anvil.rpc_url, anvil.chain_id, work / "deployments", role_plan(acc))
        settings = Settings(rpc_url=anvil.rpc_url, ipfs_api=kubo.api_url, deployments=work / "deployments",
                            home=work / "home", confirmations=0)
        chain = Chain.connect(settings)
        with IpfsClient(kubo.api_url) as ipfs:
            started = time.perf_counter()
            build_orders(chain, ipfs, acc, args.orders, work)
            print(f"built {args.orders} finished orders in {time.perf_counter() - started:.1f} s", file=sys.stderr)

            log_times, audit_times = [], []
            for _ in range(args.repeats):
                logs_auditor = Auditor(chain, IpfsEvidence(ipfs), batch_size=args.batch_size, confirmations=0)
                t0 = time.perf_counter()
                logs = logs_auditor.logs()
                log_times.append(time.perf_counter() - t0)
            for _ in range(args.repeats):
                evidence = IpfsEvidence(ipfs)  # fresh caches: every document fetched once per run
                auditor = Auditor(chain, evidence, batch_size=args.batch_size, confirmations=0)
                t0 = time.perf_counter()
                result = auditor.audit()
                audit_times.append(time.perf_counter() - t0)
                if not result.ok or len(result.orders) != args.orders:
                    raise SystemExit(f"audit failed: {result.failures()[:3]} ({len(result.orders)} orders)")
    t_logs, t_audit = statistics.median(log_times), statistics.median(audit_times)
    details = {
        "orders": args.orders, "logs": len(logs), "checks": len(result.all_checks), "repeats": args.repeats,
        "audit_s": round(t_audit, 3), "logs_fetch_s": round(t_logs, 4), "ipfs_fetches": evidence.fetches,
        "rpc_requests": auditor.facts.requests, "batch_size_blocks": args.batch_size,
        "ratio_definition": "audit_ratio_vs_logs = median seconds of a full audit / median seconds of only "
                            "fetching and decoding the same logs in bounded ranges (how many times longer)",
        "setup": "finished orders (post, claim, award+envelope, inspector attest+report, ship, confirm, "
                 "withdrawPayment), 200 tx per block; shared design and spec, one envelope and report per order",
    }
    values = {"audit": details, "audit_orders_per_s": round(args.orders / t_audit, 1),
              "audit_ratio_vs_logs": round(t_audit / t_logs, 1)}
    path = record(values)
    print(f"audit: {values['audit_orders_per_s']} orders/s ({t_audit:.2f} s for {args.orders} orders, "
          f"{details['checks']} checks, {evidence.fetches} IPFS fetches); logs alone {t_logs:.3f} s "
          f"({len(logs)} logs); ratio {values['audit_ratio_vs_logs']} → {path}")


if __name__ == "__main__":
    main()
