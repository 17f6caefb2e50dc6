"""End to end on protocol v2, every party a real process: two shops run `fabmesh node run` (node.toml
``protocol = 2``, the simulated shop floor, different margins) on a Kubo of their own, the buyer runs
`fabmesh node watch-orders -c watch.toml` (``protocol = 2``, ``auto_confirm``) on another, peered, over a real
anvil. The watcher announces the order, both daemons quote it on the channel, the watcher awards the cheaper quote
(the dearer one logged "outbid"), the winning daemon decrypts the design, produces and ships, and the watcher
checks the shipped report and confirms: the payee is paid."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import Miner, NodeProcess, write_config
from pynode.dev.designs import bracket_stl
from pynode.dev.kubo import KuboNode
from pynode.dev.wait import wait_for
from pynode.protocol.v2.codec import terms_hash
from pynode.protocol.v2.types import OrderStatus
from v2_parties import cli_buyer_v2, daemon_shop, v2_chain

pytestmark = pytest.mark.integration

WAIT_S = 120.0
QUOTE = """
protocol = 2
[quote]
margin_bps = {margin}
validity_s = 900
[quote.processes.cnc-milling]
setup_s = 60
part_s = 600
[quote.tokens."0x0000000000000000000000000000000000000000"]
machine_rate_per_hour = 100000000000000
material_per_part = {{ al-6061 = 1000000000000 }}
"""


def events(path: Path, name: str) -> list[dict]:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    return [e for e in map(json.loads, (x for x in lines if x.startswith("{") and x.endswith("}")))
            if e["event"] == name]


def test_two_quoting_daemons_and_the_watcher_complete_an_order(anvil, kubo, dev_accounts, v2_deployments_dir,
                                                               tmp_path):
    chain = v2_chain(anvil, kubo, v2_deployments_dir, tmp_path / "home")
    shops_kubo = KuboNode(tmp_path / "shops-kubo", "kubo-shops").start()
    nodes: list[NodeProcess] = []
    try:
        shops_kubo.peer(kubo)
        homes = [daemon_shop(chain, anvil, dev_accounts["certifier"], tmp_path / name, name)
                 for name in ("cheap", "dear")]
        for home, margin in zip(homes, (500, 3000), strict=True):
            write_config(home, rpc_urls=[anvil.rpc_url], ipfs_api=shops_kubo.api_url, deployments=v2_deployments_dir,
                         processes=["cnc-milling"], materials=["al-6061"], confirmations=0,
                         extra=QUOTE.format(margin=margin))
            nodes.append(NodeProcess(home).start())
        for node in nodes:
            node.wait_connected()
        cheap, dear = (home.account.address for home in homes)

        party = cli_buyer_v2(chain, anvil, kubo.api_url, tmp_path)
        posted = party.buyer.post(party.prepare("bracket", design=bracket_stl(tmp_path / "bracket.stl")))
        mine = "0x" + terms_hash(posted.order.terms).hex()

        def ours(quotes: list[dict]) -> list[dict]:
            return [e for e in quotes if e["terms_hash"] == mine]
        config = tmp_path / "watch.toml"
        config.write_text('protocol = 2\n[watch]\nauto_confirm = true\nannounce_s = 2\n'
                          '[award]\nmode = "best"\nwait_s = 2\naward_margin_s = 5\n')
        env = {**os.environ, "FABMESH_HOME": str(party.home), "FABMESH_RPC_URL": anvil.rpc_url,
               "FABMESH_IPFS_API": kubo.api_url, "FABMESH_DEPLOYMENTS": str(v2_deployments_dir),
               "FABMESH_CONFIRMATIONS": "0"}
        log_path = tmp_path / "watch.log"
        argv = [str(Path(sys.executable).parent / "fabmesh"), "--account", "buyer", "--password-file",
                str(party.password_file), "node", "watch-orders", "-c", str(config), "--interval", "0.3"]
        with open(log_path, "w") as log:
            watcher = subprocess.Popen(argv, env=env, stderr=log, stdout=subprocess.DEVNULL)
            try:
                def running() -> None:
                    assert watcher.poll() is None and all(n.running() for n in nodes), log_path.read_text()[-3000:]

                def quoted() -> bool:  # no block, no chain time: the window stays open until both quotes are in
                    running()  # (the daemons quote any open order on the shared chain: only this one's count)
                    return {e["partner"] for e in ours(events(log_path, "quote_received"))} == {cheap, dear}

                def completed() -> bool:  # on chain, and the watcher has seen its confirmation's receipt
                    running()
                    return chain.book.load_order(posted.order_id, chain.from_block).status == OrderStatus.COMPLETED \
                        and bool(events(log_path, "confirmed"))

                what = f"{log_path.read_text()[-3000:]}\n{nodes[0].log_tail()}\n{nodes[1].log_tail()}"
                wait_for(quoted, WAIT_S, interval=0.3, what=f"both quotes: {what}")
                with Miner(anvil.rpc, 0.5):
                    wait_for(completed, WAIT_S, interval=0.5, what=f"order completed: {what}")
            finally:
                watcher.send_signal(signal.SIGTERM)
                assert watcher.wait(timeout=60) == 0, log_path.read_text()[-3000:]
    finally:
        for node in nodes:
            node.terminate()
        shops_kubo.stop()

    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    assert tracker.partner == cheap
    assert [(e["order_id"], e["partner"]) for e in events(log_path, "awarded")] == [(posted.order_id, cheap)]
    assert [e["order_id"] for e in events(log_path, "confirmed")] == [posted.order_id]
    received = {e["partner"]: int(e["price"]) for e in ours(events(log_path, "quote_received"))}
    assert received[cheap] == tracker.price < received[dear]  # both daemons quoted; the cheaper won
    assert (dear, "outbid") in {(e["partner"], e["reason"]) for e in events(log_path, "quote_rejected")}
