"""Unit tests of the node's pieces that need no chain: the journal's restart logic, JSON logs, config keys."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from eth_account import Account
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxSender
from pynode.core.errors import FatalError
from pynode.daemon.config import NodeConfig
from pynode.daemon.journal import JournaledSender, Outcome
from pynode.daemon.jsonlog import JsonLogger
from pynode.daemon.node import Identity, Node, unlock_identity
from pynode.daemon.store import ActionStatus, JobState, Store

ACCOUNT = Account.from_key(b"\x01" * 32)


class FakeEth:
    """Just the eth_* calls resolve() makes, with scripted answers."""

    def __init__(self, *, receipt=None, pending=False, confirmed_nonce=0) -> None:
        self.receipt = receipt
        self.pending = pending
        self.confirmed_nonce = confirmed_nonce
        self.broadcast: list[bytes] = []

    def get_transaction_receipt(self, tx_hash):
        if self.receipt is None:
            raise TransactionNotFound("no")
        return self.receipt

    def get_transaction(self, tx_hash):
        if not self.pending:
            raise TransactionNotFound("no")
        return {"hash": tx_hash}

    def get_transaction_count(self, address, block):
        return self.confirmed_nonce

    def get_block(self, block):
        return {"number": 10, "hash": HexBytes("0x" + "0a" * 32), "parentHash": HexBytes("0x" + "09" * 32),
                "timestamp": 1_000, "baseFeePerGas": 1}

    def send_raw_transaction(self, raw):
        self.broadcast.append(bytes(raw))
        self.receipt = {"transactionHash": HexBytes("0x" + "ab" * 32), "blockNumber": 9, "status": 1}


class FakeW3:
    def __init__(self, eth: FakeEth) -> None:
        self.eth = eth


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "node.db") as db:
        yield db


def sender(store: Store, eth: FakeEth) -> JournaledSender:
    w3 = FakeW3(eth)
    return JournaledSender(w3, ACCOUNT, TxSender(w3, ACCOUNT, RevertDecoder(), poll_s=0.01), store, wait_s=1.0,
                           poll_s=0.01)


def sent_action(store: Store, nonce: int = 4):
    action = store.plan_action(7, "claim")
    return store.mark_sent(action.id, "0x" + "cd" * 32, nonce=nonce, raw_tx="0x02f8aa")


def test_a_planned_action_was_never_broadcast(store) -> None:
    action = store.plan_action(7, "claim")
    assert sender(store, FakeEth()).resolve(action) is None
    assert store.get_action(action.id).status is ActionStatus.FAILED


def test_a_sent_action_with_a_receipt_is_mined(store) -> None:
    action = sent_action(store)
    eth = FakeEth(receipt={"transactionHash": HexBytes("0x" + "cd" * 32), "blockNumber": 12, "status": 1})
    outcome = sender(store, eth).resolve(action)
    assert outcome.ok and outcome.block_number == 12 and not eth.broadcast
    assert store.get_action(action.id).status is ActionStatus.MINED


def test_an_unknown_tx_whose_nonce_is_free_is_rebroadcast_byte_for_byte(store) -> None:
    action = sent_action(store, nonce=4)
    eth = FakeEth(confirmed_nonce=4)
    outcome = sender(store, eth).resolve(action)
    assert eth.broadcast == [bytes.fromhex("02f8aa")]  # the same signed bytes: same nonce, at most one mined
    assert outcome.ok and store.get_action(action.id).status is ActionStatus.MINED


def test_an_unknown_tx_whose_nonce_was_used_is_failed_not_resent(store) -> None:
    action = sent_action(store, nonce=4)
    eth = FakeEth(confirmed_nonce=5)
    assert sender(store, eth).resolve(action) is None
    assert not eth.broadcast
    assert "nonce 4 was used" in store.get_action(action.id).error


def test_a_pending_tx_is_awaited_not_resent(store) -> None:
    action = sent_action(store)
    eth = FakeEth(pending=True)
    assert sender(store, eth).resolve(action, wait=False) is None
    assert not eth.broadcast and store.get_action(action.id).status is ActionStatus.SENT


def test_json_logs_are_one_object_per_line() -> None:
    out = io.StringIO()
    log = JsonLogger(out, level="info").bind(node="a")
    log.debug("hidden")
    log.info("claimed", order_id=3, tx="0xab", skipped=None)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "claimed" and record["order_id"] == 3 and record["node"] == "a"
    assert {"ts", "level"} <= record.keys() and "skipped" not in record


def test_config_home_and_hpke_key_resolve_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text('home = "wallet"\nhpke_key = "shop"\ntx_replace_after_s = 12.5\n')
    config = NodeConfig.load(path)
    assert config.home == tmp_path / "wallet" and config.hpke_key == "shop" and config.tx_replace_after_s == 12.5


def test_unreadable_keys_are_fatal_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(f'account = "shop"\nhome = "wallet"\npassword_file = "{tmp_path / "missing.txt"}"\n')
    with pytest.raises(FatalError, match="cannot unlock the node's keys: cannot read password file"):
        unlock_identity(NodeConfig.load(path))
    (tmp_path / "pw.txt").write_text("secret\n")
    path.write_text(f'account = "shop"\nhome = "wallet"\npassword_file = "{tmp_path / "pw.txt"}"\n')
    with pytest.raises(FatalError, match="no account named 'shop'"):
        unlock_identity(NodeConfig.load(path))


@pytest.mark.parametrize("on_restart", [True, False])
def test_an_own_claim_found_mined_after_a_restart_waits_for_its_depth(tmp_path: Path, on_restart: bool) -> None:
    """The claim a killed run sent, found mined at the head: the job waits until the safe block shows it,
    never reads the order OPEN there and claims again (whose refusal stored a claim of its own as lost)."""
    node = Node(NodeConfig(work_dir=tmp_path / "node", confirmations=1), Identity(ACCOUNT, {}))
    try:
        job = node.store.upsert_job(7, JobState.CLAIMING, {})
        sent_action(node.store)
        mined = Outcome("0x" + "cd" * 32, block_number=20, ok=True)
        node.sender = SimpleNamespace(resolve=lambda action: node.store.mark_mined(action.id, 20) and mined)
        if on_restart:
            node.steps.resolve_all_pending()
        node.steps.step(job)  # no chain read, no send: the fake sender could make neither
        assert node.awaiting.about(7) and 7 in node.dirty
        assert node.store.get_job(7).state is JobState.CLAIMING
        # once deep, the same head reads the order again: the wait is not remembered as the head's read (a dev
        # chain on automine brings no new head, and the job stayed CLAIMING after a restart: test_stop_node)
        claimed = SimpleNamespace(order_id=7)
        node.sync.orders = SimpleNamespace(at=lambda order_id, block, from_block: claimed)
        node._chain = SimpleNamespace(from_block=1)  # what a connection sets; the read above is the fake's
        node.awaiting.report(21, None)
        assert not node.awaiting.about(7) and node.sync.load(7) is claimed
    finally:
        node.close()
