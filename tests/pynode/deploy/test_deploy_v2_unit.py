"""Protocol v2's deploy without a chain: the plan's checks, selectors and operation ids, the record's name and
loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import keccak, to_checksum_address

from pynode.chain.deployment import load_abi, load_deployment, parse_deployment, record_name
from pynode.chain.v2.manager import RestrictedCall, function_selectors, operation_id
from pynode.core.errors import FatalError, InputError
from pynode.deploy.deployer_v2 import DeployPlanV2, PanelPlan
from pynode.deploy.record import refuse_overwrite
from pynode.dev.deploy import deploy_v2
from pynode.protocol.v2.governance import GOVERNANCE_DELAY, ROLE_FUNCTIONS, TARGETS

A, B, C = ("0x" + c * 40 for c in "abc")


def test_a_live_plan_refuses_a_governance_delay_under_two_days_a_dev_plan_may_shorten_it():
    assert DeployPlanV2().governance_delay == GOVERNANCE_DELAY == 172800
    with pytest.raises(InputError, match=r"^governance_delay 60 s is under 172800 s \(only a dev plan"):
        DeployPlanV2(governance_delay=60)
    assert DeployPlanV2(governance_delay=60, dev=True).governance_delay == 60
    with pytest.raises(InputError, match=r"governance_delay must be an integer in \[0, 4294967295\]"):
        DeployPlanV2(governance_delay=1 << 32)


def test_plan_addresses_are_checked_and_checksummed():
    plan = DeployPlanV2(admin=A, guardians=(B,), fee_recipient=C)
    assert (plan.admin, plan.guardians, plan.fee_recipient) == (
        to_checksum_address(A), (to_checksum_address(B),), to_checksum_address(C))
    with pytest.raises(InputError, match=r"^guardian 'x' is not an address$"):
        DeployPlanV2(guardians=("x",))
    with pytest.raises(InputError, match=r"^fee recipient 'y' is not an address$"):
        DeployPlanV2(fee_recipient="y")
    with pytest.raises(InputError, match=r"^min_bond must be an integer"):
        DeployPlanV2(min_bond=-1)


def test_panel_plan_bounds():
    assert PanelPlan((A, B, C), 2, 1, 2).members == tuple(to_checksum_address(x) for x in (A, B, C))
    with pytest.raises(InputError, match=r"panel quorum must be in \[1, 3\], got 4"):
        PanelPlan((A, B, C), 4, 1, 2)
    with pytest.raises(InputError, match="distinct members"):
        PanelPlan((A, A), 1, 1, 2)
    with pytest.raises(InputError, match="1 to 15 distinct members, got 0"):
        PanelPlan((), 1, 1, 2)
    with pytest.raises(InputError, match=r"^appeal_window must be an integer in \[1, "):
        PanelPlan((A,), 1, 1, 2, appeal_window=0)


def test_operation_id_is_keccak_of_the_abi_encoded_caller_target_and_data():
    data = bytes.fromhex("1234abcd") + bytes(range(40))
    # abi.encode(address, address, bytes), laid out by hand: two words, the offset 0x60, the length, padded data
    encoded = (bytes(12) + bytes.fromhex(A[2:]) + bytes(12) + bytes.fromhex(B[2:]) + (0x60).to_bytes(32, "big")
               + len(data).to_bytes(32, "big") + data + bytes(64 - len(data)))
    assert operation_id(A, B, data) == keccak(encoded)
    assert RestrictedCall(B, data, "x").operation_id(A) == keccak(encoded)
    assert operation_id(B, B, data) != operation_id(A, B, data)


def test_selectors_cover_every_overload_and_refuse_a_name_the_abi_lacks():
    book = load_abi(None, "OrderBookV2")
    assert function_selectors(book, ["setFee"]) == [keccak(text="setFee(uint16,address)")[:4]]
    assert len(function_selectors(book, ["attest"])) == 2  # relayed and by the inspector itself
    with pytest.raises(ValueError, match="no function 'setFees'"):
        function_selectors(book, ["setFees"])


@pytest.mark.parametrize("key", sorted(ROLE_FUNCTIONS))
def test_every_function_of_the_role_table_is_in_its_contracts_abi(key):
    abi = load_abi(None, TARGETS[key])
    for names in ROLE_FUNCTIONS[key].values():
        assert len(function_selectors(abi, names)) >= len(names)


def _record(**overrides) -> str:
    record = {"chainId": 31337, "deployBlock": 4, "protocol": 2,
              "contracts": {name: {"address": "0x" + f"{i + 1:040x}"} for i, name in
                            enumerate(("AccessManager", "PartnerRegistryV2", "OrderBookV2"))}}
    return json.dumps(record | overrides)


def test_a_v2_record_loads_beside_v1_and_neither_loads_as_the_other():
    assert record_name(31337) == "31337.v2.json" and record_name(31337, 1) == "31337.json"  # v2: the default
    deployment = parse_deployment(_record(), Path("31337.v2.json"), None)
    assert set(deployment.contracts) == {"AccessManager", "PartnerRegistryV2", "OrderBookV2"}
    assert any(item.get("name") == "schedule" for item in deployment["AccessManager"].abi)
    with pytest.raises(InputError, match=r"a protocol 2 record, expected protocol 1$"):
        parse_deployment(_record(), Path("31337.json"), None, protocol=1)
    with pytest.raises(InputError, match=r"a protocol 1 record, expected protocol 2 \(.*pass --protocol 1"):
        parse_deployment(_record(protocol=1), Path("31337.v2.json"), None, protocol=2)
    with pytest.raises(InputError, match=r"a protocol True record"):
        parse_deployment(_record(protocol=True), Path("31337.v2.json"), None, protocol=2)


def test_a_missing_v2_record_says_how_to_take_the_v1_one(tmp_path):
    (tmp_path / "5.json").write_text("{}")  # only v1's: the default, v2, finds nothing
    with pytest.raises(FatalError, match=r"5\.v2\.json: No such file or directory \(protocol 2 is the default: "
                                         r"for a v1 deployment pass --protocol 1, or set protocol = 1 in node\.toml"):
        load_deployment(5, tmp_path, None)
    with pytest.raises(FatalError, match=r"nope/5\.json: No such file or directory$"):  # v1 asked for: no hint
        load_deployment(5, tmp_path / "nope", None, protocol=1)


def test_a_v2_record_needs_the_manager_and_takes_the_panel_when_there():
    contracts = json.loads(_record())["contracts"]
    del contracts["AccessManager"]
    with pytest.raises(InputError, match=r"contracts\.AccessManager\.address is missing"):
        parse_deployment(_record(contracts=contracts), Path("x.json"), None, protocol=2)
    contracts = json.loads(_record())["contracts"] | {"PanelArbitrator": {"address": "0x" + "ee" * 20}}
    deployment = parse_deployment(_record(contracts=contracts), Path("x.json"), None, protocol=2)
    assert deployment["PanelArbitrator"].address == to_checksum_address("0x" + "ee" * 20)


def test_an_existing_v2_record_is_refused_and_v1s_is_not_in_the_way(tmp_path):
    (tmp_path / "5.json").write_text("{}")
    refuse_overwrite(tmp_path, 5, 2)
    (tmp_path / "5.v2.json").write_text("{}")
    with pytest.raises(InputError, match=r"5\.v2\.json already records a deployment on chain 5: pass --force"):
        refuse_overwrite(tmp_path, 5, 2)


def test_a_dev_v2_deploy_goes_only_to_a_loopback_chain(tmp_path):
    with pytest.raises(FatalError, match="local deploys go to a loopback chain"):
        deploy_v2("http://10.0.0.1:8545", 31337, tmp_path)
