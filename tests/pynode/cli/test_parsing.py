"""What users type: each malformed value is refused with a message naming what was expected."""

from __future__ import annotations

import click
import pytest

from pynode.cli.parsing import parse_address, parse_amount, parse_duration, parse_names, parse_time

NOW = 1_800_000_000


@pytest.mark.parametrize("text, wei", [
    ("1", 10**18), ("0.25", 25 * 10**16), ("0.25eth", 25 * 10**16), ("2 ether", 2 * 10**18),
    ("1000gwei", 10**12), ("5wei", 5), ("0", 0),
])
def test_amounts(text, wei):
    assert parse_amount(text) == wei


def test_token_amounts_use_the_token_decimals():
    assert parse_amount("125.5", 6, token_units=True) == 125_500_000


@pytest.mark.parametrize("text, message", [
    ("", "not an amount"), ("-1", "not an amount"), ("1e18", "not an amount"), ("0x10", "not an amount"),
    ("1.5wei", "more decimals"), ("1 btc", "unknown unit"), ("1" + "0" * 30, "uint96"),
    ("NaN", "not an amount"), ("1,5", "not an amount"),
])
def test_bad_amounts(text, message):
    with pytest.raises(click.BadParameter, match=message):
        parse_amount(text)


def test_token_amount_with_unit_is_refused():
    with pytest.raises(click.BadParameter, match="take no unit"):
        parse_amount("5eth", 6, token_units=True)


@pytest.mark.parametrize("text, seconds", [("90m", 5400), ("12h", 43200), ("3d", 259200), ("2w", 1209600),
                                           ("3600s", 3600)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "3", "0d", "-3d", "3 days", "1.5h", "d"])
def test_bad_durations(text):
    with pytest.raises(click.BadParameter, match="not a duration"):
        parse_duration(text)


def test_times():
    assert parse_time("+3d", NOW) == NOW + 3 * 86400
    assert parse_time("2027-01-15", NOW) == 1799971200  # date -u -d 2027-01-15 +%s
    assert parse_time("2027-01-15T00:00Z", NOW) == parse_time("2027-01-15", NOW)
    assert parse_time("2027-01-15T01:00+01:00", NOW) == parse_time("2027-01-15T00:00Z", NOW)
    assert parse_time(str(NOW + 5), NOW) == NOW + 5


@pytest.mark.parametrize("text", ["tomorrow", "2027-13-01", "+3", "0", "99999999999999"])
def test_bad_times(text):
    with pytest.raises(click.BadParameter):
        parse_time(text, NOW)


def test_addresses():
    lower = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    assert parse_address(lower) == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert parse_address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8") == parse_address(lower)


@pytest.mark.parametrize("text, message", [
    ("0x1234", "not an address"), ("hello", "not an address"),
    ("0x70997970C51812dc3A010C7d01b50e0d17dc79c8", "checksum"),  # last letter's case flipped
])
def test_bad_addresses(text, message):
    with pytest.raises(click.BadParameter, match=message):
        parse_address(text)


def test_names():
    vocabulary = {"FDM": 1, "SLA": 2, "CNC_MILLING": 32}
    assert parse_names("fdm, cnc-milling", vocabulary, "process") == 33
    with pytest.raises(click.BadParameter, match="unknown process 'SLS'; known: CNC_MILLING, FDM, SLA"):
        parse_names("SLS", vocabulary, "process")
    with pytest.raises(click.BadParameter, match="at least one"):
        parse_names(" , ", vocabulary, "process")
