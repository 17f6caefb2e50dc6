"""The order draft: an order sealed and pinned, its terms fixed, not posted. Quote-first needs it: a partner's
quote names the terms hash, so the buyer writes the draft (`order draft`), the partner quotes it (`quote --draft`),
and the buyer posts it already awarded (`order post --draft FILE --quote FILE`). Schema:
docs/schemas/order-draft.schema.json.

Canonical JSON (sorted keys, no whitespace, ASCII)::

    {"chain_id": 31337, "order_book": "0x…", "design": {"cid": "bafy…", "plaintext_sha256": "0x…",
     "plaintext_size": <int>, "ciphertext_size": <int>}, "spec_cid": "bafy…", "key_backup_cid": "Qm…",
     "terms": {<OrderTerms by its Solidity names>}, "spec": {…}, "docs": {…},
     "type": "fabmesh/order-draft", "version": 1}

Struct fields use the Solidity names (protocol.v2.types.FIELDS): addresses EIP-55, integers decimal strings,
bytesN 0x-hex, address[] a list. Public data only: the design's content key stays sealed in the buyer's
design-key store. A reader recomputes specHash and docsHash, so a draft whose parts disagree is refused.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from pynode.core.address import is_address, to_checksum_address
from pynode.core.errors import InputError
from pynode.documents.validation import document_fields, exact_fields
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import FIELDS, OrderDocs, OrderSpec, OrderTerms

DOCUMENT_TYPE = "fabmesh/order-draft"
DOCUMENT_VERSION = 1
MAX_DOCUMENT = 16384
_WHAT = "order draft"
_TOP = {"type", "version", "chain_id", "order_book", "design", "spec_cid", "key_backup_cid", "terms", "spec", "docs"}
_DESIGN = {"cid": str, "plaintext_sha256": bytes, "plaintext_size": int, "ciphertext_size": int}
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,77})", re.ASCII)
_BYTES = re.compile(r"bytes([0-9]+)")
_CID = re.compile(r"[A-Za-z0-9]{1,100}", re.ASCII)


class OrderDraft(NamedTuple):
    chain_id: int
    order_book: str
    terms: OrderTerms
    spec: OrderSpec
    docs: OrderDocs
    design: dict[str, Any]  # the SealedDesign's public fields
    spec_cid: str
    key_backup_cid: str

    @property
    def order_id(self) -> int:
        return codec.order_id(self.terms)

    def to_json(self) -> bytes:
        design = {**self.design, "plaintext_sha256": "0x" + bytes(self.design["plaintext_sha256"]).hex()}
        document = {"type": DOCUMENT_TYPE, "version": DOCUMENT_VERSION, "chain_id": self.chain_id,
                    "order_book": to_checksum_address(self.order_book), "design": design, "spec_cid": self.spec_cid,
                    "key_backup_cid": self.key_backup_cid, "terms": _encode(self.terms), "spec": _encode(self.spec),
                    "docs": _encode(self.docs)}
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _encode(struct: NamedTuple) -> dict[str, Any]:
    return {name: _word(kind, value) for (name, kind), value in zip(FIELDS[type(struct)], struct, strict=True)}


def _word(kind: str, value: Any) -> Any:
    if kind.endswith("[]"):
        return [_word(kind[:-2], v) for v in value]
    if kind == "address":
        return to_checksum_address(value)
    return "0x" + bytes(value).hex() if kind.startswith("bytes") else str(int(value))


def parse_order_draft(data: bytes | str) -> OrderDraft:
    """Strictly parse a draft; InputError (one line) on anything malformed or inconsistent."""
    document = document_fields(data, what=_WHAT, document_type=DOCUMENT_TYPE, version=DOCUMENT_VERSION, fields=_TOP,
                               max_bytes=MAX_DOCUMENT)
    chain_id = document["chain_id"]
    if type(chain_id) is not int or not 0 < chain_id < 1 << 64:
        raise InputError(f"{_WHAT}: chain_id must be a positive integer")
    terms: OrderTerms = _decode(OrderTerms, document["terms"], "terms")
    spec: OrderSpec = _decode(OrderSpec, document["spec"], "spec")
    docs: OrderDocs = _decode(OrderDocs, document["docs"], "docs")
    if codec.spec_hash(spec) != terms.spec_hash or codec.docs_hash(docs) != spec.docs_hash:
        raise InputError(f"{_WHAT}: terms, spec and docs do not hash to each other")
    design = document["design"]
    if not isinstance(design, dict):
        raise InputError(f"{_WHAT}: design must be an object")
    exact_fields(design, set(_DESIGN), f"{_WHAT}: design")
    for key, kind in _DESIGN.items():
        value = design[key]
        if (kind is int and (type(value) is not int or value < 0)) or (kind is str and not _cid(value)):
            raise InputError(f"{_WHAT}: design.{key} is malformed")
    parsed_design = {**design, "plaintext_sha256": _value("design.plaintext_sha256", design["plaintext_sha256"],
                                                          "bytes32")}
    for key in ("spec_cid", "key_backup_cid"):
        if not _cid(document[key]):
            raise InputError(f"{_WHAT}: {key} is not a CID")
    return OrderDraft(chain_id, _value("order_book", document["order_book"], "address"), terms, spec, docs,
                      parsed_design, document["spec_cid"], document["key_backup_cid"])


def _cid(value: Any) -> bool:
    return isinstance(value, str) and _CID.fullmatch(value) is not None


def _decode(cls: type, obj: Any, where: str) -> Any:
    fields = FIELDS[cls]
    if not isinstance(obj, dict):
        raise InputError(f"{_WHAT}: {where} must be an object")
    exact_fields(obj, {name for name, _ in fields}, f"{_WHAT}: {where}")
    return cls(*(_value(f"{where}.{name}", obj[name], kind) for name, kind in fields))


def _value(name: str, value: Any, kind: str) -> Any:
    if kind.endswith("[]"):
        if not isinstance(value, list) or len(value) > 64:
            raise InputError(f"{_WHAT}: {name} must be a list")
        return tuple(_value(name, v, kind[:-2]) for v in value)
    if kind == "address":
        if not isinstance(value, str) or not is_address(value):
            raise InputError(f"{_WHAT}: {name} is not an address")
        return to_checksum_address(value)
    size = _BYTES.fullmatch(kind)
    if size:
        if not isinstance(value, str) or not re.fullmatch(f"0x[0-9a-fA-F]{{{2 * int(size[1])}}}", value):
            raise InputError(f"{_WHAT}: {name} must be 0x-hex of {size[1]} bytes")
        return bytes.fromhex(value[2:])
    bits = int(kind.removeprefix("uint") or 256)
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise InputError(f"{_WHAT}: {name} must be a decimal string")
    number = int(value)
    if not 0 <= number < 1 << bits:
        raise InputError(f"{_WHAT}: {name} does not fit {kind}")
    return number
