"""Must-show 4: the RPC endpoint and the Kubo API disappear for 20 s in the middle of the work.

The daemon talks to anvil and Kubo through TCP proxies that close their port and
cut every connection; the buyer and a block miner keep talking to the real
endpoints. The daemon must keep running, back off, reconnect by itself and finish
every order, each action mined once.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from harness import BuyerSide, FlakyProxy, Miner, NodeProcess, Repeating, make_partner, wait_for, write_config
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.protocol.types import Status
from support import TO_PAID, observed_status, steps_to_paid, wait_progressing

# own_chain: whole jobs mined by a Miner thread across the outage; the shared chain's snapshot reverts would
# rewrite the history the node reads
pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

ORDERS = 10
OUTAGE_S = 20
STALL_S = 120  # longest wait for the next payment before the node counts as stuck


def test_rpc_and_ipfs_outage_is_survived(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    rpc = FlakyProxy("127.0.0.1", anvil.port).up()
    ipfs_port = urlsplit(kubo.api_url).port
    ipfs = FlakyProxy("127.0.0.1", ipfs_port).up()
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    write_config(maker, rpc_urls=[rpc.url], ipfs_api=ipfs.url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=1, duration_s=1.0)
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    orders = [buyer.post(i).order_id for i in range(ORDERS)]
    watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True))
    def statuses() -> Counter:
        return Counter(observed_status(chain, i) for i in orders)

    node = NodeProcess(maker)
    with Miner(anvil.rpc, 0.3), Repeating(watcher.cycle, 0.3, "buyer"):
        try:
            node.start().wait_connected()
            # in the middle of the work: some orders claimed/awarded, none finished
            wait_for(lambda: statuses()[Status.OPEN] <= ORDERS - 3, timeout=60, interval=0.1, what="work started")
            rpc.down()
            ipfs.down()
            went_down = time.monotonic()
            time.sleep(OUTAGE_S)
            assert node.running(), node.log_tail()
            rpc.up()
            ipfs.up()
            # progress is any order's next step (claim, award, ship, confirm, payout), not only a payout:
            # on a busy machine the last order's few steps took longer than one stall window together
            wait_progressing(lambda: steps_to_paid(chain, orders), ORDERS * (len(TO_PAID) - 1), stall_s=STALL_S,
                             what="order steps to paid after the outage", interval=0.5, detail=node.log_tail)
            recovered_s = time.monotonic() - went_down - OUTAGE_S

            def all_done() -> bool:  # the node counts a payout done once its block is confirmation-deep
                with sqlite3.connect(maker.db_path) as db:
                    return Counter(s for (s,) in db.execute("SELECT state FROM jobs")) == Counter({"done": ORDERS})

            wait_for(all_done, timeout=30, what="every job done")
            assert node.running(), node.log_tail()
            assert node.terminate() == 0
        finally:
            node.kill()
            rpc.close()
            ipfs.close()

    log = node.log_path.read_text()
    assert '"event":"cycle_failed"' in log or '"event":"job_retry"' in log  # it did notice the outage
    assert node.starts == 1  # never restarted by anyone: recovered on its own
    with sqlite3.connect(maker.db_path) as db:
        assert Counter(s for (s,) in db.execute("SELECT state FROM jobs")) == Counter({"done": ORDERS})
        kinds = Counter(db.execute("SELECT order_id, kind FROM actions WHERE status = 'mined'").fetchall())
    assert all(n == 1 for n in kinds.values()), kinds
    events = chain.book.logs(("OrderClaimed", "ProductionStarted", "OrderShipped", "PaymentWithdrawn"),
                             from_block=chain.from_block)
    assert Counter((e.event, int(e.args["orderId"])) for e in events).most_common(1)[0][1] == 1
    print(f"recovered {recovered_s:.1f}s after the endpoints came back")
