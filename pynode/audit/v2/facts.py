"""What the v2 checks are given: one order's logs with their block times and senders, the book's commitments at
the audit block, and the chain state the checks compare with, each read at the block it is about.

verify.py fills these from JSON-RPC; unit tests build them from synthetic logs (nothing here opens a socket).
The order is folded here too (:func:`fold`), link by link, so a check can name the log where its chain breaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from pynode.audit.model import asset_amount
from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.events.decoder import DecodedLog
from pynode.chain.v2.orders import OrderTracker
from pynode.core.address import to_checksum_address
from pynode.core.units import Unit, format_amount
from pynode.protocol.v2.types import Attestation, OrderStatus

#: events of the record chain (a Recorded link, or the QualityAttested that follows its own Recorded)
RECORD_LOGS = ("Recorded", "QualityAttested")


@dataclass
class PanelFacts:
    """A PanelArbitrator dispute as its logs and views tell it."""

    dispute_id: int
    epoch: int  # the panel epoch the dispute is voted by
    quorum: int
    members: tuple[str, ...]  # that epoch's members (PanelSet)
    votes: list[DecodedLog] = field(default_factory=list)  # Voted(disputeID, round, member, ruling)
    decided: list[DecodedLog] = field(default_factory=list)  # RoundDecided(disputeID, round, ruling)
    appeals: list[DecodedLog] = field(default_factory=list)  # AppealDecision
    executed: list[DecodedLog] = field(default_factory=list)  # RulingExecuted(disputeID, ruling, reward)


class AttestCall(NamedTuple):
    """The transaction of a QualityAttested: who sent it where, and, for a relayed one, what was signed."""

    sender: str
    to: str | None
    relayed: Attestation | None  # attest(..., att, sig): the signed attestation; None: the inspector's own attest
    signature: bytes
    function: str  # the called function's name ("" when the calldata is not the book's)


@dataclass
class OrderFacts:
    """One v2 order's evidence on chain."""

    order_id: int
    genesis: bytes  # the book's genesis(orderId) view
    logs: list[DecodedLog]  # the order's events and credits, in (block, log index) order
    times: dict[str, int]  # block hash -> timestamp
    senders: dict[str, str]  # tx hash -> sender, for the links "anyone" makes
    order_hash: bytes  # orderHash(orderId) at the audit block
    record_head: bytes  # recordHead(orderId) at the audit block
    params: dict[str, int] | None = None  # feeBps, rejectWindow, disputeTimeout of the book at the post block
    inspector_expiry: dict[tuple[str, int], int] = field(default_factory=dict)  # (inspector, block) -> expiry
    rulings: list[DecodedLog] = field(default_factory=list)  # the book's Ruling(arbitrator, disputeID, ruling)
    panel: PanelFacts | None = None  # when the order's arbitrator is the deployment's PanelArbitrator
    unit: Unit | None = None  # the order token's symbol and decimals (None: unknown, amounts stay integers)
    attest_calls: dict[str, AttestCall] = field(default_factory=dict)  # tx hash -> call, per QualityAttested

    def amount(self, token: str, value: int) -> str:
        """An amount of the order's token in its units when known (ETH always)."""
        if self.unit is not None:
            return format_amount(value, self.unit)
        return asset_amount(to_checksum_address(token), value)


class Step(NamedTuple):
    """One log folded: which chain it extended (None: neither), the heads around it, the status after it."""

    log: DecodedLog
    chain: str | None  # "transition" | "record" | None
    prev: bytes
    head: bytes
    status: OrderStatus
    time: int
    actor: str = ""  # the link's actor (its transaction's sender, or the inspector of a relayed attestation)


@dataclass
class Folded:
    tracker: OrderTracker | None  # None when nothing was posted
    steps: list[Step]
    broken: DecodedLog | None = None  # the log the fold stopped at
    error: str = ""


def _fold_once(facts: OrderFacts, genesis: bytes, born_awarded: bool) -> Folded:
    tracker = OrderTracker(facts.order_id, genesis, born_awarded=born_awarded)
    steps: list[Step] = []
    heads = {"transition": genesis, "record": genesis}
    for log in facts.logs:
        transitions, records = len(tracker.transitions), len(tracker.records)
        head_before = tracker.head if tracker.posted else b""
        try:
            time = facts.times[log.block_hash]
            tracker.apply(log, time, facts.senders.get(log.tx_hash) if tracker.needs_sender(log) else None)
        except (OrderOutOfSync, ValueError, KeyError) as exc:
            return Folded(tracker if tracker.posted else None, steps, log, str(exc) or type(exc).__name__)
        chain = ("transition" if len(tracker.transitions) > transitions
                 else "record" if len(tracker.records) > records else None)
        if chain is None and head_before and tracker.head != head_before:
            # postAwarded: the award replaced the Posted link, and the chain starts at the Awarded one
            index = max(i for i, s in enumerate(steps) if s.chain == "transition")
            replaced = steps[index]
            steps[index] = replaced._replace(chain=None, prev=b"", head=b"")
            heads["transition"], chain = replaced.prev, "transition"
        head = b""
        if chain is not None:
            head = tracker.head if chain == "transition" else tracker.record_head
            link = tracker.transitions[-1] if chain == "transition" else tracker.records[-1]
            steps.append(Step(log, chain, heads[chain], head, tracker.status, time, link.actor))
            heads[chain] = head
        else:
            steps.append(Step(log, None, b"", b"", tracker.status, time))
    return Folded(tracker if tracker.posted else None, steps)


def fold(facts: OrderFacts, genesis: bytes) -> Folded:
    """The order folded from ``genesis``; a post and an award batched in one transaction is read escrow-first
    when the quote-first reading does not reproduce orderHash (as OrderBookV2.load_order does)."""
    from pynode.protocol.v2 import codec

    folded = _fold_once(facts, genesis, True)
    t = folded.tracker
    if t is not None and t.awarded_with_post and codec.order_hash(t.order) != facts.order_hash:
        other = _fold_once(facts, genesis, False)
        if other.tracker is not None and not other.broken and codec.order_hash(other.tracker.order) == \
                facts.order_hash:
            return other
    return folded
