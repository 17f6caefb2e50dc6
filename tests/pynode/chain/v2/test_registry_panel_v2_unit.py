"""PartnerRegistryV2's and PanelArbitrator's requests: calldata equal to web3's encode_abi of the same arguments,
values what the call carries, and a builder for every write a client may send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web3 import Web3

from pynode.chain.deployment import ContractInfo, load_abi
from pynode.chain.tx import TxRequest
from pynode.chain.v2.arbitrator import PanelArbitrator
from pynode.chain.v2.registry import PartnerInfoV2, PartnerRegistryV2
from pynode.protocol.v2.types import PartnerProfile

ADDRESS = Web3.to_checksum_address("0x" + "a1" * 20)
OTHER = Web3.to_checksum_address("0x" + "b2" * 20)
REGISTRY = PartnerRegistryV2(Web3(), ContractInfo("PartnerRegistryV2", ADDRESS, load_abi(None, "PartnerRegistryV2")))
PANEL = PanelArbitrator(Web3(), ContractInfo("PanelArbitrator", ADDRESS, load_abi(None, "PanelArbitrator")))
PROFILE = PartnerProfile(1 << 5, 1 << 5, b"u33d\0\0\0\0", 40, b"\xcf" * 32)
KEY, CID = b"\x01" + b"\x11" * 32, b"\xc1" * 32
R, P = REGISTRY, PANEL

Case = tuple[Callable[[], TxRequest], str, list[Any], int]
REGISTRY_CASES: list[Case] = [
    (lambda: R.register(PROFILE, KEY, 10**17), "register", [PROFILE, KEY], 10**17),
    (lambda: R.update_profile(PROFILE), "updateProfile", [PROFILE], 0),
    (lambda: R.rotate_encryption_key(KEY), "rotateEncryptionKey", [KEY], 0),
    (lambda: R.add_bond(5), "addBond", [], 5),
    (R.start_unbonding, "startUnbonding", [], 0),
    (lambda: R.withdraw_bond(OTHER), "withdrawBond", [OTHER], 0),
    (lambda: R.vet(OTHER, b"\x0f" * 32, CID), "vet", [OTHER, b"\x0f" * 32, CID], 0),
    (lambda: R.unvet(OTHER, CID), "unvet", [OTHER, CID], 0),
    (lambda: R.certify(OTHER, 1, 1_900_000_000, CID), "certify", [OTHER, 1, 1_900_000_000, CID], 0),
    (lambda: R.revoke_certification(OTHER, 1, CID), "revokeCertification", [OTHER, 1, CID], 0),
    (lambda: R.accredit_inspector(OTHER, 1_900_000_000, CID), "accreditInspector", [OTHER, 1_900_000_000, CID], 0),
    (lambda: R.revoke_inspector(OTHER, CID), "revokeInspector", [OTHER, CID], 0),
    (lambda: R.suspend(OTHER, CID), "suspend", [OTHER, CID], 0),
    (lambda: R.reinstate(OTHER), "reinstate", [OTHER], 0),
]
PANEL_CASES: list[Case] = [
    (lambda: P.vote(3, 51), "vote", [3, 51], 0),
    (lambda: P.appeal(3, 2 * 10**17), "appeal", [3, b""], 2 * 10**17),
    (lambda: P.execute_ruling(3), "executeRuling", [3], 0),
    (lambda: P.claim_reward(3), "claimReward", [3], 0),
    (lambda: P.withdraw(OTHER), "withdraw", [OTHER], 0),
    (lambda: P.set_panel([ADDRESS, OTHER, ADDRESS], 2), "setPanel", [[ADDRESS, OTHER, ADDRESS], 2], 0),
]


@pytest.mark.parametrize(("wrapper", "case"),
                         [(REGISTRY, c) for c in REGISTRY_CASES] + [(PANEL, c) for c in PANEL_CASES],
                         ids=[c[1] for c in REGISTRY_CASES + PANEL_CASES])
def test_each_write_encodes_as_web3_does(wrapper: Any, case: Case) -> None:
    build, function, args, value = case
    request = build()
    assert request.to == ADDRESS and request.value == value
    assert request.data == bytes.fromhex(wrapper.contract.encode_abi(function, args=args)[2:])


@pytest.mark.parametrize(("abi_name", "cases", "not_for_clients"), [
    ("PartnerRegistryV2", REGISTRY_CASES, {"slashBond", "recordOutcome", "setAuthority"}),
    ("PanelArbitrator", PANEL_CASES, {"createDispute", "setAuthority"}),
])
def test_every_client_write_has_a_builder(abi_name: str, cases: list[Case], not_for_clients: set[str]) -> None:
    """Only the book's own calls (bond moves, dispute creation) and AccessManaged's setAuthority have none."""
    writes = {i["name"] for i in load_abi(None, abi_name)
              if i["type"] == "function" and i["stateMutability"] in ("nonpayable", "payable")}
    assert writes - {c[1] for c in cases} == not_for_clients


def test_the_views_it_calls_are_in_the_abi() -> None:
    for wrapper, calls in ((REGISTRY, {"partnerInfo": [OTHER], "profileHash": [OTHER], "freeBond": [OTHER],
                                       "isCertified": [OTHER, 1], "certificationExpiry": [OTHER, 1],
                                       "inspectorExpiry": [OTHER], "isAccreditedInspector": [OTHER],
                                       "checkEligible": [OTHER, 1, 2, 3], "minBond": [], "unbondingDelay": [],
                                       "orderBook": []}),
                           (PANEL, {"arbitrationCost": [b""], "appealCost": [3, b""], "appealPeriod": [3],
                                    "disputeStatus": [3], "currentRuling": [3], "dispute": [3], "voteOf": [3, 0, OTHER],
                                    "votesFor": [3, 0, 51], "isMember": [1, OTHER], "panel": [], "credit": [OTHER],
                                    "appealWindow": [], "votingPeriod": []})):
        for name, args in calls.items():
            assert wrapper._views[name].calldata(args) == bytes.fromhex(
                wrapper.contract.encode_abi(name, args=args)[2:]), name


def test_partner_info_reads_the_free_bond_and_flags() -> None:
    info = PartnerInfoV2(1 | 2, 0, 0, 0, 0, 0, 3, 0, 0, 10, 0, "u33d", 0, CID, CID)
    assert (info.free_bond, info.registered, info.vetted, info.suspended, info.unbonding) == (7, True, True, False,
                                                                                             False)
