"""Protocol v2 deployed by pynode on a real anvil: the record loads, every restricted function has its role, a
guardian restricts at once, and governance's calls wait out their execution delay through the AccessManager."""

from __future__ import annotations

import json

import pytest

from pynode.chain.contracts import _Wrapper
from pynode.chain.deployment import load_deployment
from pynode.chain.provider import connect
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxReverted, TxSender
from pynode.chain.v2.manager import AccessManager, function_selectors, restricted_call
from pynode.core.errors import InputError
from pynode.deploy.deployer_v2 import DeployPlanV2
from pynode.dev.accounts import DEV_GOVERNANCE_DELAY, v2_accounts
from pynode.dev.deploy import deploy_v2
from pynode.protocol.v2.governance import (
    ADMIN_ROLE,
    CERTIFIER,
    GOVERNANCE,
    GOVERNANCE_DELAY,
    GUARDIAN,
    ROLE_FUNCTIONS,
    TARGETS,
)

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]  # it travels in time


@pytest.fixture(scope="module")
def v2(v2_deployments_dir, v2_deployment, anvil):
    """The conftest's dev v2 deployment (on this module's own chain): (record, deployments dir, Deployment)."""
    record = json.loads((v2_deployments_dir / f"{anvil.chain_id}.v2.json").read_text())
    return record, v2_deployments_dir, v2_deployment


@pytest.fixture
def w3(anvil):
    snapshot = anvil.rpc("evm_snapshot")
    yield connect(anvil.rpc_url)
    anvil.rpc("evm_revert", snapshot)


def _sender(w3, account, deployment) -> TxSender:
    decoder = RevertDecoder(*(info.abi for info in deployment.contracts.values()))
    return TxSender(w3, account, decoder, confirmations=0)


def test_the_record_is_protocol_2_beside_v1_and_loads(v2, anvil, dev_accounts):
    record, directory, deployment = v2
    v1 = load_deployment(anvil.chain_id, directory, None, protocol=1)  # the v1 record beside it is untouched
    assert set(v1.contracts) == {"PartnerRegistry", "OrderBook"} and v1.deploy_block < deployment.deploy_block
    assert record["protocol"] == 2 and record["chainId"] == anvil.chain_id
    assert set(deployment.contracts) == {"AccessManager", "PartnerRegistryV2", "OrderBookV2", "PanelArbitrator"}
    assert deployment.deploy_block == record["contracts"]["AccessManager"]["blockNumber"]
    assert record["admin"] == dev_accounts["admin"].address
    assert record["params"]["governanceDelay"] == DEV_GOVERNANCE_DELAY
    holders = record["governance"]["holders"]
    assert holders["GOVERNANCE"] == [{"account": dev_accounts["admin"].address, "executionDelay": 60}]
    assert holders["GUARDIAN"] == [{"account": v2_accounts()["guardian"].address, "executionDelay": 0}]
    assert record["governance"]["functions"]["OrderBookV2"]["setFee"] == "GOVERNANCE"
    assert record["panel"]["quorum"] == 2 and len(record["panel"]["members"]) == 3
    with pytest.raises(InputError, match="a protocol 2 record, expected protocol 1"):
        load_deployment(anvil.chain_id, directory / f"{anvil.chain_id}.v2.json", None, protocol=1)


def test_every_restricted_function_is_wired_to_its_role_on_chain(v2, w3):
    _, _, deployment = v2
    manager = AccessManager(w3, deployment["AccessManager"])
    for key, by_role in ROLE_FUNCTIONS.items():
        info = deployment[TARGETS[key]]
        for role, names in by_role.items():
            for selector in function_selectors(info.abi, names):
                assert manager.target_function_role(info.address, selector) == role, (key, names)
    book = deployment["OrderBookV2"]
    assert manager.target_function_role(book.address, function_selectors(book.abi, ["post"])[0]) == ADMIN_ROLE
    registry = _Wrapper(w3, deployment["PartnerRegistryV2"])
    assert registry.call("orderBook") == book.address  # bound to the book's precomputed address
    assert _Wrapper(w3, book).call("authority") == manager.address


def test_a_guardian_pauses_at_once_and_no_one_else_can(v2, w3, dev_accounts):
    _, _, deployment = v2
    book = _Wrapper(w3, deployment["OrderBookV2"])
    guardian = v2_accounts()["guardian"]
    with pytest.raises(TxReverted, match="AccessManagedUnauthorized"):
        _sender(w3, dev_accounts["certifier"], deployment).send(book.request("pause", "pause"))
    _sender(w3, guardian, deployment).send(book.request("pause", "pause"))
    assert book.call("paused") is True
    with pytest.raises(TxReverted, match="AccessManagedUnauthorized"):  # unpausing widens: governance's
        _sender(w3, guardian, deployment).send(book.request("unpause", "unpause"))


def test_a_governance_fee_change_waits_out_the_delay_through_the_manager(v2, w3, anvil, dev_accounts):
    _, _, deployment = v2
    admin = dev_accounts["admin"]
    manager = AccessManager(w3, deployment["AccessManager"])
    book = _Wrapper(w3, deployment["OrderBookV2"])
    send = _sender(w3, admin, deployment).send
    assert manager.membership(GOVERNANCE, admin.address) == (True, DEV_GOVERNANCE_DELAY)
    with pytest.raises(TxReverted, match="AccessManagerNotScheduled"):  # a delayed holder cannot call directly
        send(book.request("set fee", "setFee", 100, admin.address))

    call = restricted_call(book, "setFee", 100, admin.address)
    op = call.operation_id(admin.address)
    assert manager.hash_operation(admin.address, call.target, call.data) == op
    assert manager.can_call(admin.address, call.target, call.selector) == (False, DEV_GOVERNANCE_DELAY)
    sent = send(manager.schedule(call))
    scheduled_at = w3.eth.get_block(sent.block_number)["timestamp"]
    assert manager.ready_at(admin.address, call) == scheduled_at + DEV_GOVERNANCE_DELAY
    with pytest.raises(TxReverted, match="AccessManagerNotReady"):
        send(manager.execute(call))
    assert book.call("feeBps") == 0

    anvil.rpc("evm_increaseTime", DEV_GOVERNANCE_DELAY + 1)
    anvil.rpc("evm_mine")
    send(manager.execute(call))
    assert (book.call("feeBps"), book.call("feeRecipient")) == (100, admin.address)
    assert manager.schedule_of(op) == 0  # consumed
    assert manager.nonce_of(op) == 1
    assert manager.expiration() == 7 * 86400 and manager.min_setback() == 5 * 86400


def test_a_scheduled_call_can_be_cancelled(v2, w3, dev_accounts):
    _, _, deployment = v2
    admin = dev_accounts["admin"]
    manager = AccessManager(w3, deployment["AccessManager"])
    call = restricted_call(_Wrapper(w3, deployment["OrderBookV2"]), "setParameters", 3600, 30 * 86400)
    send = _sender(w3, admin, deployment).send
    send(manager.schedule(call))
    assert manager.ready_at(admin.address, call) > 0
    send(manager.cancel(admin.address, call))
    assert manager.ready_at(admin.address, call) == 0


def test_a_hand_over_leaves_the_deployer_nothing_and_tokens_listed(anvil, w3, dev_accounts, tmp_path):
    """A live-style plan: a separate admin (as a Safe would be) with the 2-day delay, a listed token."""
    safe, token = dev_accounts["auditor"].address, dev_accounts["stranger"].address
    plan = DeployPlanV2(admin=safe, guardians=(v2_accounts()["guardian"].address,),
                        certifiers=(dev_accounts["certifier"].address,), tokens=(token,))
    record = deploy_v2(anvil.rpc_url, anvil.chain_id, tmp_path, plan)
    deployment = load_deployment(anvil.chain_id, tmp_path, None, protocol=2)
    assert "PanelArbitrator" not in deployment.contracts and "panel" not in record
    manager = AccessManager(w3, deployment["AccessManager"])
    me = dev_accounts["admin"].address
    assert manager.membership(ADMIN_ROLE, me) == (False, 0)
    assert manager.membership(GOVERNANCE, me) == (False, 0)  # borrowed for the token, renounced
    assert manager.membership(ADMIN_ROLE, safe) == (True, GOVERNANCE_DELAY)
    assert manager.membership(GOVERNANCE, safe) == (True, GOVERNANCE_DELAY)
    assert manager.membership(CERTIFIER, dev_accounts["certifier"].address) == (True, 0)
    assert manager.membership(GUARDIAN, v2_accounts()["guardian"].address) == (True, 0)
    # a raised grant delay takes effect after the manager's minSetback (5 days): pending, not yet current
    assert manager.access(GOVERNANCE, safe).current_delay == GOVERNANCE_DELAY
    assert manager.role_grant_delay(GOVERNANCE) == 0
    book = _Wrapper(w3, deployment["OrderBookV2"])
    assert book.call("tokenAllowed", token) is True
    assert book.call("feeRecipient") == safe
    assert record["governance"]["grantDelay"] == GOVERNANCE_DELAY
    assert json.loads((tmp_path / f"{anvil.chain_id}.v2.json").read_text())["admin"] == safe


def test_the_dev_admin_grants_and_revokes_a_guardian_at_once(v2, w3, dev_accounts):
    """The dev deployer stays the manager's admin with no delay: its grants and revocations act at once."""
    _, _, deployment = v2
    admin, stranger = dev_accounts["admin"], dev_accounts["stranger"]
    manager = AccessManager(w3, deployment["AccessManager"])
    book = _Wrapper(w3, deployment["OrderBookV2"])
    assert manager.role_grant_delay(GUARDIAN) == 0 and manager.membership(ADMIN_ROLE, admin.address) == (True, 0)
    send = _sender(w3, admin, deployment).send
    send(manager.grant(GUARDIAN, stranger.address))
    assert manager.membership(GUARDIAN, stranger.address) == (True, 0)
    send(manager.revoke(GUARDIAN, stranger.address))
    assert manager.membership(GUARDIAN, stranger.address) == (False, 0)
    with pytest.raises(TxReverted, match="AccessManagedUnauthorized"):
        _sender(w3, stranger, deployment).send(book.request("pause", "pause"))
    with pytest.raises(TxReverted, match="AccessManagerUnauthorizedAccount"):  # only the admin grants
        _sender(w3, stranger, deployment).send(manager.grant(GUARDIAN, stranger.address))
