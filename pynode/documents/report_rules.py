"""The quality report's rules that need no model, and its plain reader: what the audit reads a report with.

The rules past the schema (each ``within`` and the verdict recomputed, names sorted and unique, canonical
bytes) are :func:`check_consistency`, which quality_report.parse_report applies to its model's fields too.
:func:`read_report` accepts what parse_report accepts, through the acceptors below; a report they refuse goes
to parse_report, which words the refusal, so the message is the same either way (see shapes.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from pynode.core.address import is_checksum_address
from pynode.core.errors import InputError
from pynode.core.strict_json import strict_json_loads
from pynode.documents.shapes import Obj, Refused, boolean, integer, items, number, one_of, optional, text, values, where
from pynode.documents.spec_rules import NAME_PATTERN, finite

SCHEMA: Final = "fabmesh.quality-report/1"
MAX_REPORT_BYTES = 1 << 20
ORDER_ID_PATTERN = r"^(0|[1-9][0-9]{0,77})$"
EVIDENCE_SHA256_PATTERN = r"^[0-9a-f]{64}$"

_ADDRESS = where(text(), is_checksum_address)
CHECK = Obj({"name": text(pattern=NAME_PATTERN), "nominal": number(), "plus": number(ge=0), "minus": number(ge=0),
             "unit": text(min_length=1, max_length=16), "measured": optional(number()), "within": boolean})
EVIDENCE = Obj({"name": text(min_length=1, max_length=255), "sha256": text(pattern=EVIDENCE_SHA256_PATTERN),
                "size": integer(ge=0)})
REPORT = Obj({"schema": one_of(SCHEMA), "order_id": text(pattern=ORDER_ID_PATTERN), "chain_id": integer(ge=1),
              "contract": _ADDRESS, "partner": _ADDRESS, "process": text(min_length=1, max_length=64),
              "material": text(min_length=1, max_length=64), "quantity": integer(ge=1), "adapter_passed": boolean,
              "passed": boolean, "checks": items(CHECK, max_length=1000),
              "other_measurements": values(number(), max_length=1000), "evidence": items(EVIDENCE, max_length=10_000),
              "notes": text(max_length=10_000), "started_at": integer(ge=0), "finished_at": integer(ge=0),
              "created_at": integer(ge=0)})


def within_limits(nominal: float, plus: float, minus: float, measured: float | None) -> bool:
    """nominal - minus <= measured <= nominal + plus, in decimal arithmetic; a missing value is not within."""
    if measured is None or not finite(measured):
        return False
    value, middle = Decimal(repr(float(measured))), Decimal(repr(float(nominal)))
    return middle - Decimal(repr(float(minus))) <= value <= middle + Decimal(repr(float(plus)))


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """The exact bytes to pin and hash: sorted keys, no whitespace, UTF-8."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def check_consistency(report: Mapping[str, Any], data: bytes, *, require_canonical: bool) -> None:
    """InputError (one line) when a schema-valid report's fields contradict themselves, or (``require_canonical``)
    when ``data`` is not exactly their canonical bytes, so the hash an auditor recomputes is the one attested."""
    checks = report["checks"]
    names = [c["name"] for c in checks]
    if names != sorted(set(names)):
        raise InputError("report: checks must be sorted by name, each name once")
    for check in checks:
        if within_limits(check["nominal"], check["plus"], check["minus"], check["measured"]) != check["within"]:
            raise InputError(f"report: checks.{check['name']}.within says {check['within']}, the numbers say "
                             f"otherwise")
    overlap = set(names) & set(report["other_measurements"])
    if overlap:
        raise InputError(f"report: {sorted(overlap)[0]} is both a check and an other measurement")
    if report["passed"] != (report["adapter_passed"] and all(c["within"] for c in checks)):
        raise InputError("report: passed contradicts adapter_passed and the checks")
    evidence = [e["name"] for e in report["evidence"]]
    if evidence != sorted(set(evidence)):
        raise InputError("report: evidence must be sorted by name, each name once")
    if report["finished_at"] < report["started_at"]:
        raise InputError("report: finished_at is before started_at")
    if require_canonical and canonical_bytes(report) != data:
        raise InputError("report: not in canonical form (sorted keys, no whitespace), so its hash is not reproducible")


def read_report(data: bytes, *, max_bytes: int = MAX_REPORT_BYTES) -> dict[str, Any]:
    """A canonical report's fields, validated as parse_report validates them; InputError (its line) otherwise."""
    try:
        fields = REPORT(strict_json_loads(data, "report", max_bytes))
    except Refused:
        from pynode.documents.quality_report import parse_report  # the models word the refusal

        return parse_report(data, max_bytes=max_bytes).dump()
    check_consistency(fields, data, require_canonical=True)
    return fields


def report_mismatch(report: Mapping[str, Any], *, order_id: int, chain_id: int, contract: str, partner: str | None,
                    passed: bool) -> tuple[str, Any, Any] | None:
    """The first field where the report's fields contradict the order it is attested or shipped for, as
    (field, the report's value, the expected value), or None."""
    for key, want in (("order_id", str(order_id)), ("chain_id", chain_id), ("contract", contract),
                      ("partner", partner), ("passed", passed)):
        if report[key] != want:
            return key, report[key], want
    return None
