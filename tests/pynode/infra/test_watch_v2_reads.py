"""What the v2 watcher asks the chain a cycle, counted by the provider proxy (provider_proxy.py, no limits) in front
of a real anvil: open orders nothing changed cost no eth_call (the head and its time are one
eth_getBlockByNumber, the tracked orders' events and the buyer's new posts over a cycle's few blocks one
eth_getLogs, however many orders are open); an order an event changed is read again; every ``recheck_s`` each
open order's commitments are asked once more, all in one JSON-RPC batch (a log a node answered late is not missed
for good; an order its post alone moved holds no record, and only its orderHash is asked)."""

from __future__ import annotations

import time

import pytest

from provider_proxy import ProviderProxy
from pynode.chain.v2.client import ChainV2
from pynode.core.settings import Settings
from pynode.orders.award_policy import AwardSettings
from pynode.orders.v2.settings import WatchLoopSettings
from pynode.orders.v2.watch import OrderWatcherV2
from pynode.protocol.v2.types import OrderStatus
from v2_parties import cli_buyer_v2

pytestmark = pytest.mark.integration



def test_unchanged_open_orders_cost_no_call_a_cycle(anvil, kubo, v2_deployments_dir, tmp_path):
    with ProviderProxy(anvil.rpc_url) as proxy:
        chain = ChainV2.connect(Settings(rpc_url=proxy.url("watcher"), ipfs_api=kubo.api_url,
                                         deployments=v2_deployments_dir, home=tmp_path / "home", scrypt_n=1024,
                                         confirmations=0))
        party = cli_buyer_v2(chain, anvil, kubo.api_url, tmp_path)
        posted = [party.buyer.post(party.prepare(f"order-{i}")) for i in range(3)]

        def watching(recheck_s: int) -> OrderWatcherV2:
            watcher = OrderWatcherV2(party.buyer, party.keypair, AwardSettings(),
                                     WatchLoopSettings(announce_s=3600, recheck_s=recheck_s, on_give_up="keep"), None)
            watcher.cycle()  # the first reads every order whole
            return watcher

        def cycle(watcher: OrderWatcherV2) -> dict[str, int]:
            proxy.engine.reset_counts()
            anvil.rpc("evm_mine")  # a new head: else the cycle ends after reading it
            watcher.cycle()
            return proxy.engine.reset_counts().by_method("watcher")

        watcher = watching(3600)
        for _ in range(2):
            assert cycle(watcher) == {"eth_getBlockByNumber": 1, "eth_getLogs": 1}
        party.buyer.cancel(chain.book.load_order(posted[0].order_id, chain.from_block))
        assert cycle(watcher)["eth_call"] == 2  # the cancelled order's orderHash and recordHead, no other's
        assert watcher.orders.trackers[posted[0].order_id].status == OrderStatus.CANCELLED

        rechecking = watching(1)
        time.sleep(1.1)
        # the orderHash of each order still open (one batch): one never awarded holds no record to ask recordHead for
        assert cycle(rechecking)["eth_call"] == 2
