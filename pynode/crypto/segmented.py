"""Streaming authenticated encryption of design files: segmented AES-256-GCM, format v1.

Designs can be many GiB, so they are encrypted segment by segment in constant memory
(the STREAM construction, as in Tink's AES-GCM-HKDF streaming and age). Layout, all
integers big-endian::

    header   = MAGIC "FMSEGENC" (8) | version 0x01 (1) | segment_size u32 (4)
               | salt (32) | key_check (32)                                 77 bytes
    body     = segment_0 | segment_1 | ... | segment_n
    segment  = AES-256-GCM(file_key, nonce_i, plaintext_i, aad=header)      len + 16

    file_key | key_check = HKDF-SHA256(content_key, salt, info=HKDF_INFO, 64 bytes)
    nonce_i  = i as u88 (11 bytes) | 0x01 if segment i is the final one else 0x00

Every segment but the final one holds exactly ``segment_size`` plaintext bytes; the
final one holds 1..segment_size bytes (0 only for an empty file), so a file always has
at least one segment. ``segment_size`` is 4 KiB to 16 MiB: the file's author picks it,
and tiny segments would make every node that decrypts the file pay a tag check and a
generator step per few bytes, so a header declaring less is refused before any key
derivation or decryption. The random salt gives every file its own AES key, so a content
key may be reused. The header is the AAD of every segment and the nonce binds position
and finality, so a flipped bit, swapped, duplicated or dropped segment, swapped header,
truncation or extension fails authentication. ``key_check`` makes AES-GCM key-committing
and lets a wrong key be reported as such instead of as tampering.

The final segment is found without knowing the total size: after reading a segment the
reader peeks at one more byte to see whether more follows, so encryption can stream into
an HTTP body as the file is read.

Designs are large, so each stream reads into, encrypts into and decrypts into buffers it
reuses (``readinto``, ``encrypt_into``): a fresh 1 MiB buffer per segment costs a page fault
per 4 KiB, several times the cost of the cipher itself. ``encrypt_stream`` and
``decrypt_stream`` hand those buffers straight to ``dst.write``; the iterators yield copies.
"""

import hashlib
import hmac
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pynode.core.fsutil import atomic_file
from pynode.crypto.errors import (
    PlaintextHashMismatch,
    TamperedCiphertext,
    TrailingData,
    TruncatedCiphertext,
    UnsupportedFormat,
    WrongKey,
)
from pynode.crypto.formats import CONTENT_KEY_SIZE, MAGIC, TAG_SIZE

FORMAT_VERSION = 1
SALT_SIZE = 32
KEY_CHECK_SIZE = 32
COUNTER_SIZE = 11
HKDF_INFO = b"fabmesh/segmented-aes-256-gcm/v1"
_HEADER_STRUCT = struct.Struct(f">{len(MAGIC)}sBI{SALT_SIZE}s{KEY_CHECK_SIZE}s")
HEADER_SIZE = _HEADER_STRUCT.size

DEFAULT_SEGMENT_SIZE = 1 << 20
MIN_SEGMENT_SIZE = 4 << 10
MAX_SEGMENT_SIZE = 16 << 20

_FINAL = b"\x01"
_NOT_FINAL = b"\x00"



class ReadsInto(Protocol):
    """A binary stream read with ``readinto`` (a raw file, a pipe)."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


class Writes(Protocol):
    def write(self, data: memoryview, /) -> object: ...


Source = BinaryIO | ReadsInto | Iterable[bytes]


@dataclass(frozen=True)
class StreamResult:
    """What a finished pass over a design learned; ``plaintext_sha256`` is the on-chain commitment."""

    plaintext_sha256: bytes
    plaintext_size: int
    ciphertext_size: int


def generate_content_key() -> bytes:
    """A fresh random 256-bit content key for one design."""
    return os.urandom(CONTENT_KEY_SIZE)


@dataclass(frozen=True)
class _Header:
    segment_size: int
    salt: bytes
    key_check: bytes

    def pack(self) -> bytes:
        return _HEADER_STRUCT.pack(MAGIC, FORMAT_VERSION, self.segment_size, self.salt, self.key_check)


class _Reader:
    """Fills the caller's buffers from a binary file object or an iterable of byte chunks."""

    def __init__(self, src: Source) -> None:
        self._readinto: Callable[[memoryview], int | None] | None = getattr(src, "readinto", None)
        if self._readinto is None:
            chunks = iter(lambda: cast(BinaryIO, src).read(DEFAULT_SEGMENT_SIZE), b"") if hasattr(src, "read") \
                else iter(cast(Iterable[bytes], src))  # not narrowed by hasattr
            self._next_chunk: Callable[[], bytes | None] = lambda: next(chunks, None)
        self._pending = memoryview(b"")

    def fill(self, buffer: memoryview) -> int:
        """Fills ``buffer`` and returns how much it holds: less than all of it only at the end of the stream."""
        filled, size = 0, len(buffer)
        while filled < size:
            if self._readinto is not None:
                count = self._readinto(buffer[filled:]) or 0
            else:
                while not self._pending:
                    chunk = self._next_chunk()
                    if chunk is None:
                        return filled
                    self._pending = memoryview(chunk).cast("B")
                count = min(size - filled, len(self._pending))
                buffer[filled:filled + count] = self._pending[:count]
                self._pending = self._pending[count:]
            if not count:
                break
            filled += count
        return filled


class _Blocks:
    """Fixed-size blocks of a stream in one reused buffer, each with whether it is the last one.

    A full block is followed by a one-byte peek; the peeked byte starts the next block.
    """

    def __init__(self, reader: _Reader, size: int) -> None:
        self._reader = reader
        self._buffer = memoryview(bytearray(size))
        self._peek = memoryview(bytearray(1))

    def __iter__(self) -> Iterator[tuple[memoryview, bool]]:
        start = 0
        while True:
            length = start + self._reader.fill(self._buffer[start:])
            final = length < len(self._buffer) or not self._reader.fill(self._peek)
            yield self._buffer[:length], final  # valid until the next step
            if final:
                return
            self._buffer[0] = self._peek[0]
            start = 1


def _check_content_key(key: bytes) -> None:
    if len(key) != CONTENT_KEY_SIZE:
        raise ValueError(f"content key must be {CONTENT_KEY_SIZE} bytes, got {len(key)}")


def _check_sha256(digest: bytes | None) -> None:
    if digest is not None and len(digest) != hashlib.sha256().digest_size:
        raise ValueError(f"expected SHA-256 must be 32 bytes, got {len(digest)}")


def _derive(key: bytes, salt: bytes) -> tuple[AESGCM, bytes]:
    """Per-file AES key and key check from the content key and the header salt."""
    okm = HKDF(algorithm=hashes.SHA256(), length=CONTENT_KEY_SIZE + KEY_CHECK_SIZE, salt=salt, info=HKDF_INFO).derive(
        key
    )
    return AESGCM(okm[:CONTENT_KEY_SIZE]), okm[CONTENT_KEY_SIZE:]


def _segment_size_problem(segment_size: int) -> str | None:
    """Why ``segment_size`` is not allowed (one line), or None."""
    if segment_size < MIN_SEGMENT_SIZE:
        return f"segment size {segment_size} bytes, below the minimum of {MIN_SEGMENT_SIZE}"
    if segment_size > MAX_SEGMENT_SIZE:
        return f"segment size {segment_size} bytes, above the maximum of {MAX_SEGMENT_SIZE}"
    return None


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(COUNTER_SIZE, "big") + (_FINAL if final else _NOT_FINAL)


def _parse_header(data: bytes) -> _Header:
    if not data.startswith(MAGIC) and not MAGIC.startswith(data):
        raise UnsupportedFormat("not a fabmesh encrypted file: bad magic bytes")
    if len(data) < HEADER_SIZE:
        raise TruncatedCiphertext(f"ciphertext ends inside the header ({len(data)} of {HEADER_SIZE} bytes)")
    _, version, segment_size, salt, key_check = _HEADER_STRUCT.unpack(data)
    if version != FORMAT_VERSION:
        raise UnsupportedFormat(
            f"unsupported encrypted-file version {version}, this node reads version {FORMAT_VERSION}"
        )
    problem = _segment_size_problem(segment_size)
    if problem:
        raise UnsupportedFormat(f"header declares {problem}")
    return _Header(segment_size, salt, key_check)


class _SingleUseStream:
    """Segments of ``src`` transformed under ``key``, iterable once; ``result`` once the iteration has finished."""

    _work = "the stream"  # what has not finished, for the error

    def __init__(self, src: Source, key: bytes) -> None:
        _check_content_key(key)
        self._reader = _Reader(src)
        self._key = key
        self._started = False
        self._result: StreamResult | None = None

    @property
    def result(self) -> StreamResult:
        if self._result is None:
            raise RuntimeError(f"{self._work} has not finished: iterate the stream to the end first")
        return self._result

    def __iter__(self) -> Iterator[bytes]:
        self._start()
        return (bytes(view) for view in self._views())

    def write_to(self, dst: Writes) -> StreamResult:
        """Runs the stream into ``dst`` straight from its reused buffers (the iterator copies each chunk).

        Uses the stream up, as iterating does; on error ``dst`` holds what was written so far.
        """
        self._start()
        for view in self._views():
            dst.write(view)
        return self.result

    def _start(self) -> None:
        if self._started:
            raise RuntimeError(f"{type(self).__name__} can be iterated only once")
        self._started = True

    def _views(self) -> Iterator[memoryview]:
        """The stream's chunks as views of reused buffers, each valid until the next step."""
        raise NotImplementedError


class EncryptingStream(_SingleUseStream):
    """The ciphertext of ``src`` as an iterable of chunks (header, then one chunk per segment).

    Single use. Nothing is read until iteration starts; ``result`` is available once the
    iteration has finished, so an uploader can stream the chunks and then commit the hash.
    """

    _work = "encryption"

    def __init__(self, src: Source, key: bytes, segment_size: int) -> None:
        super().__init__(src, key)
        problem = _segment_size_problem(segment_size)
        if problem:
            raise ValueError(f"cannot encrypt with {problem}")
        self._segment_size = segment_size

    def _views(self) -> Iterator[memoryview]:
        """The header, then each sealed segment."""
        salt = os.urandom(SALT_SIZE)
        aead, key_check = _derive(self._key, salt)
        header = _Header(self._segment_size, salt, key_check).pack()
        yield memoryview(header)

        digest = hashlib.sha256()
        plaintext_size, ciphertext_size = 0, len(header)
        sealed = memoryview(bytearray(self._segment_size + TAG_SIZE))
        for index, (block, final) in enumerate(_Blocks(self._reader, self._segment_size)):
            digest.update(block)
            plaintext_size += len(block)
            out = sealed[:len(block) + TAG_SIZE]
            aead.encrypt_into(_nonce(index, final), block, header, out)
            ciphertext_size += len(out)
            yield out
        self._result = StreamResult(digest.digest(), plaintext_size, ciphertext_size)


class DecryptingStream(_SingleUseStream):
    """The verified plaintext of ``src`` as an iterable of segments.

    Single use. Each yielded segment is authentic, but the stream is only complete and
    matches ``expected_sha256`` if iteration ends without an exception: consumers must
    discard what they received when it raises (``decrypt_to_file`` does).
    """

    _work = "decryption"

    def __init__(self, src: Source, key: bytes, expected_sha256: bytes | None = None) -> None:
        super().__init__(src, key)
        _check_sha256(expected_sha256)
        self._expected_sha256 = expected_sha256

    def _views(self) -> Iterator[memoryview]:
        """Each verified plaintext segment."""
        header_buffer = bytearray(HEADER_SIZE)
        raw_header = bytes(header_buffer[: self._reader.fill(memoryview(header_buffer))])
        header = _parse_header(raw_header)
        aead, key_check = _derive(self._key, header.salt)
        if not hmac.compare_digest(key_check, header.key_check):
            raise WrongKey("content key does not match this file's key check: wrong key or corrupted header")

        digest = hashlib.sha256()
        plaintext_size, ciphertext_size = 0, HEADER_SIZE
        plaintext = memoryview(bytearray(header.segment_size))
        for index, (block, final) in enumerate(_Blocks(self._reader, header.segment_size + TAG_SIZE)):
            opened = _open_segment(aead, raw_header, index, block, plaintext, final=final)
            digest.update(opened)
            plaintext_size += len(opened)
            ciphertext_size += len(block)
            yield opened

        actual = digest.digest()
        if self._expected_sha256 is not None and not hmac.compare_digest(actual, self._expected_sha256):
            raise PlaintextHashMismatch(
                f"design does not match the order's committed SHA-256: "
                f"expected 0x{self._expected_sha256.hex()}, decrypted 0x{actual.hex()}"
            )
        self._result = StreamResult(actual, plaintext_size, ciphertext_size)


def _open_segment(aead: AESGCM, header: bytes, index: int, block: memoryview, out: memoryview, *,
                  final: bool) -> memoryview:
    """Decrypt one segment into ``out``; on failure, retry with the other final flag only to name the cause."""
    if len(block) < TAG_SIZE:
        where = "after the header" if index == 0 and not block else f"inside segment {index}"
        raise TruncatedCiphertext(f"ciphertext ends {where}: the file is truncated")
    opened = out[:len(block) - TAG_SIZE]
    try:
        aead.decrypt_into(_nonce(index, final), block, header, opened)
        return opened
    except InvalidTag:
        pass
    try:
        aead.decrypt(_nonce(index, not final), block, header)
    except InvalidTag:
        raise TamperedCiphertext(
            f"authentication failed at segment {index}: the ciphertext was modified, truncated or extended",
            segment=index,
        ) from None
    if final:
        raise TruncatedCiphertext(f"ciphertext ends after segment {index}, which is not the final segment")
    raise TrailingData(f"unexpected data after the final segment {index}")


def iter_encrypt(src: Source, key: bytes, *, segment_size: int = DEFAULT_SEGMENT_SIZE) -> EncryptingStream:
    """Encrypt lazily, for streaming into an upload; read ``.result`` after the last chunk."""
    return EncryptingStream(src, key, segment_size)


def iter_decrypt(src: Source, key: bytes, *, expected_sha256: bytes | None = None) -> DecryptingStream:
    """Decrypt lazily; every chunk is verified, completeness only when iteration ends cleanly."""
    return DecryptingStream(src, key, expected_sha256)


def encrypt_stream(src: Source, dst: BinaryIO, key: bytes, *, segment_size: int = DEFAULT_SEGMENT_SIZE) -> StreamResult:
    """Encrypt ``src`` into ``dst``; returns the plaintext SHA-256 and the sizes."""
    return iter_encrypt(src, key, segment_size=segment_size).write_to(dst)


def decrypt_stream(src: Source, dst: BinaryIO, key: bytes, *, expected_sha256: bytes | None = None) -> StreamResult:
    """Decrypt ``src`` into ``dst``; on error ``dst`` holds a verified but incomplete prefix."""
    return iter_decrypt(src, key, expected_sha256=expected_sha256).write_to(dst)


def decrypt_to_file(src: Source, out_path: str | os.PathLike[str], key: bytes, expected_sha256: bytes) -> StreamResult:
    """Decrypt to ``out_path`` only if the whole design verifies; nothing is left behind otherwise.

    Plaintext goes to a private (0600) temporary file next to ``out_path``, which is
    fsynced and atomically renamed over ``out_path`` after the final segment and the
    SHA-256 commitment check; on any failure, interrupts included, it is removed.
    """
    with atomic_file(Path(out_path)) as dst:
        result = decrypt_stream(src, dst, key, expected_sha256=expected_sha256)
    return result
