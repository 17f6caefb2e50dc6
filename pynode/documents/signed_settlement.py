"""The signed settlement: one party's EIP-712 Settlement of a shipped or disputed v2 order (a split of the price,
and whether the partner's bond goes to the buyer) for the other party to send with `settle`
(`fabmesh arbitration offer` writes it, `arbitration settle` reads it). Canonical JSON (sorted keys, no
whitespace)::

    {"chain_id": 31337, "order_book": "0x…", "order_id": "<decimal>", "buyer_share": "<decimal>",
     "bond_to_buyer": false, "deadline": <unix s>, "signer": "0x…", "signature": "0x<65 bytes>",
     "type": "fabmesh/signed-settlement", "version": 1}

Schema: docs/schemas/signed-settlement.schema.json.
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from pynode.core.address import is_address, to_checksum_address
from pynode.core.errors import InputError
from pynode.documents.validation import document_fields
from pynode.protocol.v2.types import Settlement

DOCUMENT_TYPE = "fabmesh/signed-settlement"
_WHAT = "signed settlement"
_FIELDS = {"type", "version", "chain_id", "order_book", "order_id", "buyer_share", "bond_to_buyer", "deadline",
           "signer", "signature"}
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,77})", re.ASCII)


class SignedSettlement(NamedTuple):
    chain_id: int
    order_book: str
    settlement: Settlement
    signer: str
    signature: bytes

    def to_json(self) -> bytes:
        s = self.settlement
        document = {"type": DOCUMENT_TYPE, "version": 1, "chain_id": self.chain_id, "order_book": self.order_book,
                    "order_id": str(s.order_id), "buyer_share": str(s.buyer_share), "bond_to_buyer": s.bond_to_buyer,
                    "deadline": s.deadline, "signer": self.signer, "signature": "0x" + self.signature.hex()}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def parse_signed_settlement(data: bytes) -> SignedSettlement:
    document = document_fields(data, what=_WHAT, document_type=DOCUMENT_TYPE, version=1, fields=_FIELDS,
                               max_bytes=4096)
    numbers = [document[k] for k in ("order_id", "buyer_share")]
    if not all(isinstance(n, str) and _DECIMAL.fullmatch(n) for n in numbers) or int(numbers[1]) >= 1 << 96:
        raise InputError(f"{_WHAT}: order_id and buyer_share must be decimal strings (buyer_share a uint96)")
    chain_id, deadline = document["chain_id"], document["deadline"]
    if type(document["bond_to_buyer"]) is not bool or type(deadline) is not int or type(chain_id) is not int or \
            chain_id < 1 or not 0 <= deadline < 1 << 40:
        raise InputError(f"{_WHAT}: chain_id and deadline must be integers, bond_to_buyer true or false")
    addresses = [document[k] for k in ("order_book", "signer")]
    signature = document["signature"]
    if not all(isinstance(a, str) and is_address(a) for a in addresses) or not isinstance(signature, str) or \
            not re.fullmatch(r"0x[0-9a-fA-F]{130}", signature):
        raise InputError(f"{_WHAT}: order_book and signer must be addresses, signature 0x-hex of 65 bytes")
    settlement = Settlement(int(numbers[0]), int(numbers[1]), document["bond_to_buyer"], deadline)
    return SignedSettlement(chain_id, to_checksum_address(addresses[0]), settlement,
                            to_checksum_address(addresses[1]), bytes.fromhex(signature[2:]))
