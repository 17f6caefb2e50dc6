"""A spec's published geometry (``documents/geometry``) as the exact figures a quote prices.

The geometry's floats become :class:`~fractions.Fraction` exactly (a float is a binary rational), so the quote
keeps its one ceiling of the exact value and two nodes with the same settings quote the same price.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from pynode.documents.geometry import DxfGeometry, Extents, GcodeGeometry, MeshGeometry, validate_geometry
from pynode.documents.spec import ProductionSpec


class Measures(NamedTuple):
    """One part's figures; None where the design's format does not give it (or the spec has no geometry)."""

    part_mm3: Fraction | None = None  # what an additive process deposits: the mesh's volume, the G-code's filament
    stock_mm3: Fraction | None = None  # the mesh's bounding box: the block a subtractive process starts from
    sheet_mm2: Fraction | None = None  # the DXF's extents: the sheet a cut uses
    cut_mm: Fraction | None = None  # the DXF's cut length
    print_s: Fraction | None = None  # the G-code's estimated time


NO_GEOMETRY = Measures()


def measures_of(document: ProductionSpec) -> Measures:
    """The figures of the spec's ``geometry`` (none without one); an InputError (one line) when it is malformed."""
    raw = (document.model_extra or {}).get("geometry")
    if raw is None:
        return NO_GEOMETRY
    geometry = validate_geometry(raw)
    if isinstance(geometry, MeshGeometry):
        return Measures(part_mm3=Fraction(geometry.volume_mm3), stock_mm3=_box(geometry.extents_mm, 3))
    if isinstance(geometry, GcodeGeometry):
        return Measures(part_mm3=max(Fraction(0), Fraction(geometry.filament_mm3)),
                        print_s=Fraction(geometry.print_time_s))
    assert isinstance(geometry, DxfGeometry)
    return Measures(sheet_mm2=_box(geometry.extents_mm, 2), cut_mm=Fraction(geometry.cut_length_mm))


def _box(extents: Extents, axes: int) -> Fraction:
    """The product of the extents' first ``axes`` sizes (a 2-D extent has no height: no volume)."""
    size = Fraction(1)
    for axis in range(axes):
        if axis >= min(len(extents.min), len(extents.max)):
            return Fraction(0)
        size *= max(Fraction(0), Fraction(extents.max[axis]) - Fraction(extents.min[axis]))
    return size
