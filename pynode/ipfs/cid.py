"""CIDs as the contracts store them: the 32-byte sha2-256 digest, with the codec recorded off the bytes32.

On chain a CID is a bytes32 (cheap): the digest of its sha2-256 multihash. Kubo
names a UnixFS file in one of two codecs: dag-pb (`bafybei…`, CIDv0 `Qm…`; any
file added without raw leaves, and a multi-block file's root with them) or raw
(`bafkrei…`; a file of one block added with raw leaves, Kubo's own
`ipfs add --cid-version 1`). Both are recorded; nothing else is (dag-cbor,
blake2b, identity… are refused with a one-line InputError). The codec is
recorded where an auditor with only the chain and IPFS finds it, without
probing IPFS for both:

- a design: the order's spec document (`OrderDocs.specCid`) names the design's
  full CID, whose digest must equal `OrderDocs.designCid` (`design_cid`);
- a quality report: the chain records the report's SHA-256 beside its CID
  digest, and a raw CID's digest *is* the SHA-256 of the file, which a dag-pb
  root's never is (its block wraps the bytes in protobuf): equal means raw
  (`report_cid`);
- every other document fabmesh publishes (spec, key envelope, profile, dispute
  evidence, ruling, registry evidence) is added as dag-pb, so its codec is the
  protocol's default (`digest_to_cid`).

contracts/README.md ("CIDs") states the same rule for other implementations.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from pynode.core.errors import InputError

DAG_PB = "dag-pb"
RAW = "raw"
CODECS = (DAG_PB, RAW)
SHA2_256 = "sha2-256"
#: a recorded CIDv1's binary prefix: version 1, the codec (one-byte varints 0x70, 0x55), sha2-256 (0x12) of 32 bytes
_PREFIX = {DAG_PB: bytes([0x01, 0x70, 0x12, 0x20]), RAW: bytes([0x01, 0x55, 0x12, 0x20])}
# Multibase-prefixed text of a CID in any base Kubo prints (`--cid-base`), or a CIDv0: nothing else
# (py-cid also takes /ipfs/ paths, URLs and binary CIDs, which no document or option of fabmesh holds).
_TEXT = re.compile(r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|[A-Za-z0-9][A-Za-z0-9+/=_-]{1,127})$")


@dataclass(frozen=True)
class Cid:
    codec: str  # DAG_PB or RAW
    digest: bytes  # the sha2-256 digest the contracts store

    def __str__(self) -> str:
        """The CIDv1 in base32, as Kubo prints it: multibase "b", lower case, no padding. Written here for the two
        fixed prefixes (py-cid's tables and its bit-by-bit base32 cost a table-printing read a tenth of its start-up;
        tests/pynode/ipfs/test_cid.py holds it to py-cid's text)."""
        return "b" + base64.b32encode(_PREFIX[self.codec] + self.digest).decode().lower().rstrip("=")


def parse_cid(text: str) -> Cid:
    """A CID fabmesh can record: CIDv0, or CIDv1 with codec dag-pb or raw and a sha2-256 hash."""
    shown = repr(text[:60]) if isinstance(text, str) else type(text).__name__
    if not isinstance(text, str) or not _TEXT.match(text):
        raise InputError(f"not a CID: {shown}")
    written = _as_written(text)
    if written is not None:
        return written
    import multicodec
    import multihash
    from cid import from_string

    try:
        parsed = from_string(text)
        decoded = multihash.decode(parsed.multihash)
    except (ValueError, multihash.exceptions.MultihashError, multicodec.exceptions.MulticodecError):
        raise InputError(f"not a CID: {shown}") from None
    if parsed.version != (0 if text.startswith("Qm") else 1):  # py-cid takes a multibase "CIDv0" too
        raise InputError(f"not a CID: {shown}")
    if parsed.codec not in CODECS:
        raise InputError(f"{text[:60]} has codec {parsed.codec}: fabmesh records only dag-pb and raw CIDs")
    if decoded.name != SHA2_256:
        name = "identity" if decoded.code == 0 else decoded.name  # py-multihash calls it "id"
        raise InputError(f"{text[:60]} is hashed with {name}: fabmesh records only sha2-256 CIDs")
    if len(decoded.digest) != 32:
        raise InputError(f"{text[:60]} has a truncated sha2-256 digest ({len(decoded.digest)} bytes)")
    return Cid(parsed.codec, bytes(decoded.digest))


def _as_written(text: str) -> Cid | None:
    """A CID in the text Cid writes (Kubo's: base32 CIDv1 of a recorded prefix), read without py-cid, whose import
    costs `order show` and the audit a tenth of their start-up; None for any other text (py-cid's to judge)."""
    if len(text) != 59 or text[0] != "b":
        return None
    try:
        raw = base64.b32decode(text[1:].upper() + "======")
    except binascii.Error:
        return None
    codec = next((name for name, prefix in _PREFIX.items() if raw[:4] == prefix), None)
    found = None if codec is None else Cid(codec, raw[4:])
    return found if found is not None and str(found) == text else None  # canonical only: no stray bits


def cid_to_digest(cid: str) -> bytes:
    """The bytes32 the contracts store for `cid`; refuses CIDs fabmesh cannot record."""
    return parse_cid(cid).digest


def digest_to_cid(digest: bytes, codec: str = DAG_PB) -> str:
    """The CIDv1 (base32) of an on-chain digest in `codec`: dag-pb for the documents fabmesh publishes."""
    if len(digest) != 32:
        raise InputError(f"a CID digest is 32 bytes, got {len(digest)}")
    return str(Cid(codec, bytes(digest)))


def report_cid(digest: bytes, report_sha256: bytes) -> str:
    """A quality report's CID from its two on-chain fields: raw when the digest is the file's SHA-256."""
    return digest_to_cid(digest, RAW if bytes(digest) == bytes(report_sha256) else DAG_PB)


def design_cid(digest: bytes, named: object) -> str:
    """The design's CID: the one the spec document names if it is this digest's, else the dag-pb default
    (the auditor's evidence.spec check reports a spec that names another design)."""
    if isinstance(named, str):
        try:
            cid = parse_cid(named)
        except InputError:
            cid = None
        if cid is not None and cid.digest == bytes(digest):
            return str(cid)
    return digest_to_cid(digest)
