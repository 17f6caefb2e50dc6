"""Issue 16 must-show 3: pushed heads over anvil's real WebSocket start the daemon's and the watcher's next cycle;
when the socket goes, both poll on, reconnect by themselves, and every order still completes.

* with a poll interval of an hour, a claim (the daemon) and an award (`watch-orders`) can only come from a
  pushed head within the test's wait;
* the daemon subscribes through a TCP proxy that is closed mid-run: it logs the loss, keeps completing orders
  by polling, and subscribes again once the proxy is back.

An HTTP-only endpoint: tests/pynode/infra/test_push_http_only.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import BuyerSide, FlakyProxy, NodeProcess, Repeating, make_partner, wait_for, write_config
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.protocol.types import Status
from support import claim_rows, cli_buyer, events, observed_status, post_order

pytestmark = pytest.mark.integration

HOUR_S = 3600.0  # a poll interval no wait in these tests outlasts: only a push can start the cycle


def _maker(chain, dev_accounts, deployments_dir, tmp_path, *, rpc_url: str, ws_url: str, poll_s: float,
           ipfs_api: str = "http://127.0.0.1:9") -> NodeProcess:
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    write_config(maker, rpc_urls=[rpc_url], ipfs_api=ipfs_api, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=0, poll_interval_s=poll_s,
                 extra=f'ws_url = "{ws_url}"')
    return NodeProcess(maker, log_level="debug")


def test_a_pushed_head_starts_the_daemons_claim(chain, anvil, dev_accounts, deployments_dir, tmp_path):
    node = _maker(chain, dev_accounts, deployments_dir, tmp_path, rpc_url=anvil.rpc_url, ws_url=anvil.ws_url,
                  poll_s=HOUR_S)
    try:
        node.start().wait_connected()
        # subscribed, and the cycles it started (the first, and the one the subscription's own wake asks for)
        # are over: the node now waits an hour unless a head is pushed
        wait_for(lambda: events(node, "push_subscribed") and len(events(node, "cycle")) >= 2, timeout=60,
                 interval=0.05, what="subscribed and idle")
        order_id, _ = post_order(chain, dev_accounts["buyer"])
        wait_for(lambda: claim_rows(node, order_id), timeout=60, interval=0.1, what="claim sent")
        assert node.running(), node.log_tail()
        assert node.terminate() == 0
    finally:
        node.kill()
    assert events(node, "push_lost") == [] and events(node, "push_unavailable") == []


def test_the_daemon_completes_orders_with_push_and_after_its_socket_is_cut(chain, anvil, kubo, dev_accounts,
                                                                             deployments_dir, tmp_path):
    proxy = FlakyProxy("127.0.0.1", anvil.port).up()
    node = _maker(chain, dev_accounts, deployments_dir, tmp_path, rpc_url=anvil.rpc_url,
                  ws_url=f"ws://127.0.0.1:{proxy.port}", poll_s=1.0, ipfs_api=kubo.api_url)
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True))

    def completes(index: int) -> None:
        order_id = buyer.post(index).order_id
        wait_for(lambda: observed_status(chain, order_id) == Status.PAID, timeout=120, interval=0.2,
                 what=f"order {order_id} paid")

    with Repeating(watcher.cycle, 0.3, "buyer") as buying:
        try:
            node.start().wait_connected()
            wait_for(lambda: events(node, "push_subscribed"), timeout=30, what="subscribed")
            completes(1)
            proxy.down()  # the socket is cut and new ones are refused: the node polls on
            wait_for(lambda: events(node, "push_lost"), timeout=30, what="push lost")
            completes(2)
            assert len(events(node, "push_subscribed")) == 1  # no socket while the proxy is down
            proxy.up()
            wait_for(lambda: len(events(node, "push_subscribed")) >= 2, timeout=90, interval=0.2,
                     what="subscribed again")
            completes(3)
            assert node.running(), node.log_tail()
            assert node.terminate() == 0
        finally:
            node.kill()
            proxy.close()
    assert buying.errors == 0, buying.failures()
    assert node.starts == 1 and events(node, "cycle_failed") == []  # the RPC side never noticed
    assert events(node, "push_unavailable") == []


def test_watch_orders_awards_on_a_pushed_head(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    home, side = cli_buyer(chain, kubo.api_url, dev_accounts["buyer"], tmp_path)
    order_id = side.post(1).order_id

    env = {**os.environ, "FABMESH_HOME": str(home), "FABMESH_PROTOCOL": "1", "FABMESH_RPC_URL": anvil.rpc_url,
           "FABMESH_IPFS_API": kubo.api_url, "FABMESH_DEPLOYMENTS": str(deployments_dir),
           "FABMESH_CONFIRMATIONS": "0", "ETH_WS_URL": "ws://127.0.0.1:9"}  # the flag wins over the environment
    log = tmp_path / "watch.log"
    fabmesh = str(Path(sys.executable).parent / "fabmesh")
    with open(log, "wb") as out:
        watch = subprocess.Popen([fabmesh, "--account", "buyer", "--password-file", str(tmp_path / "pw"), "node",
                                  "watch-orders", "--interval", str(HOUR_S), "--ws-url", anvil.ws_url],
                                 env=env, stdout=subprocess.DEVNULL, stderr=out)

    def logged() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]

    try:
        # its first cycle has found the open order (nothing to do): it waits an hour unless a head is pushed
        wait_for(lambda: any(e["event"] == "push_subscribed" for e in logged()), timeout=60, what="subscribed")
        chain.send(maker.account, chain.book.claim(chain.book.load_order(order_id, chain.from_block)))
        wait_for(lambda: chain.book.load_order(order_id, chain.from_block).status == Status.AWARDED, timeout=60,
                 interval=0.2, what="claim awarded")
        watch.send_signal(signal.SIGTERM)
        assert watch.wait(30) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    names = [e["event"] for e in logged()]
    assert names.count("awarded") == 1 and "push_lost" not in names and names[-1] == "watch_stopped"
