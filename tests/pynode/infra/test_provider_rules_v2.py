"""Protocol v2, the default, against a hosted provider's rules on a chain 20,000 blocks past the deployment.

The v2 daemon quotes on the channel, the buyer's v2 watcher awards and confirms, through the provider-rules
proxy (tests/pynode/infra/provider_run_v2.py), until both orders are COMPLETED; then every CLI read, `audit all`
and `export epcis` succeed through it on v2. As in test_provider_rules.py (v1), the 20,000 blocks are mined on
anvil directly before fabmesh is pointed at the proxy; the figures are bench/rpc_bench.py's.
"""

from __future__ import annotations

import json

import pytest

from provider_run import LIFECYCLE_CLIENTS, succeeded_reads
from provider_run_v2 import ProviderRunV2
from pynode.protocol.v2.types import OrderStatus

pytestmark = pytest.mark.integration

OPERATOR_METHODS = ("anvil_", "evm_", "hardhat_")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with ProviderRunV2(tmp_path_factory.mktemp("provider-run-v2"), orders=2) as scenario:
        yield scenario, scenario.run()


def test_v2_orders_complete_end_to_end_through_the_provider(run):
    scenario, result = run
    assert result.first_block - result.deploy_block >= 20_000
    maker = scenario.accounts["maker"].address
    for order_id in result.orders:
        tracker = scenario.observer().book.load_order(order_id, result.deploy_block)
        assert tracker.status == OrderStatus.COMPLETED and tracker.state.partner == maker
    counts = result.lifecycle
    assert set(counts.by_client()) >= set(LIFECYCLE_CLIENTS)
    assert not [m for m in counts.by_method() if m.startswith(OPERATOR_METHODS)]
    assert counts.refused["method"] == 0
    assert sum(counts.rate_limited.values()) > 0  # the provider's 429s were served and retried, not fatal


def test_every_v2_cli_read_succeeds_through_the_provider(run):
    scenario, result = run
    reads = succeeded_reads(result)
    listed = reads["order list"]["orders"] if isinstance(reads["order list"], dict) else reads["order list"]
    assert sorted(int(o["order_id"]) for o in listed) == sorted(result.orders)
    assert scenario.accounts["maker"].address in json.dumps(reads["partner list"])
    assert str(result.orders[0]) in json.dumps(reads["order show"])
    assert reads["audit all"]["verdict"] == "VERIFIED"
    epcis = json.loads((scenario.workdir / f"order-{result.orders[0]}.jsonld").read_text())
    assert epcis["epcisBody"]["eventList"]
    assert not [m for m in result.read_counts.by_method() if m.startswith(OPERATOR_METHODS)]
