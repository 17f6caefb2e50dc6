"""Partner-side policy decisions: pure functions over an order, no chain needed."""

from __future__ import annotations

import pytest

from pynode.chain.orders import MATERIAL, PROCESS, ZERO_ADDRESS, OrderTracker, make_docs, make_spec, make_terms
from pynode.core.errors import InputError
from pynode.orders.partner import JobPolicy, is_fatal_revert, is_race_lost, policy_reason, vocabulary_bits
from pynode.protocol.types import OrderState, Status

ME = "0x" + "11" * 20
BUYER = "0x" + "22" * 20
OTHER = "0x" + "33" * 20


def tracker(*, processes=PROCESS["CNC_MILLING"], materials=MATERIAL["AL_6061"], price=10**17, bond=10**16,
            reserved=ZERO_ADDRESS, region="u33d", status=Status.OPEN, deadline=1000, buyer=BUYER) -> OrderTracker:
    docs = make_docs(1, region=region)
    spec = make_spec(docs, processes=processes, materials=materials, reserved_for=reserved)
    terms = make_terms(buyer, spec, price=price, claim_bond=bond, claim_deadline=deadline, delivery_deadline=2000)
    return OrderTracker(1, terms, OrderState(int(status), ZERO_ADDRESS, 0, b"\0" * 32), spec, docs)


POLICY = JobPolicy(processes=PROCESS["CNC_MILLING"] | PROCESS["FDM"], materials=MATERIAL["AL_6061"],
                   region_prefix="u3", min_price=10**16, max_claim_bond=10**16)


def test_vocabulary_names_are_forgiving_but_strict() -> None:
    assert vocabulary_bits(["cnc-milling", "FDM", "sheet metal"], PROCESS, "process") == (
        PROCESS["CNC_MILLING"] | PROCESS["FDM"] | PROCESS["SHEET_METAL"])
    with pytest.raises(InputError, match="unknown material 'AlMg3'"):
        vocabulary_bits(["AlMg3"], MATERIAL, "material")


def test_a_matching_order_is_wanted() -> None:
    assert policy_reason(POLICY, tracker(), ME, now=500) is None


@pytest.mark.parametrize(("kwargs", "now", "reason"), [
    ({"processes": PROCESS["SLA"]}, 500, "processes"),
    ({"processes": PROCESS["CNC_MILLING"] | PROCESS["SLA"]}, 500, "processes"),
    ({"materials": MATERIAL["PEEK"]}, 500, "materials"),
    ({"region": "gbsu"}, 500, "region"),
    ({"price": 10**15}, 500, "price"),
    ({"bond": 10**17}, 500, "claim bond"),
    ({"reserved": OTHER}, 500, "reserved for"),
    ({"status": Status.CLAIMED}, 500, "order is CLAIMED"),
    ({"buyer": ME}, 500, "own order"),
    ({}, 1001, "claim deadline passed"),
])
def test_policy_says_why_not(kwargs, now, reason) -> None:
    assert reason in policy_reason(POLICY, tracker(**kwargs), ME, now=now)


def test_reserved_for_me_is_fine_and_empty_policy_wants_nothing() -> None:
    assert policy_reason(POLICY, tracker(reserved=ME), ME, now=1) is None
    assert "processes" in policy_reason(JobPolicy(), tracker(), ME, now=1)


def test_revert_reasons_sorted_into_races_and_fatal_ones() -> None:
    assert is_race_lost("OrderNotOpen(orderId=3)")
    assert is_race_lost("OrderMismatch(orderId=3)")
    assert not is_race_lost("ClaimDeadlinePassed(orderId=3, claimDeadline=5)")
    assert is_fatal_revert("PartnerIsSuspended(partner=0x11)")
    assert not is_fatal_revert("CapabilityMismatch(partner=0x11, processes=1, materials=1)")
