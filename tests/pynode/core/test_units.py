"""Amounts, durations and times for people: exact (no float ever touches a wei), and readable back as input."""

from __future__ import annotations

import pytest

from pynode.cli.parsing import parse_amount, parse_time
from pynode.core.units import ETH, Unit, format_amount, format_duration, format_time

USDC = Unit("USDC", 6)


@pytest.mark.parametrize(("amount", "unit", "text"), [
    (10**17, ETH, "0.1 ETH"),
    (5 * 10**16, ETH, "0.05 ETH"),
    (0, ETH, "0 ETH"),
    (1, ETH, "0.000000000000000001 ETH"),
    (10**20, ETH, "100 ETH"),
    (12_500_000, USDC, "12.5 USDC"),
    (125_500_000, USDC, "125.5 USDC"),
    (1, USDC, "0.000001 USDC"),
    (10**6, USDC, "1 USDC"),
    (7, Unit("RAW", 0), "7 RAW"),
    # a float would round these: 2**256 - 1 wei has 78 significant digits
    (2**256 - 1, ETH, "115792089237316195423570985008687907853269984665640564039457.584007913129639935 ETH"),
    (10**18 + 1, ETH, "1.000000000000000001 ETH"),
    (3, Unit("X", 255), "0." + "0" * 254 + "3 X"),
])
def test_amounts_are_exact_in_the_tokens_units(amount: int, unit: Unit, text: str) -> None:
    assert format_amount(amount, unit) == text


@pytest.mark.parametrize("amount", [1, 10**17, 123456789012345678, 2**96 - 1])
def test_an_ether_amount_reads_back_as_the_same_wei(amount: int) -> None:
    number = format_amount(amount, ETH).removesuffix(" ETH")
    assert parse_amount(number) == amount


@pytest.mark.parametrize("amount", [1, 12_500_000, 2**96 - 1])
def test_a_token_amount_reads_back_as_the_same_integer(amount: int) -> None:
    number = format_amount(amount, USDC).removesuffix(" USDC")
    assert parse_amount(number, 6, token_units=True) == amount


@pytest.mark.parametrize(("seconds", "text"), [
    (259200, "3 days"),
    (86400, "1 day"),
    (131400, "1 day 12 hours 30 minutes"),
    (3600, "1 hour"),
    (5400, "1 hour 30 minutes"),
    (86401, "1 day 1 second"),
    (45, "45 seconds"),
    (0, "0 seconds"),
])
def test_durations_in_days_and_hours(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        format_duration(-1)


@pytest.mark.parametrize(("unix", "text"), [
    (0, "1970-01-01T00:00:00Z"),
    (1796144400, "2026-12-01T17:00:00Z"),
    (253402300799, "9999-12-31T23:59:59Z"),
    (2**40 - 1, "unix time 1099511627775"),  # a uint40 deadline past datetime's range stays a number
])
def test_times_are_iso_8601_utc(unix: int, text: str) -> None:
    assert format_time(unix) == text


def test_a_time_reads_back_as_the_same_unix_time() -> None:
    assert parse_time(format_time(1796144400)) == 1796144400
