"""v2 EIP-712 typed data: Quote (partner), Attestation (inspector), Settlement (buyer or partner).

Type strings and type hashes derive from each struct's one field list (types.FIELDS); the domain is the
book's own ERC-5267 ``eip712Domain()`` (pynode.protocol.eip712.Domain), never a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynode.core.address import keccak, keccak_text, to_checksum_address
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2.types import FIELDS, Attestation, Quote, Settlement

# eth_account (eth_abi, eth_utils, pydantic, pycryptodome behind it) loads to encode, sign or recover a message
# only: the audit of orders without quotes or attestBySig, and every read, go without it
if TYPE_CHECKING:
    from eth_account.messages import SignableMessage
    from eth_account.signers.local import LocalAccount

Signed = Quote | Attestation | Settlement
_ADDRESS = "address"


def type_string(struct: type) -> str:
    """E.g. ``Quote(bytes32 termsHash,address partner,...)``; its keccak is the contract's typehash."""
    return struct.__name__ + "(" + ",".join(f"{kind} {name}" for name, kind in FIELDS[struct]) + ")"


def type_hash(struct: type) -> bytes:
    return keccak_text(type_string(struct))


def message(value: Signed) -> dict[str, Any]:
    """The EIP-712 message of a struct: its values under the Solidity field names."""
    return {name: to_checksum_address(str(v)) if kind == _ADDRESS else v
            for (name, kind), v in zip(FIELDS[type(value)], value, strict=True)}


def signable(domain: Domain, value: Signed) -> SignableMessage:
    from eth_account.messages import encode_typed_data

    struct = type(value)
    types = {struct.__name__: [{"name": name, "type": kind} for name, kind in FIELDS[struct]]}
    return encode_typed_data(domain.as_dict(), types, message(value))


def digest(domain: Domain, value: Signed) -> bytes:
    """keccak256(0x1901 | domainSeparator | hashStruct(value)): what the signature signs."""
    signed = signable(domain, value)
    return keccak(b"\x19" + signed.version + signed.header + signed.body)


def domain_separator(domain: Domain, value: Signed) -> bytes:
    return bytes(signable(domain, value).header)


def struct_hash(domain: Domain, value: Signed) -> bytes:
    return bytes(signable(domain, value).body)


def sign(account: LocalAccount, domain: Domain, value: Signed) -> bytes:
    """The 65-byte r | s | v signature (v = 27 or 28) the book's ECDSA check takes."""
    return bytes(account.sign_message(signable(domain, value)).signature)


def recover(domain: Domain, value: Signed, signature: bytes) -> str:
    """The signer's address; ValueError (or eth-keys' BadSignature) if ``signature`` does not recover."""
    from eth_account import Account

    return str(Account.recover_message(signable(domain, value), signature=bytes(signature)))
