"""SIGTERM while the node waits for a receipt that never comes: it exits 0 (its receipt wait sees the stop),
and the next start resolves the journaled transaction instead of sending another.

anvil's automine is off (on a chain of its own), so the node's claim sits in the
mempool and the node polls for its receipt. After SIGTERM it must exit 0 within
``STOP_BOUND_S``, with the claim journaled as ``sent``. Then one block includes
the claim and the node starts again: it finds the receipt, and the order is
claimed exactly once, by that one transaction.
"""

from __future__ import annotations

import signal
import time

import pytest

from harness import BuyerSide, NodeProcess, make_partner, wait_for, write_config
from pynode.protocol.types import Status
from support import claim_rows, events

# own_chain: automine is switched off mid-test; the shared chain must never see that
pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

# Well past the 3 s stop grace: the check that the receipt wait itself saw the stop (not the grace cut) is
# the journal line below; the bound only keeps a hung node from hanging the suite on a busy machine.
STOP_BOUND_S = 20.0


def test_sigterm_while_waiting_for_a_receipt(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=1)
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    order_id = buyer.post(1).order_id
    anvil.rpc("evm_mine")  # the order's block gets its confirmation
    nonce_before = chain.w3.eth.get_transaction_count(maker.account.address)

    node = NodeProcess(maker)
    anvil.rpc("evm_setAutomine", False)
    try:
        node.start().wait_connected()
        wait_for(lambda: events(node, "tx_sent"), timeout=60, interval=0.05, what="claim sent")
        time.sleep(0.5)  # well inside the receipt wait
        assert node.running() and not events(node, "tx_mined"), node.log_tail()
        stopped_at = time.monotonic()
        node.proc.send_signal(signal.SIGTERM)
        code = node.proc.wait(STOP_BOUND_S)
        stop_s = time.monotonic() - stopped_at
        assert code == 0, node.log_tail()
        (sent,) = events(node, "tx_sent")
        assert claim_rows(node, order_id) == [("sent", sent["tx"])]  # left for the next start to resolve
        (interrupted,) = events(node, "cycle_interrupted")
        assert "journaled as sent" in interrupted["reason"]  # the receipt wait saw the stop (not the grace cut)
        assert events(node, "node_stopped")
        anvil.rpc("evm_mine")  # includes the claim
        anvil.rpc("evm_mine")  # and confirms it
    finally:
        anvil.rpc("evm_setAutomine", True)
        node.kill()

    try:
        node.start().wait_connected()
        wait_for(lambda: events(node, "action_resolved"), timeout=60, what="the journaled claim resolved")
        wait_for(lambda: events(node, "job_state") and events(node, "job_state")[-1]["state"] == "claimed",
                 timeout=60, what="the job claimed")
        assert node.terminate() == 0, node.log_tail()
    finally:
        node.kill()

    (resolved,) = events(node, "action_resolved")
    assert resolved["tx"] == sent["tx"] and resolved["mined"] is True
    assert claim_rows(node, order_id) == [("mined", sent["tx"])]
    assert len(events(node, "tx_sent")) == 1  # the restart sent nothing new
    assert chain.w3.eth.get_transaction_count(maker.account.address) == nonce_before + 1
    claims = chain.book.logs(("OrderClaimed",), from_block=chain.from_block)
    assert [(int(e.args["orderId"]), e.args["partner"]) for e in claims] == [(order_id, maker.account.address)]
    assert chain.book.load_order(order_id, chain.from_block).status == Status.CLAIMED
    assert chain.w3.eth.get_transaction_receipt(sent["tx"])["status"] == 1
    print(f"stopped {stop_s:.2f}s after SIGTERM while waiting for a receipt")
