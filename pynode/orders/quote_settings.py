"""The ``[quote]`` table of node.toml: how a manufacturer prices and schedules a quote (orders/quote_policy.py).

Money is integers in the base units of the order's token (wei for ETH, 10⁻⁶ for a 6-decimal token): a
float in an amount is refused with a one-line error rather than rounded. Prices are per token, so a shop
quotes only in the tokens it lists under ``[quote.tokens."<address>"]`` (the zero address is ETH). The bond
is always wei: v2 locks it out of the partner's ETH registry bond, whatever token pays. Rates that price
from the spec's geometry are integers too (mm³ per hour, mm per minute, basis points).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any, Self

from eth_utils import is_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from pynode.chain.orders import MATERIAL, PROCESS
from pynode.core.errors import InputError
from pynode.orders.quote_geometry import NO_GEOMETRY, Measures
from pynode.orders.vocabulary import vocabulary_bits

MAX_UINT96 = (1 << 96) - 1
MAX_UINT32 = (1 << 32) - 1
BPS = 10_000
HOUR_S = 3600


def integer_only(value: Any) -> Any:
    """Floats and booleans are not amounts: 1.5 wei is a typo, not a price to round."""
    if isinstance(value, bool | float):
        raise ValueError("must be an integer (base units of the token, or seconds), not "
                         f"{type(value).__name__} {value!r}")
    return value


def _address(value: str) -> str:
    if not is_address(value):
        raise ValueError(f"{value!r} is not a 0x address")
    return to_checksum_address(value)


Amount = Annotated[int, BeforeValidator(integer_only), Field(ge=0, le=MAX_UINT96)]
Seconds = Annotated[int, BeforeValidator(integer_only), Field(ge=0, le=MAX_UINT32)]
Bps = Annotated[int, BeforeValidator(integer_only), Field(ge=0, lt=BPS)]
Rate = Annotated[int, BeforeValidator(integer_only), Field(ge=1, le=MAX_UINT96)]  # per hour / per minute
Address = Annotated[str, AfterValidator(_address)]


def _known(names: dict[str, Any], vocabulary: dict[str, int], what: str) -> None:
    bits = [_bit(name, vocabulary, what) for name in names]
    if len(set(bits)) != len(bits):
        raise ValueError(f"two names for the same {what}")


def _bit(name: str, vocabulary: dict[str, int], what: str) -> int:
    try:
        return vocabulary_bits([name], vocabulary, what)
    except InputError as exc:  # pydantic reports ValueError as the key's one-line message
        raise ValueError(str(exc)) from None


class ProcessRate(BaseModel):
    """``[quote.processes.<process>]``: the machine time one job of this process takes.

    A part's time comes from the spec's published geometry when a rate for its kind is set, in this order:
    ``gcode_time_bps`` × a G-code's estimate, ``cut_mm_per_min`` along a DXF's cut, ``mm3_per_hour`` for a
    mesh's volume (or a G-code's filament; ``subtractive``: the mesh's bounding box less the part), each plus
    ``handling_s``; else it is ``part_s``, and without ``part_s`` an order whose geometry gives no time is
    declined."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    setup_s: Seconds = 0
    part_s: Seconds | None = None
    handling_s: Seconds = 0
    mm3_per_hour: Rate | None = None
    subtractive: bool = False
    cut_mm_per_min: Rate | None = None
    gcode_time_bps: Annotated[int, BeforeValidator(integer_only), Field(ge=1, le=100 * BPS)] | None = None

    @model_validator(mode="after")
    def _some_time(self) -> Self:
        if self.part_s is None and self.mm3_per_hour is None and self.cut_mm_per_min is None \
                and self.gcode_time_bps is None:
            raise ValueError("set part_s or a geometry rate (mm3_per_hour, cut_mm_per_min, gcode_time_bps)")
        return self

    def part_time(self, measures: Measures) -> Fraction | None:
        """One part's machine time in seconds, exact; None when neither the geometry nor ``part_s`` gives it."""
        if self.gcode_time_bps is not None and measures.print_s is not None:
            return measures.print_s * self.gcode_time_bps / BPS + self.handling_s
        if self.cut_mm_per_min is not None and measures.cut_mm is not None:
            return measures.cut_mm * 60 / self.cut_mm_per_min + self.handling_s
        if self.mm3_per_hour is not None and measures.part_mm3 is not None:
            if not self.subtractive:
                return measures.part_mm3 * HOUR_S / self.mm3_per_hour + self.handling_s
            if measures.stock_mm3 is not None:  # milled away: the block less the part
                return max(Fraction(0), measures.stock_mm3 - measures.part_mm3) * HOUR_S / self.mm3_per_hour \
                    + self.handling_s
        return None if self.part_s is None else Fraction(self.part_s)


class TokenPrices(BaseModel):
    """``[quote.tokens."<address>"]``: the shop's prices in one token's base units.

    A part's material is ``material_per_part`` plus ``material_per_cm3`` × its volume (the mesh's, the
    G-code's filament, or for a subtractive process the mesh's bounding box) plus ``material_per_cm2`` × the
    DXF's extents, for each table that lists the material."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    machine_rate_per_hour: Amount
    setup_fee: Amount = 0
    material_per_part: dict[str, Amount] = Field(default_factory=dict)
    material_per_cm3: dict[str, Amount] = Field(default_factory=dict)
    material_per_cm2: dict[str, Amount] = Field(default_factory=dict)
    min_price: Amount = Field(default=1, ge=1, description="the book refuses a zero price")

    @field_validator("material_per_part", "material_per_cm3", "material_per_cm2")
    @classmethod
    def _materials(cls, value: dict[str, int]) -> dict[str, int]:
        _known(value, MATERIAL, "material")
        return value

    def lists(self, material_bit: int) -> bool:
        return any(_cost(table, material_bit) is not None
                   for table in (self.material_per_part, self.material_per_cm3, self.material_per_cm2))

    def material_cost(self, material_bit: int, measures: Measures = NO_GEOMETRY, *,
                      subtractive: bool = False) -> Fraction | None:
        """One part's material, exact; None when a table lists the material but the geometry lacks its figure."""
        cost = Fraction(_cost(self.material_per_part, material_bit) or 0)
        per_cm3, per_cm2 = _cost(self.material_per_cm3, material_bit), _cost(self.material_per_cm2, material_bit)
        if per_cm3 is not None:
            volume = measures.stock_mm3 if subtractive else measures.part_mm3
            if volume is None:
                return None
            cost += per_cm3 * volume / 1000
        if per_cm2 is not None:
            if measures.sheet_mm2 is None:
                return None
            cost += per_cm2 * measures.sheet_mm2 / 100
        return cost


def _cost(table: dict[str, int], material_bit: int) -> int | None:
    return next((cost for name, cost in table.items() if _bit(name, MATERIAL, "material") == material_bit), None)


class QuantityBreak(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_quantity: int = Field(ge=1, le=10**9)
    discount_bps: Bps


class QuoteSettings(BaseModel):
    """``[quote]``: margin, quantity breaks, lead time, validity and bond; per-process times, per-token prices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    margin_bps: Annotated[int, BeforeValidator(integer_only), Field(ge=0, le=10 * BPS)] = 2000
    breaks: list[QuantityBreak] = Field(default_factory=list, description="ascending min_quantity")
    min_lead_time_s: Seconds = 0
    queue_s_per_job: Seconds = 0
    validity_s: Seconds = Field(default=3600, ge=1)
    bond_wei: Amount = 0
    max_bond_wei: Amount | None = None
    payee: Address | None = Field(default=None, description="None: the partner account")
    processes: dict[str, ProcessRate] = Field(default_factory=dict)
    tokens: dict[Address, TokenPrices] = Field(default_factory=dict)

    @field_validator("processes")
    @classmethod
    def _processes(cls, value: dict[str, ProcessRate]) -> dict[str, ProcessRate]:
        _known(value, PROCESS, "process")
        return value

    @field_validator("tokens", mode="before")
    @classmethod
    def _one_entry_per_token(cls, value: Any) -> Any:
        if isinstance(value, dict) and len({str(k).lower() for k in value}) != len(value):
            raise ValueError("a token is listed twice (addresses differ only in case)")
        return value

    @field_validator("breaks")
    @classmethod
    def _ascending(cls, value: list[QuantityBreak]) -> list[QuantityBreak]:
        quantities = [b.min_quantity for b in value]
        if quantities != sorted(set(quantities)):
            raise ValueError("min_quantity must be strictly ascending")
        return value

    def process_rate(self, process_bit: int) -> ProcessRate | None:
        return next((rate for name, rate in self.processes.items() if _bit(name, PROCESS, "process") == process_bit),
                    None)

    def discount_bps(self, quantity: int) -> int:
        """The best discount among the breaks the quantity reaches (0 below every break)."""
        return max((b.discount_bps for b in self.breaks if quantity >= b.min_quantity), default=0)
