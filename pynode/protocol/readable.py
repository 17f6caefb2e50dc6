"""An order's terms as people read them (``fabmesh order show``, the audit's HTML report).

The price is in the order's token, the claim bond always in ETH (the contracts escrow it natively),
deadlines are unix times and the inspection window is seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pynode.core.units import ETH, Unit, format_amount, format_duration, format_time

_TIMES = ("claim_deadline", "delivery_deadline", "award_deadline", "due_by")
_DURATIONS = ("inspection_window", "reject_window", "dispute_timeout")
_ETH_AMOUNTS = ("claim_bond", "min_bond", "bond")  # bonds are ETH in v1 and v2


def readable_terms(terms: Mapping[str, Any], unit: Unit | None) -> dict[str, str]:
    """Each term as text; ``unit`` is the price token's (None: not known, the price stays an integer).

    Keys other than the terms' own pass through as ``str(value)``.
    """
    out: dict[str, str] = {}
    for key, value in terms.items():
        if key == "token":
            out[key] = "ETH" if int(value, 16) == 0 else f"{unit.symbol if unit else 'ERC-20'} {value}"
        elif key in ("price", "awarded_price"):
            out[key] = format_amount(value, unit) if unit else f"{value} (smallest units of {terms.get('token')})"
        elif key in _ETH_AMOUNTS:
            out[key] = format_amount(value, ETH)
        elif key in _TIMES:
            out[key] = format_time(value)
        elif key in _DURATIONS:
            out[key] = format_duration(value)
        elif key == "fee_bps":
            out[key] = f"{format(Decimal(value) / 100, 'f')}% ({value} bps)"
        else:
            out[key] = str(value)
    return out
