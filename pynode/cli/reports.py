"""The quality report a command pins (`order ship`, `attest`): checked against the order before anything is
pinned or sent."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NamedTuple

import click

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
    from pynode.documents.report_rules import read_report, report_mismatch

    data = path.read_bytes()
    try:
        report = read_report(data)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}; write one with `fabmesh order report {order_id}`") from None
    mismatch = report_mismatch(report, order_id=order_id, chain_id=chain_id, contract=contract, partner=partner,
                               passed=passed)
    if mismatch:
        key, got, want = mismatch
        raise InputError(f"{path.name} says {key} {got}, expected {want} for order {order_id}")
    return data


_REPORT_OPTIONS = (
    click.option("--measure", "measures", multiple=True, metavar="NAME=NUMBER",
                 help="A measured value (repeatable); names with a tolerance in the order's spec are checked "
                      "against it"),
    click.option("--evidence", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="A file backing the measurements (repeatable): its SHA-256 goes into the report; keep the "
                      "file"),
    click.option("--fail", "failed", is_flag=True, help="The parts fail inspection whatever the numbers say"),
    click.option("--notes", default="", help="Free text for the report"),
    click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Where to write it"),
)


def report_options(command):
    """`order report`'s options (either protocol's)."""
    for option in reversed(_REPORT_OPTIONS):
        command = option(command)
    return command


class ReportFacts(NamedTuple):
    """What a report names of its order (either protocol's): the order, chain, book and partner, and when
    production started (None: not recorded, now)."""

    order_id: int
    chain_id: int
    contract: str
    partner: str
    started: int | None


def write_report(ctx: CliContext, spec: dict[str, Any], facts: ReportFacts, measurements: dict[str, float],
                 evidence: tuple[Path, ...], failed: bool, notes: str, out: Path) -> None:
    """`order report`: the quality report of ``facts``' order from measurements, written to ``out``."""
    from pynode.cli.output import write_output
    from pynode.daemon.adapters.base import ProductionResult
    from pynode.documents.quality_report import build_report, canonical_json, report_hashes

    now = int(time.time())
    started = now if facts.started is None else facts.started
    quality = build_report(ProductionResult(passed=not failed, measurements=measurements, evidence=evidence,
                                            notes=notes), spec, order_id=facts.order_id, chain_id=facts.chain_id,
                           contract=facts.contract, partner=facts.partner, started_at=started,
                           finished_at=max(started, now))
    data = canonical_json(quality)
    write_output(out, data)
    ctx.emit({"order_id": facts.order_id, "report": str(out), "passed": quality.passed,
              "failed_checks": [c.name for c in quality.checks if not c.within], **report_hashes(data)},
             f"order {facts.order_id}: report {'passes' if quality.passed else 'FAILS'} -> {out}")
