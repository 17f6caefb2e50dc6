"""The local stack is made of real processes, and they go away cleanly."""

from __future__ import annotations

import os

import ipfshttpclient
import pytest

from pynode.dev.anvil import Anvil
from pynode.dev.kubo import KuboNode
from pynode.dev.net import refuses_connections
from support import left_behind

pytestmark = pytest.mark.integration


def test_kubo_daemon_is_real(kubo: KuboNode, tmp_path):
    payload = os.urandom(300_000)  # spans several 256 KiB chunks: a real DAG, not one block
    design = tmp_path / "bracket.stl"
    design.write_bytes(payload)

    client = ipfshttpclient.Client(kubo.api_multiaddr)  # not connect(): it rejects Kubo > 0.8
    added = client.add(str(design))

    assert kubo.ipfs("cat", added["Hash"]) == payload
    assert kubo.ipfs("add", "--only-hash", "-Q", str(design)).decode().strip() == added["Hash"]
    assert int(added["Size"]) > len(payload)  # includes the UnixFS DAG nodes
    client.close()


def test_kubo_has_no_public_peers(kubo: KuboNode):
    assert kubo.ipfs("bootstrap", "list").strip() == b""
    peers = kubo.ipfs("swarm", "peers").decode().split()
    assert all("/ip4/127.0.0.1/" in peer for peer in peers)


def test_anvil_is_real(anvil: Anvil):
    assert int(anvil.rpc("eth_chainId"), 16) == anvil.chain_id
    before = int(anvil.rpc("eth_blockNumber"), 16)
    anvil.rpc("evm_mine")
    assert int(anvil.rpc("eth_blockNumber"), 16) == before + 1


def test_stop_leaves_no_process_and_frees_ports(tmp_path):
    chain = Anvil(tmp_path).start()
    node = KuboNode(tmp_path / "repo").start()
    pids = [chain.process.pid, node.process.pid]
    api_port = int(node.api_url.rsplit(":", 1)[1])

    chain.stop()
    node.stop()

    assert left_behind(pids, [chain.port, api_port]) == []


def test_two_kubo_nodes_exchange_blocks_over_loopback(tmp_path):
    with KuboNode(tmp_path / "a", "kubo-a") as a, KuboNode(tmp_path / "b", "kubo-b") as b:
        b.connect(a)
        cid = a.ipfs("add", "-Q", "--pin=true", input=b"design bytes").decode().strip()
        assert b.ipfs("cat", cid, timeout=30) == b"design bytes"


def test_a_restarted_kubo_refuses_while_down_and_is_back_on_its_ports(tmp_path):
    import threading

    with KuboNode(tmp_path / "a", "kubo-a") as node:
        cid = node.ipfs("add", "-Q", "--pin=true", input=b"kept").decode().strip()
        api, swarm = node.api_url, node.swarm_addresses()
        api_port = int(api.rsplit(":", 1)[1])
        refused = threading.Event()
        done = threading.Event()

        def client() -> None:
            while not done.wait(0.1):
                if refuses_connections(api_port):  # held by restart() while down: no one else can take it
                    refused.set()

        probe = threading.Thread(target=client, daemon=True)
        probe.start()
        try:
            node.restart(down_s=2.0)  # from this thread: Kubo dies with the thread that started it
        finally:
            done.set()
            probe.join(timeout=10)
        assert refused.is_set()  # it was down
        assert (node.api_url, node.swarm_addresses()) == (api, swarm)  # and came back where clients look
        assert node.ipfs("cat", cid) == b"kept"
