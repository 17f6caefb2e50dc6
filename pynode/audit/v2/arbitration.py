"""The v2 auditor's dispute checks: the deposits, the arbitrator's dispute, a PanelArbitrator's votes, appeals and
executed ruling, and the resolution's split, bounded by the escrow and the bond (contracts/v2/README.md,
Arbitration; Splits.sol)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pynode.audit.model import Check, where
from pynode.audit.v2.facts import OrderFacts, PanelFacts, Step
from pynode.chain.v2.orders import OrderTracker
from pynode.core.address import to_checksum_address
from pynode.core.units import ETH, format_amount, format_duration, format_time
from pynode.protocol.v2.types import RecordKind, Transition

BPS = 10_000


def _eth(amount: int) -> str:
    return format_amount(amount, ETH)


def check_fees(t: OrderTracker, steps: Sequence[Step], fee_window: int) -> list[Check]:
    """The buyer's deposit with the dispute, the partner's matching one within the window, the dispute created
    at the order's own arbitrator."""
    oid, arbitrator = t.order_id, to_checksum_address(t.terms.arbitrator)
    disputed = next((s for s in steps if s.log.event == "OrderDisputed"), None)
    if disputed is None:
        return []
    fee = int(disputed.log.args["fee"])
    named = to_checksum_address(disputed.log.args["arbitrator"])
    problems = [f"dispute names arbitrator {named}, the terms {arbitrator}"] if named != arbitrator else []
    paid = next((s for s in steps if s.log.event == "Recorded"
                 and int(s.log.args["kind"]) == RecordKind.ARBITRATION_FEE_PAID), None)
    said = f"buyer deposited {_eth(fee)}"
    if paid is not None:
        matched = int.from_bytes(bytes(paid.log.args["evidence"]), "big")
        late = paid.time - disputed.time
        said += f", partner {_eth(matched)} after {format_duration(late)}"
        if matched < fee:
            problems.append(f"partner's deposit {_eth(matched)} below the buyer's")
        if late > fee_window:
            problems.append(f"partner paid {format_duration(late)} after the dispute, the window is "
                            f"{format_duration(fee_window)}")
    created = next((s for s in steps if s.log.event == "ArbitrationCreated"), None)
    if created is not None:
        at = to_checksum_address(created.log.args["arbitrator"])
        said += f", dispute {created.log.args['disputeId']} created at {at}"
        if at != arbitrator or paid is None:
            problems.append(f"dispute created at {at} " + ("before both deposits" if paid is None else
                                                          f"not the terms' arbitrator {arbitrator}"))
    if problems:
        return [Check(oid, "arbitration.fees", False, f"{where(disputed.log)}: " + "; ".join(problems))]
    return [Check(oid, "arbitration.fees", True, said)]


def check_panel(oid: int, panel: PanelFacts, book_ruling: int | None) -> Check:
    """Votes by the dispute's panel only, each decided round's ruling agreed by quorum + round votes, the ruling
    executed the one decided last and the one the book stored."""
    name, members = "arbitration.panel", {to_checksum_address(m) for m in panel.members}
    strangers = sorted({to_checksum_address(v.args["member"]) for v in panel.votes} - members)
    if strangers:
        return Check(oid, name, False, f"dispute {panel.dispute_id}: votes by {', '.join(strangers)}, not members "
                                       f"of panel epoch {panel.epoch}")
    for decided in panel.decided:
        round_ = int(decided.args["round"])
        tally = Counter(int(v.args["ruling"]) for v in panel.votes if int(v.args["round"]) == round_)
        ruling = int(decided.args["ruling"])
        if tally[ruling] < panel.quorum + round_:  # each appeal round needs one more agreeing vote
            return Check(oid, name, False, f"{where(decided)}: round {round_} decided {ruling} with "
                                           f"{tally[ruling]} votes, it needs {panel.quorum + round_}")
    if not panel.executed:
        return Check(oid, name, True, f"dispute {panel.dispute_id}: {len(panel.votes)} member votes, "
                                      f"{len(panel.appeals)} appeals, ruling not executed yet")
    executed = int(panel.executed[-1].args["ruling"])
    last = int(panel.decided[-1].args["ruling"]) if panel.decided else None
    if executed != last or (book_ruling is not None and book_ruling != executed):
        return Check(oid, name, False, f"dispute {panel.dispute_id}: executed ruling {executed}, last decided {last}, "
                                       f"the book stored {book_ruling}")
    return Check(oid, name, True, f"dispute {panel.dispute_id}: {len(panel.votes)} votes by panel {panel.epoch} "
                                  f"members (quorum {panel.quorum}), {len(panel.appeals)} appeals, ruling {executed} "
                                  "executed and stored by the book")


def expected_share(kind: int, price: int, ruling: int | None) -> tuple[int, bool] | None:
    """(buyer share, bond to buyer) a resolution of ``kind`` must give (None: a settlement, any share ≤ price)."""
    if kind == Transition.DISPUTE_DEFAULTED:
        return price, True
    if kind == Transition.DISPUTE_EXPIRED or (kind == Transition.RULED and ruling == 0):
        return price // 2, False
    if kind == Transition.RULED and ruling is not None:
        share = price * (ruling - 1) // 100
        return share, 2 * share > price
    return None


def check_resolution(t: OrderTracker, step: Step, book_ruling: int | None, facts: OrderFacts) -> Check:
    oid, price, bond = t.order_id, t.state.price, t.state.bond

    def money(value: int) -> str:  # the escrow is in the order's token, the bond in ETH
        return facts.amount(t.terms.token, value)

    to_buyer, to_payee, fee, bond_to_buyer = t.resolution or (0, 0, 0, False)
    kind = t.transitions[-1].kind
    problems = []
    if to_buyer + to_payee + fee != price:
        problems.append(f"pays out {money(to_buyer + to_payee + fee)} of an escrow of {money(price)}")
    if fee != (price - min(to_buyer, price)) * t.terms.fee_bps // BPS:
        problems.append(f"fee {money(fee)} is not {t.terms.fee_bps} bps of the payee's share")
    want = expected_share(kind, price, book_ruling)
    if want is not None and (to_buyer, bond_to_buyer) != want:
        problems.append(f"buyer gets {money(to_buyer)} (bond {'slashed' if bond_to_buyer else 'kept'}), "
                        f"{Transition(kind).name.lower()} ruling {book_ruling} gives {money(want[0])}")
    said = (f"{Transition(kind).name.lower()} at {format_time(step.time)}: buyer {money(to_buyer)}, payee "
            f"{money(to_payee)}, fee {money(fee)} of {money(price)} escrowed; bond {_eth(bond)} "
            + ("slashed to the buyer" if bond_to_buyer else "released"))
    if problems:
        return Check(oid, "arbitration.ruling", False, f"{where(step.log)}: ruling outside bounds: "
                     + "; ".join(problems))
    return Check(oid, "arbitration.ruling", True, said)


def check_arbitration(t: OrderTracker, steps: Sequence[Step], facts: OrderFacts, fee_window: int) -> list[Check]:
    checks = check_fees(t, steps, fee_window)
    book_ruling = int(facts.rulings[-1].args["_ruling"]) if facts.rulings else None
    if facts.panel is not None:
        checks.append(check_panel(t.order_id, facts.panel, book_ruling))
    resolved = next((s for s in steps if s.log.event == "OrderResolved"), None)
    if resolved is not None:
        checks.append(check_resolution(t, resolved, book_ruling, facts))
    return checks
