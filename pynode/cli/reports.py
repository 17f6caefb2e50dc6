"""The quality report a command pins (`order ship`, `attest`): checked against the order before anything is
pinned or sent."""

from __future__ import annotations

from pathlib import Path

from pynode.chain.orders import OrderTracker
from pynode.cli.context import CliContext
from pynode.core.errors import InputError


def checked_report(ctx: CliContext, tracker: OrderTracker, path: Path, *, passed: bool) -> bytes:
    """The report file's bytes, if it is a quality report for this order with this verdict (as the auditor will
    check it); a one-line error otherwise, before anything is pinned or sent."""
    return report_for(path, order_id=tracker.order_id, chain_id=ctx.chain.chain_id, contract=ctx.chain.book.address,
                      partner=tracker.state.partner, passed=passed)


def report_for(path: Path, *, order_id: int, chain_id: int, contract: str, partner: str | None, passed: bool) -> bytes:
    """The report file's bytes, if it is a quality report for that order of that book with this verdict."""
    from pynode.documents.quality_report import parse_report, report_mismatch

    data = path.read_bytes()
    try:
        report = parse_report(data)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}; write one with `fabmesh order report {order_id}`") from None
    mismatch = report_mismatch(report, order_id=order_id, chain_id=chain_id, contract=contract, partner=partner,
                               passed=passed)
    if mismatch:
        key, got, want = mismatch
        raise InputError(f"{path.name} says {key} {got}, expected {want} for order {order_id}")
    return data
