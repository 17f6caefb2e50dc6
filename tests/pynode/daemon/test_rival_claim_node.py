"""A rival's claim already in the mempool: the node holds its own claim back instead of buying a revert.

anvil's automine is off (on a chain of its own), so claims wait in the mempool.
The rival (maker2) claims orders A and B; the node (maker) sees both pending and
sends nothing. The rival's claim of B is dropped from the pool: the node then
claims B. One block later A is the rival's and B the node's, and the node's
journal holds exactly one claim, for B.
"""

from __future__ import annotations

import pytest

from harness import BuyerSide, NodeProcess, make_partner, wait_for, write_config
from pynode.protocol.types import Status
from support import claim_rows, events, own_anvil, own_deployments, own_settings  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration


def test_node_holds_back_while_a_rival_claim_is_pending(chain, anvil, kubo, dev_accounts, deployments_dir,
                                                         tmp_path):
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    rival = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker2"], tmp_path / "rival", "rival",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=1)
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    order_a, order_b = buyer.post(1).order_id, buyer.post(2).order_id
    anvil.rpc("evm_mine")  # both orders confirmed

    node = NodeProcess(maker)
    anvil.rpc("evm_setAutomine", False)
    try:
        rival_tx = {}
        for order_id in (order_a, order_b):  # signed and broadcast, not mined
            request = chain.book.claim(chain.book.load_order(order_id, chain.from_block))
            rival_tx[order_id] = chain.sender(rival.account)._broadcast_new(
                {"from": rival.account.address, "to": request.to, "data": request.data, "value": request.value,
                 "gas": 300_000, "chainId": chain.chain_id, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 10**9,
                 "type": 2})
        node.start().wait_connected()
        wait_for(lambda: {e["order_id"] for e in events(node, "claim_held_back")} == {order_a, order_b},
                 timeout=60, interval=0.05, what="both claims held back")
        assert not events(node, "tx_sent"), node.log_tail()

        anvil.rpc("anvil_dropTransaction", rival_tx[order_b].to_0x_hex())
        wait_for(lambda: events(node, "tx_sent"), timeout=60, interval=0.05, what="the node's claim of B")
        anvil.rpc("evm_mine")  # the rival's claim of A and the node's of B
        anvil.rpc("evm_mine")  # confirmed
        anvil.rpc("evm_setAutomine", True)
        wait_for(lambda: {(e["order_id"], e["state"]) for e in events(node, "job_state")}
                 >= {(order_a, "lost"), (order_b, "claimed")}, timeout=60, what="A lost, B claimed")
        assert node.terminate() == 0, node.log_tail()
    finally:
        anvil.rpc("evm_setAutomine", True)
        node.kill()

    claimed = {oid: chain.book.load_order(oid, chain.from_block) for oid in (order_a, order_b)}
    assert claimed[order_a].status == claimed[order_b].status == Status.CLAIMED
    assert claimed[order_a].state[1] == rival.account.address and claimed[order_b].state[1] == maker.account.address
    assert claim_rows(node, order_a) == [] and [status for status, _ in claim_rows(node, order_b)] == ["mined"]
