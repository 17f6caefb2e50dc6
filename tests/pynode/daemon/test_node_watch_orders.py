"""`fabmesh node watch-orders --once`: the buyer's opt-in automation awards a qualified claim from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_utils import keccak

from harness import BuyerSide, make_partner
from pynode.chain.orders import CERT
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.protocol.types import Status
from support import cli_buyer

pytestmark = pytest.mark.integration


def test_watch_orders_awards_the_claim(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    home, side = cli_buyer(chain, kubo.api_url, dev_accounts["buyer"], tmp_path)
    order_id = side.post(1).order_id
    chain.send(maker.account, chain.book.claim(chain.book.load_order(order_id, chain.from_block)))

    env = {**os.environ, "FABMESH_HOME": str(home), "FABMESH_PROTOCOL": "1", "FABMESH_RPC_URL": anvil.rpc_url,
           "FABMESH_IPFS_API": kubo.api_url, "FABMESH_DEPLOYMENTS": str(deployments_dir),
           "FABMESH_CONFIRMATIONS": "0"}
    fabmesh = str(Path(sys.executable).parent / "fabmesh")
    result = subprocess.run([fabmesh, "--account", "buyer", "--password-file", str(tmp_path / "pw"), "node",
                             "watch-orders", "--once", "--min-completed", "0"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    awarded = [e for e in events if e["event"] == "awarded"]
    assert [e["order_id"] for e in awarded] == [order_id] and awarded[0]["partner"] == maker.account.address
    assert chain.book.load_order(order_id, chain.from_block).status == Status.AWARDED

    # a second run finds nothing to do (idempotent: it re-reads the chain)
    again = subprocess.run([fabmesh, "--account", "buyer", "--password-file", str(tmp_path / "pw"), "node",
                            "watch-orders", "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and '"awarded"' not in again.stderr


def test_watcher_refuses_a_claimant_decertified_since_its_claim(chain, kubo, dev_accounts, tmp_path):
    """The contract checks certifications at claim time only; the watcher re-runs the registry's check before
    sealing the design key, so a claimant whose required certification was revoked gets nothing."""
    certifier = dev_accounts["certifier"]
    maker = make_partner(chain, certifier, dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    now = chain.w3.eth.get_block("latest")["timestamp"]
    chain.send(certifier, chain.registry.certify(maker.account.address, CERT["ISO_9001"], now + 86400 * 365,
                                                 keccak(b"audit")))
    side = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    order_id = side.post(1, certifications=("ISO_9001",)).order_id
    chain.send(maker.account, chain.book.claim(chain.book.load_order(order_id, chain.from_block)))
    chain.send(certifier, chain.registry.revoke_certification(maker.account.address, CERT["ISO_9001"],
                                                              keccak(b"lapsed")))

    watcher = OrderWatcher(side.buyer, side.keypair, AwardPolicy())
    stats = watcher.cycle()

    assert stats.awarded == [] and "CertificationMissing" in stats.refused[order_id]
    assert chain.book.load_order(order_id, chain.from_block).status == Status.CLAIMED
