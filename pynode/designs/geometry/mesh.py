"""STL (binary and ASCII) and 3MF: extents, volume, surface area, triangle count and watertightness, by trimesh.

STL carries no units and is read as millimetres (what slicers assume); 3MF names its unit and is converted to
millimetres. A 3MF with several objects (or build items) is measured as their union of triangles.
"""

from __future__ import annotations

import io
from typing import Any

from pynode.designs.geometry.errors import GeometryError
from pynode.designs.geometry.quiet import quiet


def measure_mesh(data: bytes, kind: str) -> dict[str, Any]:
    with quiet("trimesh"):
        return _measure(data, kind)


def _measure(data: bytes, kind: str) -> dict[str, Any]:
    import numpy
    import trimesh

    file_type = "3mf" if kind == "3mf" else "stl"
    try:
        mesh = trimesh.load_mesh(io.BytesIO(data), file_type=file_type)
        if getattr(mesh, "units", None) not in (None, "mm", "millimeter", "millimeters"):
            mesh = mesh.convert_units("mm")
    except Exception:  # noqa: BLE001 - trimesh's readers raise what parsing hits (struct, XML, numpy, KeyError...)
        raise GeometryError(f"not a readable {file_type.upper()} file") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0 or len(mesh.vertices) == 0:
        raise GeometryError(f"the {file_type.upper()} file holds no triangles")
    if not numpy.isfinite(mesh.vertices).all():
        raise GeometryError(f"the {file_type.upper()} file has vertices that are not finite numbers")
    low, high = mesh.bounds.tolist()
    return {
        "format": file_type,
        "extents_mm": {"min": low, "max": high},
        "volume_mm3": abs(float(mesh.volume)),  # a mesh with inward normals has a negative signed volume
        "area_mm2": float(mesh.area),
        "triangles": len(mesh.faces),
        "watertight": bool(mesh.is_watertight),
    }
