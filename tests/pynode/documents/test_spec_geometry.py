"""The spec's optional ``geometry``: what `order post` measures validates against the schema and the reader,
malformed geometry is refused by both, and a spec without it keeps the vector's bytes."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import ezdxf
import pytest
import trimesh
from jsonschema import Draft202012Validator

from pynode.core.errors import InputError
from pynode.designs.geometry import measure
from pynode.documents.spec import build_spec_document, read_spec_document

DOCS = Path(__file__).resolve().parents[3] / "docs"
SCHEMA = Draft202012Validator(json.loads((DOCS / "schemas" / "order-spec.schema.json").read_text()))
VECTOR = json.loads((DOCS / "vectors" / "documents.json").read_text())["spec"]


def dxf() -> bytes:
    document = ezdxf.new()
    document.modelspace().add_circle((0, 0), 5)
    text = io.StringIO()
    document.write(text)
    return text.getvalue().encode()


GEOMETRIES = {
    "stl": measure(trimesh.creation.box(extents=(10, 20, 30)).export(file_type="stl")),
    "3mf": measure(trimesh.creation.icosphere(radius=5).export(file_type="3mf")),
    "gcode": measure(b"M83\nG1 Z0.2 F600\nG1 X10 E1\nG1 Y10 E1\n"),
    "dxf": measure(dxf()),
}


def spec_with(geometry: Any) -> bytes:
    return build_spec_document(**VECTOR["inputs"] | {"design_sha256": bytes.fromhex(VECTOR["inputs"]["design_sha256"]
                                                                                       [2:])}, geometry=geometry)


@pytest.mark.parametrize("fmt", sorted(GEOMETRIES))
def test_measured_geometry_is_published_valid_and_read_back(fmt: str) -> None:
    data = spec_with(GEOMETRIES[fmt])
    document = json.loads(data)
    SCHEMA.validate(document)
    assert document["geometry"] == GEOMETRIES[fmt]
    assert read_spec_document(data).model_dump()["geometry"] == GEOMETRIES[fmt]


def test_without_geometry_the_spec_is_the_vectors_bytes() -> None:
    assert spec_with(None) == VECTOR["document"].encode()
    assert "geometry" not in json.loads(VECTOR["document"])


MALFORMED = [
    ("stl", "format", "step"), ("stl", "volume_mm3", -1.0), ("stl", "triangles", 0), ("stl", "watertight", "true"),
    ("stl", "area_mm2", None), ("stl", "extents_mm", {"min": [0, 0, 0, 0], "max": [1, 1, 1, 1]}),
    ("stl", "extents_mm", {"min": [0, 0, 0], "max": [1, 1, 1], "extra": 1}), ("gcode", "layers", -1),
    ("gcode", "print_time_s", "12"), ("gcode", "filament_diameter_mm", 0), ("dxf", "cut_length_mm", -0.5),
    ("dxf", "ignored_entities", 1.5), ("dxf", "extents_mm", None),
]


@pytest.mark.parametrize(("fmt", "key", "value"), MALFORMED, ids=[f"{f}:{k}={v!r}" for f, k, v in MALFORMED])
def test_malformed_geometry_is_refused_by_the_schema_and_the_reader(fmt: str, key: str, value: Any) -> None:
    geometry = copy.deepcopy(GEOMETRIES[fmt])
    if value is None:
        del geometry[key]
    else:
        geometry[key] = value
    document = json.loads(VECTOR["document"]) | {"geometry": geometry}
    assert not SCHEMA.is_valid(document)
    with pytest.raises(InputError, match=r"^order spec: geometry") as raised:
        read_spec_document(json.dumps(document).encode())
    assert "\n" not in str(raised.value)
    with pytest.raises(InputError):  # and the writer refuses to publish it
        spec_with(geometry)


def test_a_later_writers_extra_metric_is_kept() -> None:
    geometry = GEOMETRIES["stl"] | {"mass_g": 12.5}
    document = json.loads(spec_with(geometry))
    SCHEMA.validate(document)
    assert read_spec_document(json.dumps(document).encode()).model_dump()["geometry"]["mass_g"] == 12.5
