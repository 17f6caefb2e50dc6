"""The protocol-v2 auditor: the deployment's logs and views at past blocks → OrderFacts / GovernanceFacts → checks →
the v1 report model (AuditResult, OrderReport), so text, --json and HTML read the same.

    auditor = AuditorV2(w3, load_deployment(chain_id, path, None, protocol=2), IpfsEvidence(ipfs))
    result = auditor.audit(order_ids=[order_id])      # or partner=..., or every order from a block

Reads only: eth_getLogs in bounded ranges, eth_call pinned to blocks (orderHash/recordHead/genesis at the audit
block, parameters at each post, accreditation at each attestation, the manager's delays at each scheduling), block
timestamps, transaction senders, and IPFS documents by the CIDs the chain commits to.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pynode.audit.ipfs_evidence import EvidenceSource
from pynode.audit.model import AuditContext, AuditResult, Check
from pynode.audit.v2.checks import audit_order
from pynode.audit.v2.facts import AttestCall, Folded, OrderFacts, PanelFacts, fold
from pynode.audit.v2.governance import (
    AT_DEPLOYMENT,
    MANAGER_EVENTS,
    PARAMETER_EVENTS,
    GovernanceFacts,
    audit_governance,
)
from pynode.audit.v2.report import describe
from pynode.chain.calls import views
from pynode.chain.contracts import LOG_INDEX_RETRIES
from pynode.chain.erc20 import read_unit
from pynode.chain.events.reader import LogReader
from pynode.chain.rpc import request
from pynode.chain.v2.arbitrator import PanelArbitrator
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.manager import AccessManager
from pynode.chain.v2.orders import FEE_EVENT, ORDER_EVENTS, ZERO32, by_sender
from pynode.chain.v2.registry import PartnerRegistryV2
from pynode.core.address import to_checksum_address
from pynode.core.units import Unit
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import Attestation

if TYPE_CHECKING:
    from pynode.chain.deployment import Deployment
    from pynode.chain.events.decoder import DecodedLog
    from pynode.documents.quote import SignedQuote

_PANEL_EVENTS = ("Voted", "RoundDecided", "AppealDecision", "RulingExecuted")


def _topic(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


class AuditorV2:
    def __init__(self, w3: Any, deployment: Deployment, evidence: EvidenceSource, *, confirmations: int = 0,
                 batch_size: int = 2000, quotes: Sequence[SignedQuote] = ()) -> None:
        """``quotes``: signed-quote documents to check awards against (matched by their struct hash)."""
        self.w3, self.evidence, self.quotes, self.confirmations = w3, evidence, tuple(quotes), confirmations
        self.chain_id, self.from_block = deployment.chain_id, deployment.deploy_block
        reader = LogReader(w3, batch_size=batch_size)
        self.book = OrderBookV2(w3, deployment["OrderBookV2"], reader)
        self.registry = PartnerRegistryV2(w3, deployment["PartnerRegistryV2"], reader)
        panel = deployment.contracts.get("PanelArbitrator")  # an order may name any ERC-792 arbitrator
        self.panel = PanelArbitrator(w3, panel, reader) if panel is not None else None
        self.manager = AccessManager(w3, deployment["AccessManager"], reader)
        self.labels = {c.address: name for name, c in deployment.contracts.items()}
        self._units: dict[str, Unit] = {}
        self._book_views = views(deployment["OrderBookV2"].abi)
        self.functions = {view.selector: view.name for c in deployment.contracts.values()
                          for view in views(c.abi).values()}

    # ------------------------------------------------------------------ chain reads

    def _time(self, log: DecodedLog) -> int:
        return self.book.block_time(log)

    def order_logs(self, start: int, block: int) -> dict[int, list[DecodedLog]]:
        logs = self.book.logs(ORDER_EVENTS, from_block=start, to_block=block) + self.book.fee_logs(None, start, block)
        self.book.prefetch(logs)
        orders: dict[int, list[DecodedLog]] = {}
        for log in sorted(logs, key=lambda item: (item.block_number, item.log_index)):
            orders.setdefault(int(log.args["orderId"]), []).append(log)
        return orders

    def _panel_facts(self, panel: PanelArbitrator, dispute_id: int, block: int) -> PanelFacts:
        dispute = panel.dispute(dispute_id, block)
        sets = panel.logs(("PanelSet",), _topic(dispute.epoch), from_block=self.from_block, to_block=block)
        logs = panel.logs(_PANEL_EVENTS, _topic(dispute_id), from_block=self.from_block, to_block=block)
        facts = PanelFacts(dispute_id, dispute.epoch, dispute.quorum,
                           tuple(sets[-1].args["members"]) if sets else ())
        for log in logs:
            {"Voted": facts.votes, "RoundDecided": facts.decided, "AppealDecision": facts.appeals,
             "RulingExecuted": facts.executed}[log.event].append(log)
        return facts

    def order_facts(self, order_id: int, logs: list[DecodedLog], block: int) -> OrderFacts:
        book = self.book
        senders = {log.tx_hash: book.tx_sender(log.tx_hash) for log in logs if by_sender(log) or log.event == FEE_EVENT}
        times = {log.block_hash: self._time(log) for log in logs}
        facts = OrderFacts(order_id, book.genesis(order_id, block), logs, times, senders,
                           book.order_hash(order_id, block), book.record_head(order_id, block))
        posted = next((log for log in logs if log.event == "OrderPosted"), None)
        if posted is not None:
            facts.unit = self.unit(codec.decode_posted(posted.args["buyer"], posted.args["posted"])[0].token)
            facts.params = {name: int(book.call(name, block=posted.block_number))
                            for name in ("feeBps", "rejectWindow", "disputeTimeout")}
        for log in logs:
            if log.event == "QualityAttested":
                facts.attest_calls[log.tx_hash] = self._attest_call(log.tx_hash)
                who = to_checksum_address(log.args["inspector"])
                facts.inspector_expiry[(who, log.block_number)] = self.registry.inspector_expiry(who, log.block_number)
            elif log.event == "ArbitrationCreated":
                arbitrator, dispute_id = to_checksum_address(log.args["arbitrator"]), int(log.args["disputeId"])
                facts.rulings = [r for r in self.book.logs(("Ruling",), None, _topic(dispute_id),
                                                           from_block=log.block_number, to_block=block)
                                 if to_checksum_address(r.args["_arbitrator"]) == arbitrator]
                if self.panel is not None and arbitrator == self.panel.address:
                    facts.panel = self._panel_facts(self.panel, dispute_id, block)
        return facts

    def _attest_call(self, tx_hash: str) -> AttestCall:
        """The attesting transaction's sender, target and, for a relayed attestation, its signed struct."""
        from eth_abi import decode

        tx = request(self.w3, "eth_getTransactionByHash", [tx_hash])
        data, to = bytes.fromhex(tx["input"][2:]), tx.get("to")
        view = next((v for v in self._book_views.values() if v.selector == data[:4]), None)
        function = view.name if view is not None else ""
        if view is None or view.inputs[-1] != "bytes":
            return AttestCall(to_checksum_address(tx["from"]), to, None, b"", function)
        try:
            *_, att, signature = decode(list(view.inputs), data[4:])
        except Exception:  # noqa: BLE001 - calldata the book would not have taken: the check says so
            return AttestCall(to_checksum_address(tx["from"]), to, None, b"", "")
        signed = Attestation(att[0], to_checksum_address(att[1]), *att[2:])
        return AttestCall(to_checksum_address(tx["from"]), to, signed, bytes(signature), function)

    def settled_facts(self, order_id: int, logs: list[DecodedLog], block: int) -> OrderFacts:
        """``order_facts``, re-reading the order's logs a few times while they do not reproduce its commitments: a
        node may answer eth_getLogs for its newest block before that block's logs are indexed (as load_order)."""
        facts = self.order_facts(order_id, logs, block)
        genesis = codec.genesis(self.chain_id, self.book.address, order_id)
        for attempt in range(LOG_INDEX_RETRIES - 1):
            t = fold(facts, genesis).tracker
            if t is not None and codec.order_hash(t.order) == facts.order_hash and t.record_head == facts.record_head:
                break
            _time.sleep(0.1 * (attempt + 1))
            logs = self.book.order_logs(order_id, self.from_block, block) + self.book.fee_logs(order_id,
                                                                                                self.from_block, block)
            logs.sort(key=lambda item: (item.block_number, item.log_index))
            self.book.prefetch(logs)
            facts = self.order_facts(order_id, logs, block)
        return facts

    def governance_facts(self, block: int) -> GovernanceFacts:
        logs = self.manager.logs(MANAGER_EVENTS, from_block=self.from_block, to_block=block)
        logs += self.book.logs(PARAMETER_EVENTS["OrderBookV2"], from_block=self.from_block, to_block=block)
        logs += self.registry.logs(PARAMETER_EVENTS["PartnerRegistryV2"], from_block=self.from_block, to_block=block)
        if self.panel is not None:
            logs += self.panel.logs(PARAMETER_EVENTS["PanelArbitrator"], from_block=self.from_block, to_block=block)
        logs.sort(key=lambda item: (item.block_number, item.log_index))
        self.book.prefetch(logs)
        facts = GovernanceFacts(logs, {log.block_hash: self._time(log) for log in logs}, labels=self.labels,
                                functions=self.functions)
        executed = {log.tx_hash for log in logs if log.event == "OperationExecuted"}
        for log in logs:
            if log.event == "OperationScheduled":
                args = log.args
                _, delay = self.manager.call("canCall", args["caller"], args["target"], bytes(args["data"])[:4],
                                             block=log.block_number)
                facts.delays[(log.tx_hash, log.log_index)] = int(delay)
            elif log.event in PARAMETER_EVENTS.get(self.labels.get(log.address, ""), ()) and \
                    log.tx_hash not in executed:
                facts.direct[log.tx_hash] = self._direct_delay(log)
        return facts

    def _direct_delay(self, log: DecodedLog) -> tuple[str, int]:
        """(sender, its delay for the call it made: 0 = immediate, -1 = not allowed or not a direct call,
        AT_DEPLOYMENT = the contract's creation)."""
        tx = request(self.w3, "eth_getTransactionByHash", [log.tx_hash])
        sender, to = to_checksum_address(tx["from"]), tx.get("to")
        if not to:
            return sender, AT_DEPLOYMENT
        if to_checksum_address(to) != log.address:
            return sender, -1
        selector = bytes.fromhex(tx["input"][2:10])
        immediate, delay = self.manager.call("canCall", sender, log.address, selector, block=log.block_number - 1)
        return sender, 0 if immediate else (int(delay) or -1)

    def folded(self, order_id: int, block: int | None = None) -> Folded | None:
        """Order ``order_id`` folded from its logs (None: it has none), e.g. for the EPCIS export."""
        block = self.head() if block is None else block
        logs = self.order_logs(self.from_block, block).get(order_id)
        if not logs:
            return None
        facts = self.order_facts(order_id, logs, block)
        return fold(facts, codec.genesis(self.chain_id, self.book.address, order_id))

    # ---------------------------------------------------------------------- audit

    def unit(self, token: str) -> Unit:
        """How amounts in ``token`` read (symbol, decimals), read once per auditor."""
        key = token.lower()
        if key not in self._units:
            self._units[key] = read_unit(self.w3, token)
        return self._units[key]

    def head(self) -> int:
        return max(self.book.reader.head() - self.confirmations, 0)

    def audit(self, *, order_ids: Iterable[int] | None = None, partner: str | None = None,
              from_block: int | None = None, block: int | None = None, governance: bool | None = None) -> AuditResult:
        """``governance``: also audit the deployment's governance records (None: when auditing every order)."""
        started = _time.perf_counter()
        block = self.head() if block is None else block
        start = self.from_block if from_block is None else from_block
        orders = self.order_logs(start, block)
        checks: list[Check] = []
        if order_ids is not None:
            selected = sorted(set(order_ids))
            scope = "order " + ", ".join(map(str, selected))
            checks += [Check(oid, "order.exists", False, f"no logs of order {oid} in blocks {start}..{block}")
                       for oid in selected if oid not in orders]
        elif partner is not None:
            who = to_checksum_address(partner)
            scope = f"partner {who}"
            selected = [oid for oid, logs in orders.items() if who in _parties(logs)]
            checks.append(Check(None, "partner.orders", True, f"{len(selected)} orders involve {who}"))
        else:
            selected, scope = list(orders), f"all orders from block {start}"
        if governance or (governance is None and order_ids is None and partner is None):
            checks += audit_governance(self.governance_facts(block))
        domain = self.book.domain(block)
        ctx = AuditContext(self.chain_id, self.book.address, block, domain)
        result = AuditResult(self.chain_id, self.book.address, self.registry.address, block, start, scope,
                             checks=checks)
        fee_window = self.book.constant("FEE_RESPONSE_WINDOW")
        for oid in (o for o in selected if o in orders):
            facts = self.settled_facts(oid, orders[oid], block)
            if facts.order_hash == ZERO32:
                result.checks.append(Check(oid, "order.exists", False, f"no orderHash for order {oid} at {block}"))
            folded, order_checks = audit_order(facts, ctx, self.evidence, self.quotes, fee_window)
            result.orders.append(describe(facts, folded, order_checks, self.evidence))
        for token in {str(r.terms["token"]) for r in result.orders if "token" in r.terms}:
            result.units[token] = self.unit(token)
        result.seconds = _time.perf_counter() - started
        return result


def _parties(logs: Sequence[DecodedLog]) -> set[str]:
    keys = ("buyer", "partner", "inspector")
    return {to_checksum_address(log.args[k]) for log in logs for k in keys if k in log.args}
