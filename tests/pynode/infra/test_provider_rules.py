"""fabmesh against a hosted provider's rules, on a chain 20,000 blocks past the deployment.

The daemon and the buyer's watcher complete orders end to end through the
provider-rules proxy (2K-block eth_getLogs ranges, a 10K result cap, random 429s
with Retry-After, a token bucket, anvil_*/evm_* absent), then every CLI read,
`audit all` and `export epcis` succeed through it. The 20,000 blocks are mined
with anvil_mine on anvil directly, before fabmesh is pointed at the proxy: that
is the one anvil-only step, and it never goes through the proxy. The figures
(requests per order) are bench/rpc_bench.py's business; this test asserts the
outcome only.
"""

from __future__ import annotations

import json

import pytest

from provider_proxy import REFUSALS, ProviderProxy, ProviderRules
from provider_run import LIFECYCLE_CLIENTS, ProviderRun, succeeded_reads
from pynode.protocol.types import RecordKind, Status

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with ProviderRun(tmp_path_factory.mktemp("provider-run"), orders=2) as scenario:
        result = scenario.run()
        yield scenario, result


def test_orders_complete_end_to_end_through_the_provider(run):
    scenario, result = run
    assert result.first_block - result.deploy_block >= 20_000
    chain = scenario.observer()
    maker = scenario.accounts["maker"].address
    for order_id in result.orders:
        tracker = chain.book.load_order(order_id, result.deploy_block)
        kinds = [RecordKind(k) for k, *_ in tracker.records]
        assert tracker.status == Status.PAID and tracker.state.partner == maker
        assert kinds == [RecordKind.POSTED, RecordKind.CLAIMED, RecordKind.AWARDED, RecordKind.PRODUCTION_STARTED,
                         RecordKind.QUALITY_ATTESTED, RecordKind.SHIPPED, RecordKind.CONFIRMED,
                         RecordKind.PAYMENT_WITHDRAWN]
    # every process and command was the provider's client, and none used a node-operator method
    counts = result.lifecycle
    assert set(counts.by_client()) >= set(LIFECYCLE_CLIENTS)
    assert not [m for m in counts.by_method() if m.startswith(("anvil_", "evm_", "hardhat_"))]
    assert counts.refused["method"] == 0
    # the provider's 429s were served and survived (retried, not fatal)
    assert sum(counts.rate_limited.values()) > 0


def test_every_cli_read_succeeds_through_the_provider(run):
    scenario, result = run
    reads = succeeded_reads(result)
    assert len(reads["order list"]["orders"] if isinstance(reads["order list"], dict) else reads["order list"]) \
        == len(result.orders)
    assert scenario.accounts["maker"].address in json.dumps(reads["partner list"])
    assert reads["audit all"]["verdict"] == "VERIFIED"
    assert reads["withdraw"] == {"payments": [], "credits": []}
    epcis = json.loads((scenario.workdir / f"order-{result.orders[0]}.jsonld").read_text())
    assert epcis["epcisBody"]["eventList"][0]["bizStep"] == "commissioning"
    assert not [m for m in result.read_counts.by_method() if m.startswith(("anvil_", "evm_", "hardhat_"))]


def test_reads_halve_under_stricter_limits(run):
    """Alchemy's free tier (500-block ranges, -32600) and a 3-log result cap: the reader halves on both
    refusals and the reads still succeed."""
    scenario, result = run
    strict = ProviderRules(max_block_range=500, range_refusal=REFUSALS["alchemy-free"], max_results=3)
    with ProviderProxy(scenario.net.anvil.rpc_url, strict) as proxy:
        listed = scenario.fabmesh("buyer", "strict", "order", "list", via=proxy)
        audited = scenario.fabmesh("buyer", "strict", "audit", "all", via=proxy)
    assert len(listed.json()) == len(result.orders) and audited.json()["verdict"] == "VERIFIED"
    assert proxy.counts.refused["range"] > 0 and proxy.counts.refused["results"] > 0
