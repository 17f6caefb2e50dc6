"""The audit's plain readers (report_rules.read_report, spec_rules.read_spec) against the pydantic readers
(quality_report.parse_report, spec.read_spec_document): over the vectors and a set of malformed documents both
accept the same fields or refuse with the same line, and the plain acceptors alone take exactly what the models
take (but the lax spec model's coercions, which they leave to the model); a valid document is read without pydantic.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from edits import GONE, mutated
from pynode.core.errors import InputError
from pynode.documents.geometry import DxfGeometry, Extents, GcodeGeometry, MeshGeometry
from pynode.documents.quality_report import (
    Check,
    Evidence,
    ProductionResult,
    QualityReport,
    build_report,
    canonical_json,
    parse_report,
)
from pynode.documents.report_rules import CHECK, EVIDENCE, MAX_REPORT_BYTES, REPORT, canonical_bytes, read_report
from pynode.documents.shapes import Obj, Refused, accepts
from pynode.documents.spec import DesignFacts, ProductionSpec, Tolerance, read_spec_document
from pynode.documents.spec_rules import (
    DESIGN,
    DXF,
    EXTENTS,
    GCODE,
    MAX_SPEC_BYTES,
    MESH,
    PRODUCTION,
    TOLERANCE,
    plain_valid,
    read_spec,
    spec_object,
)

VECTORS = json.loads((Path(__file__).resolve().parents[3] / "docs" / "vectors" / "documents.json").read_text())
REPORT_DOC = json.loads(VECTORS["quality_report"]["document"])
SPEC_DOC = json.loads(VECTORS["spec"]["document"])
STL = json.loads(VECTORS["spec_geometry"]["document"])["geometry"]
GEOMETRIES = {"stl": STL, "3mf": STL | {"format": "3mf"},
              "gcode": {"format": "gcode", "extents_mm": {"min": [0.0, 0.0, 0.2], "max": [10.0, 10.0, 0.2]},
                        "print_time_s": 2.5, "filament_mm": 2.0, "filament_diameter_mm": 1.75, "filament_mm3": 4.81,
                        "layers": 1},
              "dxf": {"format": "dxf", "extents_mm": {"min": [-5.0, -5.0], "max": [5.0, 5.0]}, "cut_length_mm": 31.4,
                      "ignored_entities": 0}}


def outcome(read: Callable[[bytes], Any], data: bytes) -> tuple[str, Any]:
    try:
        return "ok", read(data)
    except InputError as exc:
        return "refused", str(exc)


# ---- the quality report -----------------------------------------------------------------------------------------

WRONG_TYPES = ["x", 5, 1.5, True, None, [], {}]
VALID_REPORTS = [[(("chain_id",), 10**80)], [(("adapter_passed",), False)],
                 [(("checks", 0, "measured"), None), (("checks", 0, "within"), False)]]
ALIAS = [(("schema_",), REPORT_DOC["schema"]), (("schema",), GONE)]  # the model takes it, its dump is not canonical
REPORT_CHANGES: list[Any] = [
    *[[((key,), GONE)] for key in REPORT.required],  # every field missing in turn
    [(("extra",), 1)], ALIAS,
    *[[((key,), wrong)] for key in REPORT.required for wrong in WRONG_TYPES
      if type(wrong) is not type(REPORT_DOC[key])],
    [(("schema",), "fabmesh.quality-report/2")], [(("order_id",), "07")], [(("order_id",), "7\n")],
    [(("order_id",), "1" * 79)], [(("chain_id",), 0)], [(("quantity",), 0)], [(("started_at",), -1)],
    [(("contract",), REPORT_DOC["contract"].lower())], [(("partner",), "0x" + "A" * 40)], [(("process",), "")],
    [(("material",), "m" * 65)], [(("notes",), "n" * 10_001)],
    [(("checks", 0, "name"), "-bore")], [(("checks", 0, "name"), "bore\n")], [(("checks", 0, "plus"), -0.01)],
    [(("checks", 0, "minus"), -1)], [(("checks", 0, "unit"), "")], [(("checks", 0, "unit"), "u" * 17)],
    [(("checks", 0, "measured"), "10.02")], [(("checks", 0, "measured"), True)], [(("checks", 0, "nominal"), 10**400)],
    [(("checks", 0, "nominal"), 10)],
    [(("checks", 0, "within"), False)], [(("checks", 0, "within"), 1)], [(("checks", 0, "extra"), 1)],
    [(("checks", 0), "bore_d")], [(("checks", 0, "name"), GONE)], [(("checks",), list(reversed(REPORT_DOC["checks"])))],
    [(("checks",), [REPORT_DOC["checks"][0]] * 2)], [(("checks",), [REPORT_DOC["checks"][0]] * 1001)],
    [(("evidence", 0, "sha256"), REPORT_DOC["evidence"][0]["sha256"].upper())],  # wrong hash formats
    [(("evidence", 0, "sha256"), "0x" + REPORT_DOC["evidence"][0]["sha256"])],
    [(("evidence", 0, "sha256"), REPORT_DOC["evidence"][0]["sha256"][:63])], [(("evidence", 0, "size"), -1)],
    [(("evidence", 0, "size"), 13.0)], [(("evidence", 0, "name"), "")], [(("evidence", 0, "name"), "e" * 256)],
    [(("evidence",), list(reversed(REPORT_DOC["evidence"])))], [(("evidence", 1), REPORT_DOC["evidence"][0])],
    [(("other_measurements", "mass_g"), "41.5")], [(("other_measurements", "mass_g"), 41)],
    [(("other_measurements", "bore_d"), 10.0)], [(("other_measurements",), {f"m{i}": 1.0 for i in range(1001)})],
    [(("passed",), True)], [(("finished_at",), 1799999999)],
]
REPORT_BYTES = {
    "vector": VECTORS["quality_report"]["document"].encode(),
    "not canonical": json.dumps(REPORT_DOC, sort_keys=True).encode(),
    "keys unsorted": json.dumps(dict(reversed(REPORT_DOC.items())), separators=(",", ":")).encode(),
    "oversize": VECTORS["quality_report"]["document"].encode() + b" " * MAX_REPORT_BYTES,
    "bad JSON": VECTORS["quality_report"]["document"].encode()[:-1],
    "not an object": b"[]",
    "duplicate key": b'{"passed":true,"passed":false}',
    "not UTF-8": b'{"notes":"\xff"}',
    "NaN": VECTORS["quality_report"]["document"].replace('"mass_g":41.5', '"mass_g":NaN').encode(),
    **{f"{i}: {changes}"[:80]: canonical_bytes(mutated(REPORT_DOC, *changes)) for i, changes in
       enumerate(REPORT_CHANGES)},
    **{f"valid {i}: {changes}"[:80]: canonical_bytes(mutated(REPORT_DOC, *changes)) for i, changes in
       enumerate(VALID_REPORTS)},
}


@pytest.mark.parametrize("name", REPORT_BYTES)
def test_both_report_readers_agree(name: str) -> None:
    data = REPORT_BYTES[name]
    model = outcome(lambda d: parse_report(d).dump(), data)
    assert outcome(read_report, data) == model
    assert name.startswith(("vector", "valid ")) == (model[0] == "ok")  # each malformed case is one


def _reads(read: Callable[[bytes], Any], data: bytes) -> bool:
    try:
        read(data)
    except (ValueError, UnicodeDecodeError, InputError):
        return False
    return True


# the acceptors' own cases: what the readers' shared first step (strict JSON, the type and version) refuses is
# compared by test_both_*_readers_agree
@pytest.mark.parametrize("name", [name for name, data in REPORT_BYTES.items() if _reads(json.loads, data)])
def test_the_report_acceptors_take_what_the_models_take(name: str) -> None:
    document = json.loads(REPORT_BYTES[name])
    try:
        plain: Any = REPORT(document)
    except Refused:
        plain = None
    try:
        model: Any = QualityReport.model_validate(document).dump()
    except Exception:  # noqa: BLE001 - any refusal: the verdict is compared, not the exception
        model = None
    if name.startswith(f"{REPORT_CHANGES.index(ALIAS)}: "):
        assert plain is None and model is not None  # read_report leaves it to the model, which refuses its bytes
    else:
        assert plain == model


def test_report_readers_agree_on_reports_the_node_writes(tmp_path: Path) -> None:
    (tmp_path / "cmm.csv").write_bytes(b"length,120.1\n")
    spec = SPEC_DOC | {"tolerances": SPEC_DOC["tolerances"] | {"flat": {"nominal": 0, "plus": 1, "minus": 0,
                                                                          "unit": "mm"}}}
    for passed, measured in ((True, {"length": 120, "bore_d": 10.0, "mass_g": 3}), (False, {"length": 120.2})):
        report = build_report(ProductionResult(passed=passed, measurements=measured, evidence=(tmp_path / "cmm.csv",),
                                               notes="lot 7"), spec, order_id=2**70, chain_id=31337,
                              contract=REPORT_DOC["contract"], partner=REPORT_DOC["partner"], started_at=1.5,
                              finished_at=2, created_at=3)
        data = canonical_json(report)
        assert read_report(data) == parse_report(data).dump() == report.dump()


# ---- the order spec ---------------------------------------------------------------------------------------------

#: what ProductionSpec and Tolerance (lax models) coerce and the acceptors leave to them
LAX = [[(("quantity",), "5")], [(("quantity",), True)], [(("quantity",), 5.0)],
       [(("tolerances", "length", "nominal"), "120.0")], [(("tolerances", "length", "plus"), True)]]
SPEC_CHANGES: list[Any] = [
    *LAX,
    *[[((key,), GONE)] for key in PRODUCTION.required],
    *[[((key,), wrong)] for key in PRODUCTION.required for wrong in WRONG_TYPES
      if type(wrong) is not type(SPEC_DOC[key]) and [((key,), wrong)] not in LAX],
    [(("quantity",), 0)], [(("quantity",), 10**9 + 1)], [(("quantity",), 1.5)], [(("quantity",), "x")],
    [(("process",), "")], [(("material",), "m" * 65)], [(("tolerances",), [])], [(("tolerances",), GONE)],
    [(("tolerances", "-a"), SPEC_DOC["tolerances"]["length"])],
    [(("tolerances", "a\n"), SPEC_DOC["tolerances"]["length"])],
    [(("tolerances",), {f"t{i}": SPEC_DOC["tolerances"]["length"] for i in range(1001)})],
    [(("tolerances", "length"), 5)],
    [(("tolerances", "length", "extra"), 1)], [(("tolerances", "length", "unit"), GONE)],
    [(("tolerances", "length", "unit"), "")], [(("tolerances", "length", "minus"), -0.1)],
    [(("tolerances", "length", "nominal"), "inf")], [(("tolerances", "length", "nominal"), None)],
    [(("region",), 5)], [(("certifications",), "iso")], [(("later_field",), {"kept": True})],  # kept as they are
    [(("design",), GONE)], [(("design",), "x")], [(("design", "cid"), GONE)], [(("design", "name"), "n" * 256)],
    [(("design", "size"), -1)], [(("design", "size"), 684.0)], [(("design", "cid"), "b" * 129)],
    [(("design", "sha256"), SPEC_DOC["design"]["sha256"].upper())],
    [(("design", "sha256"), SPEC_DOC["design"]["sha256"][2:])],
    [(("design", "sha256"), SPEC_DOC["design"]["sha256"] + "\n")], [(("design", "mime"), "model/stl")],
    *[[(("geometry",), geometry)] for geometry in GEOMETRIES.values()],
    [(("geometry",), STL | {"mass_g": 12.5})],
    [(("geometry",), "stl")], [(("geometry",), mutated(STL, (("format",), GONE)))],
    [(("geometry",), STL | {"format": "step"})], [(("geometry",), STL | {"format": 1})],
    [(("geometry",), STL | {"triangles": 0})], [(("geometry",), STL | {"watertight": 1})],
    [(("geometry",), STL | {"volume_mm3": -1.0})], [(("geometry",), mutated(STL, (("area_mm2",), GONE)))],
    [(("geometry",), STL | {"extents_mm": {"min": [0.0], "max": [1.0, 1.0]}})],
    [(("geometry",), STL | {"extents_mm": {"min": [0, 0, 0, 0], "max": [1, 1, 1]}})],
    [(("geometry",), STL | {"extents_mm": {"min": [0, True], "max": [1, 1]}})],
    [(("geometry",), STL | {"extents_mm": {"min": [0, 0], "max": [1, 1], "extra": 1}})],
    [(("geometry",), GEOMETRIES["gcode"] | {"filament_diameter_mm": 0})],
    [(("geometry",), GEOMETRIES["gcode"] | {"print_time_s": "12"})],
    [(("geometry",), GEOMETRIES["gcode"] | {"layers": -1})],
    [(("geometry",), GEOMETRIES["dxf"] | {"ignored_entities": 1.5})],
    [(("geometry",), GEOMETRIES["dxf"] | {"format": "stl"})],
    [(("type",), "fabmesh/order-draft")], [(("version",), 2)], [(("version",), True)], [(("version",), GONE)],
]
SPEC_BYTES = {
    "vector": VECTORS["spec"]["document"].encode(),
    "vector with geometry": VECTORS["spec_geometry"]["document"].encode(),
    "oversize": VECTORS["spec"]["document"].encode() + b" " * MAX_SPEC_BYTES,
    "bad JSON": b'{"type": "fabmesh/order-spec",',
    "not an object": b'"fabmesh/order-spec"',
    "duplicate key": VECTORS["spec"]["document"].replace('"quantity":12', '"quantity":12,"quantity":13').encode(),
    **{f"{i}: {changes}"[:80]: json.dumps(mutated(SPEC_DOC, *changes)).encode() for i, changes in
       enumerate(SPEC_CHANGES)},
}


@pytest.mark.parametrize("name", SPEC_BYTES)
def test_both_spec_readers_agree(name: str) -> None:
    data = SPEC_BYTES[name]
    model = outcome(lambda d: (read_spec_document(d), json.loads(d))[1], data)
    assert outcome(read_spec, data) == model


@pytest.mark.parametrize("name", [name for name, data in SPEC_BYTES.items() if _reads(spec_object, data)])
def test_the_spec_acceptors_take_what_the_models_take_but_the_lax_coercions(name: str) -> None:
    data = SPEC_BYTES[name]
    document = spec_object(data)
    model = outcome(read_spec_document, data)[0] == "ok"
    lax = any(name.startswith(f"{i}: ") for i in range(len(LAX)))
    assert plain_valid(document) == (model and not lax)
    assert model or not lax  # each lax case is one the model takes


# ---- one definition ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("acceptor", "model"), [
    (REPORT, QualityReport), (CHECK, Check), (EVIDENCE, Evidence), (PRODUCTION, ProductionSpec),
    (TOLERANCE, Tolerance), (DESIGN, DesignFacts), (EXTENTS, Extents), (MESH, MeshGeometry),
    (GCODE, GcodeGeometry), (DXF, DxfGeometry)])
def test_each_acceptor_names_its_models_fields(acceptor: Obj, model: type[BaseModel]) -> None:
    fields = {info.alias or name: info for name, info in model.model_fields.items()}
    assert set(acceptor.required) == {key for key, info in fields.items() if info.is_required()}
    assert set(acceptor.defaulted) == {key for key, info in fields.items() if not info.is_required()}
    assert acceptor.extra == (model.model_config.get("extra") == "allow")
    assert not accepts(acceptor, [])


def test_a_valid_report_and_spec_are_read_without_pydantic() -> None:
    code = ("import sys\n"
            "from pynode.documents.report_rules import read_report\n"
            "from pynode.documents.spec_rules import read_spec\n"
            f"assert read_report({REPORT_BYTES['vector']!r})['passed'] is False\n"
            f"assert read_spec({SPEC_BYTES['vector with geometry']!r})['geometry']['format'] == 'stl'\n"
            "print(sorted(name for name in sys.modules if name.startswith('pydantic')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == "[]\n"
