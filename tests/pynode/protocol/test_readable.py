"""An order's terms for people: the price in its token's units, the bond in ETH, dates and spans."""

from __future__ import annotations

from pynode.core.units import ETH, Unit
from pynode.protocol.readable import readable_terms

ZERO = "0x" + "00" * 20
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TERMS = {"token": ZERO, "price": 4 * 10**16, "claim_bond": 10**16, "claim_deadline": 1796144400,
         "delivery_deadline": 1796749200, "inspection_window": 259200, "fee_bps": 250, "design_sha256": "0xab"}


def test_an_ether_order_reads_in_ether_days_and_dates() -> None:
    assert readable_terms(TERMS, ETH) == {
        "token": "ETH", "price": "0.04 ETH", "claim_bond": "0.01 ETH", "claim_deadline": "2026-12-01T17:00:00Z",
        "delivery_deadline": "2026-12-08T17:00:00Z", "inspection_window": "3 days", "fee_bps": "2.5% (250 bps)",
        "design_sha256": "0xab"}


def test_a_token_order_reads_its_price_in_the_token_and_its_bond_in_ether() -> None:
    readable = readable_terms({**TERMS, "token": TOKEN, "price": 12_500_000}, Unit("USDC", 6))
    assert readable["token"] == f"USDC {TOKEN}"
    assert readable["price"] == "12.5 USDC" and readable["claim_bond"] == "0.01 ETH"


def test_an_unknown_token_keeps_its_integer_and_says_whose_it_is() -> None:
    readable = readable_terms({**TERMS, "token": TOKEN, "price": 12_500_000}, None)
    assert readable["price"] == f"12500000 (smallest units of {TOKEN})"
    assert readable["token"] == f"ERC-20 {TOKEN}"


def test_other_keys_pass_through_as_text() -> None:
    assert readable_terms({"order_id": 7, "partner": None}, ETH) == {"order_id": "7", "partner": "None"}
