"""brownie's in-process deploy, for the contract tests (tests/contracts) and `make gas`.

Same order and parameters as pynode.deploy (which deploys to real chains:
scripts/deploy.py), with brownie's contract objects.
"""

from brownie import OrderBook, PartnerRegistry

from pynode.chain.orders import create_address
from pynode.deploy.deployer import DISPUTE_TIMEOUT, MIN_BOND, UNBONDING_DELAY

__all__ = ["DISPUTE_TIMEOUT", "MIN_BOND", "UNBONDING_DELAY", "deploy_contracts", "grant_roles"]


def deploy_contracts(admin, min_bond=MIN_BOND, unbonding_delay=UNBONDING_DELAY, dispute_timeout=DISPUTE_TIMEOUT):
    """Deploys the registry, then the order book at the address the registry was told (next CREATE)."""
    book_address = create_address(admin.address, admin.nonce + 1)
    registry = PartnerRegistry.deploy(admin, book_address, min_bond, unbonding_delay, {"from": admin})
    book = OrderBook.deploy(admin, registry, dispute_timeout, {"from": admin})
    if book.address != book_address:
        raise RuntimeError(f"OrderBook deployed at {book.address}, registry expects {book_address}")
    return registry, book


def grant_roles(registry, book, admin, *, governors=(), certifiers=(), inspectors=(), arbitrators=()):
    """Grants each role in the contract that checks it."""
    grants = [
        (registry, registry.GOVERNANCE_ROLE(), governors),
        (book, book.GOVERNANCE_ROLE(), governors),
        (registry, registry.CERTIFIER_ROLE(), certifiers),
        (book, book.INSPECTOR_ROLE(), inspectors),
        (book, book.ARBITRATOR_ROLE(), arbitrators),
    ]
    for contract, role, holders in grants:
        for holder in holders:
            contract.grantRole(role, holder, {"from": admin})
