"""EIP-712 typed data the OrderBook verifies: the type strings once here, the domain read from the contract.

The domain (name, version, chain id, verifying contract) is whatever the deployed contract's ERC-5267
``eip712Domain()`` returns, so a contract that changes its name or version is followed without a copy
here going stale. ``Attestation`` is the struct `attestBySig` takes; its field list is the one source of
its EIP-712 type, its ABI tuple type and the message field order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from pynode.core.address import keccak_text, to_checksum_address

# eth_account (and pycryptodome behind it) loads to sign or recover only: an audit of orders attested directly,
# and every read, go without it
if TYPE_CHECKING:
    from eth_account.messages import SignableMessage

ATTESTATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("orderId", "uint256"), ("inspector", "address"), ("reportCid", "bytes32"), ("reportHash", "bytes32"),
    ("passed", "bool"), ("nonce", "uint256"), ("deadline", "uint256"),
)
#: the Attestation struct as an ABI tuple type (calldata of attestBySig)
ATTESTATION_ABI_TYPE = "(" + ",".join(kind for _, kind in ATTESTATION_FIELDS) + ")"
#: the EIP-712 type string; its keccak is the contract's ATTESTATION_TYPEHASH
ATTESTATION_TYPE = "Attestation(" + ",".join(f"{kind} {name}" for name, kind in ATTESTATION_FIELDS) + ")"
ATTESTATION_TYPEHASH = keccak_text(ATTESTATION_TYPE)
ATTESTATION_TYPES = {"Attestation": [{"name": name, "type": kind} for name, kind in ATTESTATION_FIELDS]}
#: ERC-5267 field bits: name, version, chainId, verifyingContract (no salt, no extensions)
_DOMAIN_FIELDS = 0x0F


class Domain(NamedTuple):
    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @classmethod
    def from_eip5267(cls, result: Sequence[Any]) -> Domain:
        """The domain from ``eip712Domain()``'s (fields, name, version, chainId, verifyingContract, salt,
        extensions)."""
        fields, name, version, chain_id, contract = result[:5]
        if isinstance(fields, str):  # brownie's HexString
            fields = bytes.fromhex(fields.removeprefix("0x"))
        fields = int.from_bytes(fields, "big") if isinstance(fields, bytes | bytearray) else int(fields)
        if fields != _DOMAIN_FIELDS:
            raise ValueError(f"EIP-712 domain with fields {fields:#x}; expected name, version, chainId and "
                             "verifyingContract only")
        return cls(str(name), str(version), int(chain_id), to_checksum_address(contract))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "chainId": self.chain_id,
                "verifyingContract": self.verifying_contract}


def attestation_fields(attestation: Sequence[Any]) -> dict[str, Any]:
    """An Attestation tuple (fields in ATTESTATION_FIELDS order) by field name: ``orderId``, ``inspector``, …"""
    return dict(zip((name for name, _ in ATTESTATION_FIELDS), attestation, strict=True))


def attestation_message(domain: Domain, attestation: Sequence[Any]) -> SignableMessage:
    """The signable EIP-712 message of an Attestation tuple (fields in ATTESTATION_FIELDS order)."""
    from eth_account.messages import encode_typed_data

    message = attestation_fields(attestation)
    message["inspector"] = to_checksum_address(message["inspector"])
    return encode_typed_data(domain.as_dict(), ATTESTATION_TYPES, message)


def recover_attestation_signer(domain: Domain, attestation: Sequence[Any], signature: bytes) -> str:
    """The address that signed the Attestation; ValueError (or eth-keys' BadSignature) if it does not recover."""
    from eth_account import Account

    return str(Account.recover_message(attestation_message(domain, attestation), signature=bytes(signature)))
