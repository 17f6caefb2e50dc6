from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynode.core.errors import InputError
from pynode.ipfs.cid import DAG_PB, RAW, Cid, cid_to_digest, design_cid, digest_to_cid, parse_cid, report_cid

# `ipfs add --cid-version=1 --raw-leaves=false` of b"hello\n", and its CIDv0 form.
V1 = "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4"
V0 = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"
# `ipfs add --cid-version=1` (raw leaves) of b"hello\n": one raw block, whose digest is the file's SHA-256.
RAW_HELLO = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
HELLO_SHA256 = hashlib.sha256(b"hello\n").digest()


def _b32(cid_bytes: bytes) -> str:
    return "b" + base64.b32encode(cid_bytes).decode().lower().rstrip("=")


def test_known_cid_round_trips():
    assert digest_to_cid(cid_to_digest(V1)) == V1
    assert cid_to_digest(V0) == cid_to_digest(V1)
    assert parse_cid(V0) == parse_cid(V1) == Cid(DAG_PB, cid_to_digest(V1))


def test_raw_leaves_cid_keeps_its_codec():
    parsed = parse_cid(RAW_HELLO)
    assert parsed == Cid(RAW, HELLO_SHA256)
    assert str(parsed) == RAW_HELLO == digest_to_cid(HELLO_SHA256, RAW)
    assert parse_cid(RAW_HELLO.upper()) == parsed  # base32upper, as `--cid-base base32upper` prints it
    assert parse_cid(str(parsed)) == parsed


def test_report_codec_is_recorded_by_the_report_hash():
    """A raw block is the file: its digest equals the SHA-256 the chain records beside it."""
    assert report_cid(HELLO_SHA256, HELLO_SHA256) == RAW_HELLO
    assert report_cid(cid_to_digest(V1), HELLO_SHA256) == V1  # the same file as dag-pb


def test_design_cid_comes_from_the_spec_document_when_it_names_this_digest():
    digest = cid_to_digest(RAW_HELLO)
    assert design_cid(digest, RAW_HELLO) == RAW_HELLO
    for unusable in (None, 42, "not a cid", V1):  # absent, malformed, or another design: the dag-pb default
        assert design_cid(digest, unusable) == digest_to_cid(digest)


@pytest.mark.parametrize("bad, message", [
    ("", "not a CID"), ("hello", "not a CID"), ("Qm" + "0" * 44, "not a CID"), ("b!!!!", "not a CID"),
    ("z" + "a" * 40, "not a CID"), ("/ipfs/" + RAW_HELLO, "not a CID"), ("b" + "a" * 200, "not a CID"),
    (_b32(bytes([2, 0x55, 0x12, 32]) + bytes(32)), "not a CID"),  # CID version 2
    (_b32(bytes([1, 0x71, 0x12, 32]) + HELLO_SHA256), "codec dag-cbor"),
    (_b32(bytes([1, 0xA9, 0x02, 0x12, 32]) + HELLO_SHA256), "codec dag-json"),
    (_b32(bytes([1, 0x55, 0xA0, 0xE4, 0x02, 32]) + HELLO_SHA256), "hashed with blake2b-256"),
    (_b32(bytes([1, 0x55, 0x00, 6]) + b"hello\n"), "hashed with identity"),
    (_b32(bytes([1, 0x70, 0x13, 64]) + hashlib.sha512(b"x").digest()), "hashed with sha2-512"),
    (_b32(bytes([1, 0x55, 0x12, 20]) + HELLO_SHA256[:20]), r"truncated sha2-256 digest \(20 bytes\)"),
])
def test_unrecordable_cids_are_one_line_input_errors(bad, message):
    with pytest.raises(InputError, match=message) as refused:
        cid_to_digest(bad)
    assert "\n" not in str(refused.value)


def test_digest_must_be_32_bytes():
    with pytest.raises(InputError, match="32 bytes"):
        digest_to_cid(b"\x00" * 31)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


@settings(max_examples=300, deadline=None)
@given(version=st.sampled_from([1]) | st.integers(0, 3),
       codec=st.sampled_from([0x55, 0x70, 0x71, 0x0129]) | st.integers(0, 1 << 21),
       hash_code=st.sampled_from([0x12, 0x00, 0x13, 0xB220]) | st.integers(0, 1 << 21),
       length=st.sampled_from([32]) | st.integers(0, 80),
       digest=st.binary(min_size=32, max_size=32) | st.binary(max_size=80),
       base=st.sampled_from(["b", "B"]))
def test_any_cid_shaped_text_is_recorded_exactly_or_refused_in_one_line(version, codec, hash_code, length, digest,
                                                                        base):
    text = _b32(bytes([version]) + _varint(codec) + _varint(hash_code) + _varint(length) + digest)
    text = text if base == "b" else text.upper()
    try:
        parsed = parse_cid(text)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert (version, hash_code, length, len(digest)) == (1, 0x12, 32, 32) and codec in (0x55, 0x70)
    assert parsed.digest == digest and str(parsed) == text.lower()


@given(digest=st.binary(min_size=32, max_size=32), codec=st.sampled_from(["dag-pb", "raw"]))
def test_the_text_of_a_recorded_cid_is_py_cids(digest: bytes, codec: str) -> None:
    """Cid's own base32 text (no py-cid import on the way to a table) is py-cid's CIDv1 text, and parses back here
    (that text is read without py-cid too) as py-cid reads it."""
    import multihash
    from cid import CIDv1, from_string

    text = digest_to_cid(digest, codec)
    assert text == CIDv1(codec, multihash.encode(digest, "sha2-256")).encode("base32").decode()
    parsed = from_string(text)
    assert parse_cid(text) == Cid(codec, digest) == Cid(parsed.codec, multihash.decode(parsed.multihash).digest)
