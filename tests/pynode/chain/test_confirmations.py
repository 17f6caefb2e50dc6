"""12 s blocks, ``confirmations = 3``: nothing acts on a block with fewer than 3 blocks on top.

anvil runs with automine off on a chain of its own and every block is mined here, one at a time, with
timestamps 12 s apart (``anvil_setBlockTimestampInterval``): 12 s blocks by the chain's clock, without
12 s of wall time each (time travel: anvil only).

* a CLI write (`fabmesh order cancel`, the real program) reports success only after the 3rd block on top
  of its transaction and prints progress to stderr as each block arrives, nothing of it on stdout (--json);
* the daemon does not claim an order whose post is 1 or 2 blocks deep, claims it 3 deep, and logs
  its own claim's progress to confirmation depth;
* the buyer's watcher does not award a claim 1 or 2 blocks deep, and awards it 3 deep.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from eth_utils import keccak

from harness import BuyerSide, NodeProcess, make_partner, wait_for, write_config
from pynode.chain.client import Chain
from pynode.chain.confirmations import NotConfirmed
from pynode.orders.buyer import Buyer
from pynode.orders.design_keys import DesignKeyStore
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.protocol.types import Status
from pynode.wallet.keystore import Keystore
from support import events

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]  # it switches automine and block times

DEPTH = 3
BLOCK_S = 12


@pytest.fixture
def slow_chain(anvil):
    """From here on blocks come only from mine(), each 12 s after the last by its timestamp."""
    anvil.rpc("anvil_setBlockTimestampInterval", BLOCK_S)
    anvil.rpc("evm_mine")  # a first 12 s gap, so the block time is known from the first progress line
    anvil.rpc("evm_setAutomine", False)
    def mine() -> int:
        anvil.rpc("evm_mine")
        return int(anvil.rpc("eth_blockNumber"), 16)

    try:
        yield mine
    finally:
        anvil.rpc("evm_setAutomine", True)
        anvil.rpc("anvil_removeBlockTimestampInterval")


def pending(chain: Chain, address: str) -> bool:
    """A transaction from ``address`` waits in the pool."""
    return chain.w3.eth.get_transaction_count(address, "pending") > chain.w3.eth.get_transaction_count(address)


def awaiting_metric(port: int) -> float:
    """fabmesh_txs_awaiting_confirmation from the node's /metrics."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return float(next(line.split()[1] for line in text.splitlines()
                      if line.startswith("fabmesh_txs_awaiting_confirmation ")))


def depth_events(node: NodeProcess) -> int:
    """How many times the node has logged its own transaction's depth."""
    return len(events(node, "waiting_for_confirmations")) + len(events(node, "tx_confirmed"))


class Lines:
    """A child's stream, read line by line in the background."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True)
        self._thread.start()

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def drain(self) -> None:
        """Waits until the child's end of the stream has closed and every line is read."""
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the stream is still open"


def test_a_cli_write_reports_success_only_three_blocks_deep(chain, anvil, kubo, dev_accounts, deployments_dir,
                                                             tmp_path, slow_chain):
    anvil.rpc("evm_setAutomine", True)
    buyer_account = dev_accounts["buyer"]
    order_id = BuyerSide(chain, kubo.api_url, buyer_account, tmp_path / "buyer").post(1).order_id
    anvil.rpc("evm_setAutomine", False)
    for _ in range(DEPTH):
        slow_chain()  # the post is settled: the command goes straight to sending
    home = tmp_path / "home"
    Keystore(home / "keystores", 1024).create("buyer", "pw", private_key=bytes(buyer_account.key))
    (tmp_path / "pw").write_text("pw\n")
    env = {**os.environ, "FABMESH_HOME": str(home), "FABMESH_PROTOCOL": "1", "FABMESH_RPC_URL": anvil.rpc_url,
           "FABMESH_IPFS_API": kubo.api_url, "FABMESH_DEPLOYMENTS": str(deployments_dir),
           "FABMESH_CONFIRMATIONS": str(DEPTH), "FABMESH_SCRYPT_N": "1024"}
    fabmesh = str(Path(sys.executable).parent / "fabmesh")
    proc = subprocess.Popen([fabmesh, "--account", "buyer", "--password-file", str(tmp_path / "pw"), "-y", "--json",
                             "order", "cancel", str(order_id)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        stderr, stdout = Lines(proc.stderr), Lines(proc.stdout)
        wait_for(lambda: pending(chain, buyer_account.address) or proc.poll() is not None, timeout=60,
                 interval=0.05, what="the cancel transaction in the pool")
        assert proc.poll() is None, stderr.lines
        block = slow_chain()  # the cancel is mined: 0 blocks on top
        wait_for(lambda: stderr.has(f"waiting for confirmations: 0/3 (block {block}, ~36 s)"), timeout=30,
                 interval=0.05, what="0/3")
        for done, eta in ((1, 24), (2, 12)):
            slow_chain()
            wait_for(lambda: stderr.has(f"waiting for confirmations: {done}/3 (block {block}, ~{eta} s)"),  # noqa: B023 - wait_for calls it within this iteration
                     timeout=30, interval=0.05, what=f"{done}/3")
        time.sleep(1.5)  # more than a poll: the command is still waiting, having reported nothing
        assert proc.poll() is None and stdout.lines == [], stderr.lines
        slow_chain()  # the 3rd block on top
        assert proc.wait(timeout=30) == 0, stderr.lines
    finally:
        proc.kill()
        proc.wait()
    stdout.drain()
    stderr.drain()
    result = json.loads("".join(stdout.lines))  # only the data on stdout
    receipt = chain.w3.eth.get_transaction_receipt(result["tx"])
    assert receipt["blockNumber"] == block and receipt["status"] == 1
    assert [line for line in stderr.lines if "confirm" in line] == [
        *(f"waiting for confirmations: {n}/3 (block {block}, ~{eta} s)\n" for n, eta in ((0, 36), (1, 24), (2, 12))),
        f"confirmed: 3/3 (block {block})\n"]
    assert chain.book.load_order(order_id, chain.from_block).status == Status.CANCELLED


def test_the_daemon_claims_an_order_only_three_blocks_deep(chain, anvil, kubo, dev_accounts, deployments_dir,
                                                          tmp_path, slow_chain, held_port):
    anvil.rpc("evm_setAutomine", True)
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    port = held_port
    write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=DEPTH, poll_interval_s=0.1,
                 metrics_port=port)
    for _ in range(DEPTH):
        anvil.rpc("evm_mine")  # the registration settled: the node starts with nothing unconfirmed of its own
    order_id = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer").post(1).order_id
    posted = chain.w3.eth.block_number
    anvil.rpc("evm_setAutomine", False)
    node = NodeProcess(maker, log_level="debug")
    try:
        node.start().wait_connected()
        for depth in (0, 1, 2):
            if depth:
                slow_chain()
            head = posted + depth
            wait_for(lambda: len([e for e in events(node, "cycle") if e["head"] == head]) >= 3,  # noqa: B023 - wait_for calls it within this iteration
                     timeout=60, interval=0.05, what=f"three node cycles with the post {depth} deep")
            assert not events(node, "tx_sent") and not events(node, "job_state"), node.log_tail()
            assert not pending(chain, maker.account.address)
        slow_chain()  # 3 blocks on top of the post
        wait_for(lambda: events(node, "tx_sent"), timeout=60, interval=0.05, what="the claim")
        claim = events(node, "tx_sent")[0]
        assert (claim["order_id"], claim["action"]) == (order_id, "claim")
        mined = slow_chain()
        wait_for(lambda: events(node, "waiting_for_confirmations"), timeout=60, interval=0.05, what="0/3")
        assert awaiting_metric(port) == 1.0
        for done in range(1, DEPTH + 1):
            slow_chain()
            wait_for(lambda: depth_events(node) > done, timeout=60, interval=0.05,  # noqa: B023 - wait_for calls it within this iteration
                     what=f"claim {done} deep")
        confirmed = wait_for(lambda: events(node, "tx_confirmed"), timeout=60, interval=0.05, what="claim 3 deep")
        assert awaiting_metric(port) == 0.0
        assert node.terminate() == 0, node.log_tail()
    finally:
        node.kill()
    progress = [(e["confirmations"], e["eta_s"]) for e in events(node, "waiting_for_confirmations")]
    assert progress == [(0, 36.0), (1, 24.0), (2, 12.0)]
    assert (confirmed[0]["tx"], confirmed[0]["block"], confirmed[0]["confirmations"]) == (claim["tx"], mined, DEPTH)
    tracker = chain.book.load_order(order_id, chain.from_block)
    assert tracker.status == Status.CLAIMED and tracker.state.partner == maker.account.address


def test_the_watcher_awards_a_claim_only_three_blocks_deep(chain, anvil, kubo, dev_accounts, settings, tmp_path,
                                                          slow_chain):
    anvil.rpc("evm_setAutomine", True)
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    side = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    order_id = side.post(1).order_id
    for _ in range(DEPTH):
        anvil.rpc("evm_mine")  # the post settled: the watcher knows the order before the claim comes
    chain.send(maker.account, chain.book.claim(chain.book.load_order(order_id, chain.from_block)))
    claimed = chain.w3.eth.block_number
    anvil.rpc("evm_setAutomine", False)

    deep = Chain.connect(settings.model_copy(update={"confirmations": DEPTH}))
    seen = []
    deep.on_progress = seen.append
    buyer = Buyer(deep, side.vault, DesignKeyStore(side.root / "design-keys", side.ipfs), side.buyer.account)
    watcher = OrderWatcher(buyer, side.keypair, AwardPolicy())
    for depth in (0, 1, 2):
        if depth:
            slow_chain()
        assert watcher.cycle().awarded == [] and not pending(chain, buyer.account.address)
    assert [(p.order_id, p.block, p.confirmations) for p in seen] == [(order_id, claimed, n) for n in (0, 1, 2)]
    slow_chain()  # the claim has 3 blocks on top

    cycle = threading.Thread(target=watcher.cycle, daemon=True)
    cycle.start()
    wait_for(lambda: pending(chain, buyer.account.address), timeout=60, interval=0.05, what="the award")
    award_block = slow_chain()
    for done in range(1, DEPTH + 1):
        wait_for(lambda: len([p for p in seen if p.tx_hash]) == done, timeout=30, interval=0.05,  # noqa: B023 - wait_for calls it within this iteration
                 what=f"the award {done - 1} deep")
        assert cycle.is_alive()  # the award is not done before its 3rd block on top
        slow_chain()
    cycle.join(timeout=30)
    assert not cycle.is_alive() and watcher.stats.awarded == [order_id]
    assert [p.confirmations for p in seen if p.tx_hash] == [0, 1, 2, 3]
    assert all(p.block == award_block for p in seen if p.tx_hash)
    assert chain.book.load_order(order_id, chain.from_block).status == Status.AWARDED


def test_a_transaction_reorged_out_before_its_depth_is_sent_again_and_counted_in_its_new_block(
        chain, anvil, dev_accounts, settings, slow_chain):
    """Its block is re-checked against the canonical chain at every new head: a reorg that drops it (anvil_reorg,
    2 blocks deep, after 1 confirmation) sends the waiter back to the receipt search, which re-signs the same
    nonce, and the 3 confirmations are counted again from the block the replacement lands in."""
    deep = Chain.connect(settings.model_copy(update={"confirmations": DEPTH}))
    seen = []
    deep.on_progress = seen.append
    account = dev_accounts["stranger"]
    sender = deep.sender(account)
    sender.replace_after_s = 0.5
    profile = (1, 1, b"u33d".ljust(8, b"\0"), 1, b"\x22" * 32)
    request = deep.registry.register(profile, b"\x01" + b"\x33" * 32, deep.registry.min_bond())
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(sent=deep.send(account, request)), daemon=True)
    worker.start()
    wait_for(lambda: pending(chain, account.address), timeout=30, interval=0.05, what="the registration")
    first = slow_chain()
    wait_for(lambda: len(seen) == 1, timeout=30, interval=0.05, what="0/3")
    slow_chain()
    wait_for(lambda: len(seen) == 2, timeout=30, interval=0.05, what="1/3")
    anvil.rpc("anvil_reorg", 2, [])  # both blocks replaced by empty ones: the transaction is gone
    wait_for(lambda: pending(chain, account.address), timeout=30, interval=0.05, what="the re-signed registration")
    again = slow_chain()
    for done in range(1, DEPTH + 1):
        wait_for(lambda: len(seen) == 2 + done, timeout=30, interval=0.05, what=f"{done - 1}/3 again")  # noqa: B023 - wait_for calls it within this iteration
        assert worker.is_alive()
        slow_chain()
    worker.join(timeout=30)
    sent = outcome["sent"]
    assert [(p.block, p.confirmations) for p in seen] == [(first, 0), (first, 1), (again, 0), (again, 1), (again, 2),
                                                          (again, 3)]
    assert len(sent.replaced) == 1 and sent.replaced[0] != sent.tx_hash and sent.block_number == again
    assert chain.w3.eth.get_block(again)["hash"] == sent.receipt["blockHash"]
    assert chain.registry.partner_info(account.address).registered


def test_a_chain_that_stops_producing_blocks_ends_the_wait_with_one_line(chain, dev_accounts, settings, slow_chain):
    deep = Chain.connect(settings.model_copy(update={"confirmations": DEPTH}))
    account = dev_accounts["stranger"]
    sender = deep.sender(account)
    sender.give_up_after_s = 2.0
    profile = (1, 1, b"u33d".ljust(8, b"\0"), 1, b"\x44" * 32)
    request = deep.registry.register(profile, b"\x01" + b"\x55" * 32, deep.registry.min_bond())
    outcome = {}

    def send() -> None:
        try:
            deep.send(account, request)
        except NotConfirmed as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=send, daemon=True)
    worker.start()
    wait_for(lambda: pending(chain, account.address), timeout=30, interval=0.05, what="the registration")
    block = slow_chain()  # mined, and then no block comes on top
    worker.join(timeout=30)
    message = str(outcome["error"])
    assert f"is in block {block} but has 0 of 3 confirmations" in message and "\n" not in message


def test_a_reinstatement_short_of_depth_does_not_qualify_a_claimant(chain, anvil, kubo, dev_accounts, settings,
                                                                     tmp_path, slow_chain):
    """The claim is deep enough, but the claimant was suspended and its reinstatement is 1 block deep: the
    watcher seals nothing until the reinstatement has 3 blocks on top (a suspension counts at once)."""
    anvil.rpc("evm_setAutomine", True)
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    side = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    order_id = side.post(1).order_id
    chain.send(maker.account, chain.book.claim(chain.book.load_order(order_id, chain.from_block)))
    chain.send(dev_accounts["admin"], chain.registry.suspend(maker.account.address, keccak(b"audit pending")))
    for _ in range(DEPTH):
        anvil.rpc("evm_mine")
    chain.send(dev_accounts["admin"], chain.registry.reinstate(maker.account.address))
    anvil.rpc("evm_setAutomine", False)

    deep = Chain.connect(settings.model_copy(update={"confirmations": DEPTH}))
    buyer = Buyer(deep, side.vault, DesignKeyStore(side.root / "design-keys", side.ipfs), side.buyer.account)
    watcher = OrderWatcher(buyer, side.keypair, AwardPolicy())
    for depth in (0, 1, 2):
        if depth:
            slow_chain()
        stats = watcher.cycle()
        assert stats.awarded == [] and "Suspended" in stats.refused[order_id], stats.refused
        assert not pending(chain, buyer.account.address)
    slow_chain()  # the reinstatement has 3 blocks on top
    assert buyer.claimant_refusal(deep.settled_order(order_id, wait_s=0)) is None
