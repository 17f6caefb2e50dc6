"""STL (binary, ASCII) and 3MF geometry from real files that trimesh writes in the test; corrupt files refused."""

from __future__ import annotations

import io
import logging
import re
import struct
import zipfile

import pytest
import trimesh

from pynode.designs.geometry import GeometryError, measure
from pynode.designs.geometry.detect import detect

#: a 10 × 20 × 30 mm box with a corner at the origin: 6 cm³, 2·(200 + 600 + 300) mm², 12 triangles
BOX = {"extents_mm": {"min": [0.0, 0.0, 0.0], "max": [10.0, 20.0, 30.0]}, "volume_mm3": 6000.0,
       "area_mm2": 2200.0, "triangles": 12, "watertight": True}


def box() -> trimesh.Trimesh:
    mesh = trimesh.creation.box(extents=(10, 20, 30))
    mesh.apply_translation((5, 10, 15))
    return mesh


def exported(mesh: trimesh.Trimesh, file_type: str) -> bytes:
    data = mesh.export(file_type=file_type)
    return data.encode() if isinstance(data, str) else data


@pytest.mark.parametrize(("file_type", "kind", "fmt"), [
    ("stl", "stl-binary", "stl"), ("stl_ascii", "stl-ascii", "stl"), ("3mf", "3mf", "3mf")])
def test_a_box_measures_exactly_in_every_mesh_format(file_type: str, kind: str, fmt: str) -> None:
    data = exported(box(), file_type)
    assert detect(data) == kind
    assert measure(data) == {"format": fmt, **BOX}


def test_a_binary_stl_whose_header_says_solid_is_read_as_binary() -> None:
    data = exported(box(), "stl")
    data = b"solid box".ljust(80, b" ") + data[80:]  # what some CAD exporters write into the free header
    assert detect(data) == "stl-binary"
    assert measure(data)["triangles"] == 12


def test_a_mesh_with_a_hole_is_not_watertight() -> None:
    mesh = box()
    mesh.update_faces([i != 0 for i in range(len(mesh.faces))])
    found = measure(exported(mesh, "stl"))
    assert (found["triangles"], found["watertight"]) == (11, False)


def test_a_3mf_in_inches_is_converted_to_millimetres() -> None:
    """A hand-written 3MF (the core spec's minimal package): a tetrahedron of 1-inch legs, 1/6 in³."""
    model = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<model unit="inch" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
             '<resources><object id="1" type="model"><mesh><vertices>'
             '<vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/>'
             '<vertex x="0" y="0" z="1"/></vertices><triangles>'
             '<triangle v1="0" v2="2" v3="1"/><triangle v1="0" v2="1" v3="3"/>'
             '<triangle v1="0" v2="3" v3="2"/><triangle v1="1" v2="2" v3="3"/>'
             '</triangles></mesh></object></resources><build><item objectid="1"/></build></model>')
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                         'openxmlformats.org/package/2006/content-types"><Default Extension="model" ContentType='
                         '"application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>')
        archive.writestr("3D/3dmodel.model", model)
    found = measure(package.getvalue())
    assert found["format"] == "3mf" and found["triangles"] == 4 and found["watertight"]
    assert found["extents_mm"] == {"min": [0.0, 0.0, 0.0], "max": [25.4, 25.4, 25.4]}
    assert found["volume_mm3"] == round(25.4 ** 3 / 6, 4)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not an STL, 3MF, G-code or DXF file"),
    (b"ISO-10303-21;\nHEADER;\n", "not an STL, 3MF, G-code or DXF file"),  # STEP: not measured
    (b"PK\x03\x04" + b"\x00" * 60, "not an STL, 3MF, G-code or DXF file"),  # a broken zip
    (b"solid x\nfacet normal 0 0 1\n outer loop\n vertex a b c\n", "the STL file holds no triangles"),
    (b"solid x\n  facet normal 0 0 1\nendsolid x\n", "the STL file holds no triangles"),
])
def test_unknown_and_corrupt_files_raise_one_line(data: bytes, message: str) -> None:
    with pytest.raises(GeometryError, match=f"^{re.escape(message)}$"):
        measure(data)


def test_a_truncated_binary_stl_is_not_taken_for_one() -> None:
    data = exported(box(), "stl")
    assert detect(data[:-10]) is None


def test_a_3mf_with_a_broken_model_is_refused() -> None:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("3D/3dmodel.model", "<model><resources><object")
    with pytest.raises(GeometryError, match=r"^not a readable 3MF file$"):
        measure(package.getvalue())


def test_a_binary_stl_of_nan_coordinates_is_refused() -> None:
    nan = struct.pack("<12fH", *([0.0] * 3), *([float("nan")] * 9), 0)
    with pytest.raises(GeometryError):
        measure(b"\x00" * 80 + struct.pack("<I", 1) + nan)


def test_what_trimesh_logs_stays_off_the_users_stderr(caplog: pytest.LogCaptureFixture) -> None:
    """An unparsable normal makes trimesh log a traceback (on "trimesh.util") and fall back to its slow reader
    (normals are recomputed, so the box still measures): no record reaches the root logger, whose last-resort
    handler would print it on the user's terminal."""
    data = exported(box(), "stl_ascii").replace(b"facet normal 0", b"facet normal x", 1)
    with caplog.at_level(logging.DEBUG):
        assert measure(data) == {"format": "stl", **BOX}
    assert [r for r in caplog.records if r.name.startswith("trimesh")] == []
