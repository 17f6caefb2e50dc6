"""docs/vectors/documents.json → spec_geometry both ways: pynode measures the box's STL to the published geometry and
writes the spec with it to the vector bytes, the bytes read back to it, the sealed design decrypts to the STL; and
the geometry is rebuilt here from the STL's triangles as docs/protocol.md §4 defines each metric."""

from __future__ import annotations

import hashlib
import json
import struct
from collections import Counter

from eth_utils import keccak

from pynode.crypto import segmented
from pynode.designs.geometry import measure
from pynode.designs.geometry.verify import verify_geometry
from pynode.documents.spec import build_spec_document, read_spec_document
from pynode.ipfs.cid import parse_cid
from vector_files import DOCS, SEG, b

VECTOR = DOCS["spec_geometry"]
DESIGN = VECTOR["design"]
STL = b(DESIGN["plaintext"])
Vertex = tuple[float, float, float]


def test_pynode_measures_the_design_and_writes_the_spec_with_its_geometry() -> None:
    inputs = VECTOR["inputs"]
    assert measure(STL) == inputs["geometry"]
    document = build_spec_document(**{**inputs, "design_sha256": b(inputs["design_sha256"])})
    assert document == VECTOR["document"].encode()
    assert hashlib.sha256(document).digest() == b(VECTOR["sha256"]) and keccak(document) == b(VECTOR["keccak256"])
    spec = read_spec_document(document)
    assert (spec.model_extra or {})["geometry"] == inputs["geometry"]
    assert verify_geometry(json.loads(document)["geometry"], measure(STL), 0.0) == []


def test_the_published_design_is_the_measured_one() -> None:
    spec = json.loads(VECTOR["document"])
    plaintext = b"".join(segmented.iter_decrypt([b(DESIGN["ciphertext"])], b(SEG["content_key"]),
                                                expected_sha256=b(spec["design"]["sha256"])))
    assert plaintext == STL and spec["design"]["size"] == len(STL)
    assert parse_cid(spec["design"]["cid"]).digest == b(DESIGN["digest_dag_pb"])


def triangles(stl: bytes) -> list[tuple[Vertex, Vertex, Vertex]]:
    """A binary STL: 80-byte header, uint32 count, then per triangle a normal, three vertices, a uint16 (84 + 50n)."""
    (count,) = struct.unpack_from("<I", stl, 80)
    assert len(stl) == 84 + 50 * count
    out = []
    for i in range(count):
        x = struct.unpack_from("<12f", stl, 84 + 50 * i)
        out.append((x[3:6], x[6:9], x[9:12]))
    return out


def cross(u: Vertex, v: Vertex) -> Vertex:
    return u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]


def minus(u: Vertex, v: Vertex) -> Vertex:
    return u[0] - v[0], u[1] - v[1], u[2] - v[2]


def test_the_spec_alone_rebuilds_the_geometry_from_the_triangles() -> None:
    """Extents: the bounding box; volume: the divergence theorem, Σ a·(b×c)/6; area: Σ |(b−a)×(c−a)|/2;
    watertight: every edge shared by exactly two triangles."""
    tris = triangles(STL)
    points = [v for t in tris for v in t]
    volume = sum(sum(p * q for p, q in zip(a, cross(bb, c))) for a, bb, c in tris) / 6
    area = sum(sum(x * x for x in cross(minus(bb, a), minus(c, a))) ** 0.5 for a, bb, c in tris) / 2
    edges = Counter(frozenset(e) for a, bb, c in tris for e in ((a, bb), (bb, c), (c, a)))
    geometry = VECTOR["inputs"]["geometry"]
    assert geometry == {
        "format": "stl", "triangles": len(tris), "watertight": set(edges.values()) == {2},
        "extents_mm": {"min": [min(p[i] for p in points) for i in range(3)],
                       "max": [max(p[i] for p in points) for i in range(3)]},
        "volume_mm3": round(volume, 4), "area_mm2": round(area, 4)}
    assert volume > 0  # counter-clockwise seen from outside: the normals point out
