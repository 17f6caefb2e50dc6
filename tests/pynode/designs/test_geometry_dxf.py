"""DXF geometry from drawings ezdxf writes in the test: exact cut lengths, units, corrupt files."""

from __future__ import annotations

import io
import math

import ezdxf
import pytest

from pynode.designs.geometry import GeometryError, measure
from pynode.designs.geometry.detect import detect


def drawing(units: int = 4) -> ezdxf.document.Drawing:
    document = ezdxf.new()
    document.header["$INSUNITS"] = units
    return document


def written(document: ezdxf.document.Drawing) -> bytes:
    text = io.StringIO()
    document.write(text)
    return text.getvalue().encode()


def test_lines_arcs_circles_and_polylines_add_up_exactly() -> None:
    document = drawing()
    space = document.modelspace()
    space.add_line((0, 0), (100, 0))
    space.add_circle((50, 50), 10)
    space.add_arc((0, 0), 5, 0, 90)
    space.add_lwpolyline([(0, 0), (10, 0), (10, 10)], close=True)
    space.add_text("engrave me")
    data = written(document)
    assert detect(data) == "dxf"
    found = measure(data)
    expected = 100 + 2 * math.pi * 10 + math.pi / 2 * 5 + 20 + 10 * math.sqrt(2)
    assert found == {"format": "dxf", "extents_mm": {"min": [0.0, 0.0], "max": [100.0, 60.0]},
                     "cut_length_mm": round(expected, 4), "ignored_entities": 1}


def test_a_bulged_polyline_is_measured_along_its_arcs() -> None:
    document = drawing()
    document.modelspace().add_lwpolyline([(0, 0, 1), (10, 0, 1)], format="xyb", close=True)  # two half circles
    assert measure(written(document))["cut_length_mm"] == round(10 * math.pi, 4)


def test_an_arc_across_zero_degrees() -> None:
    document = drawing()
    document.modelspace().add_arc((0, 0), 10, 270, 90)  # the right half
    assert measure(written(document))["cut_length_mm"] == round(10 * math.pi, 4)


def test_inches_are_converted() -> None:
    document = drawing(units=1)
    document.modelspace().add_line((0, 0), (2, 1))
    found = measure(written(document))
    assert found["cut_length_mm"] == round(math.hypot(2, 1) * 25.4, 4)
    assert found["extents_mm"] == {"min": [0.0, 0.0], "max": [50.8, 25.4]}


def test_a_binary_dxf_is_read() -> None:
    document = drawing()
    document.modelspace().add_line((0, 0), (3, 4))
    stream = io.BytesIO()
    document.write(stream, fmt="bin")
    assert detect(stream.getvalue()) == "dxf"
    assert measure(stream.getvalue())["cut_length_mm"] == 5.0


def test_a_drawing_with_nothing_to_cut_is_refused() -> None:
    document = drawing()
    document.modelspace().add_text("no geometry")
    with pytest.raises(GeometryError, match=r"^the DXF file has no line, arc, circle or polyline$"):
        measure(written(document))


def test_a_corrupt_dxf_is_refused_in_one_line() -> None:
    document = drawing()
    document.modelspace().add_line((0, 0), (3, 4))
    data = written(document)
    broken = data[:data.index(b"ENTITIES")] + b"ENTITIES\n  0\nLINE\n 10\nnot-a-number\n"
    with pytest.raises(GeometryError) as raised:
        measure(broken)
    assert "\n" not in str(raised.value)


def test_a_drawing_that_measures_to_infinity_is_refused() -> None:
    document = drawing()
    document.modelspace().add_circle((0, 0), 1e308)  # a finite radius, an infinite circumference
    with pytest.raises(GeometryError, match=r"^the DXF file measures to numbers beyond any machine$"):
        measure(written(document))


def test_a_dxf_with_a_byte_order_mark_is_detected() -> None:
    document = drawing()
    document.modelspace().add_line((0, 0), (3, 4))
    data = b"\xef\xbb\xbf" + written(document)
    assert detect(data) == "dxf"
    assert measure(data)["cut_length_mm"] == 5.0
