"""What every check is given and what it returns, and how its one-line reason names values.

The checks (checks.py, evidence_checks.py) are pure functions of these types; verify.py supplies the
RPC-backed :class:`ChainFacts`, unit tests supply dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pynode.chain.events.decoder import DecodedLog
from pynode.protocol.eip712 import Domain


@dataclass(frozen=True)
class Check:
    order_id: int | None
    name: str
    ok: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "name": self.name, "ok": self.ok, "reason": self.reason}


@dataclass(frozen=True)
class AuditContext:
    chain_id: int
    book: str  # OrderBook address (EIP-55)
    block: int  # the block the audit is pinned to
    domain: Domain  # the book's EIP-712 domain, as its eip712Domain() returns it


class ChainFacts(Protocol):
    def has_role(self, role: str, account: str, block: int) -> bool: ...

    def partner_flags(self, account: str, block: int) -> int: ...  # PartnerInfo.flags

    def cert_expiry(self, account: str, cert_id: int, block: int) -> int: ...

    def transaction(self, tx_hash: str) -> dict: ...  # {"from", "to", "input": bytes}


def hex_of(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def short(value: bytes | str) -> str:
    """A hash shortened for a reason line: its first and last characters."""
    text = value if isinstance(value, str) else hex_of(value)
    return text[:10] + "…" + text[-4:] if len(text) > 16 else text


def where(log: DecodedLog) -> str:
    return f"{log.event} at block {log.block_number}"
