"""The order announcement: what a buyer's watcher publishes so daemons can quote a posted order at once.

Canonical JSON (sorted keys, no whitespace, ASCII)::

    {"chain_id": 31337, "order_book": "0x…", "order_id": "<decimal>", "terms_hash": "0x<32 bytes>",
     "type": "fabmesh/order-announcement", "version": 1}

Unsigned on purpose: it is only a hint. A daemon reads the order by id from the book and quotes the terms
the chain holds (their hash must equal ``terms_hash``), so a forged announcement costs it one read.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from eth_utils import is_address

from pynode.core.address import to_checksum_address
from pynode.core.errors import InputError
from pynode.core.strict_json import strict_json_loads

DOCUMENT_TYPE = "fabmesh/order-announcement"
DOCUMENT_VERSION = 1
MAX_DOCUMENT = 1024
_WHAT = "order announcement"
_FIELDS = {"type", "version", "chain_id", "order_book", "order_id", "terms_hash"}
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,77})$")
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}$")


class OrderAnnouncement(NamedTuple):
    chain_id: int
    order_book: str
    order_id: int
    terms_hash: bytes

    def to_json(self) -> bytes:
        document = {"type": DOCUMENT_TYPE, "version": DOCUMENT_VERSION, "chain_id": self.chain_id,
                    "order_book": to_checksum_address(self.order_book), "order_id": str(self.order_id),
                    "terms_hash": "0x" + self.terms_hash.hex()}
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def parse_order_announcement(data: bytes | str) -> OrderAnnouncement:
    """Strictly parse an announcement; InputError (one line) on anything malformed."""
    document = strict_json_loads(data, _WHAT, MAX_DOCUMENT)
    if not isinstance(document, dict) or document.get("type") != DOCUMENT_TYPE:
        raise InputError(f"not a {DOCUMENT_TYPE} document")
    if set(document) != _FIELDS:
        raise InputError(f"{_WHAT}: fields must be exactly {sorted(_FIELDS)}")
    if type(document["version"]) is not int or document["version"] != DOCUMENT_VERSION:
        raise InputError(f"{_WHAT}: unsupported version")
    chain_id, book, order_id, terms_hash = (document[k] for k in ("chain_id", "order_book", "order_id", "terms_hash"))
    if type(chain_id) is not int or not 1 <= chain_id < 2**256:
        raise InputError(f"{_WHAT}: chain_id must be a positive integer")
    if not isinstance(book, str) or not is_address(book):
        raise InputError(f"{_WHAT}: order_book is not an address")
    if not isinstance(order_id, str) or not _DECIMAL.match(order_id) or int(order_id) >= 2**256:
        raise InputError(f"{_WHAT}: order_id must be a uint256 decimal string")
    if not isinstance(terms_hash, str) or not _BYTES32.match(terms_hash):
        raise InputError(f"{_WHAT}: terms_hash must be 0x-hex of 32 bytes")
    return OrderAnnouncement(chain_id, to_checksum_address(book), int(order_id), bytes.fromhex(terms_hash[2:]))
