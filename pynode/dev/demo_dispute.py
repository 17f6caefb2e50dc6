"""The demo's dispute: the buyer disputes the laser-cut plates at the PanelArbitrator, an appeal, the ruling.

Every step is a `fabmesh --protocol 2` command of the party who takes it; the laser shop's daemon matches the
buyer's fee on its own ([policy] max_arbitration_fee_wei). Round 0 needs the quorum (2 of 3) agreeing, the
appealed round one vote more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynode.dev.organizations import Command, DemoFailed
from pynode.protocol.v2.types import OrderStatus

if TYPE_CHECKING:
    from pynode.dev.demo import Scenario

PANEL = ("arbitrator", "panelist", "panelist2")  # the dev panel's members (pynode.dev.accounts.role_plan_v2)
FIRST_SHARE, APPEALED_SHARE = 30, 60  # % of the price back to the buyer: the panel's first ruling, then on appeal


def eth(wei: int) -> str:
    return f"{wei / 10**18:.6f} ETH"


def dispute(scenario: Scenario, name: str) -> dict:
    order_id = scenario.orders[name]
    scenario.wait_for(name, {OrderStatus.SHIPPED})
    evidence = scenario.out / "inspection" / f"order-{order_id}-measurements.csv"
    evidence.parent.mkdir(exist_ok=True)
    evidence.write_text("plate,hole_d_mm\n1,8.21\n2,8.19\n3,8.24\n4,8.05\n")
    disputed = scenario.fabmesh("buyer", "order", "dispute", order_id, "--evidence", evidence, account="buyer")
    scenario.console.print(f"the buyer deposited the panel's fee {eth(int(disputed['fee']))}; the laser shop's "
                           "daemon matches it", highlight=False)
    scenario.wait_until(lambda: scenario.chain.book.load_order(order_id, scenario.chain.from_block).dispute_id
                        is not None, f"order {order_id}'s dispute created at the panel")
    scenario.fabmesh_all([_vote(order_id, member, FIRST_SHARE) for member in PANEL[:2]])  # the quorum
    first = scenario.fabmesh("inspector", "arbitration", "status", order_id)
    scenario.console.print(f"round 0: {first['phase']}, ruling {first['ruling']} ({FIRST_SHARE}% to the buyer)",
                           highlight=False)
    scenario.fabmesh("laser-shop", "arbitration", "appeal", order_id, account="account9")
    scenario.fabmesh_all([_vote(order_id, member, APPEALED_SHARE) for member in PANEL])
    appealed = scenario.fabmesh("inspector", "arbitration", "status", order_id)
    scenario.console.print(f"round 1 (appeal): {appealed['phase']}, ruling {appealed['ruling']} "
                           f"({APPEALED_SHARE}% to the buyer)", highlight=False)
    window = scenario.chain.panel.appeal_window() + 1
    scenario.console.print(f"[yellow]dev anvil: advancing the chain's clock {window} s past the appeal window "
                           "(evm_increaseTime + evm_mine)[/yellow]", highlight=False)
    scenario.network.anvil.rpc("evm_increaseTime", window)
    scenario.network.anvil.rpc("evm_mine")
    scenario.fabmesh("auditor", "arbitration", "execute", order_id, account="auditor")
    tracker = scenario.chain.book.load_order(order_id, scenario.chain.from_block)
    if tracker.status != OrderStatus.RESOLVED or tracker.resolution is None:
        raise DemoFailed(f"order {order_id} is {tracker.status.name} after the ruling's execution")
    to_buyer, to_payee, fee, bond_to_buyer = tracker.resolution
    scenario.console.print(f"ruling executed: {eth(to_buyer)} to the buyer, {eth(to_payee)} to the laser shop, "
                           f"fee {eth(fee)}, bond {'to the buyer' if bond_to_buyer else 'kept by the shop'}",
                           highlight=False)
    return {"first": first, "appealed": appealed, "resolution": tracker.resolution}



def _vote(order_id: int, member: str, share: int) -> Command:
    return Command("inspector", ("arbitration", "vote", order_id, "--buyer-share", share), member)
