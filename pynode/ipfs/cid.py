"""CIDs as the contracts store them: the 32-byte sha2-256 digest of a CIDv1 dag-pb root.

On chain a CID is a bytes32 (cheap), so the rest of the CID must be fixed by
convention: every document fabmesh adds is a UnixFS file with a dag-pb root,
hashed with sha2-256, so version, codec and hash function are implied.
CIDv0 (`Qm…`) names the same digest in the same codec and is accepted too.
"""

from __future__ import annotations

import base64

from pynode.core.errors import InputError

_CIDV1_DAG_PB_SHA256 = bytes([0x01, 0x70, 0x12, 0x20])
_MULTIHASH_SHA256 = bytes([0x12, 0x20])
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise InputError(f"not a CID: {text[:60]!r} has a non-base58 character")
        number = number * 58 + index
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + raw


def cid_to_digest(cid: str) -> bytes:
    """The bytes32 the contracts store for `cid`; refuses CIDs the convention cannot round-trip."""
    if cid.startswith("Qm") and len(cid) == 46:
        raw = _b58decode(cid)
        if raw[:2] == _MULTIHASH_SHA256 and len(raw) == 34:
            return raw[2:]
    elif cid.startswith("b"):
        body = cid[1:].upper()
        try:
            raw = base64.b32decode(body + "=" * (-len(body) % 8))
        except ValueError as exc:
            raise InputError(f"not a CID: {cid[:60]!r} is not base32") from exc
        if raw[:4] == _CIDV1_DAG_PB_SHA256 and len(raw) == 36:
            return raw[4:]
        raise InputError(f"{cid[:60]} is not a dag-pb sha2-256 CID, the only kind fabmesh records on chain")
    raise InputError(f"not a CID fabmesh can record: {cid[:60]!r}")


def digest_to_cid(digest: bytes) -> str:
    """The CIDv1 (base32) named by an on-chain bytes32 digest."""
    if len(digest) != 32:
        raise InputError(f"a CID digest is 32 bytes, got {len(digest)}")
    return "b" + base64.b32encode(_CIDV1_DAG_PB_SHA256 + digest).decode().lower().rstrip("=")
