"""The signed-quote document: a partner's EIP-712 Quote and its signature as one JSON file.

``fabmesh quote --sign-only`` writes it and ``fabmesh award --quote FILE`` reads it; daemons pass the same
bytes to buyer watchers. Canonical JSON (sorted keys, no whitespace, ASCII)::

    {"chain_id": 31337, "order_book": "0x…",
     "quote": {"bond": "<decimal>", "expiry": <unix s>, "lead_time": <s>, "nonce": "<decimal>",
               "partner": "0x…", "payee": "0x…", "price": "<decimal>", "terms_hash": "0x<32 bytes>"},
     "signature": "0x<65 bytes>", "type": "fabmesh/signed-quote", "version": 1}

uint96 and uint256 values are decimal strings (JSON numbers lose precision past 2**53). The chain id and
book say which EIP-712 domain the signature is under; the reader still takes the domain from the book.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from pynode.core.address import is_address, to_checksum_address
from pynode.core.errors import InputError
from pynode.documents.validation import document_fields, exact_fields
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import eip712
from pynode.protocol.v2.types import Quote

if TYPE_CHECKING:  # signing needs an account; reading and checking a quote document does not load eth_account
    from eth_account.signers.local import LocalAccount

DOCUMENT_TYPE = "fabmesh/signed-quote"
DOCUMENT_VERSION = 1
MAX_DOCUMENT = 4096
_WHAT = "signed quote"
_FIELDS = {"type", "version", "chain_id", "order_book", "quote", "signature"}
#: quote field → (JSON form, bits): "dec" a decimal string, "int" a JSON integer, "hex" 0x-hex bytes
_QUOTE_FIELDS = {"terms_hash": ("hex", 256), "partner": ("address", 160), "payee": ("address", 160),
                 "price": ("dec", 96), "bond": ("dec", 96), "lead_time": ("int", 32), "expiry": ("int", 40),
                 "nonce": ("dec", 256)}
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,77})$")


class SignedQuote(NamedTuple):
    chain_id: int
    order_book: str
    quote: Quote
    signature: bytes

    def recover_signer(self, domain: Domain) -> str:
        """Who signed it under ``domain`` (the book's ``eip712Domain()``, which must be the one it names)."""
        if (domain.chain_id, domain.verifying_contract) != (self.chain_id, self.order_book):
            raise InputError(f"{_WHAT} is for chain {self.chain_id} / {self.order_book}, the domain is "
                             f"chain {domain.chain_id} / {domain.verifying_contract}")
        try:
            return eip712.recover(domain, self.quote, self.signature)
        except Exception as exc:  # a malformed signature is a finding, not a crash
            raise InputError(f"{_WHAT}: signature does not recover") from exc

    def to_json(self) -> bytes:
        quote = {name: _json_value(form, value)
                 for (name, (form, _)), value in zip(_QUOTE_FIELDS.items(), self.quote, strict=True)}
        document = {"type": DOCUMENT_TYPE, "version": DOCUMENT_VERSION, "chain_id": self.chain_id,
                    "order_book": to_checksum_address(self.order_book), "quote": quote,
                    "signature": "0x" + self.signature.hex()}
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign_quote(partner: LocalAccount, domain: Domain, quote: Quote) -> SignedQuote:
    """Signs under ``domain``, the book's own ``eip712Domain()``."""
    return SignedQuote(domain.chain_id, domain.verifying_contract, quote, eip712.sign(partner, domain, quote))


def parse_signed_quote(data: bytes | str) -> SignedQuote:
    """Strictly parse a signed-quote document; InputError (one line) on anything malformed."""
    document = document_fields(data, what=_WHAT, document_type=DOCUMENT_TYPE, version=DOCUMENT_VERSION,
                               fields=_FIELDS, max_bytes=MAX_DOCUMENT)
    quote = document["quote"]
    if not isinstance(quote, dict):
        raise InputError(f"{_WHAT}: quote must be a JSON object")
    exact_fields(quote, set(_QUOTE_FIELDS), f"{_WHAT}: quote")
    values = [_value(f"quote.{name}", quote[name], form, bits) for name, (form, bits) in _QUOTE_FIELDS.items()]
    chain_id = _value("chain_id", document["chain_id"], "int", 256)
    if chain_id == 0:
        raise InputError(f"{_WHAT}: chain_id must be at least 1")
    return SignedQuote(chain_id, _value("order_book", document["order_book"], "address", 160), Quote(*values),
                       _hex("signature", document["signature"], 65))


def _json_value(form: str, value: Any) -> Any:
    if form == "hex":
        return "0x" + bytes(value).hex()
    if form == "address":
        return to_checksum_address(value)
    return str(value) if form == "dec" else int(value)


def _value(name: str, value: Any, form: str, bits: int) -> Any:
    if form == "hex":
        return _hex(name, value, bits // 8)
    if form == "address":
        if not isinstance(value, str) or not is_address(value):
            raise InputError(f"{_WHAT}: {name} is not an address")
        return to_checksum_address(value)
    if form == "dec":
        if not isinstance(value, str) or not _DECIMAL.match(value):
            raise InputError(f"{_WHAT}: {name} must be a decimal string")
        number = int(value)
    elif type(value) is int:
        number = value
    else:
        raise InputError(f"{_WHAT}: {name} must be an integer")
    if not 0 <= number < 2**bits:
        raise InputError(f"{_WHAT}: {name} does not fit uint{bits}")
    return number


def _hex(name: str, value: Any, size: int) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(f"0x[0-9a-fA-F]{{{2 * size}}}", value):
        raise InputError(f"{_WHAT}: {name} must be 0x-hex of {size} bytes")
    return bytes.fromhex(value[2:])
