"""The HTML report opened in headless Chromium (Debian's `chromium`, driven by Playwright): no console errors,
no requests anywhere, the verdict shown; screenshots land in reports/audit/."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynode.audit.report_html import render_html

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[3] / "reports" / "audit"


def _open(path: Path, shot: Path) -> dict:
    from playwright.sync_api import sync_playwright

    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        verdict = page.inner_text("#verdict")
        color = page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor")
        orders = page.locator("section.order").count()
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    return {"errors": errors, "requests": [u for u in requests if u != path.as_uri()], "verdict": verdict,
            "color": color, "orders": orders}


def test_report_renders_verdict_in_chromium(market, auditor, tmp_path, anvil):
    good = market.full_order()
    late = market.post(delivery=2 * 86400)
    market.claim_award(late)
    anvil.rpc("evm_increaseTime", 3 * 86400)
    anvil.rpc("evm_mine")
    market.ship(late)

    ok = auditor.audit(order_ids=[good])
    page = tmp_path / "verified.html"
    page.write_text(render_html(ok))
    seen = _open(page, SHOTS / "report-verified.png")
    assert seen["errors"] == [] and seen["requests"] == []
    assert seen["verdict"].startswith("VERIFIED") and seen["orders"] == 1
    assert seen["color"] == "rgb(29, 122, 70)"

    bad = auditor.audit(order_ids=[good, late])
    page = tmp_path / "failed.html"
    page.write_text(render_html(bad))
    seen = _open(page, SHOTS / "report-failed.png")
    assert seen["errors"] == [] and seen["requests"] == []
    assert seen["verdict"].startswith("FAILED") and "1 failed" in seen["verdict"] and seen["orders"] == 2
    html = page.read_text()
    assert "timing.shipment" in html and "<script" not in html and "http" not in html.split("</head>")[0]
    assert (SHOTS / "report-failed.png").stat().st_size > 10_000
