"""The order spec document a buyer pins on IPFS (its CID digest is `OrderDocs.specCid`).

Manufacturers' nodes read it to decide and to produce; the fields the node
needs are validated by pynode.daemon.spec.ProductionSpec, and the rest
(certifications, region, design facts, notes) are kept for people and audits.
"""

from __future__ import annotations

import json

from pynode.daemon.spec import ProductionSpec, parse_spec, strict_json_loads
from pynode.errors import InputError

SPEC_TYPE = "fabmesh/order-spec"
SPEC_VERSION = 1
MAX_SPEC_BYTES = 256 * 1024


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
    parse_spec(document)  # refuse to publish what a node would refuse to read
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def read_spec_document(data: bytes) -> ProductionSpec:
    document = strict_json_loads(data, "order spec", MAX_SPEC_BYTES)
    if not isinstance(document, dict) or document.get("type") != SPEC_TYPE:
        raise InputError(f"order spec: not a {SPEC_TYPE} document")
    if document.get("version") != SPEC_VERSION:
        raise InputError(f"order spec: unsupported version {document.get('version')!r}")
    return parse_spec(document)
