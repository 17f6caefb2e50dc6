"""Deploys PartnerRegistry + OrderBook, grants roles, allow-lists tokens, writes deployments/<chainId>.json.

    brownie run scripts/deploy.py [--network NAME]

Role holders and tokens come from comma-separated env vars: FABMESH_GOVERNORS (default: the deployer),
FABMESH_CERTIFIERS, FABMESH_INSPECTORS, FABMESH_ARBITRATORS, FABMESH_TOKENS. Parameters:
FABMESH_MIN_BOND_WEI, FABMESH_UNBONDING_DELAY, FABMESH_DISPUTE_TIMEOUT (seconds).
FABMESH_DEPLOYMENTS_DIR overrides where the file goes. pynode reads the JSON written here: addresses, deploy block (first block to scan for logs), chain id and
the ABI artifact of each contract (build/contracts/<Name>.json, key "abi").
"""

import json
import os
from pathlib import Path

from brownie import OrderBook, PartnerRegistry, chain

from scripts.helpful_scripts import get_account
from pynode.chain.orders import create_address

MIN_BOND = 10**17  # 0.1 ETH
UNBONDING_DELAY = 7 * 86400
DISPUTE_TIMEOUT = 14 * 86400
# `fabmesh dev up`, the demo and the tests deploy to throw-away chains and say where the file goes.
DEPLOYMENTS = Path(os.environ.get("FABMESH_DEPLOYMENTS_DIR") or Path(__file__).resolve().parent.parent / "deployments")


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


def _env_list(name, default=()):
    value = os.environ.get(name, "")
    return [v.strip() for v in value.split(",") if v.strip()] or list(default)


def main():
    admin = get_account()
    registry, book = deploy_contracts(
        admin,
        int(os.environ.get("FABMESH_MIN_BOND_WEI", MIN_BOND)),
        int(os.environ.get("FABMESH_UNBONDING_DELAY", UNBONDING_DELAY)),
        int(os.environ.get("FABMESH_DISPUTE_TIMEOUT", DISPUTE_TIMEOUT)),
    )
    roles = {
        "governors": _env_list("FABMESH_GOVERNORS", [admin.address]),
        "certifiers": _env_list("FABMESH_CERTIFIERS"),
        "inspectors": _env_list("FABMESH_INSPECTORS"),
        "arbitrators": _env_list("FABMESH_ARBITRATORS"),
    }
    grant_roles(registry, book, admin, **roles)
    tokens = _env_list("FABMESH_TOKENS")
    if tokens:
        if admin.address not in roles["governors"]:
            book.grantRole(book.GOVERNANCE_ROLE(), admin, {"from": admin})
        for token in tokens:
            book.setTokenAllowed(token, True, {"from": admin})

    record = {
        "chainId": chain.id,
        "deployBlock": registry.tx.block_number,
        "contracts": {
            name: {"address": c.address, "artifact": f"build/contracts/{name}.json"}
            for name, c in (("PartnerRegistry", registry), ("OrderBook", book))
        },
        "roles": roles,
        "tokens": tokens,
        "params": {
            "minBond": registry.minBond(),
            "unbondingDelay": registry.unbondingDelay(),
            "disputeTimeout": book.disputeTimeout(),
        },
    }
    DEPLOYMENTS.mkdir(parents=True, exist_ok=True)
    path = DEPLOYMENTS / f"{chain.id}.json"
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path}")
    return registry, book
