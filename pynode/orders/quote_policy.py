"""The manufacturer's quote policy: price and schedule an order by the shop's ``[quote]`` rules, or name why not.

Pure: no chain, no IPFS, no clock (``now`` is an argument). The v2 daemon will call :func:`decide_quote` for
each order announcement with the terms and spec the book holds for that order (never the announcement's
word), the public spec document pinned at ``OrderDocs.specCid`` and its own queue and registry entry; it
signs the returned :class:`~pynode.protocol.v2.types.Quote` (``documents.quote.sign_quote``) as a separate
step. The first rule that fails names the decline:

1. ``NOT_INDEPENDENT``: the shop is the order's buyer or arbitrator (the book refuses such a quote).
2. ``AWARD_DEADLINE_PASSED``: ``now`` is past ``awardDeadline``; nobody can award a quote any more.
3. ``TOKEN_NOT_ACCEPTED``: no ``[quote.tokens]`` entry for the order's token.
4. ``NOT_CAPABLE``: a process or material bit the spec requires is not in the shop's vetted profile
   (the registry checks the same at award).
5. ``SPEC_MISMATCH``: the document's process or material is unknown or not among the spec's bits (the
   buyer's document and chain disagree: the price would be for another job).
6. ``NOT_CAPABLE``: no ``[quote.processes]`` rate for the document's process, or no material cost for its
   material in the order's token.
7. ``SPEC_MISMATCH``: the document's ``geometry`` is malformed.
8. ``NO_GEOMETRY``: the rate or the material is priced from a figure the spec's geometry does not publish
   (a volume, a cut length, a print time) and the settings give no fixed ``part_s`` / price instead.
9. ``NOT_CERTIFIED``: a certification id the spec packs in ``certIds`` is not held or has expired by now.
10. ``OVER_CAPACITY``: jobs in flight have reached ``[policy] max_concurrent_jobs``, or the shop floor
    reports its free machines (the adapter's ``capacity()``) and the quotes still open already take them
    all: the node never quotes a job it could not start at once.
11. ``BOND_TOO_HIGH`` / ``BOND_UNAVAILABLE``: the bond, ``max(bond_wei, terms.minBond)``, is above
    ``max_bond_wei`` or above the shop's free registry bond.
12. ``PRICE_ABOVE_CAP``: our price is above ``terms.price`` (the buyer's cap, equal is fine).
13. ``DEADLINE_UNREACHABLE``: ``now + lead time`` is past ``deliveryDeadline`` (exactly at it is fine).

A part's machine time and material come from the spec's published geometry (``quote_geometry``) where the
settings price it: a mesh's volume at ``mm3_per_hour`` (subtractive: its bounding box less the part), a
DXF's cut length at ``cut_mm_per_min``, a G-code's estimated time × ``gcode_time_bps``, each plus
``handling_s``; material per cm³ of the mesh, its bounding box or the G-code's filament, per cm² of the
DXF's extents, plus per part. Otherwise ``part_s`` and ``material_per_part``. Price, in the token's base
units, rounded up once (in the shop's favour) from the exact rational::

    machine_s = setup_s + ⌈part_s × quantity⌉
    cost      = setup_fee + machine_rate_per_hour × machine_s / 3600 + material_per_part × quantity
    price     = max(min_price, ⌈cost × (1 + margin_bps/10⁴) × (1 − discount_bps/10⁴)⌉)

``discount_bps`` is the best quantity break the quantity reaches. Lead time, in seconds::

    lead_time = min_lead_time_s + jobs_in_flight × queue_s_per_job + machine_s

Expiry is the last second an award of the quote is sure to pass the book and registry::

    expiry = min(now + validity_s, awardDeadline, deliveryDeadline − lead_time, earliest cert expiry − 1)

so a quote never outlives the order's deadlines or the shop's certificates (the registry wants a
certificate to expire after the award's block).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import Enum
from fractions import Fraction
from typing import NamedTuple

from pynode.chain.orders import MATERIAL, PROCESS
from pynode.core.address import to_checksum_address
from pynode.core.errors import InputError
from pynode.documents.spec import ProductionSpec
from pynode.orders.quote_geometry import measures_of
from pynode.orders.quote_settings import BPS, HOUR_S, MAX_UINT32, QuoteSettings, TokenPrices
from pynode.orders.vocabulary import vocabulary_bits
from pynode.protocol.v2.codec import terms_hash
from pynode.protocol.v2.types import OrderSpec, OrderTerms, Quote


class DeclineReason(Enum):
    NOT_INDEPENDENT = "not independent"
    AWARD_DEADLINE_PASSED = "award deadline passed"
    TOKEN_NOT_ACCEPTED = "token not accepted"
    NOT_CAPABLE = "not capable"
    SPEC_MISMATCH = "spec mismatch"
    NO_GEOMETRY = "geometry needed"
    NOT_CERTIFIED = "not certified"
    OVER_CAPACITY = "over capacity"
    BOND_TOO_HIGH = "bond too high"
    BOND_UNAVAILABLE = "bond unavailable"
    PRICE_ABOVE_CAP = "price cap below our price"
    DEADLINE_UNREACHABLE = "deadline unreachable"


class ShopState(NamedTuple):
    """What the daemon knows of itself when it quotes."""

    partner: str  # the shop's account: Quote.partner, the signer
    processes: int  # process bits of its vetted registry profile
    materials: int  # material bits of its vetted registry profile
    certifications: Mapping[int, int]  # certification id -> expiry (unix s), as the registry holds them
    jobs_in_flight: int  # awarded and not yet shipped
    max_jobs: int  # [policy] max_concurrent_jobs
    free_bond: int  # registry bond minus the part locked by open orders, wei
    # machines that can start a job now, net of awarded jobs not started yet (ProductionAdapter.capacity());
    # None: the shop floor does not say, max_jobs alone bounds the quotes
    capacity: int | None = None
    quotes_open: int = 0  # quotes signed, not yet awarded, expired or cancelled: each may be awarded


class Quoted(NamedTuple):
    quote: Quote  # the fields to sign
    token: str  # the order's token the price is in (the zero address: ETH)
    cost: int  # the rounded-up cost before margin and discount, for the log
    machine_s: int  # the machine time the lead time includes, for the log


class Decline(NamedTuple):
    reason: DeclineReason
    detail: str

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}"


class Job(NamedTuple):
    """The job an order asks of this shop, as the quote prices it."""

    prices: TokenPrices
    machine_s: int
    material_cost: Fraction  # one part's, exact
    quantity: int


def decide_quote(settings: QuoteSettings, terms: OrderTerms, spec: OrderSpec, document: ProductionSpec,
                 shop: ShopState, now: int, *, nonce: int = 0) -> Quoted | Decline:
    """A quote for the order, or the first rule (module docstring) it fails. ``nonce`` is the quote's
    cancellation handle, allocated by the caller (0: not cancellable)."""
    job = _job(settings, terms, spec, document, shop, now)
    if isinstance(job, Decline):
        return job
    bond = max(settings.bond_wei, terms.min_bond)
    if settings.max_bond_wei is not None and bond > settings.max_bond_wei:
        return Decline(DeclineReason.BOND_TOO_HIGH, f"bond {bond} wei above max_bond_wei {settings.max_bond_wei}")
    if bond > shop.free_bond:
        return Decline(DeclineReason.BOND_UNAVAILABLE, f"bond {bond} wei above the free registry bond "
                                                       f"{shop.free_bond}")
    price, cost = price_of(settings, job)
    if price > terms.price:
        return Decline(DeclineReason.PRICE_ABOVE_CAP, f"our price {price} above the cap {terms.price}")
    lead_time = settings.min_lead_time_s + shop.jobs_in_flight * settings.queue_s_per_job + job.machine_s
    if now + lead_time > terms.delivery_deadline or lead_time > MAX_UINT32:
        return Decline(DeclineReason.DEADLINE_UNREACHABLE, f"lead time {lead_time} s from {now} passes the "
                                                           f"delivery deadline {terms.delivery_deadline}")
    expiry = min(now + settings.validity_s, terms.award_deadline, terms.delivery_deadline - lead_time,
                 *(shop.certifications[cert] - 1 for cert in cert_ids(spec.cert_ids)))
    payee = settings.payee or to_checksum_address(shop.partner)
    quote = Quote(terms_hash(terms), to_checksum_address(shop.partner), payee, price, bond, lead_time, expiry, nonce)
    return Quoted(quote, to_checksum_address(terms.token), cost, job.machine_s)


def _job(settings: QuoteSettings, terms: OrderTerms, spec: OrderSpec, document: ProductionSpec, shop: ShopState,
         now: int) -> Job | Decline:
    """Rules 1–10: whether the shop takes this job at all, and what it is."""
    me = to_checksum_address(shop.partner)
    if me in (to_checksum_address(terms.buyer), to_checksum_address(terms.arbitrator)):
        return Decline(DeclineReason.NOT_INDEPENDENT, "the shop is the order's buyer or arbitrator")
    if now > terms.award_deadline:
        return Decline(DeclineReason.AWARD_DEADLINE_PASSED, f"award deadline {terms.award_deadline} < now {now}")
    prices = settings.tokens.get(to_checksum_address(terms.token))
    if prices is None:
        return Decline(DeclineReason.TOKEN_NOT_ACCEPTED, f"no [quote.tokens] prices for {terms.token}")
    if spec.processes & ~shop.processes or spec.materials & ~shop.materials:
        return Decline(DeclineReason.NOT_CAPABLE, f"spec needs processes 0x{spec.processes:x} materials "
                                                  f"0x{spec.materials:x}, vetted 0x{shop.processes:x} "
                                                  f"0x{shop.materials:x}")
    try:
        process = vocabulary_bits([document.process], PROCESS, "process")
        material = vocabulary_bits([document.material], MATERIAL, "material")
    except InputError as exc:
        return Decline(DeclineReason.SPEC_MISMATCH, str(exc))
    if not process & spec.processes or not material & spec.materials:
        return Decline(DeclineReason.SPEC_MISMATCH, f"the document's {document.process!r} / {document.material!r} "
                                                    "is not what the spec on chain requires")
    rate = settings.process_rate(process)
    if rate is None or not prices.lists(material):
        missing = f"process {document.process!r}" if rate is None else f"material {document.material!r}"
        return Decline(DeclineReason.NOT_CAPABLE, f"no [quote] rate for {missing} in {terms.token}")
    try:
        measures = measures_of(document)
    except InputError as exc:
        return Decline(DeclineReason.SPEC_MISMATCH, str(exc))
    part_s = rate.part_time(measures)
    material_cost = prices.material_cost(material, measures, subtractive=rate.subtractive)
    if part_s is None or material_cost is None:
        what = f"the machine time of {document.process!r}" if part_s is None else \
            f"the material {document.material!r}"
        return Decline(DeclineReason.NO_GEOMETRY, f"{what} is priced from geometry the spec does not publish "
                                                  f"({_published(document)})")
    for cert in cert_ids(spec.cert_ids):
        if shop.certifications.get(cert, 0) <= now:
            return Decline(DeclineReason.NOT_CERTIFIED, f"certification {cert} not held or expired")
    if shop.jobs_in_flight >= shop.max_jobs:
        return Decline(DeclineReason.OVER_CAPACITY, f"{shop.jobs_in_flight} jobs in flight, at most {shop.max_jobs}")
    if shop.capacity is not None and shop.quotes_open >= shop.capacity:
        return Decline(DeclineReason.OVER_CAPACITY, f"{shop.capacity} machines free to start a job, "
                                                    f"{shop.quotes_open} quotes open")
    quantity = document.quantity
    return Job(prices, rate.setup_s + math.ceil(part_s * quantity), material_cost, quantity)


def _published(document: ProductionSpec) -> str:
    geometry = (document.model_extra or {}).get("geometry")
    return f"its geometry is {geometry['format']}" if geometry else "it has no geometry"


def price_of(settings: QuoteSettings, job: Job) -> tuple[int, int]:
    """(price, cost), both rounded up: one ceiling of the exact rational, no float anywhere."""
    prices = job.prices
    cost = prices.setup_fee + job.material_cost * job.quantity + \
        Fraction(prices.machine_rate_per_hour * job.machine_s, HOUR_S)
    factor = Fraction((BPS + settings.margin_bps) * (BPS - settings.discount_bps(job.quantity)), BPS * BPS)
    return max(prices.min_price, math.ceil(cost * factor)), math.ceil(cost)


def cert_ids(packed: int) -> list[int]:
    """The certification ids packed in ``OrderSpec.certIds`` (four uint32, lowest first; 0 unused)."""
    return [cert for cert in ((packed >> (32 * i)) & 0xFFFFFFFF for i in range(4)) if cert]
