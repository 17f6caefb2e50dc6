"""An endpoint without WebSocket keeps today's behaviour: the daemon polls and claims as it always did.

* a hosted-provider-like endpoint that speaks HTTP only (tests/pynode/infra/provider_proxy.py), with
  ``ws_url = "rpc"`` deriving ws:// from it: the handshake is refused (HTTP 501), push is turned off with one
  warning and never tried again;
* a ``ws_url`` whose port refuses connections: the node keeps trying with backoff, and polls meanwhile.
"""

from __future__ import annotations

import pytest

from harness import NodeProcess, make_partner, wait_for, write_config
from provider_proxy import ProviderProxy, ProviderRules
from support import claim_rows, events, post_order

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("endpoint", ["http-only provider", "refused port"])
def test_without_websocket_the_daemon_polls_and_claims(endpoint, chain, anvil, dev_accounts, deployments_dir,
                                                       tmp_path, held_port):
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    with ProviderProxy(anvil.rpc_url, ProviderRules(max_block_range=None, max_results=None)) as provider:
        http_only = endpoint == "http-only provider"
        rpc_url = provider.url("daemon") if http_only else anvil.rpc_url
        ws_url = "rpc" if http_only else f"ws://127.0.0.1:{held_port}"
        write_config(maker, rpc_urls=[rpc_url], ipfs_api="http://127.0.0.1:9", deployments=deployments_dir,
                     processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=0, poll_interval_s=0.2,
                     extra=f'ws_url = "{ws_url}"')
        node = NodeProcess(maker)
        try:
            node.start().wait_connected()
            order_id, _ = post_order(chain, dev_accounts["buyer"])
            wait_for(lambda: claim_rows(node, order_id), timeout=60, interval=0.1, what="claim sent by polling")
            wait_for(lambda: events(node, "push_unavailable" if http_only else "push_lost"), timeout=30,
                     what="push refused")
            assert node.running(), node.log_tail()
            assert node.terminate() == 0
        finally:
            node.kill()
    assert events(node, "push_subscribed") == [] and events(node, "cycle_failed") == []
    if http_only:
        [off] = events(node, "push_unavailable")
        assert "HTTP 501" in off["error"] and events(node, "push_lost") == []
    else:
        assert events(node, "push_unavailable") == []
