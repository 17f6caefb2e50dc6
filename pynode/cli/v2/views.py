"""v2 orders as `order show` and `order list` print them: exact integers under --json, units and ISO times for
people (pynode/core/units.py)."""

from __future__ import annotations

import re
from typing import Any

import click

from pynode.chain.contracts import region_text
from pynode.chain.orders import CERT, MATERIAL, PROCESS
from pynode.chain.v2.orders import OrderTracker
from pynode.cli.parsing import names_of
from pynode.core.units import ETH, Unit, format_amount, format_duration, format_time
from pynode.ipfs.cid import digest_to_cid
from pynode.protocol.v2.types import RecordKind, Transition

#: keys holding a unix time (None: not reached yet), a duration in seconds, or an ETH amount
_TIMES = ("award_deadline", "delivery_deadline", "awarded_at", "due_by", "reject_window_closes", "shipped_at",
          "inspection_closes", "dispute_expires")
_DURATIONS = ("inspection_window", "reject_window", "dispute_timeout", "lead_time")
_ETH_AMOUNTS = ("min_bond", "bond")


def hex32(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def _certs(packed: int) -> list[str]:
    names = {v: k for k, v in CERT.items()}
    return [names.get(i, str(i)) for i in ((packed >> (32 * n)) & 0xFFFFFFFF for n in range(4)) if i]


def _links(links: list, kinds: type) -> list[dict[str, Any]]:
    return [{"kind": kinds(link.kind).name, "actor": link.actor, "evidence": hex32(link.evidence), "time": link.time}
            for link in links]


def order_summary(t: OrderTracker) -> dict[str, Any]:
    """The order's terms, state, requirements, documents and both chains, as data."""
    terms, spec, docs = t.terms, t.spec, t.docs
    return {
        "order_id": t.order_id, "status": t.status.name, "buyer": terms.buyer, "partner": t.partner,
        "payee": t.payee, "token": terms.token, "escrow": terms.price, "price": t.price, "min_bond": terms.min_bond,
        "bond": t.bond, "fee_bps": terms.fee_bps, "arbitrator": terms.arbitrator,
        "award_deadline": terms.award_deadline, "delivery_deadline": terms.delivery_deadline,
        "awarded_at": t.awarded_at, "due_by": t.due_by or None, "reject_window_closes": t.reject_window_closes,
        "shipped_at": t.shipped_at,
        "inspection_closes": t.inspection_closes, "dispute_expires": t.dispute_expires,
        "inspection_window": terms.inspection_window, "reject_window": terms.reject_window,
        "dispute_timeout": terms.dispute_timeout,
        "processes": names_of(spec.processes, PROCESS), "materials": names_of(spec.materials, MATERIAL),
        "certifications": _certs(spec.cert_ids), "inspectors": list(spec.inspectors),
        "design_sha256": hex32(docs.design_sha256), "spec_cid": digest_to_cid(bytes(docs.spec_cid)),
        "region": region_text(docs.region), "quote_hash": hex32(t.quote_hash),
        "key_envelope_cid": hex32(t.key_envelope_cid),
        "dispute_id": t.dispute_id, "transition_head": hex32(t.head), "record_head": hex32(t.record_head),
        "transitions": _links(t.transitions, Transition), "records": _links(t.records, RecordKind),
    }


def readable(key: str, value: Any, unit: Unit) -> str:
    """One field of order_summary for people."""
    if value is None:
        return "-"
    if key in ("escrow", "price"):
        return format_amount(value, unit)
    if key in _ETH_AMOUNTS:
        return format_amount(value, ETH)
    if key in _TIMES:
        return format_time(value)
    if key in _DURATIONS:
        return format_duration(value)
    if key == "fee_bps":
        return f"{value / 100:g}% ({value} bps)"
    if key == "token":
        return unit.symbol if int(value, 16) == 0 else f"{unit.symbol} {value}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def print_order(console: Any, data: dict[str, Any], unit: Unit) -> None:
    """`order show`'s human form: every field, then both chains as tables."""
    from rich.table import Table  # only a human table: --json stays free of rich

    for key, value in data.items():
        if key not in ("transitions", "records"):
            console.print(f"{key}: {readable(key, value, unit)}", highlight=False, markup=False)
    for name in ("transitions", "records"):
        table = Table("time (UTC)", name[:-1], "actor", "evidence", title=name)
        for link in data[name]:
            table.add_row(format_time(link["time"]), link["kind"], link["actor"], link["evidence"][:18] + "…")
        console.print(table)


_ORDER_ID = re.compile(r"(?P<hex>0x[0-9a-f]{1,48})|[0-9]{1,58}", re.ASCII)


class _OrderId(click.ParamType):
    """A v2 order id: the decimal `order list` prints, or 0x-hex (ids are the terms hash's top 192 bits)."""

    name = "order_id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        match = _ORDER_ID.fullmatch(text)
        number = -1 if match is None else int(text, 16) if match["hex"] else int(text)
        if not 0 < number < 1 << 192:
            self.fail(f"{value!r} is not an order id (a decimal or 0x-hex number below 2**192)", param, ctx)
        return number


ORDER_ID = _OrderId()
