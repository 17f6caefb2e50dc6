"""The v2 auditor's order checks: pure functions of :class:`~pynode.audit.v2.facts.OrderFacts` to ``Check`` lines.

Both chains are rebuilt from the genesis that binds chain id, book and order id; the transition chain must hash
(with the rebuilt terms and state) to ``orderHash``, the record chain end at ``recordHead``. The documents the
order names are checked by the v1 evidence checks (spec, design, key envelope, reports, dispute files).
"""

from __future__ import annotations

from collections.abc import Sequence

from pynode.audit.evidence_checks import check_design, check_envelope, check_fetchable, check_report, check_spec
from pynode.audit.ipfs_evidence import EvidenceSource
from pynode.audit.model import AuditContext, Check, short, where
from pynode.audit.v2.arbitration import check_arbitration
from pynode.audit.v2.facts import RECORD_LOGS, Folded, OrderFacts, Step, fold
from pynode.chain.v2.orders import OrderTracker
from pynode.core.address import to_checksum_address
from pynode.core.units import ETH, format_amount, format_duration, format_time
from pynode.documents.quote import SignedQuote
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import OrderStatus, RecordKind, Transition

_ATTESTABLE = (OrderStatus.AWARDED, OrderStatus.SHIPPED, OrderStatus.DISPUTED)


def check_chains(facts: OrderFacts, ctx: AuditContext) -> tuple[Folded, list[Check]]:
    """chain.genesis, chain.transitions, chain.records."""
    oid = facts.order_id
    genesis = codec.genesis(ctx.chain_id, ctx.book, oid)
    ok = facts.genesis == genesis
    checks = [Check(oid, "chain.genesis", ok, f"genesis {short(genesis)} binds chain {ctx.chain_id}, book {ctx.book} "
                    f"and order {oid}" + ("" if ok else f", but the book's genesis view is {short(facts.genesis)}"))]
    folded = fold(facts, genesis)
    t = folded.tracker
    if folded.broken is not None:
        broken = folded.broken
        name = "chain.records" if broken.event in RECORD_LOGS else "chain.transitions"
        other = "chain.transitions" if name == "chain.records" else "chain.records"
        return folded, [*checks, Check(oid, name, False, f"{where(broken)} does not follow the chain: {folded.error}"),
                        Check(oid, other, False, "not comparable: the order's logs do not fold")]
    if t is None:
        return folded, [*checks, Check(oid, "chain.transitions", False, "no OrderPosted in the logs"),
                        Check(oid, "chain.records", False, "not comparable: the order was never posted")]
    heads = codec.chain_heads(genesis, t.transitions)
    rebuilt = codec.order_hash(t.order)
    if heads[-1] != t.head or rebuilt != facts.order_hash:
        checks.append(Check(oid, "chain.transitions", False,
                            f"{len(t.transitions)} links rebuild orderHash {short(rebuilt)}, the book commits to "
                            f"{short(facts.order_hash)} at block {ctx.block}: a transition is missing or forged"))
    else:
        checks.append(Check(oid, "chain.transitions", True, f"{len(t.transitions)} links from the genesis, head "
                            f"{short(t.head)}, hash to orderHash at block {ctx.block}"))
    ok = t.record_head == facts.record_head
    checks.append(Check(oid, "chain.records", ok, f"{len(t.records)} records from the genesis end at "
                        f"{short(t.record_head)}" + (" = recordHead" if ok else
                        f", recordHead at block {ctx.block} is {short(facts.record_head)}: a record is missing")))
    return folded, checks


def check_params(t: OrderTracker, facts: OrderFacts) -> Check:
    """The terms' snapshot of the book's parameters equals the parameters at the post block."""
    oid, terms = t.order_id, t.terms
    if facts.params is None:
        return Check(oid, "params.snapshot", False, f"the book's parameters at block {t.posted_block} are unknown")
    own = {"feeBps": terms.fee_bps, "rejectWindow": terms.reject_window, "disputeTimeout": terms.dispute_timeout}
    wrong = [f"{k} {own[k]} (book: {facts.params[k]})" for k in own if own[k] != facts.params[k]]
    shown = (f"fee {terms.fee_bps} bps, reject window {format_duration(terms.reject_window)}, "
             f"dispute timeout {format_duration(terms.dispute_timeout)}")
    if wrong:
        return Check(oid, "params.snapshot", False, f"terms snapshot {', '.join(wrong)} at block {t.posted_block}")
    return Check(oid, "params.snapshot", True, f"{shown}: the book's parameters at post (block {t.posted_block})")


def check_award(t: OrderTracker, awarded: Step, facts: OrderFacts) -> Check:
    """The awarded state stays inside the terms: price, bond, lead time, award deadline, parties."""
    terms, s, oid = t.terms, t.state, t.order_id
    problems = []
    if s.price > terms.price or s.price == 0:
        problems.append(f"price {facts.amount(terms.token, s.price)} not above 0 and within the escrow "
                        f"{facts.amount(terms.token, terms.price)}")
    if s.bond < terms.min_bond:
        problems.append(f"bond {format_amount(s.bond, ETH)} below the terms' minimum "
                        f"{format_amount(terms.min_bond, ETH)}")
    if s.due_by > terms.delivery_deadline:
        problems.append(f"due {format_time(s.due_by)} after the delivery deadline "
                        f"{format_time(terms.delivery_deadline)}")
    if awarded.time > terms.award_deadline:
        problems.append(f"awarded {format_time(awarded.time)} after the award deadline")
    if to_checksum_address(s.partner) in (to_checksum_address(terms.buyer), to_checksum_address(terms.arbitrator)):
        problems.append(f"partner {s.partner} is the buyer or the arbitrator")
    if problems:
        return Check(oid, "quote.terms", False, f"{where(awarded.log)}: " + "; ".join(problems))
    return Check(oid, "quote.terms", True, f"{where(awarded.log)} at {format_time(awarded.time)}: price ≤ escrow, "
                 f"bond ≥ minimum, due {format_time(s.due_by)} ≤ delivery deadline, partner neither buyer nor "
                 "arbitrator")


def check_quote(t: OrderTracker, awarded: Step, quotes: Sequence[SignedQuote], domain: Domain,
                facts: OrderFacts) -> Check:
    """The awarded quote's struct hash against a quote document given for this order, its signature recovered."""
    oid, name = t.order_id, "quote.document"
    terms_hash = codec.terms_hash(t.terms)
    mine = [q for q in quotes if q.quote.terms_hash == terms_hash]
    quote_hash = t.quote_hash or b""
    match = next((q for q in mine if eip712.struct_hash(domain, q.quote) == quote_hash), None)
    if match is None:
        if mine:
            return Check(oid, name, False, f"{where(awarded.log)}: award quote hash {short(quote_hash)} matches none "
                         f"of the {len(mine)} quote documents given for these terms")
        return Check(oid, name, True, f"no quote document given: the Awarded link binds quote hash {short(quote_hash)}")
    q, s = match.quote, t.state
    try:
        signer = match.recover_signer(domain)
    except Exception as exc:  # noqa: BLE001 - a domain mismatch or malformed signature is a failed check
        return Check(oid, name, False, f"quote document {short(quote_hash)}: {exc}")
    awarded_at = awarded.time
    wrong = [f for f, ok in (("signer", signer == to_checksum_address(q.partner)),
                             ("partner", q.partner == s.partner), ("payee", q.payee == s.payee),
                             ("price", q.price == s.price), ("bond", q.bond == s.bond),
                             ("lead time", awarded_at + q.lead_time == s.due_by),
                             ("expiry", awarded_at <= q.expiry)) if not ok]
    if wrong:
        return Check(oid, name, False, f"quote document {short(quote_hash)} (signed by {signer}) differs from the "
                                       f"award in {', '.join(wrong)}")
    return Check(oid, name, True, f"quote {short(quote_hash)} signed by partner {signer}, price "
                                  f"{facts.amount(t.terms.token, q.price)}, lead time "
                                  f"{format_duration(q.lead_time)}, unexpired at the award")


def check_attestation(t: OrderTracker, step: Step, steps: Sequence[Step], facts: OrderFacts) -> list[Check]:
    """attestation.inspector (the spec names it), attestation.accredited, attestation.window."""
    oid, log = t.order_id, step.log
    who = to_checksum_address(log.args["inspector"])
    named = {to_checksum_address(a) for a in t.spec.inspectors}
    said = "is named by the spec" if who in named else f"is not one of the spec's {len(named)} inspectors"
    checks = [Check(oid, "attestation.inspector", who in named, f"{where(log)}: inspector {who} {said}")]
    expiry = facts.inspector_expiry.get((who, log.block_number))
    ok = expiry is not None and expiry >= step.time
    checks.append(Check(oid, "attestation.accredited", ok, f"{where(log)}: {who} " + (
        "accreditation unknown" if expiry is None else f"accredited until {format_time(expiry)}" if expiry
        else "not accredited") + f" at block {log.block_number}"))
    earlier = steps[:steps.index(step)]
    before = next((s.status for s in reversed(earlier) if s.chain == "transition"), None)
    shipped = t.shipped_at
    late = shipped is not None and before == OrderStatus.SHIPPED and step.time > shipped + t.terms.inspection_window
    ok = before in _ATTESTABLE and not late
    checks.append(Check(oid, "attestation.window", ok, f"{where(log)} at {format_time(step.time)} while "
                        f"{before.name if before is not None else 'unposted'}"
                        + (", after the inspection window" if late else "")))
    return checks


def check_timing(t: OrderTracker, steps: Sequence[Step]) -> list[Check]:
    oid, checks = t.order_id, []
    moves = [s for s in steps if s.chain == "transition"]
    for step, link in zip(moves, t.transitions, strict=True):
        kind = link.kind
        if kind == Transition.SHIPPED:
            late = step.time > t.due_by
            checks.append(Check(oid, "timing.shipment", True, f"shipped {format_time(step.time)}, "
                                + (f"{format_duration(step.time - t.due_by)} late (completes as late)" if late
                                   else f"by its due date {format_time(t.due_by)}")))
        elif kind == Transition.DISPUTED and t.shipped_at is not None:
            closes = t.shipped_at + t.terms.inspection_window
            ok = step.time <= closes
            checks.append(Check(oid, "timing.dispute", ok, f"disputed {format_time(step.time)}, inspection window "
                                f"closed {format_time(closes)}"))
        elif kind == Transition.REJECTED and t.awarded_at is not None:
            closes = t.awarded_at + t.terms.reject_window
            checks.append(Check(oid, "timing.reject", step.time <= closes, f"rejected {format_time(step.time)}, "
                                f"reject window closed {format_time(closes)}"))
    return checks


def check_documents(t: OrderTracker, steps: Sequence[Step], ctx: AuditContext, evidence: EvidenceSource) -> list[Check]:
    """The v1 evidence checks over the documents the v2 order names."""
    oid, docs, partner = t.order_id, t.docs, t.partner
    # v2's OrderDocs carries v1's design_cid, design_sha256 and spec_cid, all these checks read (hence the ignores)
    checks = [check_spec(oid, docs, evidence), check_design(oid, docs, evidence)]  # type: ignore[arg-type]
    for step in steps:
        log = step.log
        if log.event == "OrderAwarded":
            checks.append(check_envelope(oid, log, docs, partner, ctx, evidence))  # type: ignore[arg-type]
        elif log.event in ("OrderShipped", "QualityAttested"):
            checks.append(check_report(oid, log, partner, ctx, evidence))
        elif log.event == "OrderDisputed":
            checks.append(check_fetchable(oid, "evidence.dispute", log, "evidenceCid", evidence))
        elif log.event == "Recorded" and int(log.args["kind"]) == RecordKind.EVIDENCE_SUBMITTED:
            checks.append(check_fetchable(oid, "evidence.submitted", log, "evidence", evidence))
    return checks


def audit_order(facts: OrderFacts, ctx: AuditContext, evidence: EvidenceSource,
                quotes: Sequence[SignedQuote] = (), fee_window: int = 0) -> tuple[Folded, list[Check]]:
    """Every check of one v2 order (``fee_window``: the book's FEE_RESPONSE_WINDOW), and the order as folded."""
    folded, checks = check_chains(facts, ctx)
    t = folded.tracker
    if t is None:
        return folded, checks
    steps = folded.steps
    checks.append(check_params(t, facts))
    awarded = next((s for s in steps if s.log.event == "OrderAwarded"), None)
    if awarded is not None and t.partner is not None:
        checks += [check_award(t, awarded, facts), check_quote(t, awarded, quotes, ctx.domain, facts)]
    for step in steps:
        if step.log.event == "QualityAttested":
            checks += [*check_attestation(t, step, steps, facts), check_attestation_signature(step, facts, ctx)]
    checks += check_timing(t, steps)
    checks += check_arbitration(t, steps, facts, fee_window)
    checks += check_documents(t, steps, ctx, evidence)
    return folded, checks


def check_attestation_signature(step: Step, facts: OrderFacts, ctx: AuditContext) -> Check:
    """The inspector sent its own attest, or the relayed calldata's EIP-712 Attestation is this record and its
    signature recovers to the inspector under the book's domain."""
    oid, log, name = facts.order_id, step.log, "attestation.signature"
    inspector = to_checksum_address(log.args["inspector"])
    call = facts.attest_calls.get(log.tx_hash)
    if call is None:
        return Check(oid, name, False, f"{where(log)}: transaction {log.tx_hash} unknown")
    if call.to is None or to_checksum_address(call.to) != ctx.book or call.function != "attest":
        return Check(oid, name, False, f"{where(log)}: sent to {call.to} calling {call.function or 'unknown'}, not "
                                       "the book's attest: no verifiable signature")
    if call.relayed is None:
        ok = to_checksum_address(call.sender) == inspector
        return Check(oid, name, ok, f"{where(log)}: the inspector's own attest, transaction signed by {call.sender}"
                     + ("" if ok else f", but the record names {inspector}"))
    att = call.relayed
    same = (att.order_id == oid and to_checksum_address(att.inspector) == inspector
            and (bytes(att.report_cid), bytes(att.report_hash), bool(att.passed))
            == (bytes(log.args["reportCid"]), bytes(log.args["reportHash"]), bool(log.args["passed"])))
    if not same:
        return Check(oid, name, False, f"{where(log)}: the relayed, signed attestation differs from the record")
    try:
        signer = eip712.recover(ctx.domain, att, call.signature)
    except Exception as exc:  # noqa: BLE001 - malformed signature bytes are a failed check
        return Check(oid, name, False, f"{where(log)}: relayed signature does not recover ({type(exc).__name__})")
    ok = to_checksum_address(signer) == inspector
    return Check(oid, name, ok, f"{where(log)}: EIP-712 attestation (nonce {att.nonce}) relayed by {call.sender} "
                 + (f"recovers to inspector {signer}" if ok else f"recovers to {signer}, not inspector {inspector}"))
