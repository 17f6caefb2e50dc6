"""What every check is given and what it returns, and how its one-line reason names values.

The checks (checks.py, evidence_checks.py) are pure functions of these types; verify.py supplies the
RPC-backed :class:`ChainFacts`, unit tests supply dictionaries.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from typing import Any, Protocol

from pynode.chain.events.decoder import DecodedLog
from pynode.core.units import ETH, Unit, format_amount
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


def asset_amount(asset: str, amount: int) -> str:
    """ETH in ether; a token's integer as it is (its decimals are the chain's to tell, and checks read no chain)."""
    return format_amount(amount, ETH) if int(asset, 16) == 0 else f"{amount} of {asset}"


@dataclass
class OrderReport:
    order_id: int
    status: str
    terms: dict[str, Any]
    parties: dict[str, str]
    documents: list[dict[str, str]]
    timeline: list[dict[str, Any]]
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "status": self.status, "ok": self.ok, "terms": self.terms,
                "parties": self.parties, "documents": self.documents, "timeline": self.timeline,
                "checks": [c.as_dict() for c in self.checks]}


@dataclass
class AuditResult:
    chain_id: int
    book: str
    registry: str
    block: int
    from_block: int
    scope: str
    orders: list[OrderReport] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)  # not tied to one order
    generated_at: int = field(default_factory=lambda: int(_time.time()))
    seconds: float = 0.0
    #: how the orders' payment tokens read (symbol, decimals), for human reports; JSON keeps the integers
    units: dict[str, Unit] = field(default_factory=dict)

    @property
    def all_checks(self) -> list[Check]:
        return [*self.checks, *(c for o in self.orders for c in o.checks)]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.all_checks)

    def failures(self) -> list[Check]:
        return [c for c in self.all_checks if not c.ok]

    def as_dict(self) -> dict[str, Any]:
        checks = self.all_checks
        return {"ok": self.ok, "verdict": "VERIFIED" if self.ok else "FAILED", "chain_id": self.chain_id,
                "order_book": self.book, "registry": self.registry, "block": self.block,
                "from_block": self.from_block, "scope": self.scope, "generated_at": self.generated_at,
                "summary": {"orders": len(self.orders), "checks": len(checks),
                            "failed": sum(1 for c in checks if not c.ok)},
                "checks": [c.as_dict() for c in self.checks],
                "failures": [c.as_dict() for c in self.failures()],
                "orders": [o.as_dict() for o in self.orders]}
