"""Governance of v2 behind a delay and a multisig (issue 14, F1 and F10), on the deployment that
scripts/deploy_v2.py's multisig option makes: a 2-of-3 Safe is the AccessManager's admin and the GOVERNANCE
holder with a 2-day execution delay, every role's grant delay and each target's admin delay are 2 days, the
guardian acts at once, and the deployer keeps nothing. The Safe's owners sign each schedule and execute with
their own keys (EIP-712 SafeTx, eth-account); a stranger relays."""

import brownie
import pytest
from brownie import chain
from eth_account import Account

from pynode.protocol.v2 import codec
from scripts.book_v2 import V2
from scripts.deploy_v2 import (
    ADMIN_ROLE,
    CERTIFIER,
    GOVERNANCE,
    GOVERNANCE_DELAY,
    GUARDIAN,
    Multisig,
    Panel,
    deploy_v2,
)
from scripts.safe_multisig import exec_safe, safe_signatures
from tests.contracts.conftest import DAY, cid, err, now
from tests.contracts.v2.book_fixtures import *  # noqa: F403 (fixtures)
from tests.contracts.v2.book_fixtures import container

OWNER_KEYS = ["0x" + f"{0x91 + i:02x}" * 32 for i in range(3)]
MIN_SETBACK = 5 * DAY  # AccessManager.minSetback: a raised grant or target admin delay takes effect after it
COST = 10**16


@pytest.fixture(scope="module")
def panel_members(accounts, admin):
    members = [accounts.add("0x" + f"{0xa1 + i:02x}" * 32) for i in range(3)]
    for m in members:
        admin.transfer(m, 10**19)
    return members


@pytest.fixture(scope="module")
def deployment(deployer, fee_recipient, guardian, certifier, panel_members):
    owners = tuple(Account.from_key(k).address for k in OWNER_KEYS)
    d = deploy_v2(deployer, fee_recipient=fee_recipient, holders={CERTIFIER: [certifier]},
                  multisig=Multisig(owners, 2, (guardian,)), panel=Panel(tuple(panel_members), 2, COST, 3 * COST))
    chain.sleep(MIN_SETBACK + 1)
    chain.mine()
    return d


@pytest.fixture(scope="module")
def safe(deployment):
    return deployment.safe


@pytest.fixture(scope="module")
def v2(book, registry, buyer):
    return V2(book, registry, buyer)


@pytest.fixture(scope="module")
def panel(deployment):
    """The deployment's PanelArbitrator, three members, quorum 2 (setPanel: GOVERNANCE, delayed)."""
    return deployment.panel


def schedule(safe, manager, target, data, relayer, keys=OWNER_KEYS[:2]):
    return exec_safe(safe, keys, manager, manager.schedule.encode_input(target, data, 0), relayer)


def execute(safe, manager, target, data, relayer, keys=OWNER_KEYS[1:]):
    return exec_safe(safe, keys, manager, manager.execute.encode_input(target, data), relayer)


def test_deployment_hands_everything_to_the_safe(manager, safe, deployer, guardian, book, registry, panel):
    assert sorted(safe.getOwners()) == sorted(Account.from_key(k).address for k in OWNER_KEYS)
    assert safe.getThreshold() == 2
    assert tuple(manager.hasRole(ADMIN_ROLE, safe)) == (True, GOVERNANCE_DELAY)
    assert tuple(manager.hasRole(GOVERNANCE, safe)) == (True, GOVERNANCE_DELAY)
    assert tuple(manager.hasRole(GUARDIAN, guardian)) == (True, 0)
    assert not manager.hasRole(ADMIN_ROLE, deployer)[0]
    for role in (ADMIN_ROLE, GOVERNANCE, GUARDIAN, CERTIFIER):
        assert manager.getRoleGrantDelay(role) == GOVERNANCE_DELAY
    for target in (book, registry, panel):
        assert manager.getTargetAdminDelay(target) == GOVERNANCE_DELAY
    assert manager.getTargetFunctionRole(panel, panel.setPanel.signature) == GOVERNANCE
    with brownie.reverts(err("AccessManagerUnauthorizedAccount", deployer, ADMIN_ROLE)):
        manager.grantRole(GOVERNANCE, deployer, 0, {"from": deployer})


def test_multisig_delay_under_two_days_is_refused(deployer, fee_recipient):
    owners = tuple(Account.from_key(k).address for k in OWNER_KEYS)
    with pytest.raises(ValueError, match="governance delay 86400 s is under 172800 s"):
        deploy_v2(deployer, fee_recipient=fee_recipient, multisig=Multisig(owners, 2, (), DAY))


def test_one_owner_signature_is_not_enough(safe, manager, book, fee_recipient, stranger):
    data = manager.schedule.encode_input(book, book.setFee.encode_input(200, fee_recipient), 0)
    with brownie.reverts("GS020"):  # signatures data too short for the threshold
        safe.execTransaction(manager, 0, data, 0, 0, 0, 0, brownie.ZERO_ADDRESS, brownie.ZERO_ADDRESS,
                             safe_signatures(safe, OWNER_KEYS[:1], manager, data), {"from": stranger})
    stranger_key = "0x" + "99" * 32
    with brownie.reverts("GS026"):  # a signer that is not an owner
        safe.execTransaction(manager, 0, data, 0, 0, 0, 0, brownie.ZERO_ADDRESS, brownie.ZERO_ADDRESS,
                             safe_signatures(safe, [OWNER_KEYS[0], stranger_key], manager, data),
                             {"from": stranger})


def _changes(book, manager, panel, token, fee_recipient, stranger):
    """(target, calldata, check that it took effect) for each delayed change F10 names, and the panel's."""
    return {
        "role_grant": (manager, manager.grantRole.encode_input(CERTIFIER, stranger, 0),
                       lambda: manager.getAccess(CERTIFIER, stranger)[0] > 0),
        "fee": (book, book.setFee.encode_input(200, fee_recipient), lambda: book.feeBps() == 200),
        "token_listing": (book, book.allowToken.encode_input(token), lambda: book.tokenAllowed(token)),
        "parameters": (book, book.setParameters.encode_input(2 * 3600, 10 * DAY),
                       lambda: (book.rejectWindow(), book.disputeTimeout()) == (2 * 3600, 10 * DAY)),
        "panel": (panel, panel.setPanel.encode_input([*panel.panel()[1][:2], stranger], 2),
                  lambda: panel.panel()[0] == 2),
    }


@pytest.fixture(scope="module")
def token(admin):
    return container("TestERC20").deploy({"from": admin})


@pytest.mark.parametrize("change", ["role_grant", "fee", "token_listing", "parameters", "panel"])
def test_F10_change_waits_out_the_delay(change, book, manager, safe, panel, token, fee_recipient, stranger):
    target, data, took_effect = _changes(book, manager, panel, token, fee_recipient, stranger)[change]
    op = manager.hashOperation(safe, target, data)
    tx = schedule(safe, manager, target, data, stranger)
    ready_at = tx.timestamp + GOVERNANCE_DELAY
    assert manager.getSchedule(op) == ready_at
    with brownie.reverts(err("AccessManagerNotReady", op)):  # the Safe passes its inner call's revert on
        execute(safe, manager, target, data, stranger)
    chain.sleep(ready_at - now() - 60)
    with brownie.reverts(err("AccessManagerNotReady", op)):
        execute(safe, manager, target, data, stranger)
    assert not took_effect()
    chain.sleep(61)
    execute(safe, manager, target, data, stranger)
    assert took_effect()
    assert manager.getSchedule(op) == 0


def test_F10_direct_calls_need_the_delay(book, manager, safe, guardian, fee_recipient, stranger, deployer):
    """Nobody changes anything directly: not the deployer, the guardian or a stranger (no role), and not the
    Safe itself without a schedule (its role has an execution delay)."""
    for caller in (deployer, guardian, stranger):
        with brownie.reverts(err("AccessManagedUnauthorized", caller)):
            book.setFee(200, fee_recipient, {"from": caller})
    data = book.setFee.encode_input(200, fee_recipient)
    with brownie.reverts(err("AccessManagerNotScheduled", manager.hashOperation(safe, book, data))):
        exec_safe(safe, OWNER_KEYS[:2], book, data, stranger)


def test_F10_role_grant_also_waits_out_the_grant_delay(manager, safe, stranger):
    data = manager.grantRole.encode_input(CERTIFIER, stranger, 0)
    schedule(safe, manager, manager, data, stranger)
    chain.sleep(GOVERNANCE_DELAY + 1)
    tx = execute(safe, manager, manager, data, stranger)
    assert not manager.hasRole(CERTIFIER, stranger)[0]  # granted, effective only after the grant delay
    chain.sleep(manager.getAccess(CERTIFIER, stranger)[0] - tx.timestamp + 1)
    chain.mine()
    assert manager.hasRole(CERTIFIER, stranger)[0]


def test_F10_guardian_restricts_at_once_but_cannot_widen(book, registry, manager, safe, guardian, token, partner,
                                                         fee_recipient, stranger):
    # De-list needs a listed token: the Safe lists it (2 days), then the guardian de-lists it at once.
    data = book.allowToken.encode_input(token)
    schedule(safe, manager, book, data, stranger)
    chain.sleep(GOVERNANCE_DELAY + 1)
    execute(safe, manager, book, data, stranger)

    book.pause({"from": guardian})
    assert book.paused()
    book.delistToken(token, {"from": guardian})
    assert not book.tokenAllowed(token)
    registry.suspend(partner.address, cid("reason"), {"from": guardian})
    assert registry.partnerInfo(partner.address)["flags"] & registry.FLAG_SUSPENDED()

    for call in (lambda: book.unpause({"from": guardian}),
                 lambda: book.allowToken(token, {"from": guardian}),
                 lambda: book.setFee(0, fee_recipient, {"from": guardian}),
                 lambda: book.setParameters(2 * 3600, 10 * DAY, {"from": guardian}),
                 lambda: registry.reinstate(partner.address, {"from": guardian})):
        with brownie.reverts(err("AccessManagedUnauthorized", guardian)):
            call()
    with brownie.reverts(err("AccessManagerUnauthorizedAccount", guardian, ADMIN_ROLE)):
        manager.grantRole(GUARDIAN, stranger, 0, {"from": guardian})


def test_F10_existing_orders_keep_their_parameters(v2, book, manager, safe, panel, partner, fee_recipient,
                                                   stranger):
    """An order posted before a fee and parameter change completes on the terms it snapshotted; one posted
    after gets the new ones."""
    before = v2.post(panel, award_in=5 * DAY, deliver_in=20 * DAY)
    old = (before.terms.fee_bps, before.terms.reject_window, before.terms.dispute_timeout)
    changes = [(book, book.setFee.encode_input(300, fee_recipient)),
               (book, book.setParameters.encode_input(2 * 3600, 10 * DAY))]
    for target, data in changes:
        schedule(safe, manager, target, data, stranger)
    chain.sleep(GOVERNANCE_DELAY + 1)
    for target, data in changes:
        execute(safe, manager, target, data, stranger)
    assert (book.feeBps(), book.rejectWindow(), book.disputeTimeout()) == (300, 2 * 3600, 10 * DAY)

    v2.award(before, partner)
    v2.ship(before)
    held = book.balance()
    v2.confirm(before)
    price = before.state.price
    assert book.balance() == held - price + price * old[0] // 10_000  # the fee at the posted order's snapshot
    after = v2.post(panel)
    assert (after.terms.fee_bps, after.terms.reject_window, after.terms.dispute_timeout) == (300, 2 * 3600,
                                                                                              10 * DAY)
    assert old != (300, 2 * 3600, 10 * DAY)


def test_F1_admin_cannot_rule_or_make_itself_arbitrator(v2, book, manager, safe, panel, partner, stranger):
    """No arbitrator role exists; the order's terms name its arbitrator, and neither the Safe nor the manager
    acting for it (after the full delay) can rule on, resolve or re-arbitrate an order."""
    assert not hasattr(book, "ARBITRATOR_ROLE")
    t = v2.post(panel)
    assert t.terms.arbitrator == panel.address
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST)
    tx = v2.pay_fee(t, COST)
    dispute_id = tx.events["ArbitrationCreated"]["disputeId"]

    # The Safe calling the book itself: not the order's arbitrator.
    with brownie.reverts(err("UnknownDispute", safe, dispute_id)):
        exec_safe(safe, OWNER_KEYS[:2], book, book.rule.encode_input(dispute_id, 101), stranger)
    # Through the manager after waiting out the delay: the book sees the manager, no arbitrator either.
    data = book.rule.encode_input(dispute_id, 101)
    schedule(safe, manager, book, data, stranger)
    chain.sleep(GOVERNANCE_DELAY + 1)
    with brownie.reverts(err("UnknownDispute", manager, dispute_id)):
        execute(safe, manager, book, data, stranger)
    # Nothing to execute, and an order whose terms name the Safe as arbitrator is not this order.
    with brownie.reverts(err("NotRuled", t.order_id)):
        book.executeRuling(t.packed, {"from": stranger})
    forged = t.order._replace(terms=t.terms._replace(arbitrator=safe.address))
    with brownie.reverts(err("OrderMismatch", codec.order_id(forged.terms))):
        book.executeRuling.call(codec.pack_order(forged), {"from": safe})
    # Only the named panel rules: it is still the panel's dispute to decide.
    assert panel.dispute(dispute_id)["arbitrable"] == book.address
