"""Inspector attestations signed off-chain (EIP-712) and relayed on chain by anyone.

An inspector who does not want to hold gas signs the attestation; the
partner, buyer or anyone submits it with `attestBySig`. The signed document
is JSON so it can travel by mail or IPFS; parsing it is strict.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address

from pynode.core.errors import InputError
from pynode.core.strict_json import strict_json_loads
from pynode.protocol.eip712 import Domain, attestation_message, recover_attestation_signer

DOCUMENT_TYPE = "fabmesh/signed-attestation"
MAX_DOCUMENT = 4096


@dataclass(frozen=True)
class SignedAttestation:
    chain_id: int
    order_book: str
    order_id: int
    inspector: str
    report_cid: bytes
    report_hash: bytes
    passed: bool
    nonce: int
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple:
        """The `Attestation` struct argument of attestBySig."""
        return (self.order_id, self.inspector, self.report_cid, self.report_hash, self.passed, self.nonce,
                self.deadline)

    def recover_signer(self, domain: Domain) -> str:
        """Who signed it under ``domain`` (the OrderBook's ``eip712Domain()``, which must be the book it names)."""
        if (domain.chain_id, domain.verifying_contract) != (self.chain_id, self.order_book):
            raise InputError(f"attestation is for chain {self.chain_id} / {self.order_book}, the domain is "
                             f"chain {domain.chain_id} / {domain.verifying_contract}")
        try:
            return recover_attestation_signer(domain, self.as_tuple(), self.signature)
        except Exception as exc:  # a malformed signature is a finding, not a crash
            raise InputError(f"attestation signature does not recover: {exc}") from exc

    def to_json(self) -> str:
        data = asdict(self)
        for key in ("report_cid", "report_hash", "signature"):
            data[key] = "0x" + data[key].hex()
        return json.dumps({"type": DOCUMENT_TYPE, **data}, sort_keys=True)


def sign_attestation(inspector: LocalAccount, *, domain: Domain, order_id: int, report_cid: bytes,
                     report_hash: bytes, passed: bool, nonce: int, deadline: int) -> SignedAttestation:
    """Signs under ``domain``, the OrderBook's own ``eip712Domain()``."""
    unsigned = SignedAttestation(domain.chain_id, domain.verifying_contract, order_id, inspector.address, report_cid,
                                 report_hash, passed, nonce, deadline, b"")
    signature = inspector.sign_message(attestation_message(domain, unsigned.as_tuple())).signature
    return SignedAttestation(**{**asdict(unsigned), "signature": bytes(signature)})


def parse_signed_attestation(text: str | bytes) -> SignedAttestation:
    data = strict_json_loads(text, "signed attestation", MAX_DOCUMENT)
    if not isinstance(data, dict) or data.pop("type", None) != DOCUMENT_TYPE:
        raise InputError(f"not a {DOCUMENT_TYPE} document")
    expected = {"chain_id", "order_book", "order_id", "inspector", "report_cid", "report_hash", "passed", "nonce",
                "deadline", "signature"}
    if set(data) != expected:
        raise InputError(f"signed attestation fields differ: missing {sorted(expected - set(data))}, "
                         f"unexpected {sorted(set(data) - expected)}")

    def hex_bytes(name: str, size: int | None) -> bytes:
        value = data[name]
        try:
            raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) and value.startswith("0x") else None
        except ValueError:
            raw = None
        if raw is None or (size is not None and len(raw) != size):
            raise InputError(f"signed attestation: {name} must be 0x-hex" + (f" of {size} bytes" if size else ""))
        return raw

    for name in ("chain_id", "order_id", "nonce", "deadline"):
        if type(data[name]) is not int or data[name] < 0:
            raise InputError(f"signed attestation: {name} must be a non-negative integer")
    if type(data["passed"]) is not bool:
        raise InputError("signed attestation: passed must be true or false")
    for name in ("order_book", "inspector"):
        if not isinstance(data[name], str) or not is_address(data[name]):
            raise InputError(f"signed attestation: {name} is not an address")
    return SignedAttestation(data["chain_id"], to_checksum_address(data["order_book"]), data["order_id"],
                             to_checksum_address(data["inspector"]), hex_bytes("report_cid", 32),
                             hex_bytes("report_hash", 32), data["passed"], data["nonce"], data["deadline"],
                             hex_bytes("signature", 65))
