"""The v2 auditor's checks on synthetic orders (no sockets): the protocol vectors' order (posted, awarded, serials,
a failed attestation, shipped; tests/pynode/chain/v2/v2_logs.py) and paths built on it, each check passing on the
honest order and failing, by name, on a forged one; the governance checks on synthetic manager logs; the v2
EPCIS export recomputed by GS1's reference implementation and by the document's own chains."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from chain.v2.v2_logs import (
    BOOK,
    DOCS,
    INSPECTOR,
    ORDER_ID,
    PARTNER,
    RECORDS,
    REPORT,
    STRANGER,
    V2,
    Chain,
    b,
    recorded,
    vector_logs,
)
from factories import DictEvidence
from pynode.audit.model import AuditContext
from pynode.audit.v2.arbitration import check_panel, expected_share
from pynode.audit.v2.checks import audit_order, check_attestation, check_attestation_signature, check_quote
from pynode.audit.v2.epcis import export_epcis_v2, verify_document_v2
from pynode.audit.v2.facts import AttestCall, OrderFacts, PanelFacts, fold
from pynode.audit.v2.governance import GovernanceFacts, audit_governance
from pynode.chain.events.decoder import DecodedLog
from pynode.documents.quote import parse_signed_quote, sign_quote
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import Attestation, RecordKind, Transition

CHAIN_ID = V2["chain_id"]
DOMAIN = Domain("fabmesh OrderBook", "2", CHAIN_ID, BOOK)
CTX = AuditContext(CHAIN_ID, BOOK, 10_000, DOMAIN)
GENESIS = codec.genesis(CHAIN_ID, BOOK, ORDER_ID)
DAY = 86400


def facts_of(items: list[tuple[DecodedLog, int]], senders: dict[str, str] | None = None, **over: Any) -> OrderFacts:
    """Facts of an honest chain for these logs: its commitments are what the logs fold to."""
    logs = [log for log, _ in items]
    facts = OrderFacts(ORDER_ID, GENESIS, logs, {log.block_hash: t for log, t in items}, senders or {}, b"", b"")
    t = fold(facts, GENESIS).tracker
    assert t is not None
    facts.order_hash, facts.record_head = codec.order_hash(t.order), t.record_head
    facts.params = {"feeBps": t.terms.fee_bps, "rejectWindow": t.terms.reject_window,
                    "disputeTimeout": t.terms.dispute_timeout}
    facts.inspector_expiry = {(a.inspector, log.block_number): a.time + 365 * DAY
                              for log in logs if log.event == "QualityAttested" for a in t.attestations}
    facts.attest_calls = {log.tx_hash: AttestCall(log.args["inspector"], BOOK, None, b"", "attest")
                          for log in logs if log.event == "QualityAttested"}  # each inspector's own attest
    for key, value in over.items():
        setattr(facts, key, value)
    return facts


def run(facts: OrderFacts, evidence: DictEvidence | None = None, quotes=(), fee_window: int = 3 * DAY):
    _, checks = audit_order(facts, CTX, evidence or DictEvidence({}), quotes, fee_window)
    return {c.name: c for c in checks}, checks


def failing(checks) -> set[str]:
    return {c.name for c in checks if not c.ok}


V2_CHECKS = {"chain.genesis", "chain.transitions", "chain.records", "params.snapshot", "quote.terms", "quote.document",
             "attestation.inspector", "attestation.accredited", "attestation.window", "timing.shipment"}


def test_the_vector_order_passes_every_chain_quote_and_attestation_check() -> None:
    by_name, checks = run(facts_of(vector_logs(Chain())))
    assert set(by_name) >= V2_CHECKS
    assert not failing(c for c in checks if c.name in V2_CHECKS), [c.reason for c in checks if not c.ok]
    assert "hash to orderHash" in by_name["chain.transitions"].reason
    assert "= recordHead" in by_name["chain.records"].reason
    assert "fee 100 bps, reject window 1 day, dispute timeout 14 days" in by_name["params.snapshot"].reason


def test_forged_commitments_fail_their_chain_checks() -> None:
    items = vector_logs(Chain())
    assert failing(run(facts_of(items, genesis=b"\x11" * 32))[1]) >= {"chain.genesis"}
    assert "chain.transitions" in failing(run(facts_of(items, order_hash=b"\x22" * 32))[1])
    by_name, checks = run(facts_of(items, record_head=GENESIS))
    assert "chain.records" in failing(checks) and "a record is missing" in by_name["chain.records"].reason
    # a dropped transition (the award): the shipment no longer follows the order's status
    dropped = _with_logs(facts_of(items), [log for log, _ in items if log.event != "OrderAwarded"])
    by_name, checks = run(dropped)
    assert "chain.transitions" in failing(checks) and "OrderShipped" in by_name["chain.transitions"].reason


def _with_logs(facts: OrderFacts, logs: list[DecodedLog]) -> OrderFacts:
    facts.logs = logs
    return facts


def test_a_forged_record_head_breaks_the_record_chain_by_name() -> None:
    chain = Chain()
    items = vector_logs(chain)
    items[2] = (recorded(chain, RECORDS[0], head=b"\x33" * 32), items[2][1])
    honest = facts_of(vector_logs(Chain()))
    facts = _with_logs(honest, [log for log, _ in items])
    facts.times.update({log.block_hash: t for log, t in items})
    by_name, checks = run(facts)
    assert {"chain.records", "chain.transitions"} <= failing(checks)
    assert "Recorded" in by_name["chain.records"].reason


def test_parameters_snapshot_differing_from_the_book_at_post_fails() -> None:
    facts = facts_of(vector_logs(Chain()))
    assert facts.params is not None
    facts.params["feeBps"] = 250
    by_name, _ = run(facts)
    assert not by_name["params.snapshot"].ok and "feeBps 100 (book: 250)" in by_name["params.snapshot"].reason


def test_an_award_outside_the_terms_fails_quote_terms() -> None:
    chain = Chain()
    items = vector_logs(chain)
    state = V2["state"]["value"]
    words = codec.awarded_words(state["payee"], 2 * 10**17, 10**15, state["due_by"])  # above the escrow, low bond
    forged = chain.log("OrderAwarded", orderId=ORDER_ID, partner=PARTNER, payeePrice=words[0], bondDueBy=words[1],
                       quoteHash=b(V2["eip712"]["quote"]["struct_hash"]), keyEnvelopeCid=b"\x01" * 32)
    items[1] = (forged, items[1][1])
    by_name, _ = run(facts_of(items[:2]))
    reason = by_name["quote.terms"].reason
    assert not by_name["quote.terms"].ok and "price 0.2 ETH not above 0 and within the escrow 0.1 ETH" in reason
    assert "bond 0.001 ETH below the terms' minimum 0.01 ETH" in reason


def test_the_award_is_checked_against_a_given_quote_document_and_its_signature() -> None:
    facts = facts_of(vector_logs(Chain()))
    t = fold(facts, GENESIS)
    tracker, awarded = t.tracker, next(s for s in t.steps if s.log.event == "OrderAwarded")
    assert tracker is not None
    signed = parse_signed_quote(DOCS["signed_quote"]["document"])
    good = check_quote(tracker, awarded, [signed], DOMAIN, facts)
    assert good.ok and f"signed by partner {PARTNER}" in good.reason
    other = sign_quote(Account.create(), DOMAIN, signed.quote._replace(price=signed.quote.price - 1))
    bad = check_quote(tracker, awarded, [other], DOMAIN, facts)
    assert not bad.ok and "award quote hash" in bad.reason and "matches none" in bad.reason
    forged = signed._replace(signature=sign_quote(Account.create(), DOMAIN, signed.quote).signature)
    bad = check_quote(tracker, awarded, [forged], DOMAIN, facts)
    assert not bad.ok and "differs from the award in signer" in bad.reason


def _stranger_attests(chain: Chain, items: list[tuple[DecodedLog, int]]) -> list[tuple[DecodedLog, int]]:
    """A QualityAttested by an inspector the spec does not name, with its Recorded link, before the shipment."""
    t = fold(facts_of(items[:-1]), GENESIS).tracker
    assert t is not None
    time = items[-2][1] + 60
    evidence = codec.report_evidence(REPORT[0], REPORT[1], True)
    head = codec.link(t.record_head, RecordKind.QUALITY_ATTESTED, STRANGER, evidence, time)
    record = chain.log("Recorded", orderId=ORDER_ID, kind=RecordKind.QUALITY_ATTESTED, actor=STRANGER,
                       evidence=evidence, head=head)
    attested = chain.log("QualityAttested", record.tx_hash, orderId=ORDER_ID, inspector=STRANGER,
                         reportCid=REPORT[0], reportHash=REPORT[1], passed=True)
    shipped = chain.log("OrderShipped", orderId=ORDER_ID, reportCid=REPORT[0], reportHash=REPORT[1])
    return [*items[:-1], (record, time), (attested, time), (shipped, items[-1][1] + 120)]


def test_an_attestation_by_an_inspector_the_spec_does_not_name_fails() -> None:
    chain = Chain()
    items = _stranger_attests(chain, vector_logs(chain))
    facts = facts_of(items)
    _, checks = run(facts)
    named = [c for c in checks if c.name == "attestation.inspector"]
    assert [c.ok for c in named] == [True, False]
    assert f"inspector {to_checksum_address(STRANGER)} is not one" in named[1].reason
    facts.inspector_expiry = {key: 0 for key in facts.inspector_expiry}
    assert [c.ok for c in run(facts)[1] if c.name == "attestation.accredited"] == [False, False]


def test_an_attestation_after_the_inspection_window_fails() -> None:
    facts = facts_of(vector_logs(Chain()))
    folded = fold(facts, GENESIS)
    t = folded.tracker
    assert t is not None and t.shipped_at is not None
    step = next(s for s in folded.steps if s.log.event == "QualityAttested")
    late = step._replace(time=t.shipped_at + t.terms.inspection_window + 1)
    facts.inspector_expiry = {(INSPECTOR, step.log.block_number): late.time + DAY}
    steps = [*folded.steps, late]  # after the shipment
    window = {c.name: c for c in check_attestation(t, late, steps, facts)}["attestation.window"]
    assert not window.ok and "after the inspection window" in window.reason


def _dispute(chain: Chain, items, *, fee: int, matched: int, paid_after: int, kind: Transition, split):
    t = fold(facts_of(items), GENESIS).tracker
    assert t is not None and t.shipped_at is not None
    at = t.shipped_at + DAY
    arbitrator = t.terms.arbitrator
    disputed = chain.log("OrderDisputed", orderId=ORDER_ID, arbitrator=arbitrator, evidenceCid=b"\x05" * 32, fee=fee)
    evidence = matched.to_bytes(32, "big")
    head = codec.link(t.record_head, RecordKind.ARBITRATION_FEE_PAID, PARTNER, evidence, at + paid_after)
    paid = chain.log("Recorded", orderId=ORDER_ID, kind=RecordKind.ARBITRATION_FEE_PAID, actor=PARTNER,
                     evidence=evidence, head=head)
    created = chain.log("ArbitrationCreated", paid.tx_hash, orderId=ORDER_ID, arbitrator=arbitrator, disputeId=4)
    resolved = chain.log("OrderResolved", orderId=ORDER_ID, kind=kind, toBuyer=split[0], toPayee=split[1],
                         fee=split[2], bondToBuyer=split[3])
    return ([*items, (disputed, at), (paid, at + paid_after), (created, at + paid_after), (resolved, at + 9 * DAY)],
            {resolved.tx_hash: STRANGER})


def _ruling(ruling: int) -> DecodedLog:
    return DecodedLog("Ruling", BOOK, 900, "0x" + "99" * 32, "0x" + "98" * 32, 0,
                      {"_arbitrator": V2["terms"]["value"]["arbitrator"], "_disputeID": 4, "_ruling": ruling})


def test_a_ruled_dispute_passes_and_a_split_outside_its_ruling_fails() -> None:
    price = V2["state"]["value"]["price"]
    rest = price - price // 2
    honest = (price // 2, rest - rest // 100, rest // 100, False)  # ruling 51, fee 100 bps of the payee's half
    chain = Chain()
    items, senders = _dispute(chain, vector_logs(chain), fee=10**15, matched=10**15, paid_after=3600,
                              kind=Transition.RULED, split=honest)
    by_name, checks = run(facts_of(items, senders, rulings=[_ruling(51)]))
    assert by_name["arbitration.fees"].ok and by_name["arbitration.ruling"].ok, [c.reason for c in checks]
    assert "partner 0.001 ETH after 1 hour" in by_name["arbitration.fees"].reason
    by_name, _ = run(facts_of(items, senders, rulings=[_ruling(90)]))
    assert not by_name["arbitration.ruling"].ok and "ruling outside bounds" in by_name["arbitration.ruling"].reason
    chain = Chain()
    over = (price, price // 10, 0, True)
    items, senders = _dispute(chain, vector_logs(chain), fee=10**15, matched=10**14, paid_after=4 * DAY,
                              kind=Transition.SETTLED, split=over)
    by_name, _ = run(facts_of(items, senders))
    assert not by_name["arbitration.ruling"].ok and "of an escrow of" in by_name["arbitration.ruling"].reason
    fees = by_name["arbitration.fees"]
    assert not fees.ok and "below the buyer's" in fees.reason and "the window is 3 days" in fees.reason
    assert expected_share(Transition.DISPUTE_DEFAULTED, price, None) == (price, True)
    assert expected_share(Transition.RULED, price, 0) == (price // 2, False)


def _panel_log(event: str, index: int, **args: Any) -> DecodedLog:
    return DecodedLog(event, "0x" + "77" * 20, 800 + index, "0x" + f"{index:064x}", "0x" + f"{index + 1:064x}", 0, args)


def test_panel_votes_appeals_and_the_executed_ruling() -> None:
    members = ("0x" + "a1" * 20, "0x" + "a2" * 20, "0x" + "a3" * 20)
    votes = [_panel_log("Voted", i, disputeID=4, round=r, member=m, ruling=v)
             for i, (r, m, v) in enumerate([(0, members[0], 51), (0, members[1], 51), (1, members[0], 40),
                                            (1, members[1], 40), (1, members[2], 40)])]
    decided = [_panel_log("RoundDecided", 10, disputeID=4, round=0, ruling=51),
               _panel_log("RoundDecided", 11, disputeID=4, round=1, ruling=40)]
    panel = PanelFacts(4, 1, 2, members, votes, decided, [_panel_log("AppealDecision", 12, _disputeID=4)],
                       [_panel_log("RulingExecuted", 13, disputeID=4, ruling=40, rewardPerVote=1)])
    good = check_panel(ORDER_ID, panel, 40)
    assert good.ok and "1 appeals, ruling 40 executed" in good.reason
    assert not check_panel(ORDER_ID, panel, 51).ok  # the book stored another ruling
    stranger = PanelFacts(4, 1, 2, members[:2], votes, decided, [], panel.executed)
    assert "not members of panel epoch 1" in check_panel(ORDER_ID, stranger, 40).reason
    short = PanelFacts(4, 1, 3, members, votes, decided, [], panel.executed)
    assert "decided 51 with 2 votes, it needs 3" in check_panel(ORDER_ID, short, 40).reason
    appealed = PanelFacts(4, 1, 2, members, votes[:4], decided, [], panel.executed)  # round 1: 2 of the 3 it needs
    assert "round 1 decided 40 with 2 votes, it needs 3" in check_panel(ORDER_ID, appealed, 40).reason


def _gov(event: str, block: int, tx: str, **args: Any) -> DecodedLog:
    return DecodedLog(event, BOOK if event == "FeeSet" else "0x" + "ac" * 20, block, f"0xb{block}", tx, block, args)


def test_governance_grants_operations_and_parameter_changes() -> None:
    op, admin = b"\x0a" * 32, "0x" + "ad" * 20
    start = 1_800_000_000
    logs = [_gov("RoleGranted", 1, "0x01", roleId=1, account=admin, delay=2 * DAY, since=start, newMember=True),
            _gov("OperationScheduled", 2, "0x02", operationId=op, nonce=1, schedule=start + 2 * DAY, caller=admin,
                 target=BOOK, data=b"\x12\x34\x56\x78" + b"\x00" * 64),
            _gov("OperationExecuted", 3, "0x03", operationId=op, nonce=1),
            _gov("FeeSet", 3, "0x03", feeBps=100, recipient=admin)]
    times = {"0xb1": start, "0xb2": start, "0xb3": start + 2 * DAY + 1}
    facts = GovernanceFacts(logs, times, {("0x02", 2): 2 * DAY}, labels={BOOK: "OrderBookV2"})
    checks = audit_governance(facts)
    assert [(c.name, c.ok) for c in checks] == [("governance.grant", True), ("governance.operation", True),
                                                ("governance.parameter", True)]
    assert "executed" in checks[1].reason and "(delay 2 days)" in checks[1].reason
    early = GovernanceFacts(logs, {**times, "0xb3": start + DAY}, facts.delays, labels=facts.labels)
    assert "executed before its delay" in audit_governance(early)[1].reason
    short = GovernanceFacts(logs, times, {("0x02", 2): 3 * DAY}, labels=facts.labels)
    assert not audit_governance(short)[1].ok
    direct = GovernanceFacts([logs[0], logs[3]._replace(tx_hash="0x09")], times, direct={"0x09": (admin, -1)})
    assert not audit_governance(direct)[1].ok and "needs one" in audit_governance(direct)[1].reason


def test_the_v2_epcis_export_recomputes_and_edits_are_detected() -> None:
    chain = Chain()
    items, senders = _dispute(chain, vector_logs(chain), fee=10**15, matched=10**15, paid_after=60,
                              kind=Transition.RULED, split=(0, 0, 0, False))
    folded = fold(facts_of(items, senders), GENESIS)
    document = export_epcis_v2(folded, CHAIN_ID, BOOK, created=1_700_000_000)
    events = document["epcisBody"]["eventList"]
    assert [(e["fabmesh:chain"], e["bizStep"]) for e in events] == [
        ("transition", "commissioning"), ("transition", "reserving"), ("record", "encoding"),
        ("record", "inspecting"), ("transition", "shipping"), ("transition", "holding"), ("record", "other"),
        ("transition", "other")]
    assert events[3]["disposition"] == "non_conformant" and events[1]["fabmesh:quoteHash"].startswith("0x")
    assert verify_document_v2(json.loads(json.dumps(document))) == []
    assert folded.tracker is not None and events[-1]["fabmesh:head"] == "0x" + folded.tracker.head.hex()
    events[4]["fabmesh:reportHash"] = "0x" + "00" * 32
    problems = verify_document_v2(document)
    assert any("eventID" in p for p in problems) and any("evidence does not recompute" in p for p in problems)


def test_a_shipment_report_whose_bytes_do_not_hash_to_the_chain_fails_by_name() -> None:
    forged, committed = b'{"forged": true}', hashlib.sha256(b"the report the partner committed to").digest()
    stored = hashlib.sha256(forged).digest()  # the CID's digest: IPFS serves these bytes for it
    items = vector_logs(Chain(), report=(stored, committed))
    by_name, checks = run(facts_of(items), DictEvidence({stored: forged}))
    shipped = [c for c in checks if c.name == "evidence.quality_report"][-1]
    assert not shipped.ok and "no longer matches its hash" in shipped.reason and "OrderShipped" in shipped.reason
    assert by_name["chain.transitions"].ok  # the chain itself is intact: only the document is forged


def _shipped(items) -> int:
    t = fold(facts_of(items), GENESIS).tracker
    assert t is not None and t.shipped_at is not None
    return t.shipped_at


def test_a_dispute_after_the_inspection_window_and_a_late_shipment_are_named() -> None:
    chain = Chain()
    items = vector_logs(chain)
    late = _shipped(items) + 3 * DAY + 1
    disputed = chain.log("OrderDisputed", orderId=ORDER_ID, arbitrator=V2["terms"]["value"]["arbitrator"],
                         evidenceCid=b"\x05" * 32, fee=10**15)
    by_name, _ = run(facts_of([*items, (disputed, late)]))
    assert not by_name["timing.dispute"].ok and "inspection window closed" in by_name["timing.dispute"].reason
    assert by_name["timing.shipment"].ok  # the vectors ship before dueBy
    state = V2["state"]["value"]
    items[-1] = (items[-1][0], state["due_by"] + DAY)  # shipped a day late: allowed, completes as late
    by_name, _ = run(facts_of(items))
    assert by_name["timing.shipment"].ok and "1 day late (completes as late)" in by_name["timing.shipment"].reason


def test_a_rejection_after_the_reject_window_fails() -> None:
    chain = Chain()
    items = vector_logs(chain)[:2]
    awarded_at = items[1][1]
    rejected = chain.log("OrderRejected", orderId=ORDER_ID, partner=PARTNER, reasonCid=b"\x07" * 32)
    window = V2["terms"]["value"]["reject_window"]
    assert run(facts_of([*items, (rejected, awarded_at + window)]))[0]["timing.reject"].ok
    by_name, _ = run(facts_of([*items, (rejected, awarded_at + window + 1)]))
    assert not by_name["timing.reject"].ok and "reject window closed" in by_name["timing.reject"].reason


def test_submitted_evidence_and_the_dispute_file_are_fetched_by_cid() -> None:
    chain = Chain()
    items = vector_logs(chain)
    at = _shipped(items) + DAY
    t = fold(facts_of(items), GENESIS).tracker
    assert t is not None
    file = b"photos"
    digest = hashlib.sha256(file).digest()
    disputed = chain.log("OrderDisputed", orderId=ORDER_ID, arbitrator=V2["terms"]["value"]["arbitrator"],
                         evidenceCid=digest, fee=10**15)
    head = codec.link(t.record_head, RecordKind.EVIDENCE_SUBMITTED, PARTNER, b"\x08" * 32, at + 60)
    submitted = chain.log("Recorded", orderId=ORDER_ID, kind=RecordKind.EVIDENCE_SUBMITTED, actor=PARTNER,
                          evidence=b"\x08" * 32, head=head)
    by_name, _ = run(facts_of([*items, (disputed, at), (submitted, at + 60)]), DictEvidence({digest: file}))
    assert by_name["evidence.dispute"].ok and "(6 bytes)" in by_name["evidence.dispute"].reason
    assert not by_name["evidence.submitted"].ok and "not fetchable" in by_name["evidence.submitted"].reason
    assert by_name["chain.records"].ok


def test_a_quote_first_order_folds_from_the_genesis_to_its_awarded_link() -> None:
    chain = Chain()
    items = vector_logs(chain)
    post, award = items[0][0], items[1][0]
    batched = chain.log("OrderAwarded", post.tx_hash, **award.args)  # postAwarded: one transaction
    batched = batched._replace(block_number=post.block_number, block_hash=post.block_hash)
    facts = facts_of([items[0], (batched, items[0][1])])
    by_name, _ = run(facts)
    assert by_name["chain.transitions"].ok and "1 links from the genesis" in by_name["chain.transitions"].reason
    events = export_epcis_v2(fold(facts, GENESIS), CHAIN_ID, BOOK, created=1_700_000_000)["epcisBody"]["eventList"]
    assert [e["bizStep"] for e in events] == ["reserving"] and events[0]["fabmesh:prevHead"] == "0x" + GENESIS.hex()
    assert verify_document_v2(export_epcis_v2(fold(facts, GENESIS), CHAIN_ID, BOOK, created=1)) == []


def test_a_dispute_at_another_arbitrator_or_created_before_the_deposits_fails() -> None:
    chain = Chain()
    items = vector_logs(chain)
    at = _shipped(items) + DAY
    disputed = chain.log("OrderDisputed", orderId=ORDER_ID, arbitrator=STRANGER, evidenceCid=b"\x05" * 32, fee=1)
    created = chain.log("ArbitrationCreated", orderId=ORDER_ID, arbitrator=STRANGER, disputeId=1)
    by_name, _ = run(facts_of([*items, (disputed, at), (created, at)]))
    reason = by_name["arbitration.fees"].reason
    assert not by_name["arbitration.fees"].ok and "dispute names arbitrator" in reason and "before both" in reason


def test_no_posted_order_and_governance_edge_cases() -> None:
    chain = Chain()
    shipped = vector_logs(chain)[-1]
    facts = OrderFacts(ORDER_ID, GENESIS, [shipped[0]], {shipped[0].block_hash: shipped[1]}, {}, b"", b"")
    folded, checks = audit_order(facts, CTX, DictEvidence({}))
    assert folded.tracker is None and failing(checks) == {"chain.transitions", "chain.records"}
    admin, start, op = "0x" + "ad" * 20, 1_800_000_000, b"\x0b" * 32
    logs = [_gov("RoleGrantDelayChanged", 1, "0x01", roleId=1, delay=DAY, since=start),
            _gov("RoleGranted", 2, "0x02", roleId=1, account=admin, delay=0, since=start + 60, newMember=True),
            _gov("OperationScheduled", 3, "0x03", operationId=op, nonce=1, schedule=start + DAY, caller=admin,
                 target=BOOK, data=b"\x12\x34\x56\x78"),
            _gov("OperationScheduled", 4, "0x04", operationId=op, nonce=2, schedule=start + DAY, caller=admin,
                 target=BOOK, data=b"\x12\x34\x56\x78"),
            _gov("OperationCanceled", 5, "0x05", operationId=op, nonce=1),
            _gov("FeeSet", 6, "0x06", feeBps=0, recipient=admin)]
    times = {f"0xb{i}": start for i in range(1, 7)}
    facts_g = GovernanceFacts(logs, times, {("0x03", 3): DAY, ("0x04", 4): DAY}, {"0x06": ("0xdeployer", -2)},
                              functions={b"\x12\x34\x56\x78": "setFee"})
    grant, cancelled, pending, parameter = audit_governance(facts_g)
    assert not grant.ok and "before the grant delay 1 day passed" in grant.reason
    assert cancelled.ok and "cancelled" in cancelled.reason and "OrderBook" not in cancelled.reason
    assert ".setFee)" in cancelled.reason
    assert pending.ok and "pending, executable from" in pending.reason
    assert parameter.ok and "the initial value, set by its constructor" in parameter.reason


def test_an_attestation_is_signed_by_its_inspector_directly_or_relayed() -> None:
    facts = facts_of(vector_logs(Chain()))
    step = next(s for s in fold(facts, GENESIS).steps if s.log.event == "QualityAttested")
    tx = step.log.tx_hash
    assert check_attestation_signature(step, facts, CTX).ok  # the inspector's own attest
    facts.attest_calls[tx] = AttestCall(STRANGER, BOOK, None, b"", "attest")
    assert "but the record names" in check_attestation_signature(step, facts, CTX).reason
    vector = V2["eip712"]["attestation"]
    signed = Attestation(*(b(v) if isinstance(v, str) and len(v) == 66 else v for v in vector["message"].values()))
    facts.attest_calls[tx] = AttestCall(STRANGER, BOOK, signed, b(vector["signature"]), "attest")
    good = check_attestation_signature(step, facts, CTX)
    assert good.ok and f"relayed by {STRANGER} recovers to inspector {INSPECTOR}" in good.reason
    forged = eip712.sign(Account.create(), DOMAIN, signed)
    facts.attest_calls[tx] = AttestCall(STRANGER, BOOK, signed, forged, "attest")
    assert "not inspector" in check_attestation_signature(step, facts, CTX).reason
    facts.attest_calls[tx] = AttestCall(STRANGER, BOOK, signed._replace(passed=not signed.passed),
                                        b(vector["signature"]), "attest")
    assert "differs from the record" in check_attestation_signature(step, facts, CTX).reason
    facts.attest_calls[tx] = AttestCall(STRANGER, STRANGER, None, b"", "")
    assert "no verifiable signature" in check_attestation_signature(step, facts, CTX).reason
