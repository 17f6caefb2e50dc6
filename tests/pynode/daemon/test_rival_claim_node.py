"""A rival's claim already in the mempool: the node holds its own claim back instead of buying a revert.

The decision itself (hold back, claim, lost) is in test_jobs_unit.py; this is the part only a real
mempool shows: the node's simulation against the pending state sees a rival's claim, and stops seeing it
when it is dropped. In process (``Node.cycle``), on the session's anvil with automine off for a moment:
the rival (maker2) claims orders A and B; the node sends nothing. The rival's claim of B is dropped: the
node then claims B. A is the rival's and B the node's, and the node's journal holds one claim, for B.
"""

from __future__ import annotations

import pytest

from harness import BuyerSide, RecordingLog, make_partner, wait_for, write_config
from pynode.daemon.config import NodeConfig
from pynode.daemon.node import Node, unlock_identity
from pynode.daemon.store import JobState
from pynode.protocol.types import Status

pytestmark = pytest.mark.integration


def test_node_holds_back_while_a_rival_claim_is_pending(chain, anvil, kubo, dev_accounts, deployments_dir,
                                                         tmp_path):
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    rival = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker2"], tmp_path / "rival", "rival",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    # the node scans from here: the session chain's older history has been snapshot-reverted by earlier tests
    start = chain.w3.eth.block_number
    write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=1, extra=f"start_block = {start}\n")
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    order_a, order_b = buyer.post(1).order_id, buyer.post(2).order_id
    anvil.rpc("evm_mine")  # both orders confirmed

    config = NodeConfig.load(maker.config_path)
    log = RecordingLog()
    node = Node(config, unlock_identity(config), log=log)
    anvil.rpc("evm_setAutomine", False)
    try:
        rival_tx = {}
        for order_id in (order_a, order_b):  # signed and broadcast, not mined
            request = chain.book.claim(chain.book.load_order(order_id, chain.from_block))
            rival_tx[order_id] = chain.sender(rival.account)._broadcast_new(
                {"from": rival.account.address, "to": request.to, "data": request.data, "value": request.value,
                 "gas": 300_000, "chainId": chain.chain_id, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 10**9,
                 "type": 2})
        node.cycle()
        assert {e["order_id"] for e in log.named("claim_held_back")} == {order_a, order_b}, log.events
        assert not log.named("tx_sent")

        anvil.rpc("anvil_dropTransaction", rival_tx[order_b].to_0x_hex())
        anvil.rpc("evm_setAutomine", True)  # the node's claim of B mines the rival's claim of A with it

        def settled() -> bool:
            node.cycle()
            anvil.rpc("evm_mine")  # confirmations
            states = {order_id: node.store.get_job(order_id).state for order_id in (order_a, order_b)}
            return states == {order_a: JobState.LOST, order_b: JobState.CLAIMED}

        wait_for(settled, timeout=60, interval=0.2, what="A lost, B claimed")
        claims = {order_id: [(a.status.value, a.tx_hash) for a in node.store.actions(order_id) if a.kind == "claim"]
                  for order_id in (order_a, order_b)}
    finally:
        anvil.rpc("evm_setAutomine", True)
        node.close()

    claimed = {oid: chain.book.load_order(oid, chain.from_block) for oid in (order_a, order_b)}
    assert claimed[order_a].status == claimed[order_b].status == Status.CLAIMED
    assert claimed[order_a].state.partner == rival.account.address
    assert claimed[order_b].state.partner == maker.account.address
    assert claims[order_a] == [] and [status for status, _ in claims[order_b]] == ["mined"]
    assert len(log.named("tx_sent")) == 1
