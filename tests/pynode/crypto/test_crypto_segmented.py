"""Segmented AES-256-GCM: roundtrip around segment boundaries and every way of breaking a file."""

import hashlib
import io
import itertools
import os
import struct

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pynode.core.errors import InputError
from pynode.crypto import segmented
from pynode.crypto.errors import (
    DecryptionError,
    PlaintextHashMismatch,
    TamperedCiphertext,
    TrailingData,
    TruncatedCiphertext,
    UnsupportedFormat,
    WrongKey,
)
from pynode.crypto.segmented import HEADER_SIZE, TAG_SIZE

SEG = segmented.MIN_SEGMENT_SIZE
SEALED = SEG + TAG_SIZE
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


def pseudo_random(size: int, seed: int = 0) -> bytes:
    return hashlib.shake_256(seed.to_bytes(8, "big")).digest(size)


def encrypt(plaintext: bytes, key: bytes = KEY, segment_size: int = SEG) -> bytes:
    out = io.BytesIO()
    segmented.encrypt_stream(io.BytesIO(plaintext), out, key, segment_size=segment_size)
    return out.getvalue()


def decrypt(ciphertext: bytes, key: bytes = KEY, expected_sha256: bytes | None = None) -> bytes:
    out = io.BytesIO()
    segmented.decrypt_stream(io.BytesIO(ciphertext), out, key, expected_sha256=expected_sha256)
    return out.getvalue()


def segments(ciphertext: bytes) -> list[bytes]:
    body = ciphertext[HEADER_SIZE:]
    return [body[i : i + SEALED] for i in range(0, len(body), SEALED)]


def reassemble(ciphertext: bytes, parts: list[bytes]) -> bytes:
    return ciphertext[:HEADER_SIZE] + b"".join(parts)


def expected_ciphertext_size(plaintext_size: int, segment_size: int) -> int:
    segment_count = max(1, -(-plaintext_size // segment_size))
    return HEADER_SIZE + plaintext_size + segment_count * TAG_SIZE


def rejects(ciphertext: bytes, key: bytes = KEY) -> DecryptionError:
    with pytest.raises(DecryptionError) as info:
        decrypt(ciphertext, key)
    message = str(info.value)
    assert message and "\n" not in message
    return info.value


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 7 * SEG + 5])
def test_roundtrip_at_segment_boundaries(size: int) -> None:
    plaintext = pseudo_random(size)
    ciphertext = encrypt(plaintext)
    assert len(ciphertext) == expected_ciphertext_size(size, SEG)
    assert decrypt(ciphertext, expected_sha256=hashlib.sha256(plaintext).digest()) == plaintext


@PROPERTY_SETTINGS
@given(
    size=st.integers(min_value=0, max_value=6 * SEG),
    segment_size=st.sampled_from([SEG, SEG + 100, 2 * SEG]),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_roundtrip_property(size: int, segment_size: int, seed: int) -> None:
    plaintext = pseudo_random(size, seed)
    out = io.BytesIO()
    result = segmented.encrypt_stream(io.BytesIO(plaintext), out, KEY, segment_size=segment_size)
    assert result.plaintext_sha256 == hashlib.sha256(plaintext).digest()
    assert result.plaintext_size == size
    assert result.ciphertext_size == len(out.getvalue()) == expected_ciphertext_size(size, segment_size)
    assert decrypt(out.getvalue(), expected_sha256=result.plaintext_sha256) == plaintext


@PROPERTY_SETTINGS
@given(size=st.integers(min_value=0, max_value=6 * SEG), cuts=st.lists(st.integers(min_value=0, max_value=6 * SEG)))
def test_iterable_sources_with_arbitrary_chunking(size: int, cuts: list[int]) -> None:
    """Sources may be chunk iterators (HTTP bodies) whose chunks straddle segment boundaries, even empty ones."""
    plaintext = pseudo_random(size)
    bounds = sorted({0, size, *(cut % (size + 1) for cut in cuts)})
    chunks = [plaintext[a:b] for a, b in itertools.pairwise(bounds)] + [b""]
    ciphertext = b"".join(segmented.iter_encrypt(iter(chunks), KEY, segment_size=SEG))
    ct_bounds = sorted({0, len(ciphertext), *(cut % (len(ciphertext) + 1) for cut in cuts)})
    ct_chunks = [ciphertext[a:b] for a, b in itertools.pairwise(ct_bounds)]
    assert b"".join(segmented.iter_decrypt(ct_chunks, KEY)) == plaintext


def test_roundtrip_at_default_segment_size() -> None:
    size = 2 * segmented.DEFAULT_SEGMENT_SIZE + 1
    plaintext = pseudo_random(size)
    out = io.BytesIO()
    result = segmented.encrypt_stream(io.BytesIO(plaintext), out, KEY)
    assert len(out.getvalue()) == expected_ciphertext_size(size, segmented.DEFAULT_SEGMENT_SIZE)
    assert decrypt(out.getvalue(), expected_sha256=result.plaintext_sha256) == plaintext


def test_same_plaintext_and_key_give_unrelated_ciphertexts() -> None:
    plaintext = pseudo_random(3 * SEG)
    first, second = encrypt(plaintext), encrypt(plaintext)
    assert first[HEADER_SIZE:] != second[HEADER_SIZE:]
    assert decrypt(first) == decrypt(second) == plaintext


def test_generator_yields_header_then_one_chunk_per_segment() -> None:
    stream = segmented.iter_encrypt(io.BytesIO(pseudo_random(2 * SEG + 1)), KEY, segment_size=SEG)
    with pytest.raises(RuntimeError):
        _ = stream.result  # read before the stream ran
    chunks = list(stream)
    assert [len(chunk) for chunk in chunks] == [HEADER_SIZE, SEALED, SEALED, 1 + TAG_SIZE]
    assert stream.result.ciphertext_size == sum(map(len, chunks))
    with pytest.raises(RuntimeError):
        iter(stream)


@pytest.mark.parametrize("key", [b"", bytes(16), bytes(33)])
def test_rejects_content_keys_of_wrong_size(key: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        segmented.iter_encrypt(io.BytesIO(b""), key)
    with pytest.raises(ValueError, match="32 bytes"):
        segmented.iter_decrypt(io.BytesIO(b""), key)


@pytest.mark.parametrize(
    "segment_size, bound",
    [
        (0, "below the minimum of 4096"),
        (64, "below the minimum of 4096"),
        (segmented.MIN_SEGMENT_SIZE - 1, "below the minimum of 4096"),
        (segmented.MAX_SEGMENT_SIZE + 1, "above the maximum of 16777216"),
    ],
)
def test_rejects_segment_sizes_out_of_bounds(segment_size: int, bound: str) -> None:
    with pytest.raises(ValueError, match=f"cannot encrypt with segment size {segment_size} bytes, {bound}") as info:
        segmented.iter_encrypt(io.BytesIO(b""), KEY, segment_size=segment_size)
    assert "\n" not in str(info.value)


def test_smallest_allowed_segment_size_is_4_kib() -> None:
    assert segmented.MIN_SEGMENT_SIZE == 4096
    plaintext = pseudo_random(2 * SEG + 1)
    assert decrypt(encrypt(plaintext, segment_size=segmented.MIN_SEGMENT_SIZE)) == plaintext


def test_tiny_segment_header_is_refused_before_any_decryption_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hostile author's file with 64-byte segments, authentic under the right key, costs a reader only its header."""
    with monkeypatch.context() as old_limits:
        old_limits.setattr(segmented, "MIN_SEGMENT_SIZE", 64)
        hostile = encrypt(pseudo_random(100 * 64), segment_size=64)
    assert struct.unpack(">I", hostile[9:13]) == (64,)

    def no_crypto(*args: object, **kwargs: object) -> None:
        raise AssertionError("key derivation or AES-GCM ran for a file that declares a tiny segment size")

    monkeypatch.setattr(segmented, "HKDF", no_crypto)
    monkeypatch.setattr(segmented, "AESGCM", no_crypto)
    source = io.BytesIO(hostile)
    stream = segmented.iter_decrypt(source, KEY)
    with pytest.raises(UnsupportedFormat) as info:
        next(iter(stream))
    assert str(info.value) == "header declares segment size 64 bytes, below the minimum of 4096"
    assert source.tell() == HEADER_SIZE  # nothing past the header was read


def test_errors_are_input_errors() -> None:
    assert issubclass(DecryptionError, InputError)


def test_wrong_key_is_reported_as_such() -> None:
    error = rejects(encrypt(b"design"), OTHER_KEY)
    assert type(error) is WrongKey
    assert "wrong key" in str(error)


def assert_flip_rejected(ciphertext: bytes, position: int, bit: int) -> None:
    flipped = bytearray(ciphertext)
    flipped[position] ^= 1 << bit
    error = rejects(bytes(flipped))
    if position < 9:  # magic and version
        assert type(error) is UnsupportedFormat
    elif position < 13:  # segment size: out of range, or a valid size the header AAD no longer matches
        assert type(error) in (UnsupportedFormat, TamperedCiphertext)
    elif position < HEADER_SIZE:  # salt and key check
        assert type(error) is WrongKey
    else:
        assert type(error) is TamperedCiphertext
        assert error.segment == (position - HEADER_SIZE) // SEALED
        assert f"segment {error.segment}" in str(error)


@pytest.mark.parametrize("size", [0, 2 * SEG + 5])
def test_every_single_bit_flip_is_rejected(size: int) -> None:
    ciphertext = encrypt(pseudo_random(size))
    for position in range(len(ciphertext)):
        for bit in range(8):
            assert_flip_rejected(ciphertext, position, bit)


@PROPERTY_SETTINGS
@given(data=st.data(), size=st.integers(min_value=0, max_value=6 * SEG))
def test_single_bit_flip_property(data: st.DataObject, size: int) -> None:
    ciphertext = encrypt(pseudo_random(size))
    position = data.draw(st.integers(min_value=0, max_value=len(ciphertext) - 1), label="position")
    assert_flip_rejected(ciphertext, position, data.draw(st.integers(min_value=0, max_value=7), label="bit"))


@PROPERTY_SETTINGS
@given(size=st.integers(min_value=0, max_value=4 * SEG), data=st.data())
def test_truncation_at_any_point_is_rejected(size: int, data: st.DataObject) -> None:
    ciphertext = encrypt(pseudo_random(size))
    length = data.draw(st.integers(min_value=0, max_value=len(ciphertext) - 1), label="length")
    error = rejects(ciphertext[:length])
    partial_segment = (length - HEADER_SIZE) % SEALED
    if length <= HEADER_SIZE or partial_segment < TAG_SIZE:
        # Inside the header, at a segment boundary, or with no room left for a tag.
        assert type(error) is TruncatedCiphertext
    else:
        # Cut inside the final segment: indistinguishable from modifying it.
        assert type(error) is TamperedCiphertext


@pytest.mark.parametrize("segment_count", [1, 2, 5])
def test_truncation_at_a_segment_boundary_names_truncation(segment_count: int) -> None:
    ciphertext = encrypt(pseudo_random(5 * SEG + 3))
    error = rejects(ciphertext[: HEADER_SIZE + segment_count * SEALED])
    assert type(error) is TruncatedCiphertext
    assert f"after segment {segment_count - 1}" in str(error)


@pytest.mark.parametrize("length", [0, 1, 8, HEADER_SIZE - 1, HEADER_SIZE])
def test_truncation_in_or_right_after_the_header(length: int) -> None:
    assert type(rejects(encrypt(b"design")[:length])) is TruncatedCiphertext


@PROPERTY_SETTINGS
@given(size=st.integers(min_value=0, max_value=4 * SEG), extra=st.binary(min_size=1, max_size=2 * SEALED))
@example(size=2 * SEG, extra=b"\x00")
def test_appended_bytes_are_rejected(size: int, extra: bytes) -> None:
    error = rejects(encrypt(pseudo_random(size)) + extra)
    if size > 0 and size % SEG == 0:
        assert type(error) is TrailingData  # a full final segment is intact, so extension is named
    else:
        assert type(error) is TamperedCiphertext  # the appended bytes land inside the short final segment


@pytest.mark.parametrize("copied", [0, 1, 2])
def test_appended_valid_segment_is_rejected(copied: int) -> None:
    ciphertext = encrypt(pseudo_random(3 * SEG))
    error = rejects(ciphertext + segments(ciphertext)[copied])
    assert type(error) is TrailingData
    assert "after the final segment 2" in str(error)


def test_appended_segment_from_another_file_is_rejected() -> None:
    other = encrypt(pseudo_random(SEG, seed=1))
    assert type(rejects(encrypt(pseudo_random(SEG)) + segments(other)[0])) is TrailingData


@pytest.mark.parametrize("first, second", [(0, 1), (1, 3), (0, 4), (2, 4)])
def test_swapped_segments_are_rejected(first: int, second: int) -> None:
    ciphertext = encrypt(pseudo_random(5 * SEG))  # five full segments, so any two can swap
    parts = segments(ciphertext)
    parts[first], parts[second] = parts[second], parts[first]
    error = rejects(reassemble(ciphertext, parts))
    assert type(error) is TamperedCiphertext
    assert error.segment == first


@pytest.mark.parametrize("duplicated", [0, 2, 3])
def test_duplicated_segment_is_rejected(duplicated: int) -> None:
    ciphertext = encrypt(pseudo_random(4 * SEG))
    parts = segments(ciphertext)
    parts.insert(duplicated, parts[duplicated])
    error = rejects(reassemble(ciphertext, parts))
    if duplicated == 3:  # the final segment twice: the first copy is no longer final
        assert type(error) is TrailingData
    else:
        assert type(error) is TamperedCiphertext
        assert error.segment == duplicated + 1


@pytest.mark.parametrize("dropped", [0, 1, 2])
def test_dropped_segment_is_rejected(dropped: int) -> None:
    ciphertext = encrypt(pseudo_random(3 * SEG + 1))
    parts = segments(ciphertext)
    del parts[dropped]
    error = rejects(reassemble(ciphertext, parts))
    assert type(error) is TamperedCiphertext
    assert error.segment == dropped


def test_segment_from_another_file_under_the_same_key_is_rejected() -> None:
    ciphertext = encrypt(pseudo_random(3 * SEG))
    parts = segments(ciphertext)
    parts[1] = segments(encrypt(pseudo_random(3 * SEG, seed=1)))[1]
    error = rejects(reassemble(ciphertext, parts))
    assert type(error) is TamperedCiphertext
    assert error.segment == 1


def test_header_swapped_between_files_is_rejected() -> None:
    first, second = encrypt(pseudo_random(2 * SEG)), encrypt(pseudo_random(2 * SEG, seed=1))
    error = rejects(second[:HEADER_SIZE] + first[HEADER_SIZE:])
    assert type(error) is TamperedCiphertext
    assert error.segment == 0

    foreign = encrypt(pseudo_random(2 * SEG), key=OTHER_KEY)
    assert type(rejects(foreign[:HEADER_SIZE] + first[HEADER_SIZE:])) is WrongKey


def header_with(**fields: int) -> bytes:
    values = {"magic": segmented.MAGIC, "version": segmented.FORMAT_VERSION, "segment_size": SEG, **fields}
    return struct.pack(">8sBI", values["magic"], values["version"], values["segment_size"]) + bytes(64)


@pytest.mark.parametrize(
    "header, fragment",
    [
        (b"PK\x03\x04" + bytes(200), "bad magic"),
        (b"solid cube\n" + bytes(200), "bad magic"),
        (header_with(version=0), "version 0"),
        (header_with(version=2), "version 2"),
        (header_with(segment_size=segmented.MIN_SEGMENT_SIZE - 1), "segment size 4095 bytes, below the minimum"),
        (header_with(segment_size=segmented.MAX_SEGMENT_SIZE + 1), "segment size 16777217 bytes, above the maximum"),
    ],
)
def test_unsupported_headers_are_rejected(header: bytes, fragment: str) -> None:
    error = rejects(header + bytes(SEALED))
    assert type(error) is UnsupportedFormat
    assert fragment in str(error)


def test_plaintext_hash_mismatch_is_caught() -> None:
    with pytest.raises(PlaintextHashMismatch, match="committed SHA-256") as info:
        decrypt(encrypt(b"design v2"), expected_sha256=hashlib.sha256(b"design v1").digest())
    assert "\n" not in str(info.value)


def test_expected_hash_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        segmented.iter_decrypt(io.BytesIO(b""), KEY, expected_sha256=b"\x00" * 20)


def test_decrypt_to_file_writes_only_verified_designs(tmp_path) -> None:
    plaintext = pseudo_random(5 * SEG + 7)
    target = tmp_path / "bracket.step"
    result = segmented.decrypt_to_file(io.BytesIO(encrypt(plaintext)), target, KEY, hashlib.sha256(plaintext).digest())
    assert target.read_bytes() == plaintext
    assert result.plaintext_size == len(plaintext)
    assert os.listdir(tmp_path) == ["bracket.step"]
    assert target.stat().st_mode & 0o777 == 0o600


def broken_ciphertexts() -> dict[str, bytes]:
    ciphertext = encrypt(pseudo_random(5 * SEG + 7))
    flipped = bytearray(ciphertext)
    flipped[-1] ^= 1
    return {
        "tampered last segment": bytes(flipped),
        "truncated": ciphertext[: HEADER_SIZE + 3 * SEALED],
        "extended": ciphertext + b"\x00" * 40,
        "empty": b"",
        "not encrypted": b"solid cube\nendsolid cube\n" * 10,
    }


@pytest.mark.parametrize("case", sorted(broken_ciphertexts()))
def test_decrypt_to_file_leaves_nothing_on_failure(tmp_path, case: str) -> None:
    target = tmp_path / "bracket.step"
    with pytest.raises(DecryptionError):
        segmented.decrypt_to_file(
            io.BytesIO(broken_ciphertexts()[case]), target, KEY, hashlib.sha256(pseudo_random(5 * SEG + 7)).digest()
        )
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "key, expected_sha256, error",
    [
        (OTHER_KEY, hashlib.sha256(b"design").digest(), WrongKey),
        (KEY, hashlib.sha256(b"other design").digest(), PlaintextHashMismatch),
    ],
)
def test_decrypt_to_file_keeps_an_existing_file_on_failure(tmp_path, key, expected_sha256, error) -> None:
    target = tmp_path / "bracket.step"
    target.write_bytes(b"previous version")
    with pytest.raises(error):
        segmented.decrypt_to_file(io.BytesIO(encrypt(b"design")), target, key, expected_sha256)
    assert os.listdir(tmp_path) == ["bracket.step"]
    assert target.read_bytes() == b"previous version"


def test_decrypt_to_file_cleans_up_when_interrupted(tmp_path) -> None:
    ciphertext = encrypt(pseudo_random(4 * SEG))

    def interrupted_download():
        yield ciphertext[: HEADER_SIZE + 2 * SEALED]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        segmented.decrypt_to_file(interrupted_download(), tmp_path / "bracket.step", KEY, bytes(32))
    assert os.listdir(tmp_path) == []


def test_each_stream_is_single_use_and_has_a_result_only_at_its_end() -> None:
    plaintext = os.urandom(2 * SEG + 5)
    encrypting = segmented.iter_encrypt(io.BytesIO(plaintext), KEY, segment_size=SEG)
    with pytest.raises(RuntimeError, match="encryption has not finished"):
        _ = encrypting.result
    ciphertext = b"".join(encrypting)
    assert encrypting.result.plaintext_size == len(plaintext)
    with pytest.raises(RuntimeError, match="EncryptingStream can be iterated only once"):
        iter(encrypting)
    decrypting = segmented.iter_decrypt(io.BytesIO(ciphertext), KEY)
    with pytest.raises(RuntimeError, match="decryption has not finished"):
        _ = decrypting.result
    assert b"".join(decrypting) == plaintext
    assert decrypting.result == encrypting.result
    with pytest.raises(RuntimeError, match="DecryptingStream can be iterated only once"):
        iter(decrypting)
