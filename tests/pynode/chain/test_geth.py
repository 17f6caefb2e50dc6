"""geth, the second EVM client: `fabmesh check`, the wrappers' order tests and a daemon-run order on geth.

The order tests are test_client_lifecycle.py's ClientLifecycle cases, run here a
second time by TestOnGeth with this module's `chain` (geth) in place of the session's anvil
one; `fabmesh check` and `fabmesh node run` run as programs. geth seals a block every second
(--dev.period 1), charges a real EIP-1559 base fee and has no anvil_*/evm_* methods, so neither snapshots nor time
travel: the chain, the deployment and the registered maker are shared by the
tests of this module, and whatever needs evm_increaseTime or evm_mine (claim
and delivery deadlines, dispute timeouts, unbonding, reorgs) stays anvil-only
in the other modules.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from harness import BuyerSide, NodeProcess, Repeating, make_partner, write_config
from pynode.chain.client import Chain
from pynode.chain.tx import TxRequest
from pynode.core.settings import Settings
from pynode.dev.accounts import role_plan
from pynode.dev.deploy import deploy
from pynode.dev.geth import GETH_DEV_CHAIN_ID, Geth
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.wallet.keystore import Keystore
from support import TO_PAID, ready_maker, steps_to_paid, wait_progressing
from test_client_lifecycle import ClientLifecycle

pytestmark = pytest.mark.integration

FUNDS = 10**21  # 1,000 ETH to every role account, from geth's dev account
STALL_S = 120  # longest wait for the order's next step before the node counts as stuck


@pytest.fixture(scope="module")
def geth(tmp_path_factory):
    with Geth(tmp_path_factory.mktemp("geth")) as node:
        yield node


@pytest.fixture(scope="module")
def deployments_dir(geth, dev_accounts, tmp_path_factory):
    """anvil's role accounts funded on geth, then the local deploy (as anvil's admin account) as on anvil."""
    geth.fund([account.address for account in dev_accounts.values()], FUNDS)
    target = tmp_path_factory.mktemp("geth-deployments")
    deploy(geth.rpc_url, geth.chain_id, target, role_plan(dev_accounts))
    return target


@pytest.fixture(scope="module")
def settings(geth, kubo, deployments_dir, tmp_path_factory):
    return Settings(rpc_url=geth.rpc_url, ipfs_api=kubo.api_url, deployments=deployments_dir,
                    home=tmp_path_factory.mktemp("geth-home"), scrypt_n=1024, confirmations=1)


@pytest.fixture(scope="module")
def chain(settings):
    return Chain.connect(settings)


@pytest.fixture(scope="module")
def maker_ready(chain, dev_accounts):
    """Registered once for the module: without snapshots a second registration would revert."""
    return ready_maker(chain, dev_accounts)


class TestOnGeth(ClientLifecycle):
    pass


def _fabmesh(geth, kubo, deployments_dir, home: Path, *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FABMESH_") and k != "ETH_RPC_URL"}
    env = {**clean, "FABMESH_HOME": str(home), "ETH_RPC_URL": geth.rpc_url, "FABMESH_IPFS_API": kubo.api_url,
           "FABMESH_DEPLOYMENTS": str(deployments_dir), "FABMESH_SCRYPT_N": "1024"}
    return subprocess.run([str(Path(sys.executable).parent / "fabmesh"), *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_geth_listens_on_loopback_only(geth):
    """Dev mode turns p2p off; what geth does open (its JSON-RPC port) is bound to 127.0.0.1."""
    sockets = psutil.Process(geth.process.pid).connections(kind="inet")
    listening = [c.laddr for c in sockets if c.status == psutil.CONN_LISTEN or c.type == socket.SOCK_DGRAM]
    assert [(a.ip, a.port) for a in listening] == [("127.0.0.1", geth.port)]


def test_check_passes_against_geth(geth, kubo, deployments_dir, dev_accounts, tmp_path):
    home = tmp_path / "home"
    buyer = dev_accounts["buyer"]
    Keystore(home / "keystores", 1024).create("buyer", "pw", private_key=bytes(buyer.key))
    (tmp_path / "pw").write_text("pw\n")

    result = _fabmesh(geth, kubo, deployments_dir, home, "--protocol", "1", "--account", "buyer", "--password-file",
                      str(tmp_path / "pw"), "--json", "check")

    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert all(c["ok"] for c in checks.values()), checks
    assert list(checks) == ["rpc + deployment", "PartnerRegistry code", "OrderBook code", "ipfs", "account balance"]
    assert f"chain {GETH_DEV_CHAIN_ID}" in checks["rpc + deployment"]["detail"]
    assert checks["account balance"]["detail"].startswith(buyer.address)


def test_check_fails_when_no_deployment_names_the_geth_chain(geth, kubo, tmp_path):
    empty = tmp_path / "deployments"
    empty.mkdir()

    result = _fabmesh(geth, kubo, empty, tmp_path / "home", "--json", "check")

    assert result.returncode == 1
    checks = json.loads(result.stdout)["checks"]
    assert checks[0]["check"] == "rpc + deployment" and not checks[0]["ok"]
    assert f"{GETH_DEV_CHAIN_ID}.v2.json" in checks[0]["detail"]  # the default protocol's file for geth's chain id
    assert "pass --protocol 1" in checks[0]["detail"]  # and how to take a v1 deployment instead


def test_transactions_pay_the_base_fee_of_geth(chain, dev_accounts):
    """pynode's sender prices EIP-1559 transactions from the block's base fee, which on geth is not zero."""
    stranger, auditor = dev_accounts["stranger"], dev_accounts["auditor"]
    before = chain.w3.eth.get_balance(stranger.address)
    sent = chain.send(stranger, TxRequest(auditor.address, b"", "transfer 1 wei", value=1))
    block = chain.w3.eth.get_block(sent.block_number)
    assert block["baseFeePerGas"] > 0
    assert sent.receipt["type"] == 2 and sent.receipt["effectiveGasPrice"] >= block["baseFeePerGas"]
    fee = sent.gas_used * sent.receipt["effectiveGasPrice"]
    assert chain.w3.eth.get_balance(stranger.address) == before - 1 - fee


def test_daemon_and_watcher_complete_an_order_on_geth(chain, geth, kubo, dev_accounts, deployments_dir, tmp_path):
    """`fabmesh node run` (the maker) and the buyer's watcher take an order from post to paid on geth.

    FDM/PLA and a buyer of its own keep the earlier tests' open orders out of both."""
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker2"], tmp_path / "maker", "maker2",
                         processes=["FDM"], materials=["PLA"])
    write_config(maker, rpc_urls=[geth.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["FDM"], materials=["PLA"], confirmations=1, duration_s=0.3)
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["auditor"], tmp_path / "buyer")
    order_id = buyer.post(1, process="FDM", material="PLA").order_id
    watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True))
    node = NodeProcess(maker)
    try:
        with Repeating(watcher.cycle, 0.5, "buyer"):
            node.start().wait_connected()
            wait_progressing(lambda: steps_to_paid(chain, [order_id]), len(TO_PAID) - 1, stall_s=STALL_S,
                             what=f"order {order_id}'s steps to paid", interval=1.0, detail=node.log_tail)
        assert node.terminate() == 0, node.log_tail()
    finally:
        node.kill()
    paid = chain.book.logs(("PaymentWithdrawn",), from_block=chain.from_block)
    assert [e.args["partner"] for e in paid if int(e.args["orderId"]) == order_id] == [maker.account.address]
