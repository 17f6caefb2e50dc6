"""Parsers for values users type: amounts, durations, times, addresses, names from a vocabulary.

Each raises click.BadParameter with one line saying what was expected, so the
CLI exits 2 (usage) with the option named.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from decimal import Context, Decimal, InvalidOperation

import click

from pynode.core.address import is_address, is_checksum_address, to_checksum_address

_UNITS = {"wei": 0, "gwei": 9, "eth": 18, "ether": 18}
_AMOUNT = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)\s*(?P<unit>[a-z]*)$")
_DURATION = re.compile(r"^(?P<number>[0-9]{1,15})\s*(?P<unit>s|m|h|d|w)$")  # ASCII digits, never 4,300 of them
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_UINT96 = (1 << 96) - 1
MAX_UINT40 = (1 << 40) - 1
_SECONDS_SINCE_EPOCH = re.compile(r"^[0-9]{1,20}$")


def parse_amount(text: str, decimals: int = 18, *, token_units: bool = False) -> int:
    """`0.5` or `0.5eth` (ether), `20gwei`, `123wei`; for a token, a decimal number of whole tokens."""
    match = _AMOUNT.match(text.strip().lower())
    if not match:
        raise click.BadParameter(f"{text!r} is not an amount (e.g. 0.25, 0.25eth, 1000gwei, 5wei)")
    unit = match["unit"]
    if token_units:
        if unit:
            raise click.BadParameter(f"{text!r}: token amounts take no unit, they are whole tokens (e.g. 125.5)")
        scale = decimals
    else:
        if unit and unit not in _UNITS:
            raise click.BadParameter(f"{text!r}: unknown unit {unit!r} (use eth, gwei or wei)")
        scale = _UNITS[unit or "eth"]
    number = match["number"]
    try:  # exact: a context as wide as the number (the default 28 digits rounded a uint96 of wei)
        value = Decimal(number).scaleb(scale, context=Context(prec=len(number) + 1))
    except InvalidOperation as exc:
        raise click.BadParameter(f"{text!r} is not an amount") from exc
    if value != value.to_integral_value():
        raise click.BadParameter(f"{text!r} has more decimals than the smallest unit allows")
    if value > MAX_UINT96:
        raise click.BadParameter(f"{text!r} is larger than the contracts accept (uint96)")
    return int(value)


def parse_duration(text: str) -> int:
    """`90m`, `12h`, `3d`, `2w` or plain seconds like `3600s`."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match["number"]) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration (e.g. 90m, 12h, 3d, 2w)")
    return int(match["number"]) * _SECONDS[match["unit"]]


def parse_time(text: str, now: int | None = None) -> int:
    """A unix time from `+3d` (from now), an ISO 8601 date/time (UTC unless given), or seconds."""
    text = text.strip()
    now = int(time.time()) if now is None else now
    if text.startswith("+"):
        return now + parse_duration(text[1:])
    if _SECONDS_SINCE_EPOCH.match(text):
        value = int(text)
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise click.BadParameter(f"{text!r} is not a time (e.g. +3d, 2026-12-01, 2026-12-01T17:00Z)") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        value = int(moment.timestamp())
    if not 0 < value <= MAX_UINT40:
        raise click.BadParameter(f"{text!r} is out of range")
    return value


def parse_address(text: str) -> str:
    """A 0x address; mixed case must be a valid EIP-55 checksum (a typo guard)."""
    text = text.strip()
    if not is_address(text):
        raise click.BadParameter(f"{text!r} is not an address")
    if text != text.lower() and text[2:] != text[2:].upper() and not is_checksum_address(text):
        raise click.BadParameter(f"{text!r} has a wrong EIP-55 checksum (typo?)")
    return to_checksum_address(text)


def parse_names(text: str, vocabulary: dict[str, int], what: str) -> int:
    """`FDM,SLA` → the OR of their bits; unknown names list the valid ones."""
    bits = 0
    for raw in text.split(","):
        name = raw.strip().upper().replace("-", "_")
        if not name:
            continue
        if name not in vocabulary:
            raise click.BadParameter(f"unknown {what} {raw.strip()!r}; known: {', '.join(sorted(vocabulary))}")
        bits |= vocabulary[name]
    if not bits:
        raise click.BadParameter(f"name at least one {what}")
    return bits


def names_of(bits: int, vocabulary: dict[str, int]) -> list[str]:
    return [name for name, bit in vocabulary.items() if bits & bit]


class _Param(click.ParamType):
    def __init__(self, name: str, parse) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return self._parse(value)
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


DURATION = _Param("duration", parse_duration)
TIME = _Param("time", parse_time)
ADDRESS = _Param("address", parse_address)
