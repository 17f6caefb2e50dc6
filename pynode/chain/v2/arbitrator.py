"""PanelArbitrator: the reference ERC-792 arbitrator an order's terms may name (k-of-n panel, appeal rounds,
contracts/v2/interfaces/IPanelArbitrator.sol). Views return Python values, writes TxRequests.

The book creates disputes (``payArbitrationFee`` calls ``createDispute``), so no client sends createDispute;
``executeRuling`` passes the final ruling to the book, whose own ``executeRuling`` then applies it to the order.
``setPanel`` is AccessManaged governance (the governance wrapper schedules this request).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple

from pynode.chain.contracts import _Wrapper

if TYPE_CHECKING:
    from pynode.chain.tx import TxRequest


class Phase(IntEnum):
    """IPanelArbitrator.Phase: where a dispute stands inside the panel."""

    NONE = 0
    VOTING = 1
    APPEALABLE = 2
    EXECUTED = 3


class DisputeStatus(IntEnum):
    """ERC-792 IArbitrator.DisputeStatus."""

    WAITING = 0
    APPEALABLE = 1
    SOLVED = 2


class PanelDispute(NamedTuple):
    """``dispute(disputeID)`` (IPanelArbitrator.Dispute)."""

    arbitrable: str
    epoch: int
    quorum: int
    size: int
    round: int
    phase: int  # a Phase
    choices: int
    ruling: int  # the current (provisional, then final) ruling
    round_start: int
    decided_at: int  # 0 while voting
    pot: int
    coherent_votes: int
    reward_per_vote: int


class Panel(NamedTuple):
    epoch: int
    members: tuple[str, ...]
    quorum: int


class PanelArbitrator(_Wrapper):
    # ------------------------------------------------------------------------------- views

    def arbitration_cost(self, extra_data: bytes = b"") -> int:
        """What a dispute deposits (the book's ``dispute`` value, matched by the partner)."""
        return int(self.call("arbitrationCost", extra_data))

    def appeal_cost(self, dispute_id: int, extra_data: bytes = b"") -> int:
        return int(self.call("appealCost", dispute_id, extra_data))

    def appeal_period(self, dispute_id: int) -> tuple[int, int]:
        start, end = self.call("appealPeriod", dispute_id)
        return int(start), int(end)

    def dispute_status(self, dispute_id: int) -> DisputeStatus:
        return DisputeStatus(int(self.call("disputeStatus", dispute_id)))

    def current_ruling(self, dispute_id: int) -> int:
        return int(self.call("currentRuling", dispute_id))

    def dispute(self, dispute_id: int, block: int | str = "latest") -> PanelDispute:
        return PanelDispute(*self.call("dispute", dispute_id, block=block))

    def phase(self, dispute_id: int) -> Phase:
        return Phase(self.dispute(dispute_id).phase)

    def vote_of(self, dispute_id: int, round_: int, member: str) -> int | None:
        """The ruling ``member`` voted in the round; None if it did not vote."""
        raw = int(self.call("voteOf", dispute_id, round_, member))
        return raw - 1 if raw else None

    def votes_for(self, dispute_id: int, round_: int, ruling: int) -> int:
        return int(self.call("votesFor", dispute_id, round_, ruling))

    def is_member(self, epoch: int, account: str) -> bool:
        return bool(self.call("isMember", epoch, account))

    def panel(self) -> Panel:
        epoch, members, quorum = self.call("panel")
        return Panel(int(epoch), tuple(members), int(quorum))

    def credit(self, account: str) -> int:
        return int(self.call("credit", account))

    def appeal_window(self) -> int:
        return int(self.call("appealWindow"))

    def voting_period(self) -> int:
        return int(self.call("votingPeriod"))

    # ------------------------------------------------------------------------------ writes

    def vote(self, dispute_id: int, ruling: int) -> TxRequest:
        """A panel member's vote: 0 refuses to arbitrate, r in 1..101 gives the buyer (r − 1) % of the price."""
        return self.request(f"vote {ruling} on dispute {dispute_id}", "vote", dispute_id, ruling)

    def appeal(self, dispute_id: int, cost: int, extra_data: bytes = b"") -> TxRequest:
        """``cost``: ``appeal_cost(dispute_id)``, paid with the call."""
        return self.request(f"appeal dispute {dispute_id}", "appeal", dispute_id, extra_data, value=cost)

    def execute_ruling(self, dispute_id: int) -> TxRequest:
        return self.request(f"execute the ruling of dispute {dispute_id}", "executeRuling", dispute_id)

    def claim_reward(self, dispute_id: int) -> TxRequest:
        return self.request(f"claim the reward of dispute {dispute_id}", "claimReward", dispute_id)

    def withdraw(self, to: str) -> TxRequest:
        return self.request("withdraw", "withdraw", to)

    def set_panel(self, members: list[str], quorum: int) -> TxRequest:
        return self.request("set panel", "setPanel", members, quorum)
