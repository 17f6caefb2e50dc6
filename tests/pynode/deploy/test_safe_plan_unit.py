"""SafePlan's checks and the v2 record's `safe` entry as load_safe reads it (no chain: a record file only)."""

from __future__ import annotations

import json

import pytest

from pynode.chain.v2.safe import load_safe
from pynode.core.errors import InputError
from pynode.deploy.safe import MAX_OWNERS, SafePlan

OWNERS = tuple("0x" + f"{i:02x}" * 20 for i in range(1, 4))


def test_a_plan_checksums_its_owners() -> None:
    plan = SafePlan(tuple(o.upper().replace("0X", "0x") for o in OWNERS), 2)
    assert plan.owners[0] == "0x0101010101010101010101010101010101010101" and plan.threshold == 2


@pytest.mark.parametrize("owners, threshold, message", [
    ((), 1, "1 to 20 distinct"),
    (OWNERS[:1] * 2, 1, "distinct"),
    (("0x" + "00" * 20,), 1, "non-zero"),
    (tuple("0x" + f"{i:040x}" for i in range(1, MAX_OWNERS + 2)), 1, "1 to 20"),
    (OWNERS, 0, r"threshold must be an integer in \[1, 3\]"),
    (OWNERS, 4, r"threshold must be an integer in \[1, 3\]"),
    (OWNERS, True, "threshold"),
    (("alice",), 1, "Safe owner 'alice' is not an address"),
])
def test_a_bad_plan_is_one_line(owners, threshold, message) -> None:
    with pytest.raises(InputError, match=message):
        SafePlan(owners, threshold)


def test_existing_singleton_and_factory_are_checked() -> None:
    with pytest.raises(InputError, match="Safe singleton"):
        SafePlan(OWNERS, 2, singleton="0x12")
    with pytest.raises(InputError, match="salt"):
        SafePlan(OWNERS, 2, salt=-1)


@pytest.mark.parametrize("record, message", [
    ({"protocol": 2}, "names no governance Safe"),
    ({"protocol": 2, "safe": {"address": "0x12"}}, "safe.address is missing or not an address"),
    ({"protocol": 2, "safe": ["0x" + "11" * 20]}, "safe.address is missing"),
])
def test_a_record_without_a_usable_safe_entry_says_so(tmp_path, record, message) -> None:
    (tmp_path / "31337.v2.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match=message):
        load_safe(None, 31337, tmp_path)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="cannot read"):
        load_safe(None, 31337, tmp_path / "elsewhere.v2.json")  # type: ignore[arg-type]


def test_the_entry_loads_with_the_packaged_abi(tmp_path) -> None:
    (tmp_path / "31337.v2.json").write_text(json.dumps({"safe": {"address": OWNERS[0]}}))
    safe = load_safe(None, 31337, tmp_path)  # type: ignore[arg-type]
    assert safe.address == "0x0101010101010101010101010101010101010101"
    assert {"execTransaction", "getTransactionHash", "getOwners"} <= {i.get("name") for i in safe.info.abi}
