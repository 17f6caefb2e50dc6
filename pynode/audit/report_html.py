"""A self-contained HTML audit report: verdict, per-order parties, timeline, evidence CIDs and every check.

One file, inline CSS, no scripts, fonts or other external resources, so an
auditor can hand it to a customer and it renders the same offline.
"""

from __future__ import annotations

from html import escape

from pynode.audit.model import AuditResult, OrderReport
from pynode.core.units import ETH, Unit, format_time
from pynode.protocol.readable import readable_terms

CSS = """
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1d2433;background:#f5f6f8}main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:0}h3{font-size:15px;margin:18px 0 6px}
.meta{color:#5b6478;font-size:13px}.verdict{border-radius:10px;padding:18px 22px;margin:18px 0;color:#fff}
.verdict strong{font-size:28px;letter-spacing:.04em;display:block}.pass{background:#1d7a46}.fail{background:#b42318}
section.order{background:#fff;border:1px solid #dde1e8;border-radius:10px;padding:18px 22px;margin:16px 0}
.badge{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600;margin-left:8px;
vertical-align:middle}.badge.pass,.badge.fail{color:#fff}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid #eef0f4;vertical-align:top}th{color:#5b6478;font-weight:600;white-space:nowrap}
td code{white-space:nowrap}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
ol.timeline{list-style:none;margin:0;padding:0 0 0 14px;border-left:3px solid #c9d2e3}
ol.timeline li{position:relative;margin:0 0 10px;padding-left:10px}
ol.timeline li:before{content:"";position:absolute;left:-22px;top:5px;width:11px;height:11px;border-radius:50%;
background:#3b6fd8}.ok{color:#1d7a46;font-weight:700}.bad{color:#b42318;font-weight:700}
.failures{background:#fff4f2;border:1px solid #f1c4bd;border-radius:10px;padding:12px 18px}
"""


def _check_rows(checks) -> str:
    rows = []
    for c in checks:
        mark = '<span class="ok">✓</span>' if c.ok else '<span class="bad">✗</span>'
        rows.append(f"<tr><td>{mark}</td><td><code>{escape(c.name)}</code></td><td>{escape(c.reason)}</td></tr>")
    return "<table><tr><th></th><th>check</th><th>result</th></tr>" + "".join(rows) + "</table>"


def _order(order: OrderReport, units: dict[str, Unit]) -> str:
    cls = "pass" if order.ok else "fail"
    parties = "".join(f"<tr><th>{escape(role)}</th><td><code>{escape(addr)}</code></td></tr>"
                      for role, addr in order.parties.items())
    token = str(order.terms.get("token", "0x0"))
    unit = ETH if int(token, 16) == 0 else units.get(token)
    terms = "".join(f"<tr><th>{escape(k.replace('_', ' '))}</th><td>"
                    + (f"<code>{escape(v)}</code>" if k in ("token", "design_sha256") else escape(v))
                    + "</td></tr>" for k, v in readable_terms(order.terms, unit).items())
    timeline = "".join(
        f"<li><strong>{escape(e['event'])}</strong> · {escape(format_time(e['time']))} · block {e['block']}"
        + (f" · passed={e['passed']}" if "passed" in e else "")
        + f"<br><span class=\"meta\">by <code>{escape(e['actor'])}</code> · "
        + f"tx <code>{escape(e['tx'])}</code></span></li>"
        for e in order.timeline)
    docs = "".join(f"<tr><th>{escape(d['label'])}</th><td><a href=\"ipfs://{escape(d['cid'])}\"><code>"
                   f"{escape(d['cid'])}</code></a></td>"
                   f"<td class=\"meta\">{escape(d['event'])}</td></tr>" for d in order.documents)
    failed = sum(1 for c in order.checks if not c.ok)
    return (f'<section class="order" id="order-{order.order_id}"><h2>Order {order.order_id}'
            f'<span class="badge {cls}">{"verified" if order.ok else f"{failed} failed"}</span>'
            f'<span class="meta"> · status {escape(order.status)}</span></h2>'
            f"<h3>Parties</h3><table>{parties}</table><h3>Terms</h3><table>{terms}</table>"
            f'<h3>Timeline</h3><ol class="timeline">{timeline}</ol>'
            f"<h3>Evidence (IPFS CIDs)</h3><table>{docs}</table><h3>Checks</h3>{_check_rows(order.checks)}</section>")


def render_html(result: AuditResult) -> str:
    checks = result.all_checks
    failures = result.failures()
    verdict = "VERIFIED" if result.ok else "FAILED"
    summary = (f"{len(result.orders)} orders, {len(checks)} checks, {len(failures)} failed"
               if failures else f"{len(result.orders)} orders, all {len(checks)} checks passed")
    failure_block = ""
    if failures:
        failure_block = ('<div class="failures"><h3>Failing checks</h3>' + _check_rows(failures) + "</div>")
    general = f"<h3>General</h3>{_check_rows(result.checks)}" if result.checks else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>fabmesh audit: {verdict}</title><style>{CSS}</style></head>
<body><main>
<h1>fabmesh provenance audit</h1>
<div class="meta">chain {result.chain_id} · OrderBook <code>{escape(result.book)}</code> · PartnerRegistry
<code>{escape(result.registry)}</code> · blocks {result.from_block}–{result.block} · {escape(result.scope)} ·
generated {escape(format_time(result.generated_at))}</div>
<div class="verdict {'pass' if result.ok else 'fail'}" id="verdict"><strong>{verdict}</strong>{escape(summary)}.
Trusted: only the chain's logs and state, IPFS content addresses and signatures.</div>
{failure_block}{general}
{''.join(_order(o, result.units) for o in result.orders)}
</main></body></html>
"""
