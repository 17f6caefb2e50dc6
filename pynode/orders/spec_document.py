"""The order spec document a buyer pins on IPFS (its CID digest is `OrderDocs.specCid`).

Manufacturers' nodes read it to decide and to produce; the fields the node
needs are validated by pynode.daemon.spec.ProductionSpec, and the rest
(certifications, region, design facts, notes) are kept for people and audits.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pynode.core.errors import InputError
from pynode.core.strict_json import brief, strict_json_loads
from pynode.daemon.spec import ProductionSpec, one_line, parse_spec

SPEC_TYPE = "fabmesh/order-spec"
SPEC_VERSION = 1
MAX_SPEC_BYTES = 256 * 1024


class DesignFacts(BaseModel):
    """The spec's ``design`` object: what the partner's node names the file and what auditors compare."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    name: str = Field(max_length=255)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    cid: str = Field(max_length=128)


def _validate(document: dict[str, Any]) -> ProductionSpec:
    """The production fields, and the design facts when the document has them; InputError (one line) otherwise."""
    spec = parse_spec(document)
    if "design" in document:
        try:
            DesignFacts.model_validate(document["design"])
        except ValidationError as exc:
            raise InputError(one_line(exc, "order spec: design")) from None
    return spec


def build_spec_document(*, process: str, material: str, quantity: int, tolerances: dict, certifications: list[str],
                        region: str, design_name: str, design_size: int, design_sha256: bytes, design_cid: str,
                        notes: str = "") -> bytes:
    document = {
        "type": SPEC_TYPE, "version": SPEC_VERSION, "process": process, "material": material,
        "quantity": quantity, "tolerances": tolerances, "certifications": certifications, "region": region,
        "design": {"name": design_name, "size": design_size, "sha256": "0x" + design_sha256.hex(),
                   "cid": design_cid},
        "notes": notes,
    }
    _validate(document)  # refuse to publish what a node would refuse to read
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def read_spec_document(data: bytes) -> ProductionSpec:
    document = strict_json_loads(data, "order spec", MAX_SPEC_BYTES)
    if not isinstance(document, dict) or document.get("type") != SPEC_TYPE:
        raise InputError(f"order spec: not a {SPEC_TYPE} document")
    if type(document.get("version")) is not int or document["version"] != SPEC_VERSION:
        raise InputError(f"order spec: unsupported version {brief(document.get('version'))}")
    return _validate(document)
