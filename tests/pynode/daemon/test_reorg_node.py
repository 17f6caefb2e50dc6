"""Must-show 3: a reorg (anvil evm_snapshot/evm_revert) removes blocks the node already processed and acted on.

Order 1: the node's own claim is in a block that disappears. Order 2: a competitor's
claim disappears, after the node had marked the job lost. The node must notice the
fork by the parent/stored hashes, rewind to the common ancestor, re-read both orders
and claim each exactly once on the surviving chain; the rest of the lifecycle runs
without any duplicate.
"""

from __future__ import annotations

import pytest

from harness import BuyerSide, RecordingLog, make_partner, write_config
from pynode.chain.tx import TxRequest
from pynode.daemon.config import NodeConfig
from pynode.daemon.node import Node, unlock_identity
from pynode.daemon.store import JobState
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.protocol.types import Status

pytestmark = pytest.mark.integration


def mine(anvil, n: int = 1) -> None:
    for _ in range(n):
        anvil.rpc("evm_mine")


def claims(chain, order_id: int) -> list[str]:
    topic = "0x" + order_id.to_bytes(32, "big").hex()
    return [e.args["partner"] for e in chain.book.logs(("OrderClaimed",), topic, from_block=chain.from_block)]


def test_reorg_rewinds_and_reevaluates_without_double_processing(chain, anvil, kubo, dev_accounts,
                                                                  deployments_dir, tmp_path):
    certifier = dev_accounts["certifier"]
    maker = make_partner(chain, certifier, dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    rival = dev_accounts["maker2"]
    make_partner(chain, certifier, rival, tmp_path / "rival", "rival", processes=["CNC_MILLING"],
                 materials=["AL_6061"])
    write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=2)
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    ours, theirs = buyer.post(1).order_id, buyer.post(2).order_id
    mine(anvil, 3)
    fork_point = anvil.rpc("evm_snapshot")

    # the old branch: the rival claims order 2, the node claims order 1 and marks order 2 lost
    chain.send(rival, chain.book.claim(chain.book.load_order(theirs, chain.from_block)))
    mine(anvil, 2)
    log = RecordingLog()
    node = Node(NodeConfig.load(maker.config_path), unlock_identity(NodeConfig.load(maker.config_path)), log=log)
    try:
        node.cycle()
        mine(anvil, 3)
        node.cycle()
        assert node.store.get_job(ours).state is JobState.CLAIMED
        assert node.store.get_job(theirs).state is JobState.LOST
        old_claim = next(a for a in node.store.actions(ours) if a.kind == "claim")
        assert claims(chain, ours) == [maker.account.address]
        processed = node.store.last_processed()

        # the reorg: back to the fork point, a different and longer branch without either claim
        anvil.rpc("evm_revert", fork_point)
        # new hashes
        chain.send(dev_accounts["stranger"], TxRequest(dev_accounts["auditor"].address, b"", "transfer", 1))
        mine(anvil, 8)
        assert claims(chain, ours) == [] and claims(chain, theirs) == []
        assert _gone(chain, old_claim)  # the node's claim tx is not on the surviving branch

        for _ in range(4):
            node.cycle()
            mine(anvil, 3)
        reorgs = [e for e in log.events if e["event"] == "reorg"]
        assert reorgs and reorgs[0]["common_ancestor"] < processed
        assert set(reorgs[0]["jobs_to_recheck"]) >= {ours, theirs}
        # re-evaluated: both orders are open on the new branch, so the node claims each once
        assert claims(chain, ours) == [maker.account.address]
        assert claims(chain, theirs) == [maker.account.address]
        assert node.store.get_job(ours).state is JobState.CLAIMED
        assert node.store.get_job(theirs).state is JobState.CLAIMED

        # the rest of the lifecycle on the surviving branch: no action twice
        watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True))
        for _ in range(30):
            watcher.cycle()
            mine(anvil, 1)
            node.cycle()
            mine(anvil, 2)
            if all(chain.book.load_order(i, chain.from_block).status == Status.PAID for i in (ours, theirs)):
                break
        assert [chain.book.load_order(i, chain.from_block).status for i in (ours, theirs)] == [Status.PAID] * 2
        node.cycle()
        assert node.store.get_job(ours).state is JobState.DONE and node.store.get_job(theirs).state is JobState.DONE
        for order_id in (ours, theirs):
            topic = "0x" + order_id.to_bytes(32, "big").hex()
            events = chain.book.logs(("OrderClaimed", "ProductionStarted", "QualityAttested", "OrderShipped",
                                      "PaymentWithdrawn"), topic, from_block=chain.from_block)
            names = [e.event for e in events]
            assert sorted(names) == sorted(["OrderClaimed", "ProductionStarted", "QualityAttested", "OrderShipped",
                                            "PaymentWithdrawn"]), names
    finally:
        node.close()


def _gone(chain, action) -> bool:
    from web3.exceptions import TransactionNotFound

    try:
        chain.w3.eth.get_transaction(action.tx_hash)
    except TransactionNotFound:
        return True
    return False
