"""The demo's designs (pynode/dev/designs.py writes them by hand, not with the measuring libraries) measure to
the figures worked out from their dimensions."""

from __future__ import annotations

import math
from pathlib import Path

from pynode.designs.geometry import measure_file
from pynode.dev.designs import bracket_stl, plate_dxf, spacer_gcode


def test_the_bracket(tmp_path: Path) -> None:
    found = measure_file(bracket_stl(tmp_path / "bracket.stl"))
    # a 40 × 20 × 4 base and a 40 × 4 × 26 upright on it: two boxes that touch, so not one closed surface
    assert found == {"format": "stl", "extents_mm": {"min": [0.0, 0.0, 0.0], "max": [40.0, 20.0, 30.0]},
                     "volume_mm3": 3200.0 + 4160.0, "area_mm2": 2080.0 + 2608.0, "triangles": 24,
                     "watertight": False}


def test_the_spacer(tmp_path: Path) -> None:
    found = measure_file(spacer_gcode(tmp_path / "spacer.gcode"))
    assert found["layers"] == 25 and found["filament_mm"] == round(25 * 2 * 37 * 0.033, 4)
    # its first ring starts with an extruding move from home (0, 0): the file prints from there
    assert found["extents_mm"] == {"min": [0.0, 0.0, 0.2], "max": [56.0, 56.0, 5.0]}


def test_the_plate(tmp_path: Path) -> None:
    found = measure_file(plate_dxf(tmp_path / "plate.dxf"))
    assert found == {"format": "dxf", "extents_mm": {"min": [0.0, 0.0], "max": [120.0, 80.0]},
                     "cut_length_mm": round(2 * (120 + 80) + 4 * math.pi * 8, 4), "ignored_entities": 0}
