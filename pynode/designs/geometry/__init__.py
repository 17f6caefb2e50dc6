"""The public geometry of a design: metrics `order post` computes before encrypting it and publishes in the spec.

The format is detected from the content (pynode/designs/geometry/detect.py), never the file name; each format
has its own module, which imports its library (numpy, trimesh, ezdxf, gcodeparser) only when it runs, so
nothing that merely imports this package pays for them. Every failure is a :class:`GeometryError` (one line);
units are in the key names (docs/schemas/order-spec.schema.json, ``geometry``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pynode.designs.geometry.detect import detect
from pynode.designs.geometry.errors import GeometryError

#: larger designs are not measured: the mesh libraries hold the whole file (and more) in memory
MAX_MEASURE_BYTES = 256 * 1024 * 1024
#: published floats keep 0.1 µm (mm), 0.001 mm² / mm³ and 1 ms: enough to price and compare, stable across platforms
DECIMALS = 4

__all__ = ["DECIMALS", "MAX_MEASURE_BYTES", "GeometryError", "measure", "measure_file"]


def measure(data: bytes) -> dict[str, Any]:
    """The geometry object of a design given as bytes."""
    kind = detect(data)
    if kind is None:
        raise GeometryError("not an STL, 3MF, G-code or DXF file")
    if kind in ("stl-binary", "stl-ascii", "3mf"):
        from pynode.designs.geometry.mesh import measure_mesh
        found = measure_mesh(data, kind)
    elif kind == "gcode":
        from pynode.designs.geometry.gcode import measure_gcode
        found = measure_gcode(data.decode("utf-8-sig", errors="replace"))
    else:
        from pynode.designs.geometry.dxf import measure_dxf
        found = measure_dxf(data)
    rounded = _rounded(found)
    if not _finite(rounded):  # e.g. G-code coordinates near the float limit, scaled from inches
        name = "G-code" if rounded["format"] == "gcode" else rounded["format"].upper()
        raise GeometryError(f"the {name} file measures to numbers beyond any machine")
    return rounded


def measure_file(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    if size > MAX_MEASURE_BYTES:
        raise GeometryError(f"{size} bytes is over the {MAX_MEASURE_BYTES >> 20} MiB measured at most")
    return measure(path.read_bytes())


def _finite(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return round(value, DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
    return value
