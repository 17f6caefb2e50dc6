"""A Safe transaction (npm @safe-global/safe-smart-account 1.5) as its owners sign it: EIP-712 ``SafeTx`` under the
Safe's domain (chainId, verifyingContract), each owner signing on their own, the signatures packed in the order
the Safe checks them (ascending owner address).

A SafeProposal is the file form of one governance change: proposed once (to, value, data, operation, nonce for
one Safe on one chain), passed from owner to owner, each adding a signature, then relayed by anyone
(pynode.chain.v2.safe.Safe.exec_transaction): `fabmesh governance ... --via-safe` writes it, `governance safe
sign/show/execute` read it. Its document, fabmesh/safe-proposal v1, is docs/protocol.md §8.3 (schema
docs/schemas/safe-proposal.schema.json). No gas refunds: safeTxGas, baseGas and gasPrice are 0 and gasToken
and refundReceiver the zero address, so a failing inner call reverts the whole transaction with its own reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pynode.core.address import is_address, keccak, to_checksum_address
from pynode.core.errors import InputError
from pynode.core.strict_json import brief
from pynode.documents.validation import document_fields

if TYPE_CHECKING:
    from eth_account.messages import SignableMessage
    from eth_account.signers.local import LocalAccount

    from pynode.chain.tx import TxRequest

ZERO = "0x" + "00" * 20
CALL, DELEGATE_CALL = 0, 1  # Enum.Operation
DOCUMENT_TYPE = "fabmesh/safe-proposal"
DOCUMENT_VERSION = 1
MAX_PROPOSAL_FILE = 1 << 16  # a governance call is a few hundred bytes of calldata
_WHAT = "safe proposal"
_FIELDS = {"type", "version", "safe", "chain_id", "to", "value", "data", "operation", "nonce", "label",
           "safe_tx_hash", "signatures"}
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,77})", re.ASCII)
SIGNATURE_LENGTH = 65
SAFE_TX_FIELDS = (("to", "address"), ("value", "uint256"), ("data", "bytes"), ("operation", "uint8"),
                  ("safeTxGas", "uint256"), ("baseGas", "uint256"), ("gasPrice", "uint256"),
                  ("gasToken", "address"), ("refundReceiver", "address"), ("nonce", "uint256"))
SAFE_TX_TYPES = {"SafeTx": [{"name": name, "type": kind} for name, kind in SAFE_TX_FIELDS]}
_UINT256 = (1 << 256) - 1


@dataclass(frozen=True)
class SafeProposal:
    """One Safe transaction to sign and execute, with the owners' signatures gathered so far (owner -> r|s|v)."""

    safe: str
    chain_id: int
    to: str
    data: bytes
    nonce: int
    value: int = 0
    operation: int = CALL
    label: str = ""
    signatures: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("safe", "to"):
            value = getattr(self, name)
            if not isinstance(value, str) or not is_address(value):
                raise InputError(f"safe proposal: {name} {value!r} is not an address")
            object.__setattr__(self, name, to_checksum_address(value))
        for name, low, high in (("chain_id", 1, (1 << 64) - 1), ("nonce", 0, _UINT256), ("value", 0, _UINT256)):
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= high:
                raise InputError(f"safe proposal: {name} must be an integer in [{low}, {high}], got {brief(value)}")
        if self.operation not in (CALL, DELEGATE_CALL) or type(self.operation) is not int:
            raise InputError(f"safe proposal: operation must be 0 (call) or 1 (delegatecall), got {self.operation!r}")
        if not isinstance(self.data, bytes):
            raise InputError("safe proposal: data must be bytes")
        if not isinstance(self.signatures, dict):
            raise InputError("safe proposal: signatures must map owners to signatures")
        for owner, signature in self.signatures.items():
            if not isinstance(owner, str) or not is_address(owner):
                raise InputError(f"safe proposal: a signature is filed under {owner!r}, not an address")
            if not isinstance(signature, bytes) or len(signature) != SIGNATURE_LENGTH:
                raise InputError(f"safe proposal: the signature of {owner} is not {SIGNATURE_LENGTH} bytes")
        object.__setattr__(self, "signatures", {to_checksum_address(o): s for o, s in self.signatures.items()})

    @classmethod
    def of_request(cls, safe: str, chain_id: int, request: TxRequest, nonce: int) -> SafeProposal:
        """The Safe sending `request` (a wrapper's write, e.g. AccessManager.schedule) as its transaction `nonce`."""
        if request.to is None:
            raise InputError("safe proposal: a Safe transaction calls a contract; it cannot create one")
        return cls(safe, chain_id, request.to, request.data, nonce, request.value, CALL, request.label)

    # EIP-712
    def message(self) -> dict[str, Any]:
        return {"to": self.to, "value": self.value, "data": self.data, "operation": self.operation, "safeTxGas": 0,
                "baseGas": 0, "gasPrice": 0, "gasToken": ZERO, "refundReceiver": ZERO, "nonce": self.nonce}

    def signable(self) -> SignableMessage:
        from eth_account.messages import encode_typed_data

        return encode_typed_data({"chainId": self.chain_id, "verifyingContract": self.safe}, SAFE_TX_TYPES,
                                 self.message())

    def hash(self) -> bytes:
        """The safeTxHash: keccak256(0x19 0x01 | domainSeparator | hashStruct(SafeTx)), Safe.getTransactionHash's."""
        signed = self.signable()
        return keccak(b"\x19" + signed.version + signed.header + signed.body)

    # signatures
    def signed_by(self, account: LocalAccount) -> SafeProposal:
        """This proposal with `account`'s signature of the safeTxHash added (or replacing its earlier one)."""
        signature = bytes(account.sign_message(self.signable()).signature)
        return replace(self, signatures={**self.signatures, to_checksum_address(account.address): signature})

    def check_signatures(self) -> None:
        """Every signature recovers to the owner it is filed under (InputError naming the first that does not)."""
        from eth_account import Account

        signable = self.signable()
        for owner, signature in self.signatures.items():
            try:
                signer = Account.recover_message(signable, signature=signature)
            except Exception as exc:  # eth-keys raises several types on a malformed signature: any one is that
                raise InputError(f"safe proposal: the signature filed under {owner} is malformed") from exc
            if signer != owner:
                raise InputError(f"safe proposal: the signature filed under {owner} was made by {signer} "
                                 "(signed for another transaction, nonce, Safe or chain?)")

    def packed_signatures(self) -> bytes:
        """r | s | v of each signature, by ascending owner address (Safe.checkNSignatures' order)."""
        ordered = sorted(self.signatures.items(), key=lambda pair: int(pair[0], 16))
        return b"".join(signature for _, signature in ordered)

    # the file
    def to_json(self) -> bytes:
        """The fabmesh/safe-proposal document (docs/protocol.md §8.3): canonical JSON, sorted keys, no whitespace."""
        document = {"type": DOCUMENT_TYPE, "version": DOCUMENT_VERSION, "safe": self.safe, "chain_id": self.chain_id,
                    "to": self.to, "value": str(self.value), "data": "0x" + self.data.hex(),
                    "operation": self.operation, "nonce": str(self.nonce), "label": self.label,
                    "safe_tx_hash": "0x" + self.hash().hex(),
                    "signatures": {owner: "0x" + s.hex() for owner, s in self.signatures.items()}}
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def parse_safe_proposal(data: bytes | str) -> SafeProposal:
    """A proposal document, checked: its fields, its safeTxHash against the fields and every signature against
    the owner it is filed under (one-line InputErrors, nothing about the chain: Safe.check asks it)."""
    document = document_fields(data, what=_WHAT, document_type=DOCUMENT_TYPE, version=DOCUMENT_VERSION,
                               fields=_FIELDS, max_bytes=MAX_PROPOSAL_FILE)
    signatures, label = document["signatures"], document["label"]
    if not isinstance(signatures, dict) or not isinstance(label, str):
        raise InputError(f"{_WHAT}: signatures must be an object and label a string")
    proposal = SafeProposal(document["safe"], document["chain_id"], document["to"], _hex(document["data"], "data"),
                            _decimal(document["nonce"], "nonce"), _decimal(document["value"], "value"),
                            document["operation"], label,
                            {o: _hex(s, f"the signature of {o}") for o, s in signatures.items()})
    if document["safe_tx_hash"] != "0x" + proposal.hash().hex():
        raise InputError(f"{_WHAT}: safe_tx_hash does not match the transaction's fields (tampered with?)")
    proposal.check_signatures()
    return proposal


def _hex(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"0x([0-9a-fA-F]{2})*", value):
        raise InputError(f"{_WHAT}: {what} must be 0x-prefixed hex")
    return bytes.fromhex(value[2:])


def _decimal(value: Any, what: str) -> int:
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise InputError(f"{_WHAT}: {what} must be a decimal string, got {brief(value)}")
    return int(value)
