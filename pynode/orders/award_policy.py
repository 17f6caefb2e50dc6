"""The buyer's award policy: which of the quotes on an order to award now, or wait, or give up, and why each
other quote is not chosen.

Pure: no chain, no IPFS, no clock. The v2 buyer watcher will call :func:`decide_award` with the order's terms
and spec as the book holds them, the quotes received for it in arrival order (their signatures already
checked: orders/quote_channel.py, documents/quote.py), the registry facts of each quoting partner and the
``[award]`` settings; it sends the award with the chosen quote as a separate step. Every time test is made
at ``at = now + award_margin_s``, when the award is expected on chain, so a quote that would expire, or
make delivery late, while the award is in flight is refused here rather than by the book.

A quote qualifies unless the first failing rule names its rejection:

- the book would refuse it: ``WRONG_ORDER`` (another terms hash), ``NOT_INDEPENDENT`` (partner is the buyer
  or arbitrator), ``NO_PAYEE``, ``EXPIRED`` (``at > expiry``), ``PRICE_OUT_OF_RANGE`` (0, or above the
  order's cap ``terms.price``), ``BOND_BELOW_MINIMUM``, ``LATE`` (``at + leadTime > deliveryDeadline``);
- the buyer's lists and limits: ``DENIED``, ``NOT_ALLOWED`` (an allow-list that does not name it),
  ``ABOVE_MAX_PRICE``, ``ABOVE_MAX_LEAD_TIME``;
- the registry would refuse the bond lock: ``UNKNOWN_PARTNER`` (no facts), ``NOT_AWARDABLE`` (not
  registered and vetted, or suspended, or unbonding), ``NOT_CAPABLE``, ``NOT_CERTIFIED`` (a required
  certificate expiring by ``at``), ``BOND_UNAVAILABLE`` (free registry bond below the quote's bond);
- reputation floors: ``TOO_FEW_COMPLETED``, ``FAILED_QA_RATE`` (failed QA / (completed + failed QA), in
  basis points, above the ceiling; a partner with no history has rate 0).

Choosing, by ``mode``:

- ``best``: wait until ``min(postedAt + wait_s, awardDeadline − award_margin_s)`` to collect quotes, then
  award the qualified quote that is cheapest, then shortest lead time, then best reputation (lower
  failed-QA rate, then more completed orders), then larger bond, then by partner address, nonce, expiry
  and payee, so the choice is the same whatever order the quotes arrived in.
- ``first`` (a fixed-price open order): award the first qualified quote to arrive, at the order's price or
  below (the book credits the buyer the difference); no window.

Spreading the load: ``max_awarded_per_partner`` caps how many of the buyer's orders one partner holds awarded
and not yet shipped (the watcher counts them, its awards in flight included, and names the partners at the cap
``busy``). A busy partner's qualified quotes are passed over (``PARTNER_BUSY``) for the best quote of a
partner with room, so a burst of orders does not pile on the cheapest shop while the others stand idle (one
shop's machines would bound the buyer's throughput, and its lead times grow with its queue); with every
qualified partner busy the order waits for a shipment to free a slot (or a quote from a partner with room).

Qualified quotes not chosen are rejected ``OUTBID``. With none qualified the policy waits for more, and gives
up when ``at`` passes the award deadline (``AWARD_DEADLINE_PASSED``) or the delivery deadline
(``DELIVERY_DEADLINE_UNREACHABLE``: no lead time, not even 0, could deliver on time).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from enum import Enum
from fractions import Fraction
from typing import Annotated, Literal, NamedTuple

from eth_utils import to_checksum_address
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pynode.orders.quote_policy import cert_ids
from pynode.orders.quote_settings import BPS, Address, Amount, Seconds, integer_only
from pynode.protocol.types import PartnerFlags
from pynode.protocol.v2.codec import terms_hash
from pynode.protocol.v2.types import OrderSpec, OrderTerms, Quote

ZERO_ADDRESS = "0x" + "00" * 20
_AWARD_MASK = PartnerFlags.REGISTERED | PartnerFlags.VETTED | PartnerFlags.SUSPENDED | PartnerFlags.UNBONDING
_AWARDABLE = PartnerFlags.REGISTERED | PartnerFlags.VETTED


class AwardSettings(BaseModel):
    """``[award]``: how the buyer's watcher chooses among the quotes on its orders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["best", "first"] = "best"
    wait_s: Seconds = Field(default=60, description="best: collect quotes this long after the post")
    award_margin_s: Seconds = Field(default=30, description="a quote must still hold this long after deciding")
    max_price: Amount | None = Field(default=None, description="None: the order's own cap")
    max_lead_time_s: Seconds | None = None
    min_completed: Annotated[int, BeforeValidator(integer_only), Field(ge=0, lt=1 << 24)] = 0
    max_failed_qa_bps: Annotated[int, BeforeValidator(integer_only), Field(ge=0, le=BPS)] | None = None
    allow: list[Address] = Field(default_factory=list, description="empty: any partner")
    max_awarded_per_partner: Annotated[int, BeforeValidator(integer_only), Field(ge=1, lt=1 << 24)] | None = Field(
        default=None, description="orders one partner holds awarded and unshipped before its quotes wait for "
                                  "others' (None: no cap)")
    deny: list[Address] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lists_disjoint(self) -> AwardSettings:
        both = sorted(set(self.allow) & set(self.deny))
        if both:
            raise ValueError(f"{both[0]} is in both allow and deny")
        return self


class PartnerFacts(NamedTuple):
    """A partner's registry entry (PartnerRegistryV2 PartnerInfo) as the award needs it."""

    flags: int  # PartnerFlags bits
    processes: int  # vetted capability bits
    materials: int
    certifications: Mapping[int, int]  # certification id -> expiry (unix s)
    free_bond: int  # bond minus locked, wei
    completed: int
    failed_qa: int

    def failed_qa_rate(self) -> Fraction:
        settled = self.completed + self.failed_qa
        return Fraction(self.failed_qa, settled) if settled else Fraction(0)


class RejectReason(Enum):
    WRONG_ORDER = "wrong order"
    NOT_INDEPENDENT = "not independent"
    NO_PAYEE = "no payee"
    DENIED = "denied"
    NOT_ALLOWED = "not allowed"
    EXPIRED = "expired"
    PRICE_OUT_OF_RANGE = "price out of range"
    ABOVE_MAX_PRICE = "above max price"
    BOND_BELOW_MINIMUM = "bond below minimum"
    LATE = "late"
    ABOVE_MAX_LEAD_TIME = "above max lead time"
    UNKNOWN_PARTNER = "unknown partner"
    NOT_AWARDABLE = "not awardable"
    NOT_CAPABLE = "not capable"
    NOT_CERTIFIED = "not certified"
    BOND_UNAVAILABLE = "bond unavailable"
    TOO_FEW_COMPLETED = "too few completed"
    FAILED_QA_RATE = "failed QA rate"
    PARTNER_BUSY = "partner busy"
    OUTBID = "outbid"


class GiveUpReason(Enum):
    AWARD_DEADLINE_PASSED = "award deadline passed"
    DELIVERY_DEADLINE_UNREACHABLE = "delivery deadline unreachable"


class Rejection(NamedTuple):
    quote: Quote
    reason: RejectReason
    detail: str


class Award(NamedTuple):
    quote: Quote
    rejected: tuple[Rejection, ...]


class Wait(NamedTuple):
    until: int  # decide again by then (or when a quote arrives)
    qualified: tuple[Quote, ...]  # pending the end of the window
    rejected: tuple[Rejection, ...]


class GiveUp(NamedTuple):
    reason: GiveUpReason
    detail: str
    rejected: tuple[Rejection, ...]


Decision = Award | Wait | GiveUp


def decide_award(settings: AwardSettings, terms: OrderTerms, spec: OrderSpec, posted_at: int,
                 quotes: Sequence[Quote], facts: Mapping[str, PartnerFacts], now: int,
                 busy: Collection[str] = ()) -> Decision:
    """What to do with the order's quotes now (module docstring); ``quotes`` in arrival order, ``facts`` by
    checksummed partner address, ``busy`` the checksummed partners at ``max_awarded_per_partner``."""
    at = now + settings.award_margin_s
    qualified: list[Quote] = []
    rejected: list[Rejection] = []
    for quote in quotes:
        why = rejection(settings, terms, spec, quote, facts.get(to_checksum_address(quote.partner)), at)
        if why is None:
            qualified.append(quote)
        else:
            rejected.append(Rejection(quote, *why))
    for deadline, reason in ((terms.award_deadline, GiveUpReason.AWARD_DEADLINE_PASSED),
                             (terms.delivery_deadline, GiveUpReason.DELIVERY_DEADLINE_UNREACHABLE)):
        if at > deadline:
            return GiveUp(reason, f"an award at {at} would be past the {reason.value.split()[0]} deadline "
                                  f"{deadline}", tuple(rejected))
    if settings.mode == "best":
        closes = min(posted_at + settings.wait_s, terms.award_deadline - settings.award_margin_s)
        if now < closes:
            return Wait(closes, tuple(qualified), tuple(rejected))
        qualified.sort(key=lambda q: rank(q, facts[to_checksum_address(q.partner)]))
    if not qualified:  # the first second at which the award deadline check above gives up
        return Wait(terms.award_deadline - settings.award_margin_s + 1, (), tuple(rejected))
    held = [q for q in qualified if to_checksum_address(q.partner) in busy]
    if held:
        rejected += [Rejection(q, RejectReason.PARTNER_BUSY, "the partner holds max_awarded_per_partner of the "
                                                             "buyer's orders unshipped") for q in held]
        qualified = [q for q in qualified if q not in held]
        if not qualified:  # decided again at the next block: a shipment frees a slot
            return Wait(now + 1, tuple(held), tuple(rejected))
    chosen, *others = qualified
    outbid = "a cheaper, quicker or better-reputed quote" if settings.mode == "best" else "an earlier qualified quote"
    return Award(chosen, tuple(rejected) + tuple(Rejection(q, RejectReason.OUTBID, outbid) for q in others))


def rank(quote: Quote, partner: PartnerFacts) -> tuple[int, int, Fraction, int, int, str, int, int, str]:
    """The ``best`` order (lowest first): price, lead time, reputation, bond, then the remaining fields."""
    return (quote.price, quote.lead_time, partner.failed_qa_rate(), -partner.completed, -quote.bond,
            quote.partner.lower(), quote.nonce, quote.expiry, quote.payee.lower())


def rejection(settings: AwardSettings, terms: OrderTerms, spec: OrderSpec, quote: Quote,
              partner: PartnerFacts | None, at: int) -> tuple[RejectReason, str] | None:
    """The first rule (module docstring) the quote fails for an award at ``at``, or None."""
    return _book_rules(terms, quote, at) or _buyer_rules(settings, quote) or \
        _registry_rules(settings, spec, quote, partner, at)


def _book_rules(terms: OrderTerms, quote: Quote, at: int) -> tuple[RejectReason, str] | None:
    """What OrderBookV2's award would revert on (signature and nonce aside: checked before and by the book)."""
    if quote.terms_hash != terms_hash(terms):
        return RejectReason.WRONG_ORDER, "the quote names other terms"
    partner = to_checksum_address(quote.partner)
    if partner in (to_checksum_address(terms.buyer), to_checksum_address(terms.arbitrator)):
        return RejectReason.NOT_INDEPENDENT, f"{partner} is the order's buyer or arbitrator"
    if int(quote.payee, 16) == 0:
        return RejectReason.NO_PAYEE, "payee is the zero address"
    if at > quote.expiry:
        return RejectReason.EXPIRED, f"expires at {quote.expiry}, the award lands at {at}"
    if not 0 < quote.price <= terms.price:
        return RejectReason.PRICE_OUT_OF_RANGE, f"price {quote.price} outside 1..{terms.price} (the order's cap)"
    if quote.bond < terms.min_bond:
        return RejectReason.BOND_BELOW_MINIMUM, f"bond {quote.bond} below the order's minimum {terms.min_bond}"
    if at + quote.lead_time > terms.delivery_deadline:
        return RejectReason.LATE, f"due at {at + quote.lead_time}, after the delivery deadline " \
                                  f"{terms.delivery_deadline}"
    return None


def _buyer_rules(settings: AwardSettings, quote: Quote) -> tuple[RejectReason, str] | None:
    partner = to_checksum_address(quote.partner)
    if partner in settings.deny:
        return RejectReason.DENIED, f"{partner} is in deny"
    if settings.allow and partner not in settings.allow:
        return RejectReason.NOT_ALLOWED, f"{partner} is not in allow"
    if settings.max_price is not None and quote.price > settings.max_price:
        return RejectReason.ABOVE_MAX_PRICE, f"price {quote.price} above max_price {settings.max_price}"
    if settings.max_lead_time_s is not None and quote.lead_time > settings.max_lead_time_s:
        return RejectReason.ABOVE_MAX_LEAD_TIME, f"lead time {quote.lead_time} s above max_lead_time_s " \
                                                 f"{settings.max_lead_time_s}"
    return None


def _registry_rules(settings: AwardSettings, spec: OrderSpec, quote: Quote, partner: PartnerFacts | None,
                    at: int) -> tuple[RejectReason, str] | None:
    """The award's eligibility checks (PartnerSlots.checkEligible, the registry's certifications), then the buyer's
    reputation floors."""
    if partner is None:
        return RejectReason.UNKNOWN_PARTNER, "no registry facts for the partner"
    if partner.flags & _AWARD_MASK != _AWARDABLE:
        return RejectReason.NOT_AWARDABLE, f"registry flags 0x{partner.flags:x}: not registered and vetted, or " \
                                           "suspended or unbonding"
    if spec.processes & ~partner.processes or spec.materials & ~partner.materials:
        return RejectReason.NOT_CAPABLE, "not vetted for every process and material of the spec"
    for cert in cert_ids(spec.cert_ids):
        if partner.certifications.get(cert, 0) <= at:
            return RejectReason.NOT_CERTIFIED, f"certification {cert} not held at {at}"
    if partner.free_bond < quote.bond:
        return RejectReason.BOND_UNAVAILABLE, f"free registry bond {partner.free_bond} below the bond {quote.bond}"
    if partner.completed < settings.min_completed:
        return RejectReason.TOO_FEW_COMPLETED, f"{partner.completed} completed, fewer than {settings.min_completed}"
    if settings.max_failed_qa_bps is not None and partner.failed_qa_rate() > Fraction(settings.max_failed_qa_bps, BPS):
        settled = partner.completed + partner.failed_qa
        return RejectReason.FAILED_QA_RATE, f"{partner.failed_qa} failed QA in {settled} settled, above " \
                                            f"{settings.max_failed_qa_bps} bps"
    return None
