"""Quality report: canonical bytes, tolerance edges, strict parsing of documents from outside."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from eth_utils import keccak

from pynode.core.errors import InputError
from pynode.documents.quality_report import (
    MAX_REPORT_BYTES,
    ProductionResult,
    build_report,
    canonical_json,
    parse_report,
    report_hashes,
    within,
)
from pynode.documents.spec import Tolerance

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PARTNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SPEC = {"process": "cnc-milling", "material": "AlMg3", "quantity": 2,
        "tolerances": {"length": {"nominal": 120, "plus": 0.1, "minus": 0.1, "unit": "mm"},
                       "bore_d": {"nominal": 10.0, "plus": 0.02, "minus": 0.01, "unit": "mm"}}}


def report_for(result: ProductionResult, spec: dict = SPEC):
    return build_report(result, spec, order_id=2**70, chain_id=31337, contract=CONTRACT.lower(), partner=PARTNER,
                        started_at=1_700_000_000.7, finished_at=1_700_000_100, created_at=1_700_000_200)


@pytest.fixture
def evidence(tmp_path: Path) -> tuple[Path, ...]:
    (tmp_path / "photos").mkdir()
    (tmp_path / "cmm.csv").write_bytes(b"length,120.1\n")
    (tmp_path / "photos" / "top.jpg").write_bytes(b"\xff\xd8" * 1000)
    return tmp_path / "photos" / "top.jpg", tmp_path / "cmm.csv"


def test_roundtrip_is_byte_exact(evidence: tuple[Path, ...]) -> None:
    result = ProductionResult(passed=True, measurements={"length": 120.1, "bore_d": 10.0, "weight_g": 81},
                              evidence=evidence, notes="lot7—ok")
    report = report_for(result)
    data = canonical_json(report)
    assert b" " not in data and "lot7—ok".encode() in data  # no whitespace, UTF-8 as is
    assert data.decode().startswith('{"adapter_passed":true,"chain_id":31337,"checks":[{"measured":10.0,')
    assert '"nominal":120.0' in data.decode() and '"order_id":"1180591620717411303424"' in data.decode()
    assert report.passed and report.contract == CONTRACT and report.started_at == 1_700_000_000
    assert [c.name for c in report.checks] == ["bore_d", "length"]
    assert report.other_measurements == {"weight_g": 81.0}
    assert [(e.name, e.size) for e in report.evidence] == [("cmm.csv", 13), ("photos/top.jpg", 2000)]
    assert report.evidence[0].sha256 == hashlib.sha256(b"length,120.1\n").hexdigest()
    parsed = parse_report(data)
    assert parsed == report and canonical_json(parsed) == data
    assert report_hashes(data) == {"sha256": "0x" + hashlib.sha256(data).hexdigest(),
                                   "keccak256": "0x" + keccak(data).hex()}
    assert canonical_json(report_for(result)) == data  # reproducible


@pytest.mark.parametrize(("nominal", "plus", "minus", "measured", "expected"), [
    (10.0, 0.1, 0.1, 10.1, True),  # exactly at the upper limit
    (10.0, 0.1, 0.1, 9.9, True),  # exactly at the lower limit
    (10.0, 0.1, 0.1, 10.100000000000001, False),  # one ulp above
    (10.0, 0.1, 0.1, 9.899999999999999, False),
    (0.7, 0.1, 0.0, 0.8, True),  # binary floats would say 0.7 + 0.1 < 0.8
    (0.0, 0.0, 0.0, 0.0, True),  # a zero-width band accepts only the nominal
    (0.0, 0.0, 0.0, -0.0, True),
    (0.0, 0.05, 0.0, -1e-9, False),  # one-sided tolerance
    (-5.0, 0.5, 0.5, -5.5, True),  # negative nominals
    (10.0, 0.1, 0.1, None, False),  # not measured
    (10.0, 0.1, 0.1, float("nan"), False),
])
def test_tolerance_edges(nominal: float, plus: float, minus: float, measured: float | None, expected: bool) -> None:
    assert within(Tolerance(nominal=nominal, plus=plus, minus=minus, unit="mm"), measured) is expected


def test_verdict_needs_the_adapter_and_every_check() -> None:
    failed_by_shop = report_for(ProductionResult(passed=False, measurements={"length": 120.0, "bore_d": 10.0}))
    assert not failed_by_shop.passed and all(c.within for c in failed_by_shop.checks)
    unmeasured = report_for(ProductionResult(passed=True, measurements={"length": 120.0}))
    assert not unmeasured.passed
    first = unmeasured.checks[0]
    assert (first.name, first.measured, first.within) == ("bore_d", None, False)
    out = report_for(ProductionResult(passed=True, measurements={"length": 120.2, "bore_d": 10.0}))
    assert not out.passed
    for report in (failed_by_shop, unmeasured, out):
        assert parse_report(canonical_json(report)) == report


def test_build_rejects_non_finite_measurements_and_bad_specs() -> None:
    with pytest.raises(InputError, match="bore_d is not a finite number"):
        report_for(ProductionResult(passed=True, measurements={"bore_d": float("inf")}))
    with pytest.raises(InputError, match=r"spec: tolerances\.length\.plus"):
        report_for(ProductionResult(passed=True, measurements={}),
                   {**SPEC, "tolerances": {"length": {"nominal": 1, "plus": -1, "minus": 0, "unit": "mm"}}})


def good_document() -> dict:
    return json.loads(canonical_json(report_for(ProductionResult(passed=True, measurements={
        "length": 120.0, "bore_d": 10.01, "temp_c": 21.5}))))


def canonical(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def edit(**changes: object) -> bytes:
    document = good_document()
    document.update(changes)
    return canonical(document)


def edit_check(index: int, **changes: object) -> bytes:
    document = good_document()
    document["checks"][index].update(changes)
    return canonical(document)


MALFORMED = {
    "not json": (b"{", "invalid JSON"),
    "not an object": (b"[]", "must be a JSON object"),
    "not utf-8": (b'{"notes":"\xff"}', "not UTF-8"),
    "oversized": (b" " * (MAX_REPORT_BYTES + 1), "larger than"),
    "duplicate key": (b'{"passed":true,"passed":false}', "duplicate key 'passed'"),
    "NaN": (canonical(good_document()).replace(b'"measured":10.01', b'"measured":NaN'), "NaN"),
    "missing key": (canonical({k: v for k, v in good_document().items() if k != "partner"}), "partner: Field required"),
    "unknown key": (edit(signature="0x00"), "signature: Extra inputs are not permitted"),
    "wrong schema": (edit(schema="fabmesh.quality-report/2"), "schema: Input should be"),
    "order id as number": (edit(order_id=5), "order_id: Input should be a valid string"),
    "order id leading zero": (edit(order_id="05"), "order_id: String should match pattern"),
    "lowercase address": (edit(partner=PARTNER.lower()), "partner: Value error, must be a checksummed"),
    "passed as 1": (edit(passed=1), "passed: Input should be a valid boolean"),
    "measured as string": (edit_check(0, measured="10.01"), "checks.0.measured"),
    "within lies": (edit_check(1, measured=120.5), "checks.length.within says True"),
    "passed lies": (edit(adapter_passed=False), "passed contradicts"),
    "checks unsorted": (canonical({**good_document(), "checks": good_document()["checks"][::-1]}), "sorted by name"),
    "check and other": (edit(other_measurements={"length": 1.0}), "both a check and an other measurement"),
    "bad sha256": (edit(evidence=[{"name": "a", "sha256": "XYZ", "size": 1}]), "evidence.0.sha256"),
    "time travel": (edit(started_at=2_000_000_000), "finished_at is before started_at"),
    "not canonical": (json.dumps(good_document(), indent=1).encode(), "not in canonical form"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_reports_raise_one_line_input_errors(case: str) -> None:
    data, message = MALFORMED[case]
    with pytest.raises(InputError) as info:
        parse_report(data)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_non_canonical_reports_can_be_read_when_asked() -> None:
    data = json.dumps(good_document(), indent=1).encode()
    assert parse_report(data, require_canonical=False).passed
