"""The demo scenario, asserted from chain state (not from what it printed)."""

from __future__ import annotations

import pytest
from rich.console import Console

from pynode.chain.orders import ZERO_ADDRESS
from pynode.dev.demo import SHOPS, Scenario
from pynode.protocol.types import RecordKind, Status
from support import left_behind

pytestmark = pytest.mark.integration


def test_demo_scenario_outcomes(tmp_path):
    console = Console(file=open(tmp_path / "demo.txt", "w"), width=140)  # noqa: SIM115 - written until the test ends
    with Scenario(tmp_path / "demo", console) as scenario:
        result = scenario.run()
        chain = scenario.chain
        accounts = scenario.accounts
        orders = {name: chain.book.load_order(order_id, chain.from_block)
                  for name, order_id in result["orders"].items()}
        shop = {s.org: accounts[s.account].address for s in SHOPS}

        assert {name: t.status for name, t in orders.items()} == {
            "open-claim": Status.PAID, "direct-award": Status.PAID, "disputed": Status.RESOLVED,
            "refunded": Status.REFUNDED, "stablecoin": Status.PAID}
        assert orders["open-claim"].state.partner == shop["fdm-farm"]
        assert orders["direct-award"].spec.reserved_for == shop["cnc-shop"] == orders["direct-award"].state.partner
        assert orders["disputed"].state.partner == shop["laser-shop"]
        assert orders["refunded"].state.partner == ZERO_ADDRESS  # never claimed: nobody injection-molds
        token = orders["stablecoin"].terms.token
        assert token != ZERO_ADDRESS and chain.book.token_allowed(token)

        # The inspector's EIP-712 attestation is on the disputed order's chain, as the inspector's record.
        kinds = [(RecordKind(k), actor) for k, actor, *_ in orders["disputed"].records]
        assert (RecordKind.QUALITY_ATTESTED, accounts["inspector"].address) in kinds
        assert [k for k, _ in kinds][-2:] == [RecordKind.DISPUTED, RecordKind.RESOLVED]
        # The non-CNC shops never claimed the CNC-only, reserved order; the laser shop never claimed FDM work.
        assert all(actor != shop["laser-shop"] for k, actor in
                   [(RecordKind(k), a) for k, a, *_ in orders["open-claim"].records])
        # Every order passed the independent audit; the HTML and EPCIS files exist.
        assert result["audit"]["verdict"] == "VERIFIED"
        assert (tmp_path / "demo" / "audit.html").stat().st_size > 0
        assert len(list((tmp_path / "demo" / "epcis").glob("*.jsonld"))) == 5
        kubo = scenario.net.kubo.values()
        pids = [d.pid for d in scenario.daemons] + [scenario.net.anvil.process.pid, *(n.process.pid for n in kubo)]
        ports = [scenario.net.anvil.port, *(int(n.api_url.rsplit(":", 1)[1]) for n in kubo)]

    # Everything stopped: no process of theirs left, nothing of ours listening on their ports.
    assert left_behind(pids, ports) == []
