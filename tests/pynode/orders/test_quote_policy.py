"""The manufacturer's quote policy (pynode/orders/quote_policy.py): every rule, its boundaries, the price
arithmetic (integers, rounded up once) and properties over random orders. Pure: no chain, no Kubo."""

from __future__ import annotations

from fractions import Fraction

import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from pynode.chain.orders import CERT, MATERIAL, PROCESS, ZERO_ADDRESS
from pynode.documents.spec import parse_spec
from pynode.orders.quote_policy import (
    Decline,
    DeclineReason,
    Quoted,
    ShopState,
    cert_ids,
    decide_quote,
)
from pynode.orders.quote_settings import QuoteSettings
from pynode.protocol.v2.codec import terms_hash
from pynode.protocol.v2.types import OrderSpec, OrderTerms

SHOP = "0x" + "5a" * 20
BUYER = "0x" + "b0" * 20
ARBITRATOR = "0x" + "a1" * 20
PAYEE = "0x" + "9e" * 20
USDC = "0x" + "c0" * 20
NOW = 1_800_000_000
DAY = 86_400
MILL, AL = PROCESS["CNC_MILLING"], MATERIAL["AL_6061"]

SETTINGS = QuoteSettings.model_validate({
    "margin_bps": 2500, "min_lead_time_s": DAY, "queue_s_per_job": 2 * DAY, "validity_s": 3600, "bond_wei": 10**15,
    "breaks": [{"min_quantity": 10, "discount_bps": 500}, {"min_quantity": 100, "discount_bps": 1000}],
    "processes": {"cnc-milling": {"setup_s": 1800, "part_s": 600}},
    "tokens": {ZERO_ADDRESS: {"machine_rate_per_hour": 36 * 10**15, "setup_fee": 10**16,
                              "material_per_part": {"al-6061": 2 * 10**15}},
               USDC: {"machine_rate_per_hour": 90_000_000, "material_per_part": {"AL_6061": 5_000_000}}},
})


def terms(*, price=10**18, min_bond=0, token=ZERO_ADDRESS, award=NOW + DAY, delivery=NOW + 30 * DAY,
          buyer=BUYER) -> OrderTerms:
    return OrderTerms(buyer, token, price, min_bond, ARBITRATOR, award, delivery, DAY, 3600, 7 * DAY, 100,
                      b"\x51" * 32)


def spec(*, processes=MILL, materials=AL, certs=0) -> OrderSpec:
    return OrderSpec(processes, materials, certs, (), b"\xd0" * 32)


def document(*, process="cnc-milling", material="al-6061", quantity=4):
    return parse_spec({"process": process, "material": material, "quantity": quantity})


def shop(**changes) -> ShopState:
    base = ShopState(SHOP, MILL | PROCESS["FDM"], AL | MATERIAL["PLA"], {CERT["ISO_9001"]: NOW + 365 * DAY},
                     jobs_in_flight=1, max_jobs=3, free_bond=10**18)
    return base._replace(**changes)


def quote(settings_=SETTINGS, **kwargs):
    return decide_quote(settings_, kwargs.pop("terms", terms()), kwargs.pop("spec", spec()),
                        kwargs.pop("document", document()), kwargs.pop("shop", shop()), kwargs.pop("now", NOW),
                        **kwargs)


def declined(result, reason: DeclineReason) -> str:
    assert isinstance(result, Decline), result
    assert result.reason is reason, result
    return str(result)


def test_a_capable_shop_quotes_every_field_of_the_v2_quote() -> None:
    result = quote(nonce=7)
    assert isinstance(result, Quoted)
    q = result.quote
    # 4 parts: machine 1800 + 4×600 = 4200 s at 0.036 ETH/h = 0.042 ETH; setup 0.01; material 4 × 0.002
    assert result.cost == 42 * 10**15 + 10**16 + 8 * 10**15 == 6 * 10**16
    assert q.price == 6 * 10**16 * 125 // 100  # margin 25 %, no break below 10 parts
    assert q.lead_time == DAY + 1 * 2 * DAY + 4200  # floor + one job ahead + machine time
    assert q.expiry == NOW + 3600  # validity, earlier than every deadline
    assert q.terms_hash == terms_hash(terms()) and q.partner == to_checksum_address(SHOP) == q.payee
    assert (q.bond, q.nonce, result.token) == (10**15, 7, ZERO_ADDRESS)


def test_payee_and_bond_follow_the_settings_and_the_order() -> None:
    settings_ = SETTINGS.model_copy(update={"payee": PAYEE, "bond_wei": 0})
    result = quote(settings_, terms=terms(min_bond=5 * 10**15))
    assert isinstance(result, Quoted)
    assert result.quote.payee.lower() == PAYEE and result.quote.bond == 5 * 10**15  # the order's minimum wins


def test_prices_follow_the_token() -> None:
    result = quote(terms=terms(token=USDC, price=10**9))
    assert isinstance(result, Quoted) and result.token.lower() == USDC
    # 4200 s at 90 USDC/h = 105 USDC, 4 × 5 USDC material, no setup fee: 125 USDC, +25 %
    assert result.cost == 125_000_000 and result.quote.price == 156_250_000


@pytest.mark.parametrize(("quantity", "discount_bps"), [(9, 0), (10, 500), (99, 500), (100, 1000), (10**6, 1000)])
def test_quantity_breaks_apply_from_their_minimum(quantity: int, discount_bps: int) -> None:
    result = quote(document=document(quantity=quantity), terms=terms(price=10**26, delivery=NOW + 10**9))
    assert isinstance(result, Quoted)
    # the cost is a whole number of wei here (0.036 ETH/h is 10¹³ wei/s): the price is its ceiling × 1.25 × (1 − d)
    assert result.cost == 10**16 + 10**13 * (1800 + 600 * quantity) + 2 * 10**15 * quantity
    assert result.quote.price == -(-result.cost * 12_500 * (10_000 - discount_bps) // 10**8)


def test_the_price_is_rounded_up_once_from_the_exact_rational() -> None:
    # 1 base unit per hour for 1 s of machine time is 1/3600 of a unit: rounded up to 1, never down to 0
    tiny = QuoteSettings.model_validate({"margin_bps": 0, "processes": {"FDM": {"part_s": 1}},
                                         "tokens": {ZERO_ADDRESS: {"machine_rate_per_hour": 1, "min_price": 1,
                                                                   "material_per_part": {"PLA": 0}}}})
    result = quote(tiny, spec=spec(processes=PROCESS["FDM"], materials=MATERIAL["PLA"]),
                   document=document(process="FDM", material="PLA", quantity=1))
    assert isinstance(result, Quoted) and result.quote.price == 1 and result.cost == 1
    # 3601 s at 3600 units/h = 3601 units exactly: no rounding at all
    exact = tiny.model_copy(update={"tokens": {ZERO_ADDRESS: tiny.tokens[ZERO_ADDRESS].model_copy(
        update={"machine_rate_per_hour": 3600})}, "processes": {"FDM": tiny.processes["FDM"].model_copy(
            update={"part_s": 3601})}})
    result = quote(exact, spec=spec(processes=PROCESS["FDM"], materials=MATERIAL["PLA"]),
                   document=document(process="FDM", material="PLA", quantity=1))
    assert isinstance(result, Quoted) and result.quote.price == 3601


def test_the_minimum_price_is_a_floor() -> None:
    floor = SETTINGS.model_copy(update={"tokens": {ZERO_ADDRESS: SETTINGS.tokens[ZERO_ADDRESS].model_copy(
        update={"min_price": 9 * 10**17})}})
    result = quote(floor)
    assert isinstance(result, Quoted) and result.quote.price == 9 * 10**17


def test_a_price_exactly_at_the_cap_is_quoted_one_above_is_declined() -> None:
    ours = quote().quote.price
    assert quote(terms=terms(price=ours)).quote.price == ours
    text = declined(quote(terms=terms(price=ours - 1)), DeclineReason.PRICE_ABOVE_CAP)
    assert text == f"price cap below our price: our price {ours} above the cap {ours - 1}"


def test_a_delivery_deadline_exactly_reachable_is_quoted_until_now_only() -> None:
    lead = quote().quote.lead_time
    exact = quote(terms=terms(delivery=NOW + lead))
    assert isinstance(exact, Quoted) and exact.quote.expiry == NOW  # an award later than now would be late
    declined(quote(terms=terms(delivery=NOW + lead - 1)), DeclineReason.DEADLINE_UNREACHABLE)


def test_a_lead_time_past_uint32_is_unreachable_whatever_the_deadline() -> None:
    slow = SETTINGS.model_copy(update={"processes": {"cnc-milling": SETTINGS.processes["cnc-milling"].model_copy(
        update={"part_s": 5000})}})
    far = terms(price=2**96 - 1, delivery=NOW + 10**10)  # a uint40 deadline three centuries out
    assert isinstance(quote(slow, terms=far, document=document(quantity=850_000)), Quoted)  # 4.25e9 s fits
    declined(quote(slow, terms=far, document=document(quantity=900_000)), DeclineReason.DEADLINE_UNREACHABLE)


def test_the_lead_time_grows_with_the_queue() -> None:
    assert quote(shop=shop(jobs_in_flight=0)).quote.lead_time == DAY + 4200
    assert quote(shop=shop(jobs_in_flight=2)).quote.lead_time == DAY + 4 * DAY + 4200


def test_the_expiry_never_outlives_a_deadline_or_a_certificate() -> None:
    late = quote(terms=terms(award=NOW + 100)).quote
    assert late.expiry == NOW + 100  # the award deadline
    lead = quote().quote.lead_time
    assert quote(terms=terms(delivery=NOW + lead + 60)).quote.expiry == NOW + 60  # the last on-time award
    iso = CERT["ISO_9001"]
    certified = quote(spec=spec(certs=iso), shop=shop(certifications={iso: NOW + 10})).quote
    assert certified.expiry == NOW + 9  # the registry wants the certificate to outlive the award's block


@pytest.mark.parametrize(("kwargs", "reason", "says"), [
    ({"terms": terms(buyer=SHOP)}, DeclineReason.NOT_INDEPENDENT, "buyer or arbitrator"),
    ({"shop": shop(partner=ARBITRATOR)}, DeclineReason.NOT_INDEPENDENT, "buyer or arbitrator"),
    ({"now": NOW + DAY + 1}, DeclineReason.AWARD_DEADLINE_PASSED, "award deadline"),
    ({"terms": terms(token="0x" + "77" * 20)}, DeclineReason.TOKEN_NOT_ACCEPTED, "no [quote.tokens] prices"),
    ({"spec": spec(processes=MILL | PROCESS["SLA"])}, DeclineReason.NOT_CAPABLE, "processes 0x22"),
    ({"spec": spec(materials=MATERIAL["PEEK"])}, DeclineReason.NOT_CAPABLE, "materials 0x200"),
    ({"spec": spec(processes=PROCESS["FDM"], materials=MATERIAL["PLA"]),
      "document": document(process="FDM", material="PLA")}, DeclineReason.NOT_CAPABLE, "rate for process 'FDM'"),
    ({"spec": spec(materials=MATERIAL["PLA"]), "document": document(material="PLA")},
     DeclineReason.NOT_CAPABLE, "rate for material 'PLA'"),
    ({"document": document(process="welding")}, DeclineReason.SPEC_MISMATCH, "unknown process 'welding'"),
    ({"document": document(material="unobtainium")}, DeclineReason.SPEC_MISMATCH, "unknown material"),
    ({"document": document(process="FDM")}, DeclineReason.SPEC_MISMATCH, "not what the spec on chain requires"),
    ({"document": document(material="PLA")}, DeclineReason.SPEC_MISMATCH, "not what the spec on chain requires"),
    ({"spec": spec(certs=CERT["AS9100"])}, DeclineReason.NOT_CERTIFIED, "certification 2 not held"),
    ({"spec": spec(certs=CERT["ISO_9001"]), "shop": shop(certifications={CERT["ISO_9001"]: NOW})},
     DeclineReason.NOT_CERTIFIED, "certification 1 not held or expired"),
    ({"shop": shop(jobs_in_flight=3)}, DeclineReason.OVER_CAPACITY, "3 jobs in flight, at most 3"),
    ({"terms": terms(min_bond=10**18 + 1)}, DeclineReason.BOND_UNAVAILABLE, "above the free registry bond"),
])
def test_every_decline_names_its_rule(kwargs: dict, reason: DeclineReason, says: str) -> None:
    assert says in declined(quote(**kwargs), reason)


def test_capacity_and_bond_boundaries() -> None:
    assert isinstance(quote(shop=shop(jobs_in_flight=2)), Quoted)  # one slot left
    assert isinstance(quote(shop=shop(free_bond=10**15)), Quoted)  # exactly the bond
    declined(quote(shop=shop(free_bond=10**15 - 1)), DeclineReason.BOND_UNAVAILABLE)
    capped = SETTINGS.model_copy(update={"max_bond_wei": 10**16})
    assert quote(capped, terms=terms(min_bond=10**16)).quote.bond == 10**16
    assert "above max_bond_wei" in declined(quote(capped, terms=terms(min_bond=10**16 + 1)),
                                            DeclineReason.BOND_TOO_HIGH)
    assert isinstance(quote(now=NOW + DAY), Quoted)  # the award deadline itself is still open


def test_the_first_failing_rule_names_the_decline() -> None:
    # over capacity and priced above the cap: the capacity rule comes first
    declined(quote(shop=shop(jobs_in_flight=3), terms=terms(price=1)), DeclineReason.OVER_CAPACITY)
    # own order in an unknown token: independence comes first
    declined(quote(terms=terms(buyer=SHOP, token=USDC.replace("c0", "c1"))), DeclineReason.NOT_INDEPENDENT)


def test_cert_ids_unpack_four_words_skipping_zero() -> None:
    assert cert_ids(0) == []
    assert cert_ids(3 | (1 << 64) | (0xFFFFFFFF << 96)) == [3, 1, 0xFFFFFFFF]


@pytest.mark.parametrize(("table", "says"), [
    ({"margin_bps": 1.5}, "must be an integer"),
    ({"bond_wei": True}, "must be an integer"),
    ({"bond_wei": -1}, "greater than or equal to 0"),
    ({"validity_s": 0}, "greater than or equal to 1"),
    ({"processes": {"welding": {"part_s": 1}}}, "unknown process 'welding'"),
    ({"processes": {"cnc-milling": {"part_s": 1}, "CNC_MILLING": {"part_s": 2}}}, "two names for the same process"),
    ({"tokens": {"0xnope": {"machine_rate_per_hour": 1}}}, "is not a 0x address"),
    ({"tokens": {USDC: {"machine_rate_per_hour": 1}, USDC.upper().replace("0X", "0x"): {
        "machine_rate_per_hour": 1}}}, "listed twice"),
    ({"tokens": {USDC: {"machine_rate_per_hour": 1, "min_price": 0}}}, "greater than or equal to 1"),
    ({"tokens": {USDC: {"machine_rate_per_hour": 2**96}}}, "less than or equal to"),
    ({"tokens": {USDC: {"machine_rate_per_hour": 1, "material_per_part": {"gold": 1}}}}, "unknown material 'gold'"),
    ({"breaks": [{"min_quantity": 10, "discount_bps": 1}, {"min_quantity": 10, "discount_bps": 2}]},
     "strictly ascending"),
    ({"breaks": [{"min_quantity": 1, "discount_bps": 10_000}]}, "less than 10000"),
    ({"marginbps": 1}, "Extra inputs are not permitted"),
])
def test_bad_settings_are_refused(table: dict, says: str) -> None:
    with pytest.raises(ValueError, match=None) as raised:
        QuoteSettings.model_validate(table)
    assert says in str(raised.value)


orders = st.fixed_dictionaries({
    # ranges where most examples quote (every decline has its own test above; hypothesis favours small values,
    # so half the caps and deadlines are drawn where they rarely bind)
    "price": st.integers(1, 2**96 - 1) | st.integers(10**24, 2**96 - 1),
    "delivery": st.integers(0, 60 * DAY) | st.integers(13 * DAY, 60 * DAY),
    "min_bond": st.integers(0, 2 * 10**15), "free_bond": st.integers(2 * 10**15, 3 * 10**15),
    "award": st.integers(0, 10 * DAY), "cert_left": st.integers(1, 400 * DAY), "validity_s": st.integers(1, DAY),
    "quantity": st.integers(1, 1000), "jobs": st.integers(0, 2), "part_s": st.integers(0, 600),
    "margin_bps": st.integers(0, 50_000), "rate": st.integers(0, 10**18), "material": st.integers(0, 10**17),
    "setup_fee": st.integers(0, 10**17),
})


@settings(max_examples=400, deadline=None)
@given(orders)
def test_every_quote_meets_the_order_and_never_undercharges(o: dict) -> None:
    """Quoted ⇒ within the cap, bonded at least the minimum, awardable on time until its expiry, priced at
    no less than the exact cost with margin and discount (and under one unit more); else a named decline."""
    table = SETTINGS.model_dump()
    table["margin_bps"], table["validity_s"] = o["margin_bps"], o["validity_s"]
    table["processes"]["cnc-milling"]["part_s"] = o["part_s"]
    table["tokens"][ZERO_ADDRESS].update(machine_rate_per_hour=o["rate"], setup_fee=o["setup_fee"],
                                         material_per_part={"al-6061": o["material"]})
    policy = QuoteSettings.model_validate(table)
    order = terms(price=o["price"], min_bond=o["min_bond"], award=NOW + o["award"], delivery=NOW + o["delivery"])
    iso = CERT["ISO_9001"]
    state = shop(jobs_in_flight=o["jobs"], free_bond=o["free_bond"], certifications={iso: NOW + o["cert_left"]})
    result = quote(policy, terms=order, spec=spec(certs=iso), document=document(quantity=o["quantity"]), shop=state)
    if isinstance(result, Decline):
        assert isinstance(result.reason, DeclineReason) and result.detail
        return
    q = result.quote
    assert 0 < q.price <= order.price and q.bond >= order.min_bond and q.bond <= state.free_bond
    assert NOW <= q.expiry <= min(order.award_deadline, NOW + o["validity_s"], state.certifications[iso] - 1)
    assert q.expiry + q.lead_time <= order.delivery_deadline  # any award by the expiry is on time
    machine_s = 1800 + o["part_s"] * o["quantity"]
    assert q.lead_time == DAY + o["jobs"] * 2 * DAY + machine_s
    cost = Fraction(o["setup_fee"] + o["material"] * o["quantity"]) + Fraction(o["rate"] * machine_s, 3600)
    discount = 1000 if o["quantity"] >= 100 else 500 if o["quantity"] >= 10 else 0
    exact = cost * Fraction(10_000 + o["margin_bps"], 10_000) * Fraction(10_000 - discount, 10_000)
    assert q.price >= exact and (q.price - 1 < exact or q.price == 1)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**6), st.integers(0, 10**6))
def test_more_parts_never_cost_less_before_a_break(quantity: int, more: int) -> None:
    unbroken = SETTINGS.model_copy(update={"breaks": []})
    wide = terms(price=2**96 - 1, delivery=NOW + 2 * 10**9)
    few = quote(unbroken, terms=wide, document=document(quantity=quantity))
    many = quote(unbroken, terms=wide, document=document(quantity=quantity + more))
    assert few.quote.price <= many.quote.price and few.quote.lead_time <= many.quote.lead_time


# -- prices from the spec's published geometry ----------------------------------------------------------------

FDM, PLA, SHEET, SS = PROCESS["FDM"], MATERIAL["PLA"], PROCESS["SHEET_METAL"], MATERIAL["SS_316"]
GEOMETRY = QuoteSettings.model_validate({
    "margin_bps": 0, "min_lead_time_s": DAY, "queue_s_per_job": 2 * DAY, "processes": {
        "FDM": {"setup_s": 600, "mm3_per_hour": 36_000, "gcode_time_bps": 11_000, "handling_s": 120},
        "cnc-milling": {"setup_s": 0, "part_s": 900, "mm3_per_hour": 60_000, "subtractive": True},
        "sheet-metal": {"cut_mm_per_min": 3000, "handling_s": 30}},
    "tokens": {ZERO_ADDRESS: {"machine_rate_per_hour": 36 * 10**14,  # 10¹² wei a second
                              "material_per_cm3": {"PLA": 5 * 10**13, "al-6061": 2 * 10**13},
                              "material_per_part": {"al-6061": 10**14, "ss-316": 10**13},
                              "material_per_cm2": {"ss-316": 10**12}}},
})


def mesh(volume: float, box=(10.0, 10.0, 10.0), fmt: str = "stl") -> dict:
    return {"format": fmt, "extents_mm": {"min": [0.0, 0.0, 0.0], "max": list(box)}, "volume_mm3": volume,
            "area_mm2": 1.0, "triangles": 12, "watertight": True}


def gcode(print_s: float, filament_mm3: float = 0.0) -> dict:
    return {"format": "gcode", "extents_mm": {"min": [0.0, 0.0, 0.0], "max": [1.0, 1.0, 1.0]},
            "print_time_s": print_s, "filament_mm": 1.0, "filament_diameter_mm": 1.75,
            "filament_mm3": filament_mm3, "layers": 1}


def dxf(cut_mm: float, width: float, height: float) -> dict:
    return {"format": "dxf", "extents_mm": {"min": [0.0, 0.0], "max": [width, height]}, "cut_length_mm": cut_mm,
            "ignored_entities": 0}


def shaped(geometry: dict | None, *, process="FDM", material="PLA", quantity=1):
    body = {"process": process, "material": material, "quantity": quantity}
    return parse_spec(body if geometry is None else {**body, "geometry": geometry})


def priced(geometry: dict | None, *, process="FDM", material="PLA", quantity=1, settings_=GEOMETRY, **kwargs):
    bits = {"FDM": FDM, "cnc-milling": MILL, "sheet-metal": SHEET}[process]
    mats = {"PLA": PLA, "al-6061": AL, "ss-316": SS}[material]
    return quote(settings_, spec=spec(processes=bits, materials=mats),
                 shop=kwargs.pop("shop", shop(processes=FDM | MILL | SHEET, materials=PLA | AL | SS)),
                 terms=kwargs.pop("terms", terms(price=2**96 - 1, delivery=NOW + 10**9)),
                 document=shaped(geometry, process=process, material=material, quantity=quantity), **kwargs)


def test_a_printed_mesh_is_priced_by_its_volume() -> None:
    # 12 cm³ at 36,000 mm³/h: 1200 s + 120 s handling a part; 2 parts + 600 s setup = 3240 s
    result = priced(mesh(12_000.0), quantity=2)
    assert isinstance(result, Quoted) and result.machine_s == 600 + 2 * 1320
    # 3240 s at 10¹² wei/s, and 2 × 12 cm³ of PLA at 5·10¹³ wei/cm³
    assert result.cost == result.quote.price == 3240 * 10**12 + 2 * 12 * 5 * 10**13
    assert result.quote.lead_time == DAY + 2 * DAY + 3240  # floor, the one job ahead, the machine time
    assert priced(mesh(12_000.0, fmt="3mf"), quantity=2).quote == result.quote  # 3MF: the same figures


def test_a_gcode_design_is_priced_by_its_estimated_time_and_filament() -> None:
    # (1000.5 s × 1.1 + 120 s) × 3 = 3661.65 s: rounded up once to 3662, after the quantity
    result = priced(gcode(1000.5, filament_mm3=2500.0), quantity=3)
    assert isinstance(result, Quoted) and result.machine_s == 600 + 3662
    assert result.cost == 4262 * 10**12 + 3 * Fraction(2500, 1000) * 5 * 10**13


def test_a_gcode_design_without_a_time_rate_is_timed_by_its_filament() -> None:
    by_volume = GEOMETRY.model_copy(update={"processes": {**GEOMETRY.processes, "FDM": GEOMETRY.processes[
        "FDM"].model_copy(update={"gcode_time_bps": None})}})
    # the G-code's own estimate is not used: 3600 mm³ of filament at 36,000 mm³/h = 360 s + 120 s handling
    assert priced(gcode(99_999.0, filament_mm3=3600.0), settings_=by_volume).machine_s == 600 + 480


def test_a_cut_is_priced_by_its_length_and_its_sheet() -> None:
    # 6000 mm at 3000 mm/min = 120 s + 30 s; the sheet 100 × 50 mm = 50 cm² at 10¹² wei plus 10¹³ a part
    result = priced(dxf(6000.0, 100.0, 50.0), process="sheet-metal", material="ss-316")
    assert isinstance(result, Quoted) and result.machine_s == 150
    assert result.cost == 150 * 10**12 + 50 * 10**12 + 10**13


def test_a_milled_part_is_priced_by_its_stock_and_what_is_removed() -> None:
    # a 10 mm cube block (1 cm³ of stock) less the 400 mm³ part: 600 mm³ at 60,000 mm³/h = 36 s
    result = priced(mesh(400.0), process="cnc-milling", material="al-6061")
    assert isinstance(result, Quoted) and result.machine_s == 36
    assert result.cost == 36 * 10**12 + 2 * 10**13 + 10**14
    # a part as big as its box removes nothing (never a negative time)
    assert priced(mesh(1000.0), process="cnc-milling", material="al-6061").machine_s == 0


def test_part_s_stands_in_where_the_geometry_gives_no_time() -> None:
    # milling a DXF: no mesh volume, so 900 s a part; its material table wants the stock's volume, though
    declined(priced(dxf(10.0, 1.0, 1.0), process="cnc-milling", material="al-6061"), DeclineReason.NO_GEOMETRY)
    per_part = GEOMETRY.model_copy(update={"tokens": {ZERO_ADDRESS: GEOMETRY.tokens[ZERO_ADDRESS].model_copy(
        update={"material_per_cm3": {"PLA": 5 * 10**13}})}})
    result = priced(None, process="cnc-milling", material="al-6061", settings_=per_part)
    assert isinstance(result, Quoted) and result.machine_s == 900 and result.cost == 900 * 10**12 + 10**14


@pytest.mark.parametrize(("geometry", "process", "material", "says"), [
    (None, "FDM", "PLA", "the machine time of 'FDM' is priced from geometry the spec does not publish (it has no "
                         "geometry)"),
    (dxf(10.0, 1.0, 1.0), "FDM", "PLA", "(its geometry is dxf)"),
    (mesh(1.0), "sheet-metal", "ss-316", "the machine time of 'sheet-metal'"),
    (gcode(10.0), "sheet-metal", "ss-316", "(its geometry is gcode)"),
])
def test_a_price_that_needs_missing_geometry_is_declined(geometry, process, material, says) -> None:
    assert says in declined(priced(geometry, process=process, material=material), DeclineReason.NO_GEOMETRY)


def test_a_malformed_geometry_is_a_spec_mismatch() -> None:
    text = declined(priced({"format": "stl", "volume_mm3": -1.0}), DeclineReason.SPEC_MISMATCH)
    assert text.startswith("spec mismatch: order spec: geometry") and "\n" not in text


def test_a_process_needs_some_time() -> None:
    with pytest.raises(ValueError, match="set part_s or a geometry rate"):
        QuoteSettings.model_validate({"processes": {"FDM": {"setup_s": 60}}})
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        QuoteSettings.model_validate({"processes": {"FDM": {"mm3_per_hour": 0}}})


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 10**6), st.floats(0, 10**6),  # up to a litre, a thousand parts: within the deadline
       st.integers(1, 1000), st.integers(0, 20_000))
def test_a_geometry_price_is_the_ceiling_of_the_exact_cost_and_grows_with_the_part(
        volume: float, more: float, quantity: int, margin_bps: int) -> None:
    policy = GEOMETRY.model_copy(update={"margin_bps": margin_bps})
    small = priced(mesh(volume), quantity=quantity, settings_=policy)
    large = priced(mesh(volume + more), quantity=quantity, settings_=policy)
    assert isinstance(small, Quoted) and isinstance(large, Quoted)
    part_s = Fraction(volume) * 3600 / 36_000 + 120
    machine_s = 600 + -(-part_s * quantity // 1)
    assert small.machine_s == machine_s
    exact = (Fraction(machine_s * 36 * 10**14, 3600) + Fraction(volume) / 1000 * 5 * 10**13 * quantity) \
        * Fraction(10_000 + margin_bps, 10_000)
    assert small.quote.price >= exact and (small.quote.price - 1 < exact or small.quote.price == 1)
    assert small.quote.price <= large.quote.price and small.quote.lead_time <= large.quote.lead_time


# -- capacity: the shop floor's free machines --------------------------------------------------------------------

def test_each_open_quote_takes_a_free_machine() -> None:
    assert isinstance(quote(shop=shop(capacity=2, quotes_open=1)), Quoted)  # one machine left for this one
    text = declined(quote(shop=shop(capacity=2, quotes_open=2)), DeclineReason.OVER_CAPACITY)
    assert text == "over capacity: 2 machines free to start a job, 2 quotes open"
    declined(quote(shop=shop(capacity=0)), DeclineReason.OVER_CAPACITY)  # every printer busy
    assert isinstance(quote(shop=shop(capacity=None, quotes_open=50)), Quoted)  # a floor that does not say
    # max_concurrent_jobs still bounds a farm with idle printers
    declined(quote(shop=shop(capacity=5, jobs_in_flight=3)), DeclineReason.OVER_CAPACITY)
