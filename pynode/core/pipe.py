"""A bounded in-process pipe fed by a worker thread, so producing and consuming a stream overlap.

The vault encrypts a design while the upload sends it, and downloads while it decrypts. Both
sides spend their time in calls that release the GIL (AES-GCM, SHA-256, file and socket I/O),
so a second thread keeps both cores busy. Data moves through a few buffers that are reused:
memory stays at ``buffers * buffer_size``, and there is no large allocation per chunk (a fresh
1 MiB buffer costs a page fault per 4 KiB, which is more than copying into a warm one).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PipeClosed(Exception):
    """The reading side has gone; the producer stops at its next write."""


class PipeWriter:
    """What the producer writes to; ``write`` copies, so the caller may reuse its buffer at once."""

    def __init__(self, pipe: ProducerPipe[Any]) -> None:
        self._pipe = pipe
        self._buffer: bytearray | None = None
        self._length = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data).cast("B")
        written = len(view)
        while view:
            if self._buffer is None:
                self._buffer, self._length = self._pipe._take_free(), 0
            count = min(len(view), len(self._buffer) - self._length)
            self._buffer[self._length:self._length + count] = view[:count]
            self._length += count
            view = view[count:]
            if self._length == len(self._buffer):
                self.flush()
        return written

    def fill_from(self, readinto: Callable[[memoryview], int | None]) -> int:
        """Reads a stream to its end straight into the pipe's buffers (no copy); returns the byte count."""
        total = 0
        while True:
            if self._buffer is None:
                self._buffer, self._length = self._pipe._take_free(), 0
            count = readinto(memoryview(self._buffer)[self._length:]) or 0
            if not count:
                return total
            total += count
            self._length += count
            if self._length == len(self._buffer):
                self.flush()

    def flush(self) -> None:
        """Hands the partly filled buffer to the reader."""
        if self._buffer is not None and self._length:
            self._pipe._put_filled(self._buffer, self._length)
            self._buffer = None


class ProducerPipe(Generic[T]):
    """Runs ``produce(writer)`` in a thread; ``read``/``readinto`` return what it writes, in order.

    A context manager: leaving it stops the producer (its next write raises PipeClosed) and
    waits for it. An error the producer raises reaches the reader after the data written
    before it, at the read that needed more, or on leaving. ``result`` is what ``produce``
    returned, once it has finished.
    """

    def __init__(self, produce: Callable[[PipeWriter], T], *, buffer_size: int = 1 << 20, buffers: int = 3) -> None:
        if buffers < 2:
            raise ValueError("a pipe needs two buffers: one being read, one being written")
        self._produce = produce
        self._cond = threading.Condition()
        self._free = [bytearray(buffer_size) for _ in range(buffers)]
        self._filled: deque[tuple[bytearray, int]] = deque()
        self._finished = False
        self._closed = False
        self._error: BaseException | None = None
        self._result: T | None = None
        self._reading_buffer: bytearray | None = None
        self._reading = memoryview(b"")
        self._thread = threading.Thread(target=self._run, name="pipe-producer", daemon=True)

    # producer side (its thread)

    def _run(self) -> None:
        writer = PipeWriter(self)
        try:
            self._result = self._produce(writer)
            writer.flush()
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, who raises it
            self._error = exc
        finally:
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _take_free(self) -> bytearray:
        with self._cond:
            while not self._free and not self._closed:
                self._cond.wait()
            if self._closed:
                raise PipeClosed("the reader stopped before the stream ended")
            return self._free.pop()

    def _put_filled(self, buffer: bytearray, length: int) -> None:
        with self._cond:
            self._filled.append((buffer, length))
            self._cond.notify_all()

    # reader side

    def readable(self) -> bool:
        return True

    def _next_buffer(self) -> bool:
        """Moves to the next filled buffer, returning the spent one; False at the end of the stream."""
        with self._cond:
            if self._reading_buffer is not None:
                self._free.append(self._reading_buffer)
                self._reading_buffer = None
                self._cond.notify_all()
            while not self._filled and not self._finished:
                self._cond.wait()
            if self._filled:
                self._reading_buffer, length = self._filled.popleft()
                self._reading = memoryview(self._reading_buffer)[:length]
                return True
        if self._error is not None:
            raise self._error
        return False

    def readinto(self, buffer: bytearray | memoryview) -> int:
        if not self._reading and not self._next_buffer():
            return 0
        target = memoryview(buffer).cast("B")
        count = min(len(target), len(self._reading))
        target[:count] = self._reading[:count]
        self._reading = self._reading[count:]
        return count

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        if size == 0:
            return b""
        if not self._reading and not self._next_buffer():
            return b""
        chunk = bytes(self._reading[:size])
        self._reading = self._reading[size:]
        return chunk

    @property
    def result(self) -> T:
        if not self._finished or self._error is not None:
            raise RuntimeError("the producer has not finished its stream")
        return self._result  # type: ignore[return-value]  # set when produce returned

    def __enter__(self) -> ProducerPipe[T]:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        if self._error is not None and self._error is not exc and not isinstance(self._error, PipeClosed):
            raise self._error
