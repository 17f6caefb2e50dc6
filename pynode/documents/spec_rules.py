"""The order spec's constants and its plain reader: what the audit reads a spec with, without pydantic.

:func:`read_spec` accepts what :func:`pynode.documents.spec.read_spec_document` (the models of spec.py and
geometry.py) accepts, through the acceptors below; a document they refuse goes to that reader, which words
the refusal, so the message is the same either way (see shapes.py).
"""

from __future__ import annotations

import math
import re
from typing import Any

from pynode.core.errors import InputError
from pynode.core.strict_json import brief, strict_json_loads
from pynode.documents.shapes import Obj, accepts, boolean, integer, items, number, one_of, tagged, text, values, where

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
SPEC_TYPE = "fabmesh/order-spec"
SPEC_VERSION = 1
MAX_SPEC_BYTES = 256 * 1024
SHA256_HEX_PATTERN = r"^0x[0-9a-f]{64}$"


def finite(value: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def tolerance_name_ok(name: str) -> bool:
    """ProductionSpec's rule for a tolerance's name (``re.match``, as it has always read)."""
    return re.match(NAME_PATTERN, name) is not None


TOLERANCE = Obj({"nominal": number(), "plus": number(ge=0), "minus": number(ge=0),
                 "unit": text(min_length=1, max_length=16)})
PRODUCTION = Obj({"process": text(min_length=1, max_length=64), "material": text(min_length=1, max_length=64),
                  "quantity": integer(ge=1, le=10**9)},
                 {"tolerances": where(values(TOLERANCE, max_length=1000), lambda found: all(map(tolerance_name_ok,
                                                                                                found)))},
                 extra=True)
DESIGN = Obj({"name": text(max_length=255), "size": integer(ge=0), "sha256": text(pattern=SHA256_HEX_PATTERN),
              "cid": text(max_length=128)}, extra=True)
_POINT = items(number(), min_length=2, max_length=3)
EXTENTS = Obj({"min": _POINT, "max": _POINT})
MESH = Obj({"extents_mm": EXTENTS, "format": one_of("stl", "3mf"), "volume_mm3": number(ge=0),
            "area_mm2": number(ge=0), "triangles": integer(ge=1), "watertight": boolean}, extra=True)
GCODE = Obj({"extents_mm": EXTENTS, "format": one_of("gcode"), "print_time_s": number(ge=0), "filament_mm": number(),
             "filament_diameter_mm": number(gt=0), "filament_mm3": number(), "layers": integer(ge=0)}, extra=True)
DXF = Obj({"extents_mm": EXTENTS, "format": one_of("dxf"), "cut_length_mm": number(ge=0),
           "ignored_entities": integer(ge=0)}, extra=True)
GEOMETRY = tagged("format", {"stl": MESH, "3mf": MESH, "gcode": GCODE, "dxf": DXF})


def spec_object(data: bytes) -> dict[str, Any]:
    """The JSON object of a spec document of this type and version; InputError (one line) otherwise."""
    document = strict_json_loads(data, "order spec", MAX_SPEC_BYTES)
    if not isinstance(document, dict) or document.get("type") != SPEC_TYPE:
        raise InputError(f"order spec: not a {SPEC_TYPE} document")
    if type(document.get("version")) is not int or document["version"] != SPEC_VERSION:
        raise InputError(f"order spec: unsupported version {brief(document.get('version'))}")
    return document


def plain_valid(document: dict[str, Any]) -> bool:
    """Whether the acceptors take the production fields, and the design facts and geometry when present."""
    return (accepts(PRODUCTION, document) and ("design" not in document or accepts(DESIGN, document["design"]))
            and ("geometry" not in document or accepts(GEOMETRY, document["geometry"])))


def read_spec(data: bytes) -> dict[str, Any]:
    """The spec document's object, validated as read_spec_document validates it; InputError (its line) otherwise."""
    document = spec_object(data)
    if not plain_valid(document):
        from pynode.documents.spec import read_spec_document  # the models word the refusal

        read_spec_document(data)
    return document
