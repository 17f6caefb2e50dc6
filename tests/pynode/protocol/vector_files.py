"""docs/vectors/*.json as the vector tests read them: the files, hex, and the v2 structs of the story's order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pynode.protocol.eip712 import Domain
from pynode.protocol.v2.types import FIELDS, OrderDocs, OrderSpec, OrderState, OrderTerms, Settlement

VECTORS = Path(__file__).resolve().parents[3] / "docs" / "vectors"
ADDRESS_FIELDS = {"buyer", "token", "arbitrator", "partner", "payee", "inspector"}


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def b(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def struct_of(cls: type, value: dict[str, Any]) -> Any:
    return cls(**{k: b(v) if isinstance(v, str) and k not in ADDRESS_FIELDS else tuple(v) if isinstance(v, list)
                  else v for k, v in value.items()})


def domain_of(value: dict[str, Any]) -> Domain:
    return Domain(value["name"], value["version"], value["chainId"], value["verifyingContract"])


def typed_of(cls: type, message: dict[str, Any]) -> Any:
    """An EIP-712 message of the vectors (Solidity names, bytes as 0x-hex) as its pynode struct."""
    return cls(*(b(message[n]) if kind.startswith("bytes") else message[n] for n, kind in FIELDS[cls]))


SEG, ENV, DOCS, V2 = (load(f"{n}.json") for n in ("segmented", "envelope", "documents", "v2"))
DOCS_V2: OrderDocs = struct_of(OrderDocs, V2["docs"]["value"])
SPEC_V2: OrderSpec = struct_of(OrderSpec, V2["spec"]["value"])
TERMS_V2: OrderTerms = struct_of(OrderTerms, V2["terms"]["value"])
STATE_V2: OrderState = struct_of(OrderState, V2["state"]["value"])
SETTLEMENT_V2: Settlement = typed_of(Settlement, V2["eip712"]["settlement"]["message"])
