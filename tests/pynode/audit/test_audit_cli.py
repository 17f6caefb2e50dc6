"""`fabmesh audit order|partner|all` and `fabmesh export epcis`, in-process as the console script runs them."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def run(settings, fabmesh_main, monkeypatch, tmp_path):
    monkeypatch.setenv("FABMESH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FABMESH_PROTOCOL", "1")
    monkeypatch.setenv("FABMESH_RPC_URL", settings.rpc_url)
    monkeypatch.setenv("FABMESH_IPFS_API", settings.ipfs_api)
    monkeypatch.setenv("FABMESH_DEPLOYMENTS", str(settings.deployments))
    monkeypatch.setenv("FABMESH_CONFIRMATIONS", "0")

    def invoke(*args):
        result = fabmesh_main(*args)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_cli_audit_verdicts_exit_codes_and_exports(market, run, tmp_path, anvil, dev_accounts):
    good = market.full_order()
    code, out, err = run("--json", "audit", "order", good)
    assert code == 0, err
    data = json.loads(out)
    assert data["ok"] and data["verdict"] == "VERIFIED" and data["orders"][0]["status"] == "PAID"

    code, out, _ = run("audit", "order", good, "--json")
    assert code == 0 and json.loads(out)["summary"]["failed"] == 0

    code, out, _ = run("audit", "partner", dev_accounts["maker"].address)
    assert code == 0 and "VERIFIED" in out and "provenance.head" in out

    late = market.post(delivery=2 * 86400)
    market.claim_award(late)
    anvil.rpc("evm_increaseTime", 3 * 86400)
    anvil.rpc("evm_mine")
    market.ship(late)
    html = tmp_path / "audit.html"
    code, out, err = run("audit", "all", "--html", html)
    assert code == 1
    assert f"✗ order {late} timing.shipment" in err and "FAILED" in out
    assert "FAILED" in html.read_text()

    epcis = tmp_path / "order.jsonld"
    code, _, err = run("export", "epcis", good, "-o", epcis)
    assert code == 0, err
    events = json.loads(epcis.read_text())["epcisBody"]["eventList"]
    assert events[0]["bizStep"] == "commissioning" and events[0]["eventID"].startswith("ni:///sha-256;")

    code, _, err = run("audit", "order", 999)
    assert code == 1 and "order.exists" in err
