"""Nonces come from the node's pending count, read once and counted on here until they may be wrong; a nonce
another sender of the account took costs a resync and a retry, and a replacement refused as used looks for its
own receipts before it fails. The block clock's reorg and pace bookkeeping that paces the receipt waits is here too."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hexbytes import HexBytes

from pynode.chain.heads import BlockClock
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import NonceManager, TxRequest, TxSender
from pynode.core.errors import NonceTooLow
from pynode.core.stop import StopEvent
from rpc_fakes import PendingCountNode, SigningAccount, fake_web3


class Node:
    """The account's pending count on the node, counted reads."""

    def __init__(self, pending: int) -> None:
        self.pending = pending
        self.reads = 0
        self.eth = SimpleNamespace(get_transaction_count=self._count)

    def _count(self, address: str, block: str) -> int:
        assert block == "pending"
        self.reads += 1
        return self.pending


def test_the_node_is_asked_once_then_the_count_is_kept_here() -> None:
    node = Node(7)
    nonces = NonceManager(node, "0x" + "22" * 20)
    for expected in (7, 8, 9):
        assert nonces.reserve() == expected
        nonces.sent()
        node.pending += 1
    assert node.reads == 1


def test_the_node_is_asked_again_whenever_the_count_may_be_wrong() -> None:
    node = Node(7)
    nonces = NonceManager(node, "0x" + "22" * 20)
    assert nonces.reserve() == 7
    nonces.release(7)  # the newest nonce given back unsent: reused without a read
    assert nonces.reserve() == 7 and node.reads == 1
    assert nonces.reserve() == 8
    nonces.release(7)  # an older one given back while 8 is out: a gap, the node decides
    node.pending = 7
    assert nonces.reserve() == 9  # 8 is still being broadcast: never handed out twice
    nonces.sent()
    nonces.sent()
    nonces.resync()  # NonceTooLow, a dropped transaction, a reorg
    node.pending = 12  # another sender of the account sent meanwhile
    assert nonces.reserve() == 12 and node.reads == 3


def _block(n: int, fork: str = "") -> dict:
    def digest(k: int, f: str) -> str:
        return "0x" + f"{f}{k}".encode().hex().rjust(64, "0")
    return {"number": n, "hash": HexBytes(digest(n, fork)), "parentHash": HexBytes(digest(n - 1, fork))}


def test_a_receipt_block_below_the_head_is_no_reorg() -> None:
    clock = BlockClock()
    clock.saw(11, _block(11))
    clock.reached(10)
    assert clock.head == 11 and clock.reorgs == 0


REQUEST = TxRequest(to="0x" + "11" * 20, data=b"\x12\x34", label="allow token")


class _NoWait(StopEvent):
    def pause(self, seconds: float, doing: str = "waiting") -> None:
        pass


def test_nonce_too_low_resyncs_and_signs_again(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = PendingCountNode(5)  # the node refuses the first nonce as used
    w3, transport = fake_web3(chain)
    sender = TxSender(w3, SigningAccount(), RevertDecoder(), confirmations=0, give_up_after_s=0.0, stop=_NoWait())
    sender.nonces.reserve()  # counted 5 ...
    chain.pending = 8  # ... but another process of the account sent three since
    tx = sender.build(REQUEST, 21_000)
    sender._broadcast_new(tx)
    assert chain.sent == [8]
    assert len(transport.methods("eth_getTransactionCount")) == 2  # the first count, the resync


def test_the_clock_knows_when_every_head_since_one_was_seen_linked() -> None:
    clock = BlockClock()
    clock.saw(10, _block(10))
    clock.saw(11, _block(11))  # a receipt wait read this one between two cycles
    clock.saw(12, _block(12))
    assert clock.chained(_block(10))  # 10 -> 11 -> 12, each the child of the one before: no reorg check
    clock.saw(14, _block(14))  # block 13 unseen: 14's ancestry is not known
    assert not clock.chained(_block(10)) and clock.chained(_block(14))
    clock.saw(15, _block(15, fork="x"))  # a parent-hash break
    assert not clock.chained(_block(14)) and clock.reorgs == 1
    assert not clock.chained(_block(15))  # a block at that height that is not the one seen
    assert clock.chained(_block(15, fork="x"))


def test_the_pace_comes_from_the_chains_timestamps_when_heads_carry_them() -> None:
    now = [100.0]
    clock = BlockClock(clock=lambda: now[0])
    clock.saw(10, {**_block(10), "timestamp": 1_000})
    now[0] += 0.3  # the next head seen 0.3 s later (the first sighting was late) ...
    clock.saw(11, {**_block(11), "timestamp": 1_002})
    assert clock.block_s == 2.0  # ... but the chain made it 2 s after its parent


def test_a_receipt_is_asked_for_only_at_a_head_that_can_hold_it() -> None:
    from pynode.chain.tx import may_hold

    ours, other = "0x" + "ab" * 32, HexBytes("0x" + "cd" * 32)
    assert may_hold({"number": 11, "transactions": [HexBytes(ours)]}, 10, [ours])  # listed in the next block
    assert not may_hold({"number": 11, "transactions": [other]}, 10, [ours])  # the next block, without it
    assert may_hold({"number": 12, "transactions": [other]}, 10, [ours])  # block 11 unseen: it may be there
    assert may_hold({"number": 9, "transactions": []}, 10, [ours])  # another chain (a reorg): look
    assert may_hold({"number": 11}, 10, [ours]) and may_hold({"number": 11, "transactions": []}, None, [ours])


def test_a_replacement_refused_as_used_by_another_sender_fails_with_nonce_too_low() -> None:
    chain = PendingCountNode(5)  # the node refuses the first nonce as used
    w3, transport = fake_web3(chain)
    sender = TxSender(w3, SigningAccount(), RevertDecoder(), confirmations=0, replace_after_s=0.0,
                      give_up_after_s=5.0, stop=_NoWait())
    with pytest.raises(NonceTooLow, match="nonce 5 was used by another transaction"):
        sender.send(REQUEST)  # sent as 5; its replacement is refused; no receipt of ours holds 5
    assert chain.sent == [5]
    assert transport.methods("eth_getTransactionReceipt")  # looked for ours before failing
