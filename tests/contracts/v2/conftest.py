"""Protocol v2 fixtures: the v2 deployment (scripts/deploy_v2.py) and role-named accounts.

The accounts admin (the deployer), buyer, maker, maker2, inspector, certifier, arbitrator, auditor, stranger and
governor, the anvil hook and per-test isolation come from tests/contracts/conftest.py; this file adds the v2
roles (guardian, fee recipient) and overrides the deployment fixtures. Roles are granted with no execution
delay so unit tests run fast; the delayed, Safe-administered setup has its own tests.
"""

import pytest
from eth_abi import encode

from pynode.chain.orders import keccak
from scripts.deploy_v2 import CERTIFIER, GOVERNANCE, GUARDIAN, MIN_BOND, UNBONDING_DELAY, deploy_v2
from tests.contracts.conftest import DAY, X25519_KEY, XWING_KEY, cid, err, now, profile

__all__ = [
    "CERTIFIER", "DAY", "GOVERNANCE", "GUARDIAN", "MIN_BOND", "UNBONDING_DELAY", "X25519_KEY", "XWING_KEY",
    "cid", "err", "now", "profile", "profile_hash",
]

PROFILE_TYPE = "(uint32,uint64,bytes8,uint32,bytes32)"
GUARDIAN_KEY = "0x" + "61" * 32
FEE_RECIPIENT_KEY = "0x" + "62" * 32


def profile_hash(p) -> bytes:
    """keccak256(abi.encode(PartnerProfile)), as PartnerRegistryV2.profileHash computes it."""
    return keccak(encode([PROFILE_TYPE], [tuple(p)]))


def _funded(accounts, admin, key):
    account = accounts.add(key)
    admin.transfer(account, 10**20)
    return account


@pytest.fixture(scope="module")
def deployer(admin):
    return admin


@pytest.fixture(scope="module")
def guardian(accounts, admin):
    return _funded(accounts, admin, GUARDIAN_KEY)


@pytest.fixture(scope="module")
def fee_recipient(accounts, admin):
    return _funded(accounts, admin, FEE_RECIPIENT_KEY)


@pytest.fixture(scope="module")
def holders(governor, guardian, certifier):
    """Role holders granted with no execution delay."""
    return {GOVERNANCE: [governor], GUARDIAN: [guardian], CERTIFIER: [certifier]}


@pytest.fixture(scope="module")
def deployment(deployer, fee_recipient, holders):
    return deploy_v2(deployer, fee_recipient=fee_recipient, holders=holders)


@pytest.fixture(scope="module")
def manager(deployment):
    return deployment.manager


@pytest.fixture(scope="module")
def registry(deployment):
    return deployment.registry


@pytest.fixture(scope="module")
def book(deployment):
    return deployment.book


@pytest.fixture(scope="module")
def register_partner(registry, certifier):
    """register_partner(account, vet=True, bond=MIN_BOND, certs=((cert_id, expiry), ...), key=..., **profile):
    registers `account` with `bond` wei, vets the profile it registered (by its hash) and certifies it."""

    def _register(account, vet=True, bond=MIN_BOND, certs=(), key=X25519_KEY, **kwargs):
        p = profile(**kwargs)
        registry.register(p, key, {"from": account, "value": bond})
        if vet:
            registry.vet(account, profile_hash(p), cid("vetting"), {"from": certifier})
        for cert_id, expiry in certs:
            registry.certify(account, cert_id, expiry, cid(f"cert-{cert_id}"), {"from": certifier})
        return p

    return _register
