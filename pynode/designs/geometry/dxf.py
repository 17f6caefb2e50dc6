"""DXF: extents and total cut length of the model space's lines, arcs, circles and lightweight polylines (ezdxf).

Lengths are exact (an arc is radius × sweep, a polyline bulge the arc it stands for); other entities (text,
splines, block inserts, hatches) are counted in ``ignored_entities``, not measured. Drawing units come from
$INSUNITS (inches, feet, cm, m converted to mm; unitless read as mm). Extents are 2-D (X, Y) over the measured
entities.
"""

from __future__ import annotations

import io
import itertools
import math
from typing import Any

from pynode.designs.geometry.detect import BINARY_DXF
from pynode.designs.geometry.errors import GeometryError
from pynode.designs.geometry.quiet import quiet

#: $INSUNITS code → millimetres per drawing unit (0 = unitless, read as mm)
_UNITS_MM = {0: 1.0, 1: 25.4, 2: 304.8, 4: 1.0, 5: 10.0, 6: 1000.0}
_MEASURED = ("LINE", "ARC", "CIRCLE", "LWPOLYLINE")


def _bulge_length(chord: float, bulge: float) -> float:
    """A polyline segment: straight, or the arc of sweep 4·atan(bulge) over the chord."""
    if bulge == 0 or chord == 0:
        return chord
    sweep = 4 * math.atan(abs(bulge))
    return chord * sweep / (2 * math.sin(sweep / 2))


def _length(entity: Any) -> float:
    kind = entity.dxftype()
    if kind == "LINE":
        return math.dist(entity.dxf.start, entity.dxf.end)
    if kind == "ARC":
        sweep = (entity.dxf.end_angle - entity.dxf.start_angle) % 360 or 360
        return math.radians(sweep) * entity.dxf.radius
    if kind == "CIRCLE":
        return 2 * math.pi * entity.dxf.radius
    points = list(entity.get_points("xyb"))
    if entity.closed and points:
        points.append(points[0])
    return sum(_bulge_length(math.dist(a[:2], b[:2]), a[2]) for a, b in itertools.pairwise(points))


def measure_dxf(data: bytes) -> dict[str, Any]:
    with quiet("ezdxf"):
        return _measure(data)


def _measure(data: bytes) -> dict[str, Any]:
    from ezdxf import bbox, recover
    from ezdxf.document import Drawing
    from ezdxf.lldxf.tagger import binary_tags_loader

    try:
        if data.startswith(BINARY_DXF):  # recover.read takes text DXF only; ezdxf.readfile loads binary like this
            document = Drawing.load(binary_tags_loader(data))
            auditor = document.audit()
        else:
            document, auditor = recover.read(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - ezdxf raises what the tag stream hits (DXFStructureError, ValueError, ...)
        raise GeometryError("not a readable DXF file") from None
    if auditor.has_errors:
        raise GeometryError(f"the DXF file has {len(auditor.errors)} unrecoverable error(s)")
    space = document.modelspace()
    measured = [e for e in space if e.dxftype() in _MEASURED]
    if not measured:
        raise GeometryError("the DXF file has no line, arc, circle or polyline")
    scale = _UNITS_MM.get(document.header.get("$INSUNITS", 0), 1.0)
    box = bbox.extents(measured, fast=True)
    return {
        "format": "dxf",
        "extents_mm": {"min": [box.extmin.x * scale, box.extmin.y * scale],
                       "max": [box.extmax.x * scale, box.extmax.y * scale]},
        "cut_length_mm": sum(_length(e) for e in measured) * scale,
        "ignored_entities": len(space) - len(measured),
    }
