"""Real design files for the demo: a binary STL bracket, a G-code toolpath, a DXF outline.

Generated, not shipped, so the demo works from a clean clone; each is a valid
file of its format that a slicer, CAM tool or CAD viewer opens.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

Vec = tuple[float, float, float]


def _box(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float) -> list[tuple[Vec, Vec, Vec, Vec]]:
    """12 outward-facing triangles (normal, v1, v2, v3) of an axis-aligned box."""
    p = [(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
    faces: list[tuple[Vec, tuple[int, int, int, int]]] = [
        ((-1, 0, 0), (0, 1, 3, 2)), ((1, 0, 0), (4, 6, 7, 5)), ((0, -1, 0), (0, 4, 5, 1)),
        ((0, 1, 0), (2, 3, 7, 6)), ((0, 0, -1), (0, 2, 6, 4)), ((0, 0, 1), (1, 5, 7, 3))]
    triangles = []
    for normal, (a, b, c, d) in faces:
        triangles.append((normal, p[a], p[b], p[c]))
        triangles.append((normal, p[a], p[c], p[d]))
    return triangles


def bracket_stl(path: Path, *, width: float = 40.0, depth: float = 20.0, thickness: float = 4.0,
                height: float = 30.0) -> Path:
    """An L-shaped mounting bracket (base plate + upright) as binary STL, millimetres."""
    triangles = _box(0, 0, 0, width, depth, thickness) + _box(0, 0, thickness, width, thickness, height)
    with open(path, "wb") as out:
        out.write(b"fabmesh demo bracket, binary STL, units mm".ljust(80, b" "))
        out.write(struct.pack("<I", len(triangles)))
        for normal, *vertices in triangles:
            out.write(struct.pack("<3f", *normal))
            for vertex in vertices:
                out.write(struct.pack("<3f", *vertex))
            out.write(b"\x00\x00")
    return path


def read_stl_triangle_count(path: Path) -> int:
    data = path.read_bytes()
    count = struct.unpack_from("<I", data, 80)[0]
    if len(data) != 84 + 50 * count:
        raise ValueError(f"{path}: {len(data)} bytes, expected {84 + 50 * count} for {count} triangles")
    return count


def spacer_gcode(path: Path, *, outer: float = 12.0, inner: float = 6.2, height: float = 5.0,
                 layer: float = 0.2) -> Path:
    """A round spacer printed layer by layer (Marlin-flavoured G-code, absolute extrusion)."""
    lines = ["; fabmesh demo spacer", "G21 ; mm", "G90 ; absolute", "M82 ; absolute extrusion",
             "M104 S210", "M140 S60", "G28", "G92 E0"]
    extruded = 0.0
    for n in range(1, round(height / layer) + 1):
        lines.append(f"G1 Z{n * layer:.2f} F600")
        for radius in (outer / 2, inner / 2 + 0.4):
            for step in range(37):
                angle = 2 * math.pi * step / 36
                extruded += 0.033
                lines.append(f"G1 X{50 + radius * math.cos(angle):.3f} Y{50 + radius * math.sin(angle):.3f} "
                             f"E{extruded:.4f} F1800")
    lines += ["M104 S0", "M140 S0", "G28 X0", "M84"]
    path.write_text("\n".join(lines) + "\n")
    return path


def plate_dxf(path: Path, *, width: float = 120.0, height: float = 80.0, hole_d: float = 8.0) -> Path:
    """A rectangular plate with four mounting holes, as an ASCII DXF (R12 entities) for laser cutting."""
    entities = []

    def line(x0: float, y0: float, x1: float, y1: float) -> None:
        entities.extend(["0", "LINE", "8", "CUT", "10", f"{x0}", "20", f"{y0}", "11", f"{x1}", "21", f"{y1}"])

    for (x0, y0), (x1, y1) in zip([(0, 0), (width, 0), (width, height), (0, height)],
                                  [(width, 0), (width, height), (0, height), (0, 0)]):
        line(x0, y0, x1, y1)
    for x, y in ((10, 10), (width - 10, 10), (width - 10, height - 10), (10, height - 10)):
        entities.extend(["0", "CIRCLE", "8", "CUT", "10", f"{x}", "20", f"{y}", "40", f"{hole_d / 2}"])
    document = ["0", "SECTION", "2", "ENTITIES", *entities, "0", "ENDSEC", "0", "EOF"]
    path.write_text("\n".join(document) + "\n")
    return path
