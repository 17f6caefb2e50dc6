"""Segmented encryption streams in constant memory: no whole-file buffering on either side."""

import hashlib
import tracemalloc
from collections.abc import Iterator

from pynode.crypto import segmented

STREAM_SIZE = 64 << 20
CHUNK = hashlib.shake_256(b"fabmesh memory test").digest(64 << 10)
PEAK_LIMIT = 8 << 20  # a handful of 1 MiB segments in flight, far below the 64 MiB stream


def design_stream() -> Iterator[bytes]:
    """64 MiB of design bytes produced on the fly, like a file read in chunks."""
    for _ in range(STREAM_SIZE // len(CHUNK)):
        yield CHUNK


def test_encrypt_then_decrypt_64_mib_in_constant_memory() -> None:
    key = segmented.generate_content_key()
    expected = hashlib.sha256()
    for chunk in design_stream():
        expected.update(chunk)

    tracemalloc.start()
    try:
        encrypting = segmented.iter_encrypt(design_stream(), key)
        decrypting = segmented.iter_decrypt(encrypting, key, expected_sha256=expected.digest())
        decrypted_size = sum(len(segment) for segment in decrypting)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert encrypting.result.plaintext_sha256 == expected.digest()
    assert decrypted_size == decrypting.result.plaintext_size == STREAM_SIZE
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.1f} MiB"
