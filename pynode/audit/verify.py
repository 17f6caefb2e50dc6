"""Orchestration: logs (bounded ranges) → per-order checks with chain facts at each record's block → result.

    auditor = Auditor(Chain.connect(settings), IpfsEvidence(IpfsClient(api)))
    result = auditor.audit(order_ids=[7])          # or partner=..., or everything from a block
    result.ok, result.failures(), result.as_dict()

The auditor only reads: `eth_getLogs` in bounded ranges (the events reader), `eth_call`
pinned to blocks (`orderHash` at the audit block, roles / registry state at each
record's block; anvil and archive nodes keep that history), transactions by hash
(to recover who signed each attestation), and IPFS documents by the CIDs the
chain commits to.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable
from typing import Any

from pynode.audit.checks import audit_order, cert_ids
from pynode.audit.collect import AUDITED_EVENTS, OrderLogs, fetch_logs, group_by_order
from pynode.audit.evidence_checks import MAX_DISPUTE_EVIDENCE_BYTES, spec_design_cid
from pynode.audit.ipfs_evidence import EvidenceSource
from pynode.audit.model import AuditContext, AuditResult, Check, OrderReport, hex_of
from pynode.chain.calls import views
from pynode.chain.client import Chain
from pynode.chain.events.decoder import DecodedLog
from pynode.chain.events.reader import LogReader
from pynode.chain.orders import ZERO32, OrderTracker
from pynode.core.address import keccak_text, to_checksum_address
from pynode.core.errors import FabmeshError
from pynode.documents.report_rules import MAX_REPORT_BYTES
from pynode.documents.spec_rules import MAX_SPEC_BYTES
from pynode.ipfs.cid import digest_to_cid, report_cid
from pynode.protocol.eip712 import Domain
from pynode.protocol.types import OrderSpec

EVIDENCE_FIELDS = {  # event → (label, arg) of the documents it names by CID digest
    "OrderAwarded": (("key envelope", "keyEnvelopeCid"),),
    "QualityAttested": (("quality report", "reportCid"),),
    "OrderShipped": (("quality report", "reportCid"),),
    "OrderDisputed": (("dispute evidence", "evidenceCid"),),
    "DisputeResolved": (("ruling", "rulingCid"),),
}
ACTOR_FIELDS = ("buyer", "partner", "attester", "arbitrator", "caller")


class _RawCall:
    """One view function called by raw `eth_call` (web3's contract calls re-validate and re-ask the chain id
    on every call, which costs more than the call itself)."""

    def __init__(self, address: str, abi: list[dict], name: str) -> None:
        self.address = address
        self.view = views(abi)[name]

    def request(self, args: tuple, block: int) -> tuple[str, list]:
        return "eth_call", [{"to": self.address, "data": "0x" + self.view.calldata(args).hex()}, hex(block)]

    def decode(self, result: str) -> Any:
        return self.view.result(bytes.fromhex(result[2:]))


class RpcFacts:
    """ChainFacts over JSON-RPC, each answer cached for the run; `prefetch` asks for many in JSON-RPC batches."""

    BATCH = 250

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.rpc = chain.rpc
        self._cache: dict[tuple, Any] = {}
        book, registry = chain.book, chain.registry
        self._has_role = _RawCall(book.address, book.info.abi, "hasRole")
        self._order_hash = _RawCall(book.address, book.info.abi, "orderHash")
        self._partner_info = _RawCall(registry.address, registry.info.abi, "partnerInfo")
        self._cert_expiry = _RawCall(registry.address, registry.info.abi, "certificationExpiry")
        self.requests = 0

    # key → (rpc request, decoder)
    def _plan(self, key: tuple) -> tuple[tuple[str, list], Any]:
        kind = key[0]
        if kind == "role":
            _, role, account, block = key
            return self._has_role.request((keccak_text(role), account), block), self._has_role.decode
        if kind == "flags":
            _, account, block = key
            return self._partner_info.request((account,), block), lambda r: self._partner_info.decode(r)[2]
        if kind == "cert":
            _, account, cert, block = key
            return self._cert_expiry.request((account, cert), block), self._cert_expiry.decode
        if kind == "orderHash":
            _, oid, block = key
            return self._order_hash.request((oid,), block), lambda r: bytes(self._order_hash.decode(r))
        if kind == "tx":
            return ("eth_getTransactionByHash", [key[1]]), lambda tx: {
                "from": tx["from"], "to": tx.get("to"), "input": bytes.fromhex(tx["input"][2:])}
        raise KeyError(kind)

    def _single(self, key: tuple) -> Any:
        (method, params), decoder = self._plan(key)
        self.requests += 1
        reply = self.rpc.make_request(method, params)
        if "error" in reply or reply.get("result") is None:
            raise FabmeshError(f"{method} {params}: {reply.get('error', 'no result')}")
        return decoder(reply["result"])

    def prefetch(self, keys: Iterable[tuple]) -> None:
        """Answers `keys` in JSON-RPC batches (one HTTP round trip per BATCH questions)."""
        todo = [k for k in dict.fromkeys(keys) if k not in self._cache]
        for start in range(0, len(todo), self.BATCH):
            chunk = todo[start:start + self.BATCH]
            plans = [self._plan(k) for k in chunk]
            self.requests += 1
            replies = self.rpc.make_batch_request([request for request, _ in plans])
            if not isinstance(replies, list):
                raise FabmeshError(f"JSON-RPC batch refused: {replies.get('error')}")
            for key, (_, decoder), reply in zip(chunk, plans, replies):
                if "error" not in reply and reply.get("result") is not None:
                    self._cache[key] = decoder(reply["result"])

    def _get(self, key: tuple) -> Any:
        if key not in self._cache:
            self._cache[key] = self._single(key)
        return self._cache[key]

    def has_role(self, role: str, account: str, block: int) -> bool:
        return self._get(("role", role, account, block))

    def partner_flags(self, account: str, block: int) -> int:
        return self._get(("flags", account, block))

    def cert_expiry(self, account: str, cert_id: int, block: int) -> int:
        return self._get(("cert", account, cert_id, block))

    def transaction(self, tx_hash: str) -> dict:
        return self._get(("tx", tx_hash))

    def order_hash(self, order_id: int, block: int) -> bytes:
        return self._get(("orderHash", order_id, block))


def evidence_keys(order: OrderLogs) -> list[tuple]:
    """The IPFS documents `audit_order` will read for `order` (the cache keys of IpfsEvidence)."""
    from pynode.crypto.envelope import MAX_ENVELOPE_SIZE

    keys: list[tuple] = []
    for log in order.events:
        args = log.args
        if log.event == "OrderPosted":
            docs = args["docs"]
            keys.append(("doc", digest_to_cid(bytes(docs["specCid"])), MAX_SPEC_BYTES))
        elif log.event == "OrderAwarded":
            keys.append(("doc", digest_to_cid(bytes(args["keyEnvelopeCid"])), MAX_ENVELOPE_SIZE))
        elif log.event in ("QualityAttested", "OrderShipped"):
            keys.append(("doc", report_cid(bytes(args["reportCid"]), bytes(args["reportHash"])), MAX_REPORT_BYTES))
        elif log.event == "OrderDisputed":
            keys.append(("doc", digest_to_cid(bytes(args["evidenceCid"])), MAX_DISPUTE_EVIDENCE_BYTES))
        elif log.event == "DisputeResolved" and bytes(args["rulingCid"]) != ZERO32:
            keys.append(("doc", digest_to_cid(bytes(args["rulingCid"])), MAX_DISPUTE_EVIDENCE_BYTES))
    return keys


def design_keys(order: OrderLogs, evidence: EvidenceSource) -> list[tuple]:
    """The design header `audit_order` reads: its CID is named by the spec document, so ask once specs are in."""
    from pynode.crypto.formats import MAGIC

    if not order.events or order.events[0].event != "OrderPosted":
        return []
    docs = order.events[0].args["docs"]
    return [("prefix", spec_design_cid(docs["designCid"], docs["specCid"], evidence), len(MAGIC))]


def fact_keys(order: OrderLogs, block: int) -> list[tuple]:
    """The chain facts `audit_order` will ask about `order`, so they can be fetched in batches first."""
    keys: list[tuple] = [("orderHash", order.order_id, block)]
    spec = order.events[0].args["spec"] if order.events and order.events[0].event == "OrderPosted" else None
    certs = cert_ids(OrderSpec(*(spec.values() if isinstance(spec, dict) else spec))) if spec else []
    partner = order.partner
    for log in order.events:
        b = log.block_number
        if log.event == "OrderClaimed" or (log.event == "QualityAttested" and str(log.args["attester"]) == partner):
            who = str(log.args.get("partner") or log.args.get("attester"))
            keys.append(("flags", who, b))
            keys.extend(("cert", who, c, b) for c in certs)
        if log.event == "QualityAttested":
            keys.append(("tx", log.tx_hash))
            if str(log.args["attester"]) != partner:
                keys.append(("role", "INSPECTOR_ROLE", str(log.args["attester"]), b))
        elif log.event == "DisputeResolved":
            keys.append(("role", "ARBITRATOR_ROLE", str(log.args["arbitrator"]), b))
    return keys


def describe(order: OrderLogs, tracker: OrderTracker | None, checks: list[Check],
             evidence: EvidenceSource) -> OrderReport:
    """The human-facing facts of one order: terms, parties, documents by CID, timeline."""
    terms: dict[str, Any] = {}
    parties: dict[str, str] = {}
    documents: list[dict[str, str]] = []
    timeline: list[dict[str, Any]] = []
    for log in order.events:
        args = log.args
        if log.event == "OrderPosted":
            t, docs = args["terms"], args["docs"]
            terms = {"token": str(t["token"]), "price": int(t["price"]), "claim_bond": int(t["claimBond"]),
                     "claim_deadline": int(t["claimDeadline"]), "delivery_deadline": int(t["deliveryDeadline"]),
                     "inspection_window": int(t["inspectionWindow"]), "fee_bps": int(t["feeBps"])}
            parties["buyer"] = str(args["buyer"])
            documents.append({"label": "design (encrypted)", "event": log.event,
                              "cid": spec_design_cid(docs["designCid"], docs["specCid"], evidence)})
            documents.append({"label": "spec", "cid": digest_to_cid(bytes(docs["specCid"])), "event": log.event})
            terms["design_sha256"] = hex_of(docs["designSha256"])
        elif log.event == "OrderClaimed":
            parties["partner"] = str(args["partner"])
        elif log.event == "QualityAttested" and str(args["attester"]) != parties.get("partner"):
            parties.setdefault("inspector", str(args["attester"]))
        elif log.event == "DisputeResolved":
            parties["arbitrator"] = str(args["arbitrator"])
        for label, key in EVIDENCE_FIELDS.get(log.event, ()):
            if bytes(args[key]) != ZERO32:
                cid = report_cid(args[key], args["reportHash"]) if key == "reportCid" else digest_to_cid(args[key])
                documents.append({"label": label, "cid": cid, "event": log.event})
        actor = next((str(args[k]) for k in ACTOR_FIELDS if k in args), "")
        entry = {"event": log.event, "time": int(args["time"]), "block": log.block_number, "tx": log.tx_hash,
                 "actor": actor}
        if "passed" in args:
            entry["passed"] = bool(args["passed"])
        timeline.append(entry)
    status = tracker.status.name if tracker is not None and tracker.state else "UNKNOWN"
    return OrderReport(order.order_id, status, terms, parties, documents, timeline, checks)


class Auditor:
    def __init__(self, chain: Chain, evidence: EvidenceSource, *, batch_size: int = 2000,
                 confirmations: int | None = None, domain: Domain | None = None) -> None:
        """``domain``: the book's EIP-712 domain; None reads it from the book's ``eip712Domain()`` once."""
        self.chain = chain
        self._domain = domain
        self.confirmations = chain.confirmations if confirmations is None else confirmations
        self.evidence = evidence
        self.facts = RpcFacts(chain)
        self.batch_size = batch_size
        self.reader = LogReader(chain.rpc, batch_size=batch_size)
        self.topics = [chain.book.topic(e) for e in AUDITED_EVENTS]

    def evidence_prefetch(self, orders: list[OrderLogs]) -> None:
        prefetch = getattr(self.evidence, "prefetch", None)
        if prefetch is not None:
            prefetch([key for order in orders for key in evidence_keys(order)])
            prefetch([key for order in orders for key in design_keys(order, self.evidence)])

    def head(self) -> int:
        return max(self.reader.head() - self.confirmations, 0)

    def logs(self, from_block: int | None = None, to_block: int | None = None) -> list[DecodedLog]:
        start = self.chain.from_block if from_block is None else from_block
        end = self.head() if to_block is None else to_block
        return fetch_logs(self.reader, self.chain.book.decoder, self.chain.book.address, self.topics, start, end)

    def audit(self, *, order_ids: Iterable[int] | None = None, partner: str | None = None,
              from_block: int | None = None, logs: list[DecodedLog] | None = None,
              block: int | None = None) -> AuditResult:
        """Audits the selected orders; `logs` (already fetched, possibly tampered with) replaces the fetch."""
        started = _time.perf_counter()
        block = self.head() if block is None else block
        start = self.chain.from_block if from_block is None else from_block
        if logs is None:
            logs = self.logs(start, block)
        orders = group_by_order(logs)
        scope = "all orders"
        selected: list[int]
        checks: list[Check] = []
        if order_ids is not None:
            selected = sorted(set(order_ids))
            scope = "order " + ", ".join(map(str, selected))
            for oid in selected:
                if oid not in orders:
                    checks.append(Check(oid, "order.exists", False,
                                        f"no logs of order {oid} in blocks {start}..{block}"))
        elif partner is not None:
            who = to_checksum_address(partner)
            scope = f"partner {who}"
            selected = [oid for oid, o in orders.items() if who in o.parties()]
            checks.append(Check(None, "partner.orders", True, f"{len(selected)} orders involve {who}"))
        else:
            selected = list(orders)
            if from_block is not None and from_block > self.chain.from_block:
                # orders posted before the window cannot be rebuilt from it
                selected = [oid for oid in selected
                            if orders[oid].events and orders[oid].events[0].event == "OrderPosted"]
                skipped = len(orders) - len(selected)
                checks.append(Check(None, "scope.from_block", True,
                                    f"{skipped} orders posted before block {from_block} are out of scope"))
            scope = f"all orders from block {start}"
        if self._domain is None:
            self._domain = self.chain.book.domain(block)
        ctx = AuditContext(self.chain.chain_id, self.chain.book.address, block, self._domain)
        result = AuditResult(self.chain.chain_id, self.chain.book.address, self.chain.registry.address, block, start,
                             scope, checks=checks)
        selected = [oid for oid in selected if oid in orders]
        self.facts.prefetch(key for oid in selected for key in fact_keys(orders[oid], block))
        self.evidence_prefetch([orders[oid] for oid in selected])
        for oid in selected:
            order = orders[oid]
            onchain = self.facts.order_hash(oid, block)
            tracker, order_checks = audit_order(order, None if onchain == ZERO32 else onchain, ctx, self.facts,
                                                self.evidence)
            result.orders.append(describe(order, tracker, order_checks, self.evidence))
        for token in {str(report.terms["token"]) for report in result.orders if "token" in report.terms}:
            result.units[token] = self.chain.token_unit(token)
        result.seconds = _time.perf_counter() - started
        return result

