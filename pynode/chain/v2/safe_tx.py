"""A Safe transaction (npm @safe-global/safe-smart-account 1.5) as its owners sign it: EIP-712 ``SafeTx`` under the
Safe's domain (chainId, verifyingContract), each owner signing on their own, the signatures packed in the order
the Safe checks them (ascending owner address).

A SafeProposal is the file form of one governance change: proposed once (to, value, data, operation, nonce for
one Safe on one chain), passed from owner to owner, each adding a signature, then relayed by anyone
(pynode.chain.v2.safe.Safe.exec_transaction). No gas refunds: safeTxGas, baseGas and gasPrice are 0 and gasToken
and refundReceiver the zero address, so a failing inner call reverts the whole transaction with its own reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pynode.core.address import is_address, keccak, to_checksum_address
from pynode.core.errors import InputError
from pynode.core.strict_json import strict_json_loads

if TYPE_CHECKING:
    from eth_account.messages import SignableMessage
    from eth_account.signers.local import LocalAccount

    from pynode.chain.tx import TxRequest

ZERO = "0x" + "00" * 20
CALL, DELEGATE_CALL = 0, 1  # Enum.Operation
KIND = "fabmesh/safe-proposal"
MAX_PROPOSAL_FILE = 1 << 20
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
        for name, high in (("chain_id", (1 << 64) - 1), ("nonce", _UINT256), ("value", _UINT256)):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= high:
                raise InputError(f"safe proposal: {name} must be an integer in [0, {high}], got {value!r}")
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
    def to_json(self) -> str:
        return json.dumps({
            "kind": KIND, "safe": self.safe, "chainId": self.chain_id, "to": self.to, "value": str(self.value),
            "data": "0x" + self.data.hex(), "operation": self.operation, "nonce": self.nonce, "label": self.label,
            "safeTxHash": "0x" + self.hash().hex(),
            "signatures": {owner: "0x" + s.hex() for owner, s in sorted(self.signatures.items())},
        }, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: bytes | str, source: str) -> SafeProposal:
        """A proposal file, checked: its fields, its safeTxHash and every signature (one-line InputErrors)."""
        data = strict_json_loads(text, source, MAX_PROPOSAL_FILE)
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise InputError(f"{source}: not a Safe proposal (kind {KIND!r})")
        missing = [k for k in ("safe", "chainId", "to", "value", "data", "operation", "nonce") if k not in data]
        signatures, label = data.get("signatures", {}), data.get("label", "")
        if missing or not isinstance(signatures, dict) or not isinstance(label, str):
            raise InputError(f"{source}: " + (f"missing field {missing[0]!r}" if missing
                                              else "signatures must be an object and label a string"))
        try:
            proposal = cls(data["safe"], data["chainId"], data["to"], _hex(data["data"], "data"), data["nonce"],
                           _decimal(data["value"]), data["operation"], label,
                           {o: _hex(s, f"the signature of {o}") for o, s in signatures.items()})
            if data.get("safeTxHash") != "0x" + proposal.hash().hex():
                raise InputError("safeTxHash does not match the transaction's fields")
            proposal.check_signatures()
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from exc
        return proposal


def _hex(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InputError(f"{what} must be 0x-prefixed hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise InputError(f"{what} is not hex") from exc


def _decimal(value: Any) -> int:
    if not isinstance(value, str) or not value.isdecimal():
        raise InputError(f"value must be a decimal string of wei, got {value!r}")
    return int(value)
