"""The quality report: what was measured against what the order asked for, with hashes of the evidence.

The node pins the report on IPFS and attests its hash on chain, so the bytes
must be reproducible: :func:`canonical_json` is sorted keys, no whitespace,
UTF-8, no NaN/Infinity, and every number in the document is a float or an int
by schema (floats always print with a fraction or exponent, e.g. ``120.0``),
so parse -> serialize gives back the same bytes. Readers use
:func:`parse_report`: size cap, strict schema, and it recomputes every
``within`` and the overall verdict, so a report cannot claim a pass its own
numbers contradict (report_rules.py: those rules, and the audit's reader, which
accepts what these models accept without importing pydantic).

Tolerance checks use the numbers' shortest decimal form (``Decimal(repr(x))``):
nominal 10.0, plus 0.1 accepts 10.1 exactly, as a person reading the spec would,
instead of depending on binary float rounding.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pynode.core.address import is_checksum_address, keccak, to_checksum_address
from pynode.core.errors import InputError
from pynode.core.strict_json import strict_json_loads
from pynode.documents.report_rules import (
    EVIDENCE_SHA256_PATTERN,
    MAX_REPORT_BYTES,
    ORDER_ID_PATTERN,
    SCHEMA,
    canonical_bytes,
    check_consistency,
    within_limits,
)
from pynode.documents.spec import NAME_PATTERN, Tolerance, parse_spec
from pynode.documents.spec_rules import finite
from pynode.documents.validation import one_line

_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ProductionResult:
    """What came back from a production adapter: the shop's verdict, its measurements and the files that prove them."""

    passed: bool
    measurements: dict[str, float]
    evidence: tuple[Path, ...] = field(default_factory=tuple)
    notes: str = ""


def within(tolerance: Tolerance, measured: float | None) -> bool:
    """nominal - minus <= measured <= nominal + plus, in decimal arithmetic; a missing value is not within."""
    return within_limits(tolerance.nominal, tolerance.plus, tolerance.minus, measured)


def _address(value: str) -> str:
    if not isinstance(value, str) or not is_checksum_address(value):
        raise ValueError("must be a checksummed 0x address")
    return value


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    nominal: float
    plus: float = Field(ge=0)
    minus: float = Field(ge=0)
    unit: str = Field(min_length=1, max_length=16)
    measured: float | None  # None: the shop did not measure it (so it is not within)
    within: bool


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field(min_length=1, max_length=255)
    sha256: str = Field(pattern=EVIDENCE_SHA256_PATTERN)
    size: int = Field(ge=0)


class QualityReport(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True,
                              populate_by_name=True)

    schema_: Literal["fabmesh.quality-report/1"] = Field(alias="schema")
    order_id: str = Field(pattern=ORDER_ID_PATTERN, description="decimal: uint256 does not fit JSON numbers")
    chain_id: int = Field(ge=1)
    contract: str
    partner: str
    process: str = Field(min_length=1, max_length=64)
    material: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1)
    adapter_passed: bool
    passed: bool
    checks: list[Check] = Field(max_length=1000)
    other_measurements: dict[str, float] = Field(max_length=1000, description="measured, without a tolerance")
    evidence: list[Evidence] = Field(max_length=10_000)
    notes: str = Field(max_length=10_000)
    started_at: int = Field(ge=0, description="unix seconds")
    finished_at: int = Field(ge=0)
    created_at: int = Field(ge=0)

    _check_contract = field_validator("contract", "partner")(classmethod(lambda cls, v: _address(v)))

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as src:
        while chunk := src.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _evidence_names(paths: tuple[Path, ...]) -> list[str]:
    """Names relative to the evidence files' common folder: unique, and without local paths."""
    if not paths:
        return []
    resolved = [Path(p).resolve() for p in paths]
    root = Path(os.path.commonpath([p.parent for p in resolved]))
    names = [p.relative_to(root).as_posix() for p in resolved]
    if len(set(names)) != len(names):
        raise InputError("evidence lists the same file twice")
    return names


def build_report(result: ProductionResult, spec: Mapping[str, Any], *, order_id: int, chain_id: int,
                 contract: str, partner: str, started_at: float, finished_at: float,
                 created_at: float | None = None) -> QualityReport:
    """The report for one order: every toleranced dimension checked, evidence hashed, verdict derived."""
    parsed = parse_spec(spec)
    for name, value in result.measurements.items():
        if not finite(value):
            raise InputError(f"measurement {name} is not a finite number: {value!r}")
    checks = []
    for name in sorted(parsed.tolerances):
        tol = parsed.tolerances[name]
        measured = result.measurements.get(name)
        checks.append(Check(name=name, nominal=float(tol.nominal), plus=float(tol.plus), minus=float(tol.minus),
                            unit=tol.unit, measured=None if measured is None else float(measured),
                            within=within(tol, measured)))
    evidence = [Evidence(name=name, sha256=digest, size=size)
                for name, (digest, size) in zip(_evidence_names(result.evidence), map(sha256_file, result.evidence))]
    evidence.sort(key=lambda e: e.name)
    try:
        return QualityReport(
            schema_=SCHEMA, order_id=str(order_id), chain_id=chain_id, contract=to_checksum_address(contract),
            partner=to_checksum_address(partner), process=parsed.process, material=parsed.material,
            quantity=parsed.quantity, adapter_passed=bool(result.passed),
            passed=bool(result.passed) and all(c.within for c in checks), checks=checks,
            other_measurements={k: float(v) for k, v in sorted(result.measurements.items())
                                if k not in parsed.tolerances},
            evidence=evidence, notes=result.notes, started_at=int(started_at), finished_at=int(finished_at),
            created_at=int(time.time() if created_at is None else created_at))
    except ValidationError as exc:
        raise InputError(one_line(exc, "quality report")) from None


def canonical_json(report: QualityReport) -> bytes:
    """The exact bytes to pin and hash: sorted keys, no whitespace, UTF-8."""
    return canonical_bytes(report.dump())


def report_hashes(data: bytes) -> dict[str, str]:
    """The digests an attestation may carry: sha256 and keccak256 of the canonical bytes, 0x-hex."""
    return {"sha256": "0x" + hashlib.sha256(data).hexdigest(), "keccak256": "0x" + keccak(data).hex()}


def parse_report(data: bytes, *, require_canonical: bool = True, max_bytes: int = MAX_REPORT_BYTES) -> QualityReport:
    """Reads a report back strictly; InputError (one line) on anything malformed or self-contradicting.

    ``require_canonical``: the bytes must be exactly what ``canonical_json`` would write,
    so the hash an auditor recomputes is the one the node attested.
    """
    document = strict_json_loads(data, "report", max_bytes)
    if not isinstance(document, dict):
        raise InputError(f"report: must be a JSON object, not {type(document).__name__}")
    try:
        report = QualityReport.model_validate(document)
    except ValidationError as exc:
        raise InputError(one_line(exc, "report")) from None
    check_consistency(report.dump(), data, require_canonical=require_canonical)
    return report
