"""Real orders for the auditor tests and the bad-input table: designs, specs, envelopes and reports on Kubo,
records on anvil."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_utils import collapse_if_tuple, keccak

from pynode.chain.orders import CERT, MATERIAL, PROCESS
from pynode.crypto.hpke import generate_keypair
from pynode.daemon.adapters.base import ProductionResult
from pynode.dev.paths import CHECKOUT
from pynode.documents.quality_report import build_report, canonical_json, report_hashes
from pynode.ipfs.cid import cid_to_digest
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
from pynode.orders.buyer import Buyer, OrderRequest
from pynode.orders.design_keys import DesignKeyStore
from pynode.protocol.eip712 import Domain, attestation_message

SPEC = {"process": "CNC_MILLING", "material": "AL_6061", "quantity": 2,
        "tolerances": {"length": {"nominal": 10.0, "plus": 0.1, "minus": 0.1, "unit": "mm"}}}


def now(chain) -> int:
    return chain.w3.eth.get_block("latest")["timestamp"]


def names(checks, ok=None) -> set[str]:
    return {c.name for c in checks if ok is None or c.ok == ok}


@dataclass
class Report:
    data: bytes
    cid: str
    digest: bytes
    sha256: bytes


class Market:
    """The buyer, a maker with a real HPKE key and an inspector, driving orders through the real contracts."""

    def __init__(self, chain, ipfs: IpfsClient, accounts, tmp: Path, cert_expiry: int | None = None) -> None:
        self.chain, self.ipfs, self.accounts, self.tmp = chain, ipfs, accounts, tmp
        self.buyer, self.maker, self.inspector = accounts["buyer"], accounts["maker"], accounts["inspector"]
        self.vault = DesignVault(ipfs)
        self.buyer_keys = generate_keypair()
        self.maker_keys = generate_keypair()
        self.buyer_api = Buyer(chain, self.vault, DesignKeyStore(tmp / "design-keys", ipfs), self.buyer)
        self._register(cert_expiry)

    def _register(self, cert_expiry: int | None) -> None:
        chain, certifier = self.chain, self.accounts["certifier"]
        profile = (PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], b"u33d".ljust(8, b"\0"), 100, keccak(b"profile"))
        chain.send(self.maker, chain.registry.register(profile, self.maker_keys.public_key, chain.registry.min_bond()))
        chain.send(certifier, chain.registry.vet(self.maker.address, keccak(b"audit")))
        expiry = cert_expiry if cert_expiry is not None else now(chain) + 365 * 86400
        chain.send(certifier, chain.registry.certify(self.maker.address, CERT["ISO_9001"], expiry, keccak(b"cert")))

    def tracker(self, oid: int):
        return self.chain.book.load_order(oid, self.chain.from_block)

    def post(self, *, certs=("ISO_9001",), delivery: int = 7 * 86400, price: int = 10**17,
             design: Path | None = None) -> int:
        if design is None:
            design = self.tmp / "part.step"
            design.write_bytes(b"ISO-10303-21; a bracket\n" * 50)
        t = now(self.chain)
        request = OrderRequest(design=design, process="CNC_MILLING", material="AL_6061", quantity=2, price=price,
                               claim_deadline=t + 86400, delivery_deadline=t + delivery, inspection_window=3 * 86400,
                               claim_bond=10**16, region="u33d", certifications=tuple(certs),
                               tolerances=SPEC["tolerances"])
        return self.buyer_api.post(request, self.buyer_keys.public_key).order_id

    def claim_award(self, oid: int) -> None:
        self.chain.send(self.maker, self.chain.book.claim(self.tracker(oid)))
        self.buyer_api.award(oid, self.maker.address, self.buyer_keys)

    def report(self, oid: int, passed: bool = True, length: float = 10.02) -> Report:
        t = now(self.chain)
        report = build_report(ProductionResult(passed=passed, measurements={"length": length}), SPEC, order_id=oid,
                              chain_id=self.chain.chain_id, contract=self.chain.book.address,
                              partner=self.maker.address, started_at=t - 100, finished_at=t, created_at=t)
        data = canonical_json(report)
        cid = self.ipfs.add_bytes(data)
        return Report(data, cid, cid_to_digest(cid), bytes.fromhex(report_hashes(data)["sha256"][2:]))

    def attest(self, oid: int, who=None, report: Report | None = None) -> Report:
        report = report or self.report(oid)
        who = who or self.maker
        self.chain.send(who, self.chain.book.attest(self.tracker(oid), report.digest, report.sha256, True))
        return report

    def attest_by_sig(self, oid: int, signer=None, inspector=None, report: Report | None = None) -> Report:
        """An inspector's EIP-712 attestation relayed by the maker; `signer` may differ (a forgery)."""
        report = report or self.report(oid)
        inspector = inspector or self.inspector
        signer = signer or inspector
        nonce = self.chain.book.call("nonces", inspector.address)
        att = (oid, inspector.address, report.digest, report.sha256, True, nonce, now(self.chain) + 3600)
        domain = Domain.from_eip5267(self.chain.book.call("eip712Domain"))
        signed = Account.sign_message(attestation_message(domain, att), signer.key)
        self.chain.send(self.maker, self.chain.book.attest_by_sig(self.tracker(oid), att, signed.signature))
        return report

    def ship(self, oid: int, report: Report | None = None) -> Report:
        report = report or self.report(oid)
        self.chain.send(self.maker, self.chain.book.ship(self.tracker(oid), report.digest, report.sha256))
        return report

    def finish(self, oid: int) -> None:
        self.chain.send(self.buyer, self.chain.book.simple("confirm", self.tracker(oid)))
        self.chain.send(self.maker, self.chain.book.simple("withdrawPayment", self.tracker(oid)))

    def full_order(self, *, inspector_sig: bool = True) -> int:
        oid = self.post()
        self.claim_award(oid)
        self.attest(oid)
        if inspector_sig:
            self.attest_by_sig(oid)
        self.ship(oid)
        self.finish(oid)
        return oid


# --------------------------------------------------------------------------- the deliberately broken order book

def _abi_value(item: dict, value):
    if item["type"] == "tuple":
        values = value.values() if isinstance(value, dict) else value
        return tuple(_abi_value(c, v) for c, v in zip(item["components"], values))
    return value


class BrokenBook:
    """BrokenOrderBook deployed beside the real registry, with a deployments file pointing at it."""

    def __init__(self, chain, settings, admin, tmp: Path) -> None:
        import json

        from eth_abi import encode

        from pynode.chain.client import Chain

        self._encode = encode
        w3 = chain.w3
        artifact = json.loads((CHECKOUT / "build" / "contracts" / "BrokenOrderBook.json").read_text())
        tx = w3.eth.send_transaction({"from": admin.address, "data": "0x" + artifact["bytecode"].removeprefix("0x"),
                                      "gas": 3_000_000})
        receipt = w3.eth.wait_for_transaction_receipt(tx)
        self.address = receipt["contractAddress"]
        self.contract = w3.eth.contract(address=self.address, abi=artifact["abi"])
        self.admin = admin
        deployment = {"chainId": chain.chain_id, "deployBlock": receipt["blockNumber"],
                      "contracts": {"PartnerRegistry": {"address": chain.registry.address},
                                    "OrderBook": {"address": self.address}}}
        path = tmp / "broken-deployment.json"
        path.write_text(json.dumps(deployment))
        self.chain = Chain.connect(settings.model_copy(update={"deployments": path}))
        self.abi = {e["name"]: e for e in self.chain.book.info.abi if e.get("type") == "event"}
        self.trackers = {}

    def transact(self, fn, *args) -> None:
        tx = getattr(self.contract.functions, fn)(*args).transact({"from": self.admin.address, "gas": 1_000_000})
        self.chain.w3.eth.wait_for_transaction_receipt(tx)

    def emit(self, name: str, **args) -> None:
        """Emits `name` with `args` (orderId included); order events get prevHead/time and fold into a tracker."""
        from pynode.chain.orders import OrderTracker, order_hash

        event = self.abi[name]
        oid = int(args["orderId"])
        tracker = self.trackers.setdefault(oid, OrderTracker(oid))
        is_order_event = name != "Credited"
        if is_order_event:
            args.setdefault("time", now(self.chain))
            if name != "OrderPosted":
                args["prevHead"] = tracker.head
        topics = [bytes.fromhex(self.chain.book.topic(name)[2:])]
        data_items, data_values = [], []
        for item in event["inputs"]:
            value = args[item["name"]]
            if item["indexed"]:
                topics.append(self._encode([item["type"]], [value]))
            else:
                data_items.append(collapse_if_tuple(item))
                data_values.append(_abi_value(item, value))
        self.transact("emitLog", topics, self._encode(data_items, data_values))
        if is_order_event:
            tracker.apply(name, args)
            self.transact("setOrderHash", oid, order_hash(tracker.order))
