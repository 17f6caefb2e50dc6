"""The ``[quote]`` table of node.toml: how a manufacturer prices and schedules a quote (orders/quote_policy.py).

Money is integers in the base units of the order's token (wei for ETH, 10⁻⁶ for a 6-decimal token): a
float in an amount is refused with a one-line error rather than rounded. Prices are per token, so a shop
quotes only in the tokens it lists under ``[quote.tokens."<address>"]`` (the zero address is ETH). The bond
is always wei: v2 locks it out of the partner's ETH registry bond, whatever token pays.
"""

from __future__ import annotations

from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from pynode.chain.orders import MATERIAL, PROCESS
from pynode.core.errors import InputError
from pynode.orders.vocabulary import vocabulary_bits

MAX_UINT96 = (1 << 96) - 1
MAX_UINT32 = (1 << 32) - 1
BPS = 10_000


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
    """``[quote.processes.<process>]``: the machine time one job of this process takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    setup_s: Seconds = 0
    part_s: Seconds


class TokenPrices(BaseModel):
    """``[quote.tokens."<address>"]``: the shop's prices in one token's base units."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    machine_rate_per_hour: Amount
    setup_fee: Amount = 0
    material_per_part: dict[str, Amount] = Field(default_factory=dict)
    min_price: Amount = Field(default=1, ge=1, description="the book refuses a zero price")

    @field_validator("material_per_part")
    @classmethod
    def _materials(cls, value: dict[str, int]) -> dict[str, int]:
        _known(value, MATERIAL, "material")
        return value

    def material_cost(self, material_bit: int) -> int | None:
        return next((cost for name, cost in self.material_per_part.items()
                     if _bit(name, MATERIAL, "material") == material_bit), None)


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
