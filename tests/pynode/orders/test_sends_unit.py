"""The v2 watcher's pipelined sends (pynode/orders/v2/sends.py) against a scripted node: a nonce another sender
of the account took (the buyer's CLI posting while the watcher runs) costs a count and a second broadcast of the
same simulated transaction, not the order's whole step again a cycle later. No sockets: the real provider over
an in-process transport."""

from __future__ import annotations

import pytest

from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import NONCE_RETRIES, TxRequest, TxSender
from pynode.core.errors import TransientError
from pynode.orders.v2.send_journal import SendJournal
from pynode.orders.v2.sends import Sends
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
