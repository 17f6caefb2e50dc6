"""brownie deploy of protocol v2 (contracts/v2): OpenZeppelin AccessManager, PartnerRegistryV2, OrderBookV2.

The registry is bound immutably to the order book's precomputed CREATE address (as v1), so the three are
deployed in this order from one account: manager, registry (told the book's address), book. The manager is
then wired: each restricted function to its role (ROLE_FUNCTIONS), role labels, and the role holders given.

The deployer stays the manager's admin (role 0, no delay) in this function's output; a Safe admin and
execution delays are options callers add on top (`holders` takes a delay per grant).
"""

from typing import NamedTuple

import brownie

from pynode.chain.orders import create_address
from pynode.deploy.deployer import MIN_BOND, UNBONDING_DELAY
from pynode.protocol.v2.governance import (
    ADMIN_ROLE,
    CERTIFIER,
    GOVERNANCE,
    GOVERNANCE_DELAY,
    GUARDIAN,
    ROLE_FUNCTIONS,
    ROLE_LABELS,
)
from scripts.safe_multisig import deploy_safe

__all__ = [
    "ADMIN_ROLE", "CERTIFIER", "GOVERNANCE", "GOVERNANCE_DELAY", "GUARDIAN", "MIN_BOND", "ROLE_FUNCTIONS",
    "UNBONDING_DELAY", "Deployment", "Multisig", "Panel", "deploy_v2", "grant", "hand_to_multisig", "wire_roles",
]

class Deployment(NamedTuple):
    manager: object
    registry: object
    book: object | None  # None when the registry is bound to `book_address`
    safe: object | None = None  # the manager's admin with the `multisig` option
    panel: object | None = None  # the PanelArbitrator of the `panel` option


def _container(name):
    """The project's contract container `name` (AttributeError naming it if it is not built)."""
    return getattr(brownie.project.get_loaded_projects()[0], name)


def selectors(contract, names):
    """The 4-byte selectors of the functions `names` (every overload of each) of a brownie contract."""
    out = []
    for name in names:
        method = getattr(contract, name)
        overloads = getattr(method, "methods", None)  # brownie's OverloadedMethod
        out += [m.signature for m in overloads.values()] if overloads else [method.signature]
    return out


def wire_roles(manager, contracts, admin):
    """Labels the roles and sets each restricted function's role (ROLE_FUNCTIONS) on the deployed `contracts`
    ({"book": ..., "registry": ...}; a missing or None entry is skipped)."""
    for role, label in ROLE_LABELS.items():
        manager.labelRole(role, label, {"from": admin})
    for key, roles in ROLE_FUNCTIONS.items():
        target = contracts.get(key)
        if target is None:
            continue
        for role, names in roles.items():
            manager.setTargetFunctionRole(target, selectors(target, names), role, {"from": admin})


def grant(manager, admin, holders):
    """Grants roles: `holders` maps a role id to accounts, or to (account, execution delay in s) pairs."""
    for role, accounts in holders.items():
        for holder in accounts:
            account, delay = holder if isinstance(holder, tuple) else (holder, 0)
            manager.grantRole(role, account, delay, {"from": admin})


class Multisig(NamedTuple):
    """deploy_v2's multisig option: a Safe of `owners` (addresses) with `threshold` becomes the manager's admin
    and the GOVERNANCE holder, every call of it waiting `delay`; `guardians` hold GUARDIAN with no delay."""

    owners: tuple
    threshold: int = 2
    guardians: tuple = ()
    delay: int = GOVERNANCE_DELAY


class Panel(NamedTuple):
    """deploy_v2's panel option: a PanelArbitrator under the same manager (costs in wei, periods in s)."""

    members: tuple
    quorum: int
    arbitration_cost: int
    appeal_cost: int
    appeal_window: int = 2 * 86400
    voting_period: int = 5 * 86400


def hand_to_multisig(manager, targets, deployer, multisig):
    """Gives the manager to a new Safe (`multisig`) and returns the Safe. Guardians are granted first, while
    grants are still instant; then the Safe gets ADMIN and GOVERNANCE with `delay` as its execution delay, every
    role's grant delay and each target's admin delay become `delay`, and the deployer renounces its admin.
    AccessManager lets a raised grant or target admin delay take effect only after its 5-day minSetback."""
    if multisig.delay < GOVERNANCE_DELAY:
        raise ValueError(f"governance delay {multisig.delay} s is under {GOVERNANCE_DELAY} s")
    safe = deploy_safe(deployer, multisig.owners, multisig.threshold)
    grant(manager, deployer, {GUARDIAN: list(multisig.guardians),
                              ADMIN_ROLE: [(safe, multisig.delay)], GOVERNANCE: [(safe, multisig.delay)]})
    for role in (ADMIN_ROLE, *ROLE_LABELS):
        manager.setGrantDelay(role, multisig.delay, {"from": deployer})
    for target in targets:
        manager.setTargetAdminDelay(target, multisig.delay, {"from": deployer})
    manager.renounceRole(ADMIN_ROLE, deployer, {"from": deployer})
    return safe


def deploy_v2(deployer, *, fee_recipient, min_bond=MIN_BOND, unbonding_delay=UNBONDING_DELAY, holders=None,
              book_address=None, multisig=None, panel=None):
    """Deploys and wires v2 from `deployer` (the manager's initial admin); returns a Deployment.

    holders: {role id: [account or (account, execution delay)]} granted at the end (see `grant`).
    book_address: bind the registry to this address instead of deploying OrderBookV2 (registry unit tests
    call the book-only functions from it). Without it OrderBookV2 is deployed there.
    multisig: a Multisig to hand the manager to at the end (`hand_to_multisig`); the deployer keeps nothing.
    panel: a Panel to deploy a PanelArbitrator for orders to name (its setPanel is GOVERNANCE's).
    """
    manager = _container("AccessManager").deploy(deployer, {"from": deployer})
    # The registry is the next CREATE, the book the one after it.
    expected_book = book_address or create_address(deployer.address, deployer.nonce + 1)
    registry = _container("PartnerRegistryV2").deploy(
        manager, expected_book, min_bond, unbonding_delay, {"from": deployer}
    )
    book = None
    if book_address is None:
        book = _container("OrderBookV2").deploy(manager, registry, fee_recipient, {"from": deployer})
        if book.address != expected_book:
            raise RuntimeError(f"OrderBookV2 deployed at {book.address}, registry expects {expected_book}")
    arbitrator = None
    if panel is not None:
        arbitrator = _container("PanelArbitrator").deploy(manager, *panel, {"from": deployer})
    wire_roles(manager, {"registry": registry, "book": book, "panel": arbitrator}, deployer)
    grant(manager, deployer, holders or {})
    safe = None
    if multisig is not None:
        targets = [t for t in (registry, book, arbitrator) if t is not None]
        safe = hand_to_multisig(manager, targets, deployer, multisig)
    return Deployment(manager, registry, book, safe, arbitrator)
