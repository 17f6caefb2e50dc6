"""Amounts, durations and times as people read them; ``--json`` and the chain keep the exact integers.

Amounts are scaled with :mod:`decimal` in a context wide enough for any uint256 at any ERC-20 ``decimals``
(uint8), so nothing is rounded: ``12500000`` at 6 decimals is ``12.5 USDC``, ``10**17`` wei is ``0.1 ETH``,
and the text (without its symbol) is what ``--price`` and ``--buyer-share`` take back.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from datetime import UTC, datetime

#: 78 digits of uint256 plus up to 255 decimals (uint8): every scaled amount is exact
_EXACT = decimal.Context(prec=340, traps=[decimal.Inexact, decimal.InvalidOperation])
_DURATION_PARTS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


@dataclass(frozen=True)
class Unit:
    """How a payment asset's integer amounts read: its symbol and the decimals of one whole unit."""

    symbol: str
    decimals: int


ETH = Unit("ETH", 18)


def format_amount(amount: int, unit: Unit) -> str:
    """``amount`` smallest units as whole units with the symbol, exactly: ``12.5 USDC``, ``0.1 ETH``, ``0 ETH``."""
    scaled = _EXACT.scaleb(decimal.Decimal(int(amount)), -unit.decimals)
    text = format(scaled, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit.symbol}"


def format_duration(seconds: int) -> str:
    """``259200`` → ``3 days``, ``131400`` → ``1 day 12 hours 30 minutes``: every non-zero part, nothing rounded."""
    left, parts = int(seconds), []
    if left < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    for name, size in _DURATION_PARTS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return " ".join(parts) or "0 seconds"


def format_time(unix: int) -> str:
    """A unix time as an ISO 8601 UTC time to the second: ``2026-12-04T17:00:00Z`` (what ``--claim-by`` takes).

    A time past the year 9999 (a uint40 deadline can be) stays a unix time: ``unix time 1099511627775``.
    """
    try:
        return datetime.fromtimestamp(int(unix), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):  # out of datetime's range
        return f"unix time {int(unix)}"
