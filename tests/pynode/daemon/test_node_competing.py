"""Must-show 1: two competing `fabmesh node run` daemons with different capabilities and one buyer, on anvil + Kubo.

maker-a mills and prints (CNC_MILLING + FDM), maker-b only prints (FDM). The buyer
posts milling orders (only a may claim), printing orders (both race for them) and
one SLA order nobody can make (cancelled at the end). The buyer's OrderWatcher
awards every claim and confirms every shipment. Every job must end in exactly one
terminal state, maker-b must never claim a milling order.
"""

from __future__ import annotations

import sqlite3

import pytest

from harness import BuyerSide, Miner, NodeProcess, make_partner, wait_for, write_config
from pynode.daemon.store import TERMINAL_STATES, JobState
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.protocol.types import Status
from support import own_anvil, own_deployments, own_settings, paid_count, wait_progressing  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration

STALL_S = 120  # longest wait for the next payment before the nodes count as stuck


def job_states(db) -> dict[int, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT order_id, state FROM jobs").fetchall())


def test_two_daemons_compete_and_every_job_ends_once(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    certifier = dev_accounts["certifier"]
    a = make_partner(chain, certifier, dev_accounts["maker"], tmp_path / "a", "maker-a",
                     processes=["CNC_MILLING", "FDM"], materials=["AL_6061", "PLA"])
    b = make_partner(chain, certifier, dev_accounts["maker2"], tmp_path / "b", "maker-b",
                     processes=["FDM"], materials=["PLA"])
    common = dict(rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir, confirmations=1)
    write_config(a, processes=["CNC_MILLING", "FDM"], materials=["AL_6061", "PLA"], **common)
    write_config(b, processes=["FDM"], materials=["PLA"], **common)
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")

    milling = [buyer.post(i, process="CNC_MILLING", material="AL_6061").order_id for i in range(3)]
    printing = [buyer.post(10 + i, process="FDM", material="PLA").order_id for i in range(3)]
    nobody = buyer.post(20, process="SLA", material="RESIN").order_id
    everything = [*milling, *printing, nobody]

    watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True))
    nodes = [NodeProcess(a).start(), NodeProcess(b).start()]
    try:
        with Miner(anvil.rpc, 0.3):
            def paid() -> int:
                watcher.cycle()
                for n in nodes:
                    assert n.running(), n.log_tail()
                return paid_count(chain, milling + printing)

            wait_progressing(paid, len(milling + printing), stall_s=STALL_S, what="claimable orders paid",
                             interval=0.3, detail=lambda: "\n".join(n.log_tail() for n in nodes))
            buyer.buyer.act("cancel", nobody)

            def settled() -> bool:
                states = [job_states(n.home.db_path) for n in nodes]
                return all(len(s) == len(everything) and all(JobState(v) in TERMINAL_STATES for v in s.values())
                           for s in states)

            wait_for(settled, timeout=30, what="every job terminal in both nodes")
    finally:
        codes = [n.terminate() for n in nodes]
    assert codes == [0, 0], [n.log_tail() for n in nodes]

    claims = chain.book.logs(("OrderClaimed",), from_block=chain.from_block)
    claimant = {int(e.args["orderId"]): e.args["partner"] for e in claims}
    assert sorted(claimant) == sorted(milling + printing)  # one claim per order, none of the SLA one
    assert len(claims) == len(milling + printing)
    assert all(claimant[i] == a.account.address for i in milling)  # b never claims what it cannot make
    paid = chain.book.logs(("PaymentWithdrawn",), from_block=chain.from_block)
    assert sorted(int(e.args["orderId"]) for e in paid) == sorted(milling + printing)
    assert chain.book.load_order(nobody, chain.from_block).status == Status.CANCELLED

    sa, sb = job_states(a.db_path), job_states(b.db_path)
    for order_id in milling:
        assert sa[order_id] == "done" and sb[order_id] == "skipped"
    for order_id in printing:
        winner, loser = (sa, sb) if claimant[order_id] == a.account.address else (sb, sa)
        assert winner[order_id] == "done" and loser[order_id] == "lost"
    assert sa[nobody] == "skipped" and sb[nobody] == "skipped"
    # nothing decrypted is left behind; reports are kept
    for home in (a, b):
        assert not list(home.work_dir.glob("jobs/*/design/*"))
        assert not list(home.work_dir.glob("**/*.partial"))
