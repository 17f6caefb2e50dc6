"""`fabmesh node run` as a program: exit codes, fatal errors in one line, SIGTERM, /healthz and /metrics."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

import pytest
from eth_utils import keccak

from harness import NodeProcess, make_partner, node_command, wait_for, write_config

pytestmark = pytest.mark.integration


@pytest.fixture
def maker_home(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    home = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                        processes=["CNC_MILLING"], materials=["AL_6061"])
    write_config(home, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"])
    return home


def run_once(home, env=None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(node_command(home.config_path, once=True), capture_output=True, text=True, timeout=120,
                          cwd=home.root, env={**os.environ, **(env or {})})


def test_once_runs_one_cycle_and_exits_0(maker_home) -> None:
    result = run_once(maker_home)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stderr.splitlines()]
    assert events[0] == "node_started" and "connected" in events and events[-1] == "node_stopped"


def test_wrong_chain_is_fatal_in_one_line(maker_home, deployments_dir, tmp_path) -> None:
    deployment = json.loads((deployments_dir / "31337.json").read_text())
    other = tmp_path / "999.json"
    other.write_text(json.dumps({**deployment, "chainId": 999}))
    result = run_once(maker_home, env={"FABMESH_DEPLOYMENTS": str(other)})
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "is for chain 999, the RPC endpoint is chain 31337" in last


def test_suspended_partner_is_fatal(chain, dev_accounts, maker_home) -> None:
    chain.send(dev_accounts["admin"], chain.registry.suspend(maker_home.account.address, keccak(b"reason")))
    result = run_once(maker_home)
    assert result.returncode == 1
    assert "is suspended" in result.stderr.strip().splitlines()[-1]


def test_unreadable_keystore_is_fatal(maker_home) -> None:
    (maker_home.root / "password.txt").write_text("wrong password\n")
    result = run_once(maker_home)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot unlock the node's keys")


def test_sigterm_exits_cleanly_and_metrics_are_served(anvil, kubo, deployments_dir, maker_home, held_port) -> None:
    port = held_port
    write_config(maker_home, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], metrics_port=port)
    node = NodeProcess(maker_home).start()
    try:
        node.wait_connected()

        def healthy():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                    return json.loads(reply.read()) if reply.status == 200 else None
            except OSError:
                return None

        health = wait_for(healthy, timeout=30, what="/healthz 200")
        assert health["status"] == "ok" and health["behind"] is not None
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
            text = reply.read().decode()
        for name in ("fabmesh_blocks_behind_head", "fabmesh_jobs", "fabmesh_claim_races_lost",
                     "fabmesh_decode_logs_per_second", "fabmesh_cycles_total"):
            assert name in text, name
        node.proc.send_signal(signal.SIGTERM)
        assert node.proc.wait(30) == 0
        assert '"event":"node_stopped"' in node.log_tail()
    finally:
        node.kill()


def test_rpc_failover_to_the_next_endpoint(anvil, maker_home, held_port) -> None:
    dead = f"http://127.0.0.1:{held_port}"
    result = run_once(maker_home, env={"FABMESH_RPC_URLS": json.dumps([dead, anvil.rpc_url])})
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert any(e["event"] == "cycle_failed" for e in events)
    assert [e["rpc"] for e in events if e["event"] == "connected"] == [anvil.rpc_url]
    result = run_once(maker_home, env={"FABMESH_RPC_URLS": json.dumps([dead])})
    assert result.returncode == 1 and "no cycle succeeded" in result.stderr.strip().splitlines()[-1]


def test_a_stuck_transaction_is_replaced_with_higher_fees(chain, anvil, dev_accounts, tmp_path) -> None:
    import threading

    from pynode.chain.tx import TxRequest
    from pynode.daemon.journal import JournaledSender
    from pynode.daemon.store import Store

    account = dev_accounts["stranger"]
    with Store(tmp_path / "node.db") as store:
        events = []
        journal = JournaledSender(chain.w3, account, chain.sender(account), store, replace_after_s=0.5, wait_s=20,
                                  poll_s=0.05, on_event=lambda e, **f: events.append((e, f)))
        anvil.rpc("evm_setAutomine", False)
        try:
            timer = threading.Timer(2.0, lambda: anvil.rpc("evm_mine"))
            timer.start()
            outcome = journal.send(1, "transfer", TxRequest(dev_accounts["auditor"].address, b"", "transfer", 1))
        finally:
            anvil.rpc("evm_setAutomine", True)
    replaced = [f for e, f in events if e == "tx_replaced"]
    assert outcome.ok and replaced
    from web3.exceptions import TransactionNotFound

    first = next(f["tx"] for e, f in events if e == "tx_sent")
    assert outcome.tx_hash == replaced[-1]["tx"] != first  # the newest, highest-fee version is the one mined
    with pytest.raises(TransactionNotFound):
        chain.w3.eth.get_transaction(first)
    assert store_row_hash(tmp_path) == outcome.tx_hash


def test_a_replacement_that_loses_the_race_to_the_mined_version_ends_in_its_receipt(chain, anvil, dev_accounts,
                                                                                     tmp_path) -> None:
    """The version already sent is mined just before its replacement reaches the node (nonce too low): the wait
    ends in the mined version's receipt, which the journal records, instead of failing the action."""
    from pynode.chain.tx import TxRequest
    from pynode.daemon.journal import JournaledSender
    from pynode.daemon.store import Store

    account = dev_accounts["stranger"]
    sender = chain.sender(account)
    real_broadcast = sender.broadcast_raw
    calls: list[bytes] = []

    def mined_first(raw: bytes):  # the first call sends the original; the miner wins the race against the second
        calls.append(raw)
        if len(calls) == 2:
            anvil.rpc("evm_mine")
        return real_broadcast(raw)

    with Store(tmp_path / "node.db") as store:
        events: list = []
        journal = JournaledSender(chain.w3, account, sender, store, replace_after_s=0.3, wait_s=20, poll_s=0.05,
                                  on_event=lambda e, **f: events.append((e, f)))
        anvil.rpc("evm_setAutomine", False)
        try:
            sender.broadcast_raw = mined_first  # type: ignore[method-assign]
            outcome = journal.send(1, "transfer", TxRequest(dev_accounts["auditor"].address, b"", "transfer", 1))
        finally:
            sender.broadcast_raw = real_broadcast  # type: ignore[method-assign]
            anvil.rpc("evm_setAutomine", True)
    first = next(f["tx"] for e, f in events if e == "tx_sent")
    assert len(calls) >= 2 and outcome.ok and outcome.tx_hash == first
    assert not [f for e, f in events if e == "tx_replaced"]  # the replacement never left
    assert store_row_hash(tmp_path) == first


def store_row_hash(tmp_path) -> str:
    from pynode.daemon.store import Store

    with Store(tmp_path / "node.db") as store:
        (action,) = store.actions(1)
        assert action.status.value == "mined"
        return action.tx_hash
