"""The auditor's checks: pure functions from logs, documents and chain facts to `Check`s.

Nothing here opens a socket. What must come from the chain at a given block
(roles, registrations, certifications, a transaction's calldata) is asked of a
:class:`~pynode.audit.model.ChainFacts`, and documents of an
:class:`~pynode.audit.ipfs_evidence.EvidenceSource` (their checks are in evidence_checks.py);
verify.py supplies the RPC/IPFS-backed ones, unit tests supply dictionaries.

Every check is one line: a stable dotted ``name`` (what is verified), ``ok`` and
the ``reason`` (what was compared, or why it failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pynode.audit.collect import OrderLogs
from pynode.audit.evidence_checks import (
    check_design,
    check_envelope,
    check_fetchable,
    check_report,
    check_spec,
)
from pynode.audit.ipfs_evidence import EvidenceSource
from pynode.audit.model import AuditContext, ChainFacts, Check, asset_amount, hex_of, short, where
from pynode.chain.events.decoder import DecodedLog
from pynode.chain.orders import STATE_TYPE, TERMS_TYPE, ZERO32, ZERO_ADDRESS, OrderTracker, order_hash
from pynode.core.address import keccak_text, to_checksum_address
from pynode.core.errors import FabmeshError
from pynode.core.units import format_duration, format_time
from pynode.protocol.eip712 import ATTESTATION_ABI_TYPE, attestation_fields, recover_attestation_signer
from pynode.protocol.types import OrderDocs, OrderSpec, OrderTerms, PartnerFlags, Status, is_terminal

ORDER_TYPE = f"({TERMS_TYPE},{STATE_TYPE})"
ATTEST_SELECTOR = keccak_text(f"attest(uint256,{ORDER_TYPE},bytes32,bytes32,bool)")[:4]
ATTEST_BY_SIG_SELECTOR = keccak_text(f"attestBySig({ORDER_TYPE},{ATTESTATION_ABI_TYPE},bytes)")[:4]


def cert_ids(spec: OrderSpec) -> list[int]:
    packed = int(spec.cert_ids)
    return [cid for cid in ((packed >> (32 * i)) & 0xFFFFFFFF for i in range(4)) if cid]


# --------------------------------------------------------------------------- provenance


def rebuild(order: OrderLogs, onchain_hash: bytes | None, block: int) -> tuple[OrderTracker | None, list[Check]]:
    """Folds the order's logs into a tracker, recomputing every chain link, and compares with `orderHash`."""
    oid = order.order_id
    events = order.events
    if not events or events[0].event != "OrderPosted":
        first = where(events[0]) if events else "nothing"
        return None, [Check(oid, "provenance.records", False,
                            f"the logs start with {first}, not OrderPosted: the order's first record is missing")]
    tracker = OrderTracker(oid)
    for index, log in enumerate(events):
        if log.event == "OrderPosted" and index:
            return None, [Check(oid, "provenance.records", False, f"a second OrderPosted ({where(log)})")]
        if log.event != "OrderPosted":
            prev = bytes(log.args["prevHead"])
            if prev != tracker.head:
                return tracker, [
                    Check(oid, "provenance.records", False,
                          f"record {index} ({where(log)}) links to prevHead {short(prev)} but the records before it "
                          f"end at {short(tracker.head)}: a provenance record is missing from the logs or forged"),
                    Check(oid, "provenance.head", False, "not comparable: the record chain is broken"),
                ]
        tracker.apply(log.event, log.args)
    checks = [Check(oid, "provenance.records", True,
                    f"{len(events)} records, every prevHead links to the hash of the records before it")]
    if onchain_hash is None:
        checks.append(Check(oid, "provenance.head", False, f"no orderHash for order {oid} at block {block}"))
    elif order_hash(tracker.order) == bytes(onchain_hash):
        checks.append(Check(oid, "provenance.head", True,
                            f"head {short(tracker.head)} with the rebuilt state hashes to orderHash at block {block}"))
    else:
        checks.append(Check(oid, "provenance.head", False,
                            f"rebuilt order hashes to {short(order_hash(tracker.order))}, orderHash at block {block} "
                            f"is {short(onchain_hash)}: records are missing at the end of the logs or forged"))
    return tracker, checks


# --------------------------------------------------------------------------- signatures and authority


def check_signature(oid: int, log: DecodedLog, ctx: AuditContext, facts: ChainFacts) -> Check:
    """Who signed the attestation: the transaction's sender (attest) or the EIP-712 signer (attestBySig)."""
    name = "attestation.signature"
    attester = to_checksum_address(log.args["attester"])
    tx = facts.transaction(log.tx_hash)
    data = bytes(tx["input"])
    to = to_checksum_address(tx["to"]) if tx.get("to") else None
    if to != ctx.book:
        return Check(oid, name, False, f"{where(log)}: sent to {to}, not the order book: no verifiable signature")
    if data[:4] == ATTEST_SELECTOR:
        sender = to_checksum_address(tx["from"])
        ok = sender == attester
        return Check(oid, name, ok, f"{where(log)}: direct attest, transaction signed by {sender}"
                     + ("" if ok else f", but the record names {attester}"))
    if data[:4] == ATTEST_BY_SIG_SELECTOR:
        from eth_abi import decode  # a signed attestation's calldata only: direct attests go without eth_abi

        try:
            _order, att, signature = decode([ORDER_TYPE, ATTESTATION_ABI_TYPE, "bytes"], data[4:])
        except Exception as exc:  # noqa: BLE001 - any malformed calldata is a failed check
            return Check(oid, name, False, f"{where(log)}: attestBySig calldata does not decode: {exc}")
        signed = attestation_fields(att)
        same = (int(signed["orderId"]) == oid and to_checksum_address(signed["inspector"]) == attester
                and all(bytes(signed[k]) == bytes(log.args[k]) for k in ("reportCid", "reportHash"))
                and bool(signed["passed"]) == bool(log.args["passed"]))
        if not same:
            return Check(oid, name, False, f"{where(log)}: the signed attestation differs from the record")
        try:
            signer = recover_attestation_signer(ctx.domain, att, signature)
        except Exception as exc:  # noqa: BLE001 - malformed signature bytes
            return Check(oid, name, False, f"{where(log)}: forged EIP-712 signature: does not recover ({exc})")
        if signer != attester:
            return Check(oid, name, False, f"{where(log)}: forged EIP-712 signature: it recovers to {signer}, "
                                           f"not to inspector {attester}")
        return Check(oid, name, True, f"{where(log)}: EIP-712 signature (nonce {signed['nonce']}) recovers to {signer}")
    return Check(oid, name, False, f"{where(log)}: transaction calls {hex_of(data[:4])}, neither attest nor "
                                   "attestBySig: no verifiable signature")


def check_commitments(oid: int, terms: OrderTerms, spec: OrderSpec, docs: OrderDocs) -> Check:
    """terms.specHash = keccak256(abi.encode(spec)) and spec.docsHash = keccak256(abi.encode(docs))."""
    from pynode.chain.orders import docs_hash, spec_hash

    if spec_hash(spec) != bytes(terms.spec_hash):
        return Check(oid, "provenance.commitments", False, "OrderPosted spec does not hash to terms.specHash")
    if docs_hash(docs) != bytes(spec.docs_hash):
        return Check(oid, "provenance.commitments", False, "OrderPosted docs do not hash to spec.docsHash")
    return Check(oid, "provenance.commitments", True, "terms commit to the spec, the spec to the documents")


def check_partner_standing(oid: int, name: str, log: DecodedLog, partner: str, spec: OrderSpec,
                           facts: ChainFacts) -> Check:
    """Registered, vetted, not suspended and every required certification unexpired at the log's block."""
    block, time = log.block_number, int(log.args["time"])
    flags = facts.partner_flags(partner, block)
    problems = []
    reserved = to_checksum_address(spec.reserved_for)
    if name == "party.claimant" and reserved != ZERO_ADDRESS and reserved != to_checksum_address(partner):
        problems.append(f"not the partner the order is reserved for ({reserved})")
    if not flags & PartnerFlags.REGISTERED:
        problems.append("not registered")
    if not flags & PartnerFlags.VETTED:
        problems.append("not vetted")
    if flags & PartnerFlags.SUSPENDED:
        problems.append("suspended")
    for cert in cert_ids(spec):
        expiry = facts.cert_expiry(partner, cert, block)
        if expiry == 0:
            problems.append(f"certification {cert} missing")
        elif expiry < time:
            problems.append(f"certification {cert} expired at {format_time(expiry)} (record time {format_time(time)})")
    if problems:
        return Check(oid, name, False,
                     f"{where(log)}: partner {partner} " + ", ".join(problems) + f" at block {block}")
    certs = cert_ids(spec)
    return Check(oid, name, True, f"{where(log)}: {partner} registered, vetted, not suspended"
                 + (f", certifications {certs} valid" if certs else "") + f" at block {block}")


def check_authority(oid: int, log: DecodedLog, partner: str | None, spec: OrderSpec, facts: ChainFacts) -> Check:
    attester = to_checksum_address(log.args["attester"])
    if partner and attester == to_checksum_address(partner):
        check = check_partner_standing(oid, "attestation.authority", log, attester, spec, facts)
        return Check(oid, check.name, check.ok, check.reason.replace(": partner", ": attesting partner"))
    if facts.has_role("INSPECTOR_ROLE", attester, log.block_number):
        return Check(oid, "attestation.authority", True, f"{where(log)}: {attester} held INSPECTOR_ROLE at that block")
    return Check(oid, "attestation.authority", False, f"{where(log)}: {attester} is neither the partner "
                                                      f"nor held INSPECTOR_ROLE at block {log.block_number}")


def check_arbitrator(oid: int, log: DecodedLog, facts: ChainFacts) -> Check:
    who = to_checksum_address(log.args["arbitrator"])
    ok = facts.has_role("ARBITRATOR_ROLE", who, log.block_number)
    return Check(oid, "party.arbitrator", ok, f"{where(log)}: {who} " + ("held" if ok else "did not hold")
                 + f" ARBITRATOR_ROLE at block {log.block_number}")


# --------------------------------------------------------------------------- timing and money


def check_timing(oid: int, terms: OrderTerms, events: Sequence[DecodedLog]) -> list[Check]:
    claim_deadline, delivery_deadline = int(terms.claim_deadline), int(terms.delivery_deadline)
    window = int(terms.inspection_window)
    checks, shipped_at = [], None
    for log in events:
        time = int(log.args["time"])
        if log.event in ("OrderClaimed", "OrderAwarded"):
            name = "timing.claim" if log.event == "OrderClaimed" else "timing.award"
            ok = time <= claim_deadline
            checks.append(Check(oid, name, ok, f"{where(log)} at {format_time(time)} "
                                + ("≤" if ok else "after the") + f" claim deadline {format_time(claim_deadline)}"))
        elif log.event == "OrderShipped":
            shipped_at = time
            ok = time <= delivery_deadline
            checks.append(Check(oid, "timing.shipment", ok,
                                f"shipped at {format_time(time)}, "
                                + ("before" if ok else f"{format_duration(time - delivery_deadline)} after")
                                + f" the delivery deadline {format_time(delivery_deadline)}"))
        elif log.event == "OrderDisputed" and shipped_at is not None:
            ok = time <= shipped_at + window
            checks.append(Check(oid, "timing.dispute", ok, f"disputed at {format_time(time)}, inspection window "
                                                           f"closed at {format_time(shipped_at + window)}"))
    return checks


def check_money(oid: int, terms: OrderTerms, status: Status, order: OrderLogs) -> Check:
    """Escrowed (price in the order token + claim bond in ETH once claimed) = everything paid out."""
    token, price, bond = to_checksum_address(terms.token), int(terms.price), int(terms.claim_bond)
    claimed = any(log.event == "OrderClaimed" for log in order.events)
    escrow: dict[str, int] = {token: price}
    if claimed:
        escrow[ZERO_ADDRESS] = escrow.get(ZERO_ADDRESS, 0) + bond
    paid: dict[str, int] = {}
    for log in order.credits:
        key = to_checksum_address(log.args["token"])
        paid[key] = paid.get(key, 0) + int(log.args["amount"])
    for log in order.events:
        if log.event == "PaymentWithdrawn":
            paid[token] = paid.get(token, 0) + int(log.args["amount"])
            paid[ZERO_ADDRESS] = paid.get(ZERO_ADDRESS, 0) + int(log.args["bond"])
    assets = sorted(set(escrow) | set(paid))
    summary = "; ".join(f"escrowed {asset_amount(a, escrow.get(a, 0))}, paid out {asset_amount(a, paid.get(a, 0))}"
                        for a in assets)
    over = [a for a in assets if paid.get(a, 0) > escrow.get(a, 0)]
    if over:
        return Check(oid, "money.escrow", False, f"paid out more than escrowed ({summary})")
    if is_terminal(status):
        unsettled = [a for a in assets if paid.get(a, 0) != escrow.get(a, 0)]
        if unsettled:
            return Check(oid, "money.escrow", False, f"{status.name} but escrow not fully settled ({summary})")
        return Check(oid, "money.escrow", True, f"{status.name}: escrowed = released + refunded + fees ({summary})")
    return Check(oid, "money.escrow", True, f"{status.name}, not settled yet; no overpayment ({summary})")


# --------------------------------------------------------------------------- one order


def _guarded(oid: int, name: str, log: DecodedLog, fn) -> Check:
    """A check that needs chain state at a past block: a node without that history fails it, by name."""
    try:
        return fn()
    except FabmeshError as exc:
        return Check(oid, name, False, f"{where(log)}: chain state at block {log.block_number} unavailable "
                                       f"(the auditor needs an archive node): {exc}")


def audit_order(order: OrderLogs, onchain_hash: bytes | None, ctx: AuditContext, facts: ChainFacts,
                evidence: EvidenceSource) -> tuple[OrderTracker | None, list[Check]]:
    oid = order.order_id
    tracker, checks = rebuild(order, onchain_hash, ctx.block)
    if not order.events or order.events[0].event != "OrderPosted":
        return tracker, checks
    head_ok = any(c.name == "provenance.head" and c.ok for c in checks)
    posted = OrderTracker(oid)
    posted.apply("OrderPosted", order.events[0].args)
    terms, spec, docs = posted.terms, posted.spec, posted.docs
    partner = order.partner
    checks.append(check_commitments(oid, terms, spec, docs))
    checks.append(check_spec(oid, docs, evidence))
    checks.append(check_design(oid, docs, evidence))
    status = tracker.status if tracker is not None and head_ok else None
    for log in order.events:
        if log.event == "OrderClaimed":
            checks.append(_guarded(oid, "party.claimant", log, partial(
                check_partner_standing, oid, "party.claimant", log, str(log.args["partner"]), spec, facts)))
        elif log.event == "OrderAwarded":
            checks.append(check_envelope(oid, log, docs, partner, ctx, evidence))
        elif log.event == "QualityAttested":
            checks.append(check_report(oid, log, partner, ctx, evidence))
            checks.append(_guarded(oid, "attestation.signature", log, partial(check_signature, oid, log, ctx, facts)))
            checks.append(_guarded(oid, "attestation.authority", log,
                                   partial(check_authority, oid, log, partner, spec, facts)))
        elif log.event == "OrderShipped":
            checks.append(check_report(oid, log, partner, ctx, evidence))
        elif log.event == "OrderDisputed":
            checks.append(check_fetchable(oid, "evidence.dispute", log, "evidenceCid", evidence))
        elif log.event == "DisputeResolved":
            checks.append(_guarded(oid, "party.arbitrator", log, partial(check_arbitrator, oid, log, facts)))
            if bytes(log.args["rulingCid"]) != ZERO32:
                checks.append(check_fetchable(oid, "evidence.ruling", log, "rulingCid", evidence))
    checks.extend(check_timing(oid, terms, order.events))
    if status is None:  # chain broken: judge money on what the logs claim, as the status they end in
        status = Status.NONE
        if tracker is not None:
            status = tracker.status
    checks.append(check_money(oid, terms, status, order))
    return tracker, checks
