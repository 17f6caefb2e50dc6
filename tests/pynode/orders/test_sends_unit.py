"""The v2 watcher's pipelined sends (pynode/orders/v2/sends.py) against a scripted node: a nonce another sender
of the account took (the buyer's CLI posting while the watcher runs) costs a count and a second broadcast of the
same simulated transaction, not the order's whole step again a cycle later; the blocks a slow cycle skipped are
read for the sends' hashes only while they are fewer than the sends; an award's key envelope is published
(``ready``) between its simulation and its broadcast. No sockets: the real provider over an
in-process transport."""

from __future__ import annotations

import pytest
from hexbytes import HexBytes

from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import NONCE_RETRIES, TxRequest, TxReverted, TxSender
from pynode.core.errors import TransientError
from pynode.orders.v2.send_journal import SendJournal
from pynode.orders.v2.sends import Sends, listed_since
from rpc_fakes import PendingCountNode, SigningAccount, fake_web3

REQUEST = TxRequest(to="0x" + "11" * 20, data=b"\x12\x34", label="award")


def _sends(node: PendingCountNode) -> tuple[Sends, SendJournal, object]:
    w3, transport = fake_web3(node)
    sender = TxSender(w3, SigningAccount(), RevertDecoder(), confirmations=0)
    journal = SendJournal()
    return Sends(sender, journal), journal, transport


def test_a_nonce_taken_by_another_sender_is_sent_again_at_once_with_the_nodes_count() -> None:
    node = PendingCountNode(5)
    sends, journal, transport = _sends(node)
    sends.sender.nonces.reserve()  # counted 5 ...
    sends.sender.nonces.sent()
    node.pending = 8  # ... but the buyer's CLI posted twice meanwhile
    tx_hash = sends.submit(7, "award", REQUEST, partner="0x" + "33" * 20)
    assert node.sent == [8] and tx_hash == "0x" + "08" * 32
    assert sends.busy(7) and sends.pending()[0].nonce == 8
    assert len(transport.methods("eth_estimateGas")) == 1  # simulated once: only the broadcast is repeated
    assert journal.counts() == {"award refused": 1, "award sent": 1}


def test_a_nonce_lost_every_time_fails_the_step_after_the_retries() -> None:
    node = PendingCountNode(5)
    sends, journal, transport = _sends(node)

    def racing(method: str, params: list) -> dict:
        if method == "eth_getTransactionCount":
            node.pending += 1  # another sender takes every nonce just counted
            return {"result": hex(node.pending - 1)}
        return PendingCountNode.__call__(node, method, params)

    transport.handler = racing
    with pytest.raises(TransientError, match="broadcast refused"):
        sends.submit(7, "award", REQUEST)
    assert not sends.busy(7) and node.sent == []
    assert journal.counts() == {"award refused": NONCE_RETRIES}


class _Blocks:
    """A node's eth_getBlockByNumber for the blocks a slow cycle skipped, each read counted."""

    def __init__(self) -> None:
        self.read: list[int] = []

    def make_request(self, method: str, params: list) -> dict:
        assert method == "eth_getBlockByNumber"
        self.read.append(int(params[0], 16))
        return {"jsonrpc": "2.0", "id": 1, "result": {"transactions": ["0x" + "ee" * 32]}}


@pytest.mark.parametrize(("pending", "read"), [(1, None), (2, [11]), (3, [11])])
def test_skipped_blocks_are_read_only_while_fewer_than_the_sends_they_spare_a_lookup_of(pending, read) -> None:
    node, head = _Blocks(), {"number": 12, "transactions": ["0x" + "dd" * 32]}
    listed = listed_since(node, 10, head, pending)  # block 11 skipped: one read, or one lookup a send
    assert (None if listed is None else node.read) == read
    assert listed is None or listed == ["0x" + "dd" * 32, HexBytes("0x" + "ee" * 32)]


def test_ready_runs_after_the_simulation_passed_and_before_the_broadcast() -> None:
    node = PendingCountNode(5)
    sends, journal, transport = _sends(node)
    ran: list[tuple[int, int]] = []

    def ready() -> None:  # the watcher publishes an award's key envelope here
        ran.append((len(transport.methods("eth_estimateGas")), len(transport.methods("eth_sendRawTransaction"))))

    def refusing(method: str, params: list) -> dict:
        if method == "eth_estimateGas":
            return {"error": {"code": 3, "message": "execution reverted", "data": "0x"}}
        return PendingCountNode.__call__(node, method, params)

    transport.handler = refusing
    with pytest.raises(TxReverted):
        sends.submit(7, "award", REQUEST, ready=ready)
    assert ran == [] and journal.counts() == {}  # refused in the simulation: nothing published, nothing journaled
    transport.handler = node
    sends.submit(7, "award", REQUEST, ready=ready)
    assert ran == [(2, 0)] and node.sent == [5]
