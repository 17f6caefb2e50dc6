from __future__ import annotations

import struct

from pynode.dev.designs import bracket_stl, plate_dxf, read_stl_triangle_count, spacer_gcode


def test_bracket_is_a_closed_binary_stl(tmp_path):
    path = bracket_stl(tmp_path / "bracket.stl")
    assert read_stl_triangle_count(path) == 24
    data = path.read_bytes()
    normals = [struct.unpack_from("<3f", data, 84 + 50 * i) for i in range(24)]
    assert all(sum(abs(c) for c in n) == 1 for n in normals)  # unit axis normals


def test_gcode_homes_heats_and_extrudes_monotonically(tmp_path):
    lines = spacer_gcode(tmp_path / "spacer.gcode").read_text().splitlines()
    assert "G28" in lines and any(line.startswith("M104 S210") for line in lines)
    extrusion = [float(part[1:]) for line in lines for part in line.split() if part.startswith("E")]
    assert extrusion == sorted(extrusion) and len(extrusion) > 100


def test_dxf_has_outline_and_holes(tmp_path):
    text = plate_dxf(tmp_path / "plate.dxf").read_text().splitlines()
    assert text.count("LINE") == 4 and text.count("CIRCLE") == 4 and text[-1] == "EOF"
