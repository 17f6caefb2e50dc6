"""The order spec: the document a buyer pins on IPFS (its CID digest is `OrderDocs.specCid`).

Manufacturers' nodes read it to decide and to produce: the fields the node
needs (process, material, quantity and named tolerances) are validated by
:class:`ProductionSpec`, shared by the adapters (what to make) and the quality
report (what to check); the rest (certifications, region, design facts, the design's
public geometry, notes) is kept for people, quotes and audits.
Numbers are floats as they appear in JSON; tolerance checks are done on their
shortest decimal form (see ``quality_report.within``) so 10.1 is "at the limit" of
10.0 +0.1 exactly as a human reads it. The audit reads specs with spec_rules.read_spec,
which takes what these models take without importing pydantic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pynode.core.errors import InputError
from pynode.documents.spec_rules import MAX_SPEC_BYTES as MAX_SPEC_BYTES  # the readers' limit, named here too
from pynode.documents.spec_rules import (
    NAME_PATTERN,
    SHA256_HEX_PATTERN,
    SPEC_TYPE,
    SPEC_VERSION,
    spec_object,
    tolerance_name_ok,
)
from pynode.documents.validation import one_line


class Tolerance(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    nominal: float
    plus: float = Field(ge=0)
    minus: float = Field(ge=0)
    unit: str = Field(min_length=1, max_length=16)


class ProductionSpec(BaseModel):
    """The fields the node needs; other keys of the buyer's spec are kept (and handed to the shop)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, frozen=True)

    process: str = Field(min_length=1, max_length=64)
    material: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10**9)
    tolerances: dict[str, Tolerance] = Field(default_factory=dict, max_length=1000)

    @field_validator("tolerances")
    @classmethod
    def _names(cls, value: dict[str, Tolerance]) -> dict[str, Tolerance]:
        for name in value:
            if not tolerance_name_ok(name):
                raise ValueError(f"tolerance name {name!r} must match {NAME_PATTERN}")
        return value


def parse_spec(spec: Mapping[str, Any]) -> ProductionSpec:
    try:
        return ProductionSpec.model_validate(dict(spec))
    except ValidationError as exc:
        raise InputError(one_line(exc, "spec")) from None


class DesignFacts(BaseModel):
    """The spec's ``design`` object: what the partner's node names the file and what auditors compare."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    name: str = Field(max_length=255)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256_HEX_PATTERN)
    cid: str = Field(max_length=128)


def _validate(document: dict[str, Any]) -> ProductionSpec:
    """The production fields, and the design facts when the document has them; InputError (one line) otherwise."""
    spec = parse_spec(document)
    if "design" in document:
        try:
            DesignFacts.model_validate(document["design"])
        except ValidationError as exc:
            raise InputError(one_line(exc, "order spec: design")) from None
    if "geometry" in document:
        from pynode.documents.geometry import validate_geometry  # its models are built for a spec that has one

        validate_geometry(document["geometry"])
    return spec


def build_spec_document(*, process: str, material: str, quantity: int, tolerances: dict, certifications: list[str],
                        region: str, design_name: str, design_size: int, design_sha256: bytes, design_cid: str,
                        notes: str = "", geometry: dict[str, Any] | None = None) -> bytes:
    """The spec's bytes; ``geometry`` (the design's public metrics) is written only when given, so a spec
    without it is byte for byte what older writers produced."""
    document: dict[str, Any] = {
        "type": SPEC_TYPE, "version": SPEC_VERSION, "process": process, "material": material,
        "quantity": quantity, "tolerances": tolerances, "certifications": certifications, "region": region,
        "design": {"name": design_name, "size": design_size, "sha256": "0x" + design_sha256.hex(),
                   "cid": design_cid},
        "notes": notes,
    }
    if geometry is not None:
        document["geometry"] = geometry
    _validate(document)  # refuse to publish what a node would refuse to read
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def read_spec_document(data: bytes) -> ProductionSpec:
    return _validate(spec_object(data))
