"""The events reader fetches the next span while the caller works on the current one: order, bounds, stop, errors.

Unit tests over the real provider and an in-process transport (no sockets); the
transport can hold a span's answer until the test lets it go, so what runs
concurrently is decided by the test, not by timing.
"""

from __future__ import annotations

import threading

import pytest

from pynode.chain.events.reader import InconsistentLogs, LogReader
from pynode.core.errors import RpcRejected
from rpc_fakes import fake_web3, http

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
WAIT_S = 10  # only reached when the reader is broken (a deadlock would hang the suite)


def log_of(block: int, index: int) -> dict:
    return {"address": ADDRESS.lower(), "topics": ["0x" + "11" * 32], "data": "0x",
            "blockNumber": hex(block), "blockHash": f"0x{block:064x}",
            "transactionHash": "0x" + "22" * 32, "logIndex": hex(index), "removed": False}


class Chain:
    """Blocks 0..head with two logs each (answered out of order); spans wider than ``max_blocks`` are refused;
    ``answer`` may replace the reply for a span; ``hold`` makes a span's eth_getLogs wait for its event."""

    def __init__(self, head: int = 99, max_blocks: int = 10**9) -> None:
        self.head, self.max_blocks = head, max_blocks
        self.answer: dict[int, object] = {}  # span start -> reply
        self.hold: dict[int, threading.Event] = {}
        self.asked: dict[int, threading.Event] = {}  # span start -> set when its eth_getLogs arrives
        self.spans: list[tuple[int, int]] = []
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def asked_for(self, start: int) -> threading.Event:
        with self.lock:
            return self.asked.setdefault(start, threading.Event())

    def __call__(self, method: str, params: list):
        if method == "eth_chainId":
            return {"result": "0x1"}
        if method == "eth_getBlockByNumber":
            number = int(params[0], 16)
            return {"result": {"hash": f"0x{number:064x}", "number": hex(number)}}
        assert method == "eth_getLogs", method
        start, end = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
        with self.lock:
            self.spans.append((start, end))
            self.threads.add(threading.current_thread().name)
        self.asked_for(start).set()
        if start in self.hold:
            assert self.hold[start].wait(WAIT_S), "the test never released this span"
        if start in self.answer:
            return self.answer[start]
        if end - start + 1 > self.max_blocks:
            return {"error": {"code": -32005, "message": "query returned more than 10000 results"}}
        return {"result": [log_of(b, i) for b in range(start, end + 1) for i in (1, 0)]}


def reader_for(chain: Chain, batch_size: int = 10) -> LogReader:
    w3, _ = fake_web3(chain)
    return LogReader(w3, batch_size=batch_size)


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fabmesh-logs")]


def test_batches_arrive_in_order_with_the_spans_a_sequential_read_asks() -> None:
    chain = Chain(head=99, max_blocks=6)  # refusals inside prefetched spans: shrink, then grow back
    batches = list(reader_for(chain).batches([ADDRESS], 0, 99))
    assert [(b.from_block, b.to_block) for b in batches][:3] == [(0, 4), (5, 9), (10, 14)]
    logs = [(int(log["blockNumber"], 16), int(log["logIndex"], 16)) for b in batches for log in b.logs]
    assert logs == [(b, i) for b in range(100) for i in (0, 1)]  # sorted, each once
    assert all(b.block_hashes[b.to_block] == f"0x{b.to_block:064x}" for b in batches)
    # the same requests, in the same order, as one span after the other: 10 refused, halved to 5, doubled
    # back to 10 and refused again, and so on
    expected, start, step = [], 0, 10
    while start <= 99:
        end = min(start + step - 1, 99)
        expected.append((start, end))
        if end - start + 1 > 6:
            step //= 2
            continue
        start, step = end + 1, min(10, step * 2)
    assert chain.spans == expected
    assert any(name.startswith("fabmesh-logs") for name in chain.threads)  # spans after the first: prefetched
    assert prefetch_threads() == []


def test_the_next_span_is_fetched_while_the_caller_works_and_never_two_ahead() -> None:
    chain = Chain(head=49)
    batches = reader_for(chain).batches([ADDRESS], 0, 49)
    first = next(batches)
    assert first.to_block == 9
    assert chain.asked_for(10).wait(WAIT_S)  # asked while we still hold the first batch
    second = next(batches)
    assert (second.from_block, second.to_block) == (10, 19)  # the step doubles, capped by batch_size
    assert chain.asked_for(20).wait(WAIT_S)
    assert not chain.asked_for(30).is_set()  # one span ahead of the caller, never more
    rest = list(batches)
    assert [(b.from_block, b.to_block) for b in rest] == [(20, 29), (30, 39), (40, 49)]
    assert prefetch_threads() == []


def test_a_single_span_reads_in_the_calling_thread() -> None:
    chain = Chain(head=99)
    batches = list(reader_for(chain, batch_size=200).batches([ADDRESS], 0, 99))
    assert len(batches) == 1 and chain.threads == {threading.current_thread().name}
    assert list(reader_for(chain).batches([ADDRESS], 5, 4)) == []  # an empty range asks nothing


def test_stopping_early_waits_for_the_fetch_in_flight_and_asks_no_more() -> None:
    chain = Chain(head=99)
    chain.hold[10] = threading.Event()
    batches = reader_for(chain).batches([ADDRESS], 0, 99)
    next(batches)
    assert chain.asked_for(10).wait(WAIT_S)
    assert len(prefetch_threads()) == 1
    closing = threading.Thread(target=batches.close)  # a daemon told to stop, mid catch-up
    closing.start()
    closing.join(0.2)
    assert closing.is_alive()  # waits for the request in flight: no thread outlives the iterator
    chain.hold[10].set()
    closing.join(WAIT_S)
    assert not closing.is_alive()
    assert prefetch_threads() == []
    assert [s for s, _ in chain.spans] == [0, 10]  # the in-flight answer is dropped, nothing further asked


def test_a_caller_that_fails_on_a_batch_leaves_no_thread() -> None:
    chain = Chain(head=99)
    with pytest.raises(RuntimeError, match="store is full"):
        for _ in reader_for(chain).batches([ADDRESS], 0, 99):
            raise RuntimeError("store is full")
    assert prefetch_threads() == []
    assert [s for s, _ in chain.spans] == [0, 10]


@pytest.mark.parametrize(("answer", "error"), [
    (http(401, body=b"unauthorized"), RpcRejected),
    ({"result": [log_of(3, 0)]}, InconsistentLogs),  # a log outside the span asked
])
def test_an_error_of_a_prefetched_span_is_raised_where_its_batch_would_arrive(answer, error) -> None:
    chain = Chain(head=99)
    chain.answer[20] = answer
    delivered = []
    with pytest.raises(error):
        for batch in reader_for(chain).batches([ADDRESS], 0, 99):
            delivered.append((batch.from_block, batch.to_block))
    assert delivered == [(0, 9), (10, 19)]  # every batch before the failed span, in order
    assert [s for s, _ in chain.spans] == [0, 10, 20]  # and nothing after it
    assert prefetch_threads() == []


def test_one_shot_reads_decode_per_batch_and_match_the_batches() -> None:
    chain = Chain(head=99)
    reader = reader_for(chain)
    raw = reader.raw([ADDRESS], 0, 99)
    assert [(int(log["blockNumber"], 16), int(log["logIndex"], 16)) for log in raw] == \
        [(b, i) for b in range(100) for i in (0, 1)]
    assert reader.requests == 10 and prefetch_threads() == []
