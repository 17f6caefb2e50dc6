"""The threaded pipe the vault streams through: order, bounded memory, errors and early exits."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from pynode.core.pipe import PipeClosed, PipeWriter, ProducerPipe

BUFFER = 4096


def pattern(size: int) -> bytes:
    return hashlib.shake_256(b"pipe test").digest(size)


def write_in_pieces(data: bytes, pieces: list[int]):
    def produce(sink: PipeWriter) -> int:
        offset = 0
        for size in pieces:
            sink.write(memoryview(data)[offset:offset + size])
            offset += size
        sink.write(data[offset:])
        return len(data)

    return produce


@pytest.mark.parametrize("pieces", [[], [1], [BUFFER], [BUFFER - 1, 2, 5 * BUFFER + 3], [0, 7, 0, 3 * BUFFER]])
@pytest.mark.parametrize("read", ["read", "readinto"])
def test_what_is_written_is_read_in_order(pieces: list[int], read: str) -> None:
    data = pattern(9 * BUFFER + 123)
    received = bytearray()
    with ProducerPipe(write_in_pieces(data, pieces), buffer_size=BUFFER, buffers=2) as pipe:
        if read == "read":
            while chunk := pipe.read(1000):
                assert len(chunk) <= 1000
                received += chunk
        else:
            target = bytearray(3 * BUFFER)
            while count := pipe.readinto(target):
                received += target[:count]
    assert bytes(received) == data
    assert pipe.result == len(data)


def test_read_all_and_an_empty_stream() -> None:
    data = pattern(3 * BUFFER + 1)
    with ProducerPipe(write_in_pieces(data, []), buffer_size=BUFFER) as pipe:
        assert pipe.read() == data
        assert pipe.read(10) == b""
    with ProducerPipe(lambda sink: None, buffer_size=BUFFER) as empty:
        assert empty.read(10) == b""
    assert empty.result is None


def test_the_producer_runs_at_most_its_buffers_ahead() -> None:
    buffers, rounds = 3, 20
    written = []

    def produce(sink: PipeWriter) -> None:
        for index in range(rounds):
            sink.write(bytes([index]) * BUFFER)
            written.append(index)

    with ProducerPipe(produce, buffer_size=BUFFER, buffers=buffers) as pipe:
        for index in range(rounds):
            assert pipe.read(BUFFER) == bytes([index]) * BUFFER
            # one buffer being read, the others filled: the producer cannot have finished more
            assert len(written) <= index + buffers
    assert written == list(range(rounds))


def test_a_producer_error_reaches_the_reader_after_the_data_before_it() -> None:
    class DiskFailed(OSError):
        pass

    def produce(sink: PipeWriter) -> None:
        sink.write(b"first part")
        raise DiskFailed("read failed")

    with pytest.raises(DiskFailed, match="read failed"), ProducerPipe(produce, buffer_size=BUFFER) as pipe:
        assert pipe.read(100) == b"first part"
        pipe.read(100)
    with pytest.raises(RuntimeError, match="has not finished"):
        _ = pipe.result


def test_a_producer_error_the_reader_never_saw_is_raised_on_leaving() -> None:
    def produce(sink: PipeWriter) -> None:
        raise ValueError("bad source")

    with pytest.raises(ValueError, match="bad source"), ProducerPipe(produce, buffer_size=BUFFER):
        pass


def test_a_reader_that_stops_early_stops_the_producer() -> None:
    stopped = threading.Event()

    def endless(sink: PipeWriter) -> None:
        try:
            while True:
                sink.write(pattern(BUFFER))
        except PipeClosed:
            stopped.set()
            raise

    with pytest.raises(KeyError), ProducerPipe(endless, buffer_size=BUFFER, buffers=2) as pipe:
        pipe.read(10)
        raise KeyError("the consumer failed")
    assert stopped.is_set()  # the exit waited for the producer, which saw PipeClosed
    with pytest.raises(RuntimeError, match="has not finished"):
        _ = pipe.result


def test_needs_two_buffers() -> None:
    with pytest.raises(ValueError, match="two buffers"):
        ProducerPipe(lambda sink: None, buffers=1)


@pytest.mark.parametrize("size", [0, 1, BUFFER, 5 * BUFFER + 7])
def test_fill_from_reads_a_stream_straight_into_the_buffers(size: int) -> None:
    data = pattern(size)
    source = io.BytesIO(data)

    def produce(sink: PipeWriter) -> int:
        sink.write(b"head")
        return sink.fill_from(source.readinto)

    with ProducerPipe(produce, buffer_size=BUFFER) as pipe:
        assert pipe.read() == b"head" + data
    assert pipe.result == size
