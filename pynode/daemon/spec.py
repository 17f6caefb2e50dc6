"""The production spec an order carries: process, material, quantity and named tolerances.

Shared by the adapters (what to make) and the quality report (what to check).
Numbers are floats as they appear in JSON; tolerance checks are done on their
shortest decimal form (see ``report.within``) so 10.1 is "at the limit" of
10.0 +0.1 exactly as a human reads it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pynode.core.errors import InputError
from pynode.core.strict_json import brief

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


class Tolerance(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    nominal: float
    plus: float = Field(ge=0)
    minus: float = Field(ge=0)
    unit: str = Field(min_length=1, max_length=16)


class ProductionSpec(BaseModel):
    """The fields the node needs; other keys of the buyer's spec are kept (and handed to the shop)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, frozen=True)

    process: str = Field(min_length=1, max_length=64)
    material: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10**9)
    tolerances: dict[str, Tolerance] = Field(default_factory=dict, max_length=1000)

    @field_validator("tolerances")
    @classmethod
    def _names(cls, value: dict[str, Tolerance]) -> dict[str, Tolerance]:
        import re

        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"tolerance name {name!r} must match {NAME_PATTERN}")
        return value


def one_line(exc: ValidationError, what: str) -> str:
    """A pydantic error as one line naming the first offending key: 'spec: tolerances.x.plus: ...'."""
    first = exc.errors()[0]
    where = dotted(first["loc"]) or "(document)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{what}: {where}: {first['msg']}{more}"


def dotted(loc: tuple[int | str, ...]) -> str:
    """A key path for a one-line message; keys from documents may hold newlines or be long, so those are quoted."""
    return ".".join(str(part) if str(part).isprintable() and len(str(part)) <= 40 else brief(str(part))
                    for part in loc)


def parse_spec(spec: Mapping[str, Any]) -> ProductionSpec:
    try:
        return ProductionSpec.model_validate(dict(spec))
    except ValidationError as exc:
        raise InputError(one_line(exc, "spec")) from None


def finite(value: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
