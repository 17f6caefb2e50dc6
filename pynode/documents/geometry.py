"""The spec's optional ``geometry`` object: a design's public metrics (pynode/designs/geometry measures them).

One shape per ``format``; units are in the key names (mm, mm², mm³, s). Extra keys are allowed so later writers
can add metrics that older readers keep. See docs/schemas/order-spec.schema.json (``$defs/geometry``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from pynode.core.errors import InputError
from pynode.documents.validation import one_line

_Point = Annotated[list[float], Field(min_length=2, max_length=3)]
_Size = Annotated[float, Field(ge=0)]


class Extents(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, strict=True)

    min: _Point
    max: _Point


class _Geometry(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, frozen=True, strict=True)

    extents_mm: Extents


class MeshGeometry(_Geometry):
    format: Literal["stl", "3mf"]
    volume_mm3: _Size
    area_mm2: _Size
    triangles: int = Field(ge=1)
    watertight: bool


class GcodeGeometry(_Geometry):
    format: Literal["gcode"]
    print_time_s: _Size
    filament_mm: float
    filament_diameter_mm: float = Field(gt=0)
    filament_mm3: float
    layers: int = Field(ge=0)


class DxfGeometry(_Geometry):
    format: Literal["dxf"]
    cut_length_mm: _Size
    ignored_entities: int = Field(ge=0)


_GEOMETRY: TypeAdapter[MeshGeometry | GcodeGeometry | DxfGeometry] = TypeAdapter(
    Annotated[MeshGeometry | GcodeGeometry | DxfGeometry, Field(discriminator="format")])


def validate_geometry(value: Any) -> MeshGeometry | GcodeGeometry | DxfGeometry:
    try:
        return _GEOMETRY.validate_python(value)
    except ValidationError as exc:
        raise InputError(one_line(exc, "order spec: geometry")) from None
