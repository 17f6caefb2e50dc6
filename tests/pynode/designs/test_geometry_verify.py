"""verify_geometry: what a node finds when it measures the decrypted design again, a lying buyer included."""

from __future__ import annotations

import trimesh

from pynode.designs.geometry import measure
from pynode.designs.geometry.verify import Disagreement, verify_geometry


def box_stl(x: float, y: float, z: float) -> bytes:
    return trimesh.creation.box(extents=(x, y, z)).export(file_type="stl")


def test_the_same_design_agrees_with_itself() -> None:
    found = measure(box_stl(10, 20, 30))
    assert verify_geometry(found, measure(box_stl(10, 20, 30)), tolerance=0.0) == []


def test_a_buyer_who_publishes_a_smaller_part_is_caught_by_name() -> None:
    published = measure(box_stl(10, 20, 15))  # what the buyer put in the spec: half the part
    recomputed = measure(box_stl(10, 20, 30))  # what the encrypted file really holds
    disagreements = verify_geometry(published, recomputed, tolerance=0.01)
    assert [d.name for d in disagreements] == ["extents_mm.min.z", "extents_mm.max.z", "volume_mm3", "area_mm2"]
    assert disagreements[2] == Disagreement("volume_mm3", 3000.0, 6000.0)
    assert str(disagreements[2]) == "volume_mm3: published 3000.0, recomputed 6000.0"


def test_measurements_within_the_tolerance_agree_and_counts_must_match_exactly() -> None:
    recomputed = measure(box_stl(10, 20, 30))
    close = {**recomputed, "volume_mm3": 6000.0 * 1.009, "area_mm2": 2200.0 * 0.992}
    assert verify_geometry(close, recomputed, tolerance=0.01) == []
    assert [d.name for d in verify_geometry({**close, "volume_mm3": 6061.0}, recomputed, 0.01)] == ["volume_mm3"]
    wrong = {**recomputed, "triangles": 13, "watertight": False, "format": "3mf"}
    assert [d.name for d in verify_geometry(wrong, recomputed, 0.5)] == ["format", "triangles", "watertight"]


def test_a_missing_or_extra_metric_is_a_disagreement() -> None:
    recomputed = measure(box_stl(10, 20, 30))
    published = {k: v for k, v in recomputed.items() if k != "area_mm2"} | {"mass_g": 12.0}
    assert verify_geometry(published, recomputed, 0.01) == [Disagreement("area_mm2", None, 2200.0),
                                                            Disagreement("mass_g", 12.0, None)]


def test_a_flag_is_not_a_number_and_near_zero_uses_one_unit() -> None:
    assert verify_geometry({"watertight": 1}, {"watertight": True}, 0.5) == [Disagreement("watertight", 1, True)]
    assert verify_geometry({"extents_mm": {"min": [0.005]}}, {"extents_mm": {"min": [0.0]}}, 0.01) == []
