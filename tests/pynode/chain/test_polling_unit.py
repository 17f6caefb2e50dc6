"""What a poll costs: heads paced by the block clock, receipts and confirmation checks only when they can help.

A metered provider bills every request; these pin the requests each decision sends (no sockets: a
recording transport answers as a chain would).
"""

from __future__ import annotations

import time

import pytest
from hexbytes import HexBytes

from pynode.chain.confirmations import ConfirmationWaiter, Progress
from pynode.chain.heads import LATE, MARGIN, BlockClock
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TIP_MAX_AGE_S, TxRequest, TxReverted, TxSender
from pynode.core.address import keccak_text
from pynode.core.errors import RateLimited
from pynode.core.stop import StopEvent
from rpc_fakes import RATE_LIMITS, fake_web3


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class NoWait(StopEvent):
    """Records the pauses instead of sleeping them."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float] = []

    def pause(self, seconds: float, doing: str = "waiting") -> None:
        self.pauses.append(seconds)


def test_the_clock_polls_just_after_the_next_block_is_due() -> None:
    clock = Clock()
    heads = BlockClock(min_s=0.05, max_s=5.0, unknown_s=0.5, clock=clock)
    assert heads.delay() == 0.5  # no pace yet
    assert heads.saw(10) is True and heads.saw(10) is False  # the same height is no news
    assert heads.delay() == 0.5  # one head: still no pace
    clock.now += 2.0
    assert heads.saw(11) is True and heads.block_s == 2.0
    assert heads.delay() == pytest.approx(2.0 * (1 + MARGIN))  # the next block, plus a margin
    clock.now += 1.5
    assert heads.delay() == pytest.approx(2.0 * (1 + MARGIN) - 1.5)
    clock.now += 1.0  # due, not there: look again at a fraction of a block
    assert heads.delay() == pytest.approx(2.0 * LATE)
    assert heads.delay(floor_s=1.0) == 1.0  # never below the caller's floor


def test_the_clock_learns_the_pace_per_block_and_smooths_it() -> None:
    clock = Clock()
    heads = BlockClock(clock=clock)
    heads.saw(10)
    clock.now += 3.0
    heads.saw(13)  # three blocks in 3 s (a head seen every few blocks)
    assert heads.block_s == 1.0
    clock.now += 2.0
    heads.saw(14)  # a slow block moves the estimate, not all the way
    assert 1.0 < heads.block_s < 2.0


def test_the_clock_never_waits_longer_than_its_cap() -> None:
    clock = Clock()
    heads = BlockClock(max_s=2.0, clock=clock)
    heads.saw(1)
    clock.now += 60.0  # a chain that mines on demand: one block a minute
    heads.saw(2)
    assert heads.delay() == 2.0


def test_one_blocks_wait_is_capped_too_when_the_chains_clock_jumped() -> None:
    clock = Clock()
    heads = BlockClock(max_s=2.0, clock=clock)
    assert heads.block_wait() == 0.0  # no pace yet: look at once
    heads.saw(1, {"number": 1, "hash": "0x01", "timestamp": 1_000})
    clock.now += 1.0
    # a dev chain's time moved 3 days forward between two blocks (evm_increaseTime): its pace says days
    heads.saw(2, {"number": 2, "hash": "0x02", "parentHash": "0x01", "timestamp": 1_000 + 3 * 86_400})
    assert heads.block_s > 86_400 and heads.block_wait() == 2.0
    heads.block_s = 1.0
    assert heads.block_wait() == pytest.approx(1.0 * (1 + MARGIN))


# -- the confirmation wait ------------------------------------------------------------------------

def _hash(n: int, fork: str = "") -> str:
    return "0x" + (f"{fork}{n}".encode().hex()).rjust(64, "0")


def _block(n: int, *, fork: str = "", parent_fork: str = "", stamp: int | None = None) -> dict:
    return {"number": hex(n), "hash": _hash(n, fork), "parentHash": _hash(n - 1, parent_fork),
            "timestamp": hex(1_000 + 12 * n if stamp is None else stamp), "baseFeePerGas": hex(7)}


class Chain:
    """Answers eth_getBlockByNumber: 'latest' from a script of heads, numbers from the canonical chain."""

    def __init__(self, heads: list[dict], canonical: dict[int, dict] | None = None) -> None:
        self.heads = heads
        self.canonical = canonical or {}

    def __call__(self, method: str, params: list) -> dict:
        if method == "eth_chainId":
            return {"result": "0x1"}
        if method == "eth_getBlockByNumber":
            if params[0] == "latest":
                return {"result": self.heads.pop(0) if len(self.heads) > 1 else self.heads[0]}
            return {"result": self.canonical[int(params[0], 16)]}
        raise AssertionError(f"unexpected {method}")


RECEIPT = {"blockNumber": 10, "blockHash": HexBytes(_hash(10)), "transactionHash": HexBytes("0x" + "ab" * 32)}


def _numbers(transport) -> list:
    return [params[0] for method, params in transport.calls if method == "eth_getBlockByNumber"]


def _waiter(w3, confirmations: int, **kwargs) -> tuple[ConfirmationWaiter, NoWait]:
    stop = NoWait()
    return ConfirmationWaiter(w3, confirmations, stop=stop, poll_s=0.01, **kwargs), stop


def test_one_confirmation_costs_one_head_read_per_poll_and_nothing_else() -> None:
    w3, transport = fake_web3(Chain([_block(10), _block(10), _block(11)]))
    waiter, stop = _waiter(w3, 1)
    assert waiter.wait(RECEIPT, deadline=float("inf")) is True
    assert _numbers(transport) == ["latest"] * 3  # block 10 checked as the head, then as the head's parent
    assert len(stop.pauses) == 2


def test_a_parent_link_that_differs_is_a_reorg_without_another_request() -> None:
    w3, transport = fake_web3(Chain([_block(11, parent_fork="x")]))
    waiter, _ = _waiter(w3, 1)
    assert waiter.wait(RECEIPT, deadline=float("inf")) is False
    assert _numbers(transport) == ["latest"]


def test_at_depth_the_receipts_block_is_fetched_once_and_decides() -> None:
    canonical = {10: _block(10)}
    w3, transport = fake_web3(Chain([_block(12), _block(13)], canonical))
    waiter, _ = _waiter(w3, 3)
    assert waiter.wait(RECEIPT, deadline=float("inf")) is True
    assert _numbers(transport) == ["latest", "latest", "0xa"]  # 2 deep: no check yet; 3 deep: the check
    canonical[10] = _block(10, fork="x")  # another block holds height 10 now
    w3, _ = fake_web3(Chain([_block(13)], canonical))
    waiter, _ = _waiter(w3, 3)
    assert waiter.wait(RECEIPT, deadline=float("inf")) is False


def test_a_progress_line_gets_the_pace_by_the_chains_clock() -> None:
    canonical = {9: _block(9), 10: _block(10)}
    w3, transport = fake_web3(Chain([_block(10), _block(11), _block(12)], canonical))
    seen: list[Progress] = []
    waiter, _ = _waiter(w3, 2, on_progress=seen.append)
    assert waiter.wait(RECEIPT, deadline=float("inf")) is True
    # no pace before a second head (none asked for: the line shows no ETA), then the heads' own timestamps
    assert [(p.confirmations, p.remaining_s) for p in seen] == [(0, None), (1, 12.0), (2, 0.0)]
    # block 10 only at depth (two on top: the head's parent link no longer covers it)
    assert _numbers(transport) == ["latest", "latest", "latest", "0xa"]


def test_a_progress_line_before_a_second_head_takes_the_local_clocks_pace() -> None:
    clock = Clock()
    heads = BlockClock(clock=clock)
    heads.saw(8)
    clock.now += 12.0
    heads.saw(9)
    w3, _transport = fake_web3(Chain([_block(10), _block(11), _block(12)], {10: _block(10)}))
    seen: list[Progress] = []
    waiter, _ = _waiter(w3, 2, on_progress=seen.append, clock=heads)
    assert waiter.wait(RECEIPT, deadline=float("inf")) is True
    assert seen[0].confirmations == 0 and seen[0].remaining_s > 0  # an ETA from the first line on


def test_polls_follow_the_connections_block_clock() -> None:
    clock = Clock()
    heads = BlockClock(min_s=0.01, clock=clock)
    heads.saw(9)
    clock.now += 1.0
    heads.saw(10)  # 1 s blocks, the last one just seen
    w3, _ = fake_web3(Chain([_block(10), _block(10), _block(11)]))
    waiter, stop = _waiter(w3, 1, clock=heads)
    assert waiter.wait(RECEIPT, deadline=float("inf")) is True
    assert stop.pauses and all(p > 0.1 for p in stop.pauses)  # paced by blocks, not by poll_s


# -- simulation ------------------------------------------------------------------------------------

class _Account:
    address = "0x" + "22" * 20


REQUEST = TxRequest(to="0x" + "11" * 20, data=b"\x12\x34\x56\x78", label="claim order 1")
NOPE = {"error": {"code": 3, "message": "execution reverted", "data": "0x08c379a0" + (
    "20".rjust(64, "0") + "4".rjust(64, "0") + b"nope".hex().ljust(64, "0"))}}


def _on(method_name: str, reply: dict):
    def handler(method: str, params: list) -> dict:
        if method == "eth_chainId":
            return {"result": "0x1"}
        assert method == method_name, method
        return reply
    return handler


def test_the_gas_estimate_is_the_simulation_a_revert_decoded_as_eth_calls() -> None:
    w3, _transport = fake_web3(_on("eth_estimateGas", NOPE))
    with pytest.raises(TxReverted, match=r"claim order 1 reverted: .*nope"):
        TxSender(w3, _Account(), RevertDecoder()).estimate(REQUEST)
    w3, _ = fake_web3(_on("eth_call", NOPE))
    with pytest.raises(TxReverted, match=r"claim order 1 reverted: .*nope"):
        TxSender(w3, _Account(), RevertDecoder()).simulate(REQUEST)
    w3, _ = fake_web3(_on("eth_estimateGas", {"result": hex(100_000)}))
    assert TxSender(w3, _Account(), RevertDecoder()).estimate(REQUEST) == 120_000  # with the margin


def test_a_custom_errors_name_rides_on_the_revert_for_the_caller_to_decide_on() -> None:
    abi = [{"type": "error", "name": "OrderMismatch", "inputs": [{"name": "orderId", "type": "uint256"}]}]
    data = "0x" + keccak_text("OrderMismatch(uint256)")[:4].hex() + "7".rjust(64, "0")
    w3, _ = fake_web3(_on("eth_estimateGas", {"error": {"code": 3, "message": "execution reverted", "data": data}}))
    with pytest.raises(TxReverted, match=r"OrderMismatch\(orderId=7\)") as refused:
        TxSender(w3, _Account(), RevertDecoder(abi)).estimate(REQUEST)
    assert refused.value.error == "OrderMismatch"
    w3, _ = fake_web3(_on("eth_estimateGas", NOPE))
    with pytest.raises(TxReverted) as refused:
        TxSender(w3, _Account(), RevertDecoder(abi)).estimate(REQUEST)
    assert refused.value.error == "Error"  # a require's string: the builtin's name, never a custom one


def test_a_rate_limited_estimate_is_transient_never_a_revert() -> None:
    w3, _ = fake_web3(_on("eth_estimateGas", RATE_LIMITS["infura_rate_200"][0]))
    with pytest.raises(RateLimited):
        TxSender(w3, _Account(), RevertDecoder()).estimate(REQUEST)


def test_send_simulates_once_the_estimate_then_the_fees_from_one_head_read() -> None:
    calls: list[str] = []

    def handler(method: str, params: list) -> dict:
        calls.append(method)
        if method == "eth_estimateGas":
            return NOPE
        return {"result": "0x1"}

    w3, _ = fake_web3(handler)
    with pytest.raises(TxReverted):
        TxSender(w3, _Account(), RevertDecoder()).send(REQUEST)
    assert [c for c in calls if c != "eth_chainId"] == ["eth_estimateGas"]  # nothing signed or sent


def test_a_progress_line_when_the_first_head_is_already_on_top() -> None:
    canonical = {10: _block(10)}
    w3, transport = fake_web3(Chain([_block(11), _block(12)], canonical))
    seen: list[Progress] = []
    waiter, _ = _waiter(w3, 2, on_progress=seen.append)
    assert waiter.wait(RECEIPT, deadline=float("inf")) is True
    assert [(p.confirmations, p.remaining_s) for p in seen] == [(1, None), (2, 0.0)]
    assert _numbers(transport) == ["latest", "latest", "0xa"]  # its hash at depth, nothing for the pace


def test_the_head_block_serves_until_the_next_one_is_due() -> None:
    clock = Clock()
    heads = BlockClock(clock=clock)
    heads.saw(9)
    clock.now += 1.0
    block = {"number": 10, "baseFeePerGas": 7}
    heads.saw(10, block)
    assert heads.current_block() is block
    clock.now += 0.99
    assert heads.current_block() is block
    clock.now += 0.02  # block 11 is due: the block read may no longer be the head
    assert heads.current_block() is None
    heads.saw(11)  # a head read without its block
    assert heads.current_block() is None


def test_the_base_fee_is_read_once_per_head_and_the_tip_once_per_tip_age() -> None:
    calls: list[str] = []
    head = [_block(10)]

    def handler(method: str, params: list) -> dict:
        calls.append(method)
        if method == "eth_getBlockByNumber":
            return {"result": head[0]}
        return {"result": "0x3"}  # eth_maxPriorityFeePerGas

    clock = Clock()
    w3, _ = fake_web3(handler)
    sender = TxSender(w3, _Account(), RevertDecoder(), clock=BlockClock(clock=clock))
    sender.clock.saw(9)
    clock.now += 1.0
    assert sender.fees() == (2 * 7 + 3, 3)
    assert sender.fees() == (2 * 7 + 3, 3)  # the same head: nothing asked again
    assert calls == ["eth_getBlockByNumber", "eth_maxPriorityFeePerGas"]
    clock.now += 1.5  # the next block is due: the head is read again, the tip is young enough
    head[0] = _block(11)
    sender.fees()
    assert calls[2:] == ["eth_getBlockByNumber"]
    clock.now += TIP_MAX_AGE_S  # the tip is old now: asked again (with the head that is due by now)
    head[0] = _block(12)
    sender.fees()
    assert calls[3:] == ["eth_getBlockByNumber", "eth_maxPriorityFeePerGas"]


def test_a_tip_the_last_command_asked_prices_this_ones_send_while_young_enough() -> None:
    calls: list[str] = []

    def handler(method: str, params: list) -> dict:
        calls.append(method)
        return {"result": _block(10)} if method == "eth_getBlockByNumber" else {"result": "0x3"}

    w3, _ = fake_web3(handler)
    sender = TxSender(w3, _Account(), RevertDecoder())
    sender.seed_tip(time.time() - 5, 4)  # asked 5 s ago by the last command
    assert sender.fees() == (2 * 7 + 4, 4) and calls == ["eth_getBlockByNumber"]
    asked_at, tip = sender.asked_tip()
    assert tip == 4 and abs(asked_at - (time.time() - 5)) < 1  # what the next command is handed
    stale = TxSender(w3, _Account(), RevertDecoder())
    stale.seed_tip(time.time() - TIP_MAX_AGE_S - 1, 4)  # too old: asked again, as one of its own would be
    assert stale.asked_tip() is None and stale.fees() == (2 * 7 + 3, 3)


# -- an order's settled state ----------------------------------------------------------------------

class _Book:
    """Order 5: its commitment per block (the newest change at ``changed``), counted reads."""

    def __init__(self, changed: int) -> None:
        self.changed = changed
        self.reads: list[tuple] = []

    def order_hash(self, order_id: int, block: int) -> bytes:
        self.reads.append(("hash", block))
        return b"new" if block >= self.changed else b"old"

    def load_order(self, order_id: int, from_block: int, block: int, *, expected: bytes | None = None) -> tuple:
        self.reads.append(("load", block, expected))
        return ("order", block)

    def logs(self, *args, **kwargs) -> list:
        self.reads.append(("logs",))
        return []


def _chain(book: _Book, on_progress=None):
    from types import SimpleNamespace

    from pynode.chain.client import Chain

    chain = Chain(None, SimpleNamespace(deploy_block=1), None, book, None, 2, on_progress=on_progress)
    chain.w3 = SimpleNamespace(eth=SimpleNamespace(block_number=20))  # the blocks its waits read, not a connection
    return chain


def test_a_settled_order_reads_its_commitment_once_per_block() -> None:
    book = _Book(changed=15)
    assert _chain(book).settled_order(5, wait_s=0, head=20) == ("order", 18)
    assert book.reads == [("hash", 18), ("hash", 20), ("load", 18, b"new")]  # the safe block's hash passed on


def test_an_unsettled_order_without_a_listener_costs_only_the_comparison() -> None:
    book = _Book(changed=19)  # 1 deep of 2
    assert _chain(book).settled_order(5, wait_s=0, head=20) is None
    assert book.reads == [("hash", 18), ("hash", 20)]
    seen: list = []
    book = _Book(changed=19)
    chain = _chain(book, on_progress=seen.append)
    chain.w3.eth.get_block = lambda n: {"number": n, "timestamp": 1_000 + 12 * n}
    assert chain.settled_order(5, wait_s=0, head=20) is None
    assert ("logs",) in book.reads and len(seen) == 1  # a listener hears how deep the change is


def test_a_known_end_hash_is_not_asked_again() -> None:
    from pynode.chain.events.reader import LogReader

    calls: list[tuple[str, list]] = []

    def handler(method: str, params: list) -> dict:
        calls.append((method, params))
        if method == "eth_getBlockByNumber":
            return {"result": {"number": params[0], "hash": "0x" + "aa" * 32}}
        return {"result": []}  # eth_getLogs: no logs in range

    w3, _ = fake_web3(handler)
    reader = LogReader(w3, batch_size=10)
    known = {19: "0x" + "bb" * 32}  # the head's parent link, read with the head
    batches = list(reader.batches(["0x" + "11" * 20], 5, 19, known_hashes=known))
    assert [(b.from_block, b.to_block) for b in batches] == [(5, 14), (15, 19)]
    assert [p[0] for m, p in calls if m == "eth_getBlockByNumber"] == ["0xe"]  # block 14's only
    assert batches[-1].block_hashes == {19: "0x" + "bb" * 32}


# -- the first look for a receipt ------------------------------------------------------------------

class _Signer:
    address = "0x" + "22" * 20

    def sign_transaction(self, tx: dict):
        from types import SimpleNamespace
        return SimpleNamespace(raw_transaction=b"\x02\x05", hash=HexBytes("0x" + "05" * 32))


class _Paced(StopEvent):
    """Pauses move the fake clock (a chain that mined meanwhile is scripted by the handler)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def pause(self, seconds: float, doing: str = "waiting") -> None:
        self.clock.now += seconds


def _sent_in_block_11(links_read: bool) -> list[str]:
    """Sends one transaction on a 1 s chain whose head block 10 was just read; it is mined in block 11."""
    calls: list[str] = []
    receipt = {"blockNumber": hex(11), "blockHash": _hash(11), "transactionHash": "0x" + "05" * 32,
               "status": "0x1", "gasUsed": hex(21_000), "logs": []}
    clock = Clock()  # block n is mined at 92 + n s: 10 at the start (102 s, when it was read), 11 a second later

    def handler(method: str, params: list) -> dict:
        if method != "eth_chainId":
            calls.append(method)
        if method == "eth_getBlockByNumber":
            number = int(clock.now) - 92 if params[0] == "latest" else int(params[0], 16)
            return {"result": _block(number, stamp=1_000 + number)}
        if method == "eth_getTransactionReceipt":
            return {"result": receipt}
        if method == "eth_sendRawTransaction":
            return {"result": "0x" + "05" * 32}
        return {"result": hex(21_000) if method == "eth_estimateGas" else "0x5"}

    heads_clock = BlockClock(clock=clock)
    for number in (9, 10):  # as web3 returns them: numbers, hashes as bytes
        clock.now += 1.0
        heads_clock.saw(number, {"number": number, "hash": HexBytes(_hash(number)), "baseFeePerGas": 7,
                                 "parentHash": HexBytes(_hash(number - 1)), "timestamp": 1_000 + number})
    heads_clock.links_read = links_read
    w3, _ = fake_web3(handler)
    sender = TxSender(w3, _Signer(), RevertDecoder(), confirmations=1, stop=_Paced(clock), clock=heads_clock,
                      give_up_after_s=2.0)
    assert sender.send(REQUEST).block_number == 11
    return calls


def test_the_first_look_for_a_receipt_is_the_receipt_itself_then_one_head_on_top() -> None:
    calls = _sent_in_block_11(links_read=False)
    assert calls[calls.index("eth_sendRawTransaction") + 1:] == ["eth_getTransactionReceipt", "eth_getBlockByNumber"]


def test_where_head_links_are_compared_every_head_is_read_whole_first() -> None:
    calls = _sent_in_block_11(links_read=True)  # the daemon: its reorg check skips what it saw linked
    assert calls[calls.index("eth_sendRawTransaction") + 1:] == \
        ["eth_getBlockByNumber", "eth_getTransactionReceipt", "eth_getBlockByNumber"]
