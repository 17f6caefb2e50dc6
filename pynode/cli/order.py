"""`fabmesh order`: post escrowed orders for encrypted designs and see them through."""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pynode.chain.contracts import region_text
from pynode.chain.erc20 import Erc20
from pynode.chain.orders import CERT, MATERIAL, PROCESS, ZERO_ADDRESS, OrderTracker
from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.node import watch_orders
from pynode.cli.parsing import ADDRESS, DURATION, TIME, names_of, parse_amount
from pynode.cli.reports import ReportFacts, checked_report, report_options, write_report
from pynode.core.errors import FabmeshError, InputError
from pynode.core.units import format_amount, format_time
from pynode.ipfs.cid import cid_to_digest, design_cid, digest_to_cid
from pynode.protocol.readable import readable_terms
from pynode.protocol.types import RecordKind, Status

# What only a write needs (signing, sealing, the design vault, report documents) is imported by the commands
# that write, so `order list` and `order show` start without it (tests/pynode/cli/test_lazy_cli.py).
if TYPE_CHECKING:
    from pynode.orders.buyer import Buyer
    from pynode.orders.partner import Partner


def _buyer(ctx: CliContext) -> Buyer:
    from pynode.orders.buyer import Buyer
    from pynode.orders.design_keys import DesignKeyStore

    return Buyer(ctx.chain, ctx.vault, DesignKeyStore(ctx.settings.home / "design-keys", ctx.ipfs), ctx.account)


def _certs(packed: int) -> list[str]:
    names = {v: k for k, v in CERT.items()}
    ids = [(packed >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
    return [names.get(i, str(i)) for i in ids if i]


def order_summary(t: OrderTracker) -> dict:
    terms, state, spec, docs = t.terms, t.state, t.spec, t.docs
    return {
        "order_id": t.order_id, "status": t.status.name, "buyer": terms.buyer,
        "partner": state.partner if state.partner != ZERO_ADDRESS else None,
        "token": terms.token, "price": terms.price, "claim_bond": terms.claim_bond,
        "claim_deadline": terms.claim_deadline, "delivery_deadline": terms.delivery_deadline,
        "inspection_window": terms.inspection_window, "fee_bps": terms.fee_bps,
        "reserved_for": spec.reserved_for if spec.reserved_for != ZERO_ADDRESS else None,
        "processes": names_of(spec.processes, PROCESS), "materials": names_of(spec.materials, MATERIAL),
        "certifications": _certs(spec.cert_ids),
        "design_sha256": "0x" + bytes(docs.design_sha256).hex(),
        "spec_cid": digest_to_cid(bytes(docs.spec_cid)), "region": region_text(docs.region),
        "provenance_head": "0x" + bytes(state.head).hex(),
        "records": [{"kind": RecordKind(r.kind).name, "actor": r.actor, "evidence": "0x" + bytes(r.evidence).hex(),
                     "time": r.time} for r in t.records],
    }


@click.group()
def order() -> None:
    """Post, award, confirm, dispute and recover escrowed orders."""


@order.command()
@click.option("--design", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The design file (STL, STEP, 3MF, G-code, DXF…); encrypted before it leaves this machine")
@click.option("--process", required=True, help=f"One of {', '.join(PROCESS)}")
@click.option("--material", required=True, help=f"One of {', '.join(MATERIAL)}")
@click.option("--qty", type=click.IntRange(1, 10**9), required=True)
@click.option("--price", required=True, help="Escrowed payment: ETH (0.5, 20gwei) or whole tokens with --token")
@click.option("--token", type=ADDRESS, help="Pay in this allow-listed ERC-20 instead of ETH")
@click.option("--claim-by", type=TIME, required=True, help="Claim (and award) deadline: +2d, 2026-12-01T12:00Z")
@click.option("--deliver-by", type=TIME, required=True, help="Shipping deadline")
@click.option("--inspection", type=DURATION, default="3d", show_default=True, help="Window to dispute after shipping")
@click.option("--claim-bond", default="0", show_default=True, help="ETH a claimant locks (slashed if it does not ship)")
@click.option("--to", "reserved_for", type=ADDRESS, help="Only this partner may claim")
@click.option("--cert", "certs", multiple=True, help="Required certification (repeatable): ISO_9001, AS9100, ISO_13485")
@click.option("--region", default="", help="Geohash prefix where the parts are needed")
@click.option("--tolerance", "tolerances", multiple=True, metavar="NAME=NOMINAL±TOL[UNIT]",
              help="e.g. hole_d=6.0±0.05mm (repeatable)")
@click.option("--notes", default="")
@pass_ctx
def post(ctx: CliContext, design: Path, process: str, material: str, qty: int, price: str, token: str | None,
         claim_by: int, deliver_by: int, inspection: int, claim_bond: str, reserved_for: str | None,
         certs: tuple[str, ...], region: str, tolerances: tuple[str, ...], notes: str) -> None:
    """Encrypt DESIGN, pin it to IPFS and post an escrowed order for it."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from pynode.orders.buyer import OrderRequest

    if deliver_by <= claim_by:
        raise click.BadParameter("must be after --claim-by", param_hint="--deliver-by")
    if claim_by <= time.time():
        raise click.BadParameter("must be in the future", param_hint="--claim-by")
    decimals = Erc20(ctx.chain.w3, token).decimals() if token else 18
    request = OrderRequest(
        design=design, process=process, material=material, quantity=qty,
        price=parse_amount(price, decimals, token_units=bool(token)), claim_deadline=claim_by,
        delivery_deadline=deliver_by, inspection_window=inspection, claim_bond=parse_amount(claim_bond),
        token=token or ZERO_ADDRESS, reserved_for=reserved_for or ZERO_ADDRESS, region=region,
        certifications=certs, tolerances=dict(_tolerance(t) for t in tolerances), notes=notes)
    if request.price == 0:
        raise click.BadParameter("must be more than zero", param_hint="--price")
    _, public_key = ctx.hpke_keys.public_key(ctx.account_name())
    buyer = _buyer(ctx)
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  transient=True, disable=ctx.json, console=Console(stderr=True)) as progress:
        task = progress.add_task("encrypt + pin", total=design.stat().st_size)
        posted = buyer.post(request, public_key, progress=lambda n: progress.advance(task, n))
    ctx.post_index(ctx.chain).add(posted.order_id, posted.sent.block_number)
    data = {"order_id": posted.order_id, "tx": posted.sent.tx_hash, "gas_used": posted.sent.gas_used,
            "design_cid": posted.design.cid, "design_sha256": "0x" + posted.design.plaintext_sha256.hex(),
            "spec_cid": posted.spec_cid, "key_backup_cid": posted.key_backup_cid, "geometry": posted.geometry}
    if posted.geometry_skipped:
        click.echo(f"note: the spec publishes no geometry: {posted.geometry_skipped}", err=True)
    ctx.emit(data, f"order {posted.order_id} posted: design {posted.design.cid}, spec {posted.spec_cid}\n"
                   f"content key sealed to you and pinned at {posted.key_backup_cid}")


_TOLERANCE = re.compile(r"^([A-Za-z0-9][\w.\-]{0,63})=(-?\d+(?:\.\d+)?)"
                        r"(?:±|\+-|\+/-)(\d+(?:\.\d+)?)([a-zA-Zµ°%]{1,16})$")


def _tolerance(text: str) -> tuple[str, dict]:
    match = _TOLERANCE.match(text.strip())
    if not match:
        raise click.BadParameter(f"{text!r}: expected NAME=NOMINAL±TOL+UNIT, e.g. hole_d=6.0±0.05mm",
                                 param_hint="--tolerance")
    name, nominal, tol, unit = match.groups()
    if not math.isfinite(float(nominal)) or not math.isfinite(float(tol)):
        raise click.BadParameter(f"{text[:60]!r}: numbers too large", param_hint="--tolerance")
    return name, {"nominal": float(nominal), "plus": float(tol), "minus": float(tol), "unit": unit}


def _measurement(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    try:
        number = float(value) if value.strip().isascii() else math.nan
    except ValueError:
        number = math.nan
    if not name.strip() or not math.isfinite(number):
        raise click.BadParameter(f"{text[:60]!r}: expected NAME=NUMBER, e.g. hole_d=6.02", param_hint="--measure")
    return name.strip(), number


@order.command(name="report")
@click.argument("order_id", type=click.IntRange(1))
@report_options
@pass_ctx
def report(ctx: CliContext, order_id: int, measures: tuple[str, ...], evidence: tuple[Path, ...], failed: bool,
           notes: str, out: Path) -> None:
    """Write ORDER_ID's quality report (the document `attest` and `order ship` pin) from measurements.

    Every toleranced dimension of the order's spec becomes a check; the report
    passes only if each is measured and within tolerance and --fail is not given.
    """
    from pynode.orders.spec_document import fetch_spec_document

    if out.exists():
        raise InputError(f"{out} already exists")
    measurements = dict(_measurement(m) for m in measures)
    chain = ctx.chain
    tracker = chain.book.load_order(order_id, chain.from_block)
    if tracker.state.partner == ZERO_ADDRESS:
        raise InputError(f"order {order_id} is {tracker.status.name} and has no partner to report on")
    spec = fetch_spec_document(ctx.ipfs, tracker).model_dump(mode="json")
    started = next((rec.time for rec in tracker.records if rec.kind == RecordKind.PRODUCTION_STARTED), None)
    write_report(ctx, spec, ReportFacts(order_id, chain.chain_id, chain.book.address, tracker.state.partner, started),
                 measurements, evidence, failed, notes, out)


@order.command(name="list")
@click.option("--mine", is_flag=True, help="Only orders where the --account is buyer or partner")
@click.option("--status", type=click.Choice([s.name for s in Status if s != Status.NONE], case_sensitive=False))
@pass_ctx
def list_(ctx: CliContext, mine: bool, status: str | None) -> None:
    """Every order, rebuilt from the order book's events."""
    trackers = ctx.chain.book.load_orders(ctx.chain.from_block)
    me = ctx.keystore.get(ctx.account_name()).address if mine else None
    rows = [order_summary(t) for t in trackers.values()
            if (not status or t.status.name == status.upper())
            and (me is None or me in (t.terms.buyer, t.state.partner))]

    def render(console) -> None:
        from rich.table import Column, Table  # only a human table: --json stays free of rich

        table = Table("id", "status", "buyer", "partner", Column("price", no_wrap=True), "process",
                      Column("claim by (UTC)", no_wrap=True))  # a narrow terminal crops the others
        for r in rows:
            table.add_row(str(r["order_id"]), r["status"], r["buyer"][:10], (r["partner"] or "-")[:10],
                          format_amount(r["price"], ctx.chain.token_unit(r["token"])), ",".join(r["processes"]),
                          format_time(r["claim_deadline"]))
        console.print(table)

    for row in rows:
        row.pop("records")
    ctx.emit(rows, render)


@order.command()
@click.argument("order_id", type=click.IntRange(1))
@pass_ctx
def show(ctx: CliContext, order_id: int) -> None:
    """One order: terms, requirements, documents, state and its provenance records."""
    from pynode.orders.spec_document import fetch_spec_document

    tracker = ctx.chain.book.load_order(order_id, ctx.chain.from_block)
    data = order_summary(tracker)
    try:  # the design's codec is recorded in the spec document, which names its full CID (ipfs/cid.py)
        named = fetch_spec_document(ctx.ipfs, tracker).model_dump().get("design", {}).get("cid")
        data["design_cid"] = design_cid(bytes(tracker.docs.design_cid), named)
    except FabmeshError:
        data["design_cid"] = None  # spec not fetchable now: better unknown than a guessed codec

    def render(console) -> None:
        readable = readable_terms(data, ctx.chain.token_unit(data["token"]))
        for key in data:
            if key != "records":
                console.print(f"{key}: {readable[key]}", highlight=False, markup=False)
        from rich.table import Table  # only a human table: --json stays free of rich

        table = Table("time (UTC)", "record", "actor", "evidence")
        for r in data["records"]:
            table.add_row(format_time(r["time"]), r["kind"], r["actor"], r["evidence"][:18] + "…")
        console.print(table)

    ctx.emit(data, render)


@order.command()
@click.argument("order_id", type=click.IntRange(1))
@click.argument("partner", type=ADDRESS)
@pass_ctx
def award(ctx: CliContext, order_id: int, partner: str) -> None:
    """Award ORDER_ID to the PARTNER that claimed it and publish its key envelope."""
    keypair = ctx.hpke_keys.unlock(ctx.account_name(), ctx.password())
    sent, envelope_cid = _buyer(ctx).award(order_id, partner, keypair)
    ctx.emit({"order_id": order_id, "partner": partner, "tx": sent.tx_hash, "key_envelope_cid": envelope_cid},
             f"order {order_id} awarded to {partner}; key envelope {envelope_cid}")


def _simple(function: str, verb: str, help_text: str) -> click.Command:
    @click.command(name=verb, help=help_text)
    @click.argument("order_id", type=click.IntRange(1))
    @pass_ctx
    def command(ctx: CliContext, order_id: int) -> None:
        sent = _buyer(ctx).act(function, order_id)
        ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "gas_used": sent.gas_used},
                 f"order {order_id}: {verb} done")

    return command


order.add_command(_simple("confirm", "confirm", "Confirm delivery: the payment becomes withdrawable by the partner."))
order.add_command(_simple("cancel", "cancel", "Cancel an unclaimed order; the escrow is credited back to you."))
order.add_command(_simple("refund", "refund", "Refund the buyer after a missed deadline (anyone may call)."))
order.add_command(_simple("finalize", "finalize",
                          "Complete a shipped order after a silent inspection window (anyone)."))


@order.command()
@click.argument("order_id", type=click.IntRange(1))
@click.option("--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Photos, measurements, a report: pinned to IPFS, its CID goes on chain")
@pass_ctx
def dispute(ctx: CliContext, order_id: int, evidence: Path) -> None:
    """Dispute a shipped order inside its inspection window; an arbitrator splits the escrow."""
    sent, evidence_cid = _buyer(ctx).dispute(order_id, evidence)
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "evidence_cid": evidence_cid},
             f"order {order_id} disputed with evidence {evidence_cid}")


# ------------------------------------------------------------------ partner side

def _partner(ctx: CliContext, with_keys: bool = False) -> Partner:
    """The --account as a partner; with_keys unlocks every HPKE key it holds (old ones open old envelopes)."""
    from pynode.orders.partner import Partner

    keys = []
    if with_keys:
        name = ctx.account_name()
        password = ctx.password(f"Password for {name}: ")
        keys = [ctx.hpke_keys.unlock(name, password, key_id) for key_id in ctx.hpke_keys.key_ids(name)]
    return Partner(ctx.chain, ctx.vault, ctx.account, keys)


@order.command()
@click.argument("order_id", type=click.IntRange(1))
@pass_ctx
def claim(ctx: CliContext, order_id: int) -> None:
    """Claim an open order as the --account's shop (locks the claim bond)."""
    partner = _partner(ctx)
    tracker = partner.load(order_id)
    if tracker.status != Status.OPEN:
        raise InputError(f"order {order_id} is {tracker.status.name}, not OPEN")
    sent = ctx.send(partner.claim_request(tracker))
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "claim_bond": tracker.terms.claim_bond},
             f"claimed order {order_id}")


@order.command(name="fetch-design")
@click.argument("order_id", type=click.IntRange(1))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the decrypted design (must not exist)")
@pass_ctx
def fetch_design(ctx: CliContext, order_id: int, out: Path) -> None:
    """Decrypt the design of an order awarded to the --account, verified against its on-chain SHA-256."""
    if out.exists():
        raise InputError(f"{out} already exists")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fabmesh-design-", dir=out.parent))
    try:
        decrypted = _partner(ctx, with_keys=True).fetch_design(order_id, staging)
        decrypted.replace(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    ctx.emit({"order_id": order_id, "out": str(out), "bytes": out.stat().st_size},
             f"order {order_id}: design written to {out} ({out.stat().st_size} bytes, SHA-256 verified)")


@order.command()
@click.argument("order_id", type=click.IntRange(1))
@pass_ctx
def start(ctx: CliContext, order_id: int) -> None:
    """Record that production of an awarded order started."""
    partner = _partner(ctx)
    sent = ctx.send(partner.start_request(partner.load(order_id)))
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash}, f"order {order_id}: production started")


@order.command()
@click.argument("order_id", type=click.IntRange(1))
@click.option("--report", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The passing quality report shipped with the parts")
@pass_ctx
def ship(ctx: CliContext, order_id: int, report: Path) -> None:
    """Mark an order shipped with its (passing) quality report."""
    partner = _partner(ctx)
    tracker = partner.load(order_id)
    cid, digest = partner.pin_report(checked_report(ctx, tracker, report, passed=True))
    sent = ctx.send(partner.ship_request(tracker, cid, digest))
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "report_cid": cid}, f"order {order_id} shipped; report {cid}")


@order.command()
@click.argument("order_id", type=click.IntRange(1))
@click.option("--buyer-share", required=True,
              help="Part of the price returned to the buyer: ETH (0.02) or whole tokens for a token order")
@click.option("--partner-lost", is_flag=True, help="The partner was at fault: its claim bond goes to the buyer")
@click.option("--ruling", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The written ruling; pinned, its CID goes on chain")
@pass_ctx
def resolve(ctx: CliContext, order_id: int, buyer_share: str, partner_lost: bool, ruling: Path) -> None:
    """(arbitrator) Split a disputed order's escrow between buyer and partner."""
    chain = ctx.chain
    tracker = chain.settled_order(order_id)
    token = tracker.terms.token
    decimals = Erc20(chain.w3, token).decimals() if token != ZERO_ADDRESS else 18
    share = parse_amount(buyer_share, decimals, token_units=token != ZERO_ADDRESS)
    ruling_cid = ctx.ipfs.add_bytes(ruling.read_bytes())
    sent = ctx.send(chain.book.resolve(tracker, share, partner_lost, cid_to_digest(ruling_cid)))
    ctx.emit({"order_id": order_id, "tx": sent.tx_hash, "buyer_share": share, "partner_lost": partner_lost,
              "ruling_cid": ruling_cid},
             f"order {order_id} resolved: {format_amount(share, chain.token_unit(token))} to the buyer, "
             f"ruling {ruling_cid}")


# The buyer's automation lives with the node commands; `order watch` is the name buyers look for.
order.add_command(watch_orders, "watch")
