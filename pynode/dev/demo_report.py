"""What the demo prints from what the parties did: the quotes the buyer's watcher heard and why it chose one
(its JSON log), a shipped quality report (fetched from IPFS and checked as the buyer checks it), the summary."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.table import Table

from pynode.dev.demo_dispute import eth
from pynode.dev.demo_shops import SHOPS
from pynode.dev.organizations import DemoFailed
from pynode.documents.quality_report import MAX_REPORT_BYTES, parse_report
from pynode.ipfs.cid import report_cid
from pynode.ipfs.client import IpfsClient
from pynode.protocol.v2 import codec

if TYPE_CHECKING:
    from pynode.dev.demo import Scenario


def watcher_events(scenario: Scenario, name: str) -> list[dict]:
    path = scenario.out / "logs" / "buyer-watcher.log"
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    events = (json.loads(line) for line in lines if line.startswith("{") and line.endswith("}"))
    return [e for e in events if e.get("event") == name]


def short_id(order_id: int) -> str:
    """v2 order ids are 256-bit hashes: their first and last digits name them on screen."""
    text = str(order_id)
    return f"{text[:6]}…{text[-4:]}" if len(text) > 12 else text


def lead(seconds: int) -> str:
    days, rest = divmod(int(seconds), 86400)
    return f"{days} d {rest // 3600} h" if days else f"{rest // 3600} h {rest % 3600 // 60} min"


def show_quotes(scenario: Scenario, name: str) -> dict:
    """The order's quotes as the watcher received them, the award it made and the reasons it gave the others."""
    order_id = scenario.orders[name]
    tracker = scenario.chain.book.load_order(order_id, scenario.chain.from_block)
    terms_hash = "0x" + codec.terms_hash(tracker.terms).hex()
    shops = {scenario.accounts[s.account].address: s.org for s in SHOPS}
    quotes = {e["partner"]: e for e in watcher_events(scenario, "quote_received") if e["terms_hash"] == terms_hash}
    awarded = [e for e in watcher_events(scenario, "awarded") if e["order_id"] == order_id]
    rejected = {e["partner"]: e for e in watcher_events(scenario, "quote_rejected") if e["order_id"] == order_id}
    if len(awarded) != 1:
        raise DemoFailed(f"order {order_id} ({name}): the watcher logged {len(awarded)} awards")
    winner = awarded[0]["partner"]
    table = Table("shop", "price", "lead time", "buyer's watcher",
                  title=f"quotes for the {name} order {short_id(order_id)}")
    for partner, quote in sorted(quotes.items(), key=lambda item: int(item[1]["price"])):
        verdict = "AWARDED" if partner == winner else rejected.get(partner, {}).get("reason", "-")
        table.add_row(shops.get(partner, partner), eth(int(quote["price"])), lead(quote["lead_time"]), verdict)
    scenario.console.print(table)
    cheapest = min(int(q["price"]) for q in quotes.values())
    why = ("the lowest price of the qualified quotes (award policy mode best)" if int(awarded[0]["price"]) == cheapest
           else "the best qualified quote by the award policy")
    scenario.console.print(f"winner: {shops.get(winner, winner)} at {eth(int(awarded[0]['price']))}, "
                           f"{lead(awarded[0]['lead_time'])}: {why}", highlight=False)
    return {"quotes": {shops.get(p, p): int(q["price"]) for p, q in quotes.items()}, "winner": shops.get(winner),
            "rejected": {shops.get(p, p): e["reason"] for p, e in rejected.items()}, "partner": winner}


def show_report(scenario: Scenario, name: str) -> dict:
    """The shipped quality report, fetched by its CID from the buyer's own Kubo node and hashed."""
    order_id = scenario.orders[name]
    tracker = scenario.chain.book.load_order(order_id, scenario.chain.from_block)
    if tracker.report is None:
        raise DemoFailed(f"order {order_id} ({name}) shipped without a report")
    digest, report_hash = tracker.report
    data = IpfsClient(scenario.network.kubo["buyer"].api_url).cat_bytes(report_cid(digest, report_hash),
                                                                        max_size=MAX_REPORT_BYTES)
    report = parse_report(data)
    measured = ", ".join(f"{c.name} {c.measured:g} ({'in' if c.within else 'OUT of'} tolerance)" for c in report.checks)
    others = ", ".join(f"{k} {v:g}" for k, v in report.other_measurements.items())
    verdict = "PASSED" if report.passed else "FAILED"
    scenario.console.print(f"{name} order {short_id(order_id)}: shipped report {verdict}: {report.notes}; "
                           f"{measured or others}; evidence "
                           f"{', '.join(e.name for e in report.evidence)}", highlight=False)
    return {"passed": report.passed, "notes": report.notes, "other": dict(report.other_measurements),
            "checks": {c.name: c.measured for c in report.checks}, "evidence": [e.name for e in report.evidence]}


def summary(scenario: Scenario, audit: dict) -> None:
    chain = scenario.chain
    shops = {scenario.accounts[s.account].address: s.org for s in SHOPS}
    verdicts = {int(o["order_id"]): o for o in audit.get("orders", [])}
    table = Table("order", "scenario", "shop", "state", "price", "audit",
                  title="fabmesh demo: every order, from the chain")
    for name, order_id in scenario.orders.items():
        tracker = chain.book.load_order(order_id, chain.from_block)
        verdict = verdicts.get(order_id)
        table.add_row(short_id(order_id), name, shops.get(tracker.partner or "", "-"), tracker.status.name,
                      eth(tracker.price), "-" if verdict is None else
                      f"{'✓' if verdict['ok'] else '✗'} {len(verdict['checks'])} checks")
    scenario.console.print(table)
    scenario.console.print(f"audit verdict: {audit.get('verdict')}", highlight=False)
