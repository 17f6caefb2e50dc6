"""The v2 demo scenario, asserted from chain state and the parties' own records (not from what it printed)."""

from __future__ import annotations

import pytest
from rich.console import Console

from pynode.dev.demo import SHOPS, Scenario
from pynode.dev.demo_dispute import APPEALED_SHARE, FIRST_SHARE
from pynode.dev.demo_governance import NEW_FEE_BPS
from pynode.protocol.v2.types import OrderStatus
from support import left_behind

pytestmark = pytest.mark.integration


def test_demo_scenario_outcomes(tmp_path):
    console = Console(file=open(tmp_path / "demo.txt", "w"), width=140)  # noqa: SIM115 - written until the test ends
    with Scenario(tmp_path / "demo", console) as scenario:
        result = scenario.run()
        chain = scenario.chain
        orders = {name: chain.book.load_order(order_id, chain.from_block)
                  for name, order_id in result["orders"].items()}
        shop = {s.org: scenario.accounts[s.account].address for s in SHOPS}
        fee_now = chain.book.fee_bps()
        kubo = scenario.net.kubo.values()
        pids = [d.pid for d in scenario.daemons] + [scenario.net.anvil.process.pid, *(n.process.pid for n in kubo)]
        ports = [scenario.net.anvil.port, *(int(n.api_url.rsplit(":", 1)[1]) for n in kubo)]

    assert {name: t.status for name, t in orders.items()} == {
        "print": OrderStatus.COMPLETED, "machined": OrderStatus.COMPLETED, "disputed": OrderStatus.RESOLVED}
    # Three shops quoted the FDM order; the watcher awarded the cheapest, the others were outbid.
    quotes = result["quotes"]
    assert set(quotes["quotes"]) == {"fdm-farm", "cnc-shop", "laser-shop"}
    assert quotes["winner"] == "fdm-farm" and orders["print"].partner == shop["fdm-farm"]
    assert orders["print"].price == quotes["quotes"]["fdm-farm"] == min(quotes["quotes"].values())
    assert quotes["rejected"] == {"cnc-shop": "outbid", "laser-shop": "outbid"}
    assert orders["machined"].partner == shop["cnc-shop"] and orders["disputed"].partner == shop["laser-shop"]
    # The FDM part was printed by OctoPrint, the CNC part machined on the OPC UA machine: their reports say so.
    printed, machined = result["reports"]["print"], result["reports"]["machined"]
    assert printed["passed"] and printed["notes"].startswith("printed on mk4-")
    assert printed["evidence"] == ["octoprint.json"] and printed["other"]["print_time_s"] >= 0
    assert machined["passed"] and machined["evidence"] == ["machine.json"]
    assert set(machined["checks"]) == {"bore_d"} and machined["other"] == {"parts_produced": 2.0}
    # The dispute was ruled by the panel, appealed, ruled again by one more vote, and that ruling executed.
    ruling = result["ruling"]
    assert (ruling["first"]["ruling"], ruling["appealed"]["ruling"]) == (FIRST_SHARE + 1, APPEALED_SHARE + 1)
    to_buyer, to_payee, fee, _ = orders["disputed"].resolution
    assert to_buyer == orders["disputed"].price * APPEALED_SHARE // 100
    assert to_buyer + to_payee + fee == orders["disputed"].price
    # The fee changed only after the delay: the early execute was refused by fabmesh (nothing sent) and, sent
    # anyway, by the manager.
    change = result["fee"]
    assert (change.fee_before, change.fee_after, fee_now) == (0, NEW_FEE_BPS, NEW_FEE_BPS)
    assert "nothing sent" in change.early_refusal and "AccessManagerNotReady" in change.chain_refusal
    assert change.executed_at >= change.ready_at
    assert result["audit"]["verdict"] == "VERIFIED"
    # Everything stopped: no process of theirs left, nothing of ours listening on their ports.
    assert left_behind(pids, ports) == []
