"""The fixed inputs every vector of tools/make_vectors.py derives from (keys and values from labels by SHA-256),
and the CIDs Kubo gives a file of one block."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak, to_checksum_address

from pynode.crypto import segmented
from pynode.ipfs.cid import DAG_PB, RAW, Cid
from pynode.protocol.eip712 import Domain

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "docs" / "vectors"
CHAIN_ID = 31337
BOOK = "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # the first contract a fresh anvil account deploys
ORDER_ID = 7
DOMAIN = Domain("fabmesh OrderBook", "2", CHAIN_ID, BOOK)
SEGMENT_SIZE = segmented.MIN_SEGMENT_SIZE  # 4 KiB: a few segments from a small design
UNIXFS_CHUNK = 256 * 1024  # Kubo's default chunker: a smaller file is one dag-pb node


def label_bytes(label: str) -> bytes:
    """A fixed 32-byte secret or value named by ``label``: SHA-256 of it."""
    return hashlib.sha256(label.encode()).digest()


def h(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def b32(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def account(label: str) -> Any:
    return Account.from_key(label_bytes(label))


CONTENT_KEY = label_bytes("fabmesh vector content key")
ZERO = "0x" + "00" * 20
BUYER, PARTNER, INSPECTOR = (account(f"fabmesh vector {who}") for who in ("buyer", "partner", "inspector"))
ARBITRATOR = to_checksum_address(keccak(b"fabmesh vector arbitrator")[-20:])
DESIGN = (bytes(range(256)) * 40)[:10_000]


# --- CIDs ------------------------------------------------------------------------------------------------------

def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([byte])
        out += bytes([byte | 0x80])


def dag_pb_block(data: bytes) -> bytes:
    """The one dag-pb block Kubo makes of a file below its chunk size: PBNode{Data: UnixFS{File, data, size}}."""
    assert len(data) <= UNIXFS_CHUNK, "larger files are a tree of blocks"
    unixfs = b"\x08\x02" + (b"\x12" + _varint(len(data)) + data if data else b"") + b"\x18" + _varint(len(data))
    return b"\x0a" + _varint(len(unixfs)) + unixfs


def cids(data: bytes) -> dict[str, str]:
    """Both CIDs Kubo may give ``data`` (raw leaves or not) and the bytes32 the contracts store for each."""
    block = dag_pb_block(data)
    raw, dag_pb = Cid(RAW, hashlib.sha256(data).digest()), Cid(DAG_PB, hashlib.sha256(block).digest())
    return {"dag_pb_block": h(block), "cid_dag_pb": str(dag_pb), "digest_dag_pb": h(dag_pb.digest),
            "cid_raw": str(raw), "digest_raw": h(raw.digest)}


def box_stl(low: tuple[float, float, float], size: tuple[float, float, float]) -> bytes:
    """A binary STL of an axis-aligned box: 80-byte header, uint32 count, per triangle the outward normal, three
    vertices (float32 little-endian, counter-clockwise seen from outside) and a zero uint16."""
    corner = [[low[i] + size[i] * ((n >> i) & 1) for i in range(3)] for n in range(8)]  # bit i: the high side of i
    faces = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]  # -z +z -y +y -x +x
    normals = [(0, 0, -1), (0, 0, 1), (0, -1, 0), (0, 1, 0), (-1, 0, 0), (1, 0, 0)]
    triangles = b""
    for (a, b, c, d), normal in zip(faces, normals, strict=True):
        for tri in ((a, b, c), (a, c, d)):
            triangles += struct.pack("<12fH", *normal, *(x for v in tri for x in corner[v]), 0)
    return b"fabmesh vector box".ljust(80, b"\x00") + struct.pack("<I", 12) + triangles


BOX_STL = box_stl((1.0, 2.0, 3.0), (20.0, 10.0, 5.0))  # the design of the spec vector with public geometry
