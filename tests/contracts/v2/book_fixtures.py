"""Fixtures of the v2 order book's tests (imported by each test_book_*.py): signing partners and inspectors
registered in the real registry, Kleros's reference ERC-792 arbitrator, and the V2 driver."""

import brownie
import pytest

from scripts.book_v2 import INSPECTOR_KEYS, PARTNER_KEYS, V2, Signer
from tests.contracts.conftest import DAY, cid

FEE_BPS = 100


def container(name):
    return getattr(brownie.project.get_loaded_projects()[0], name)


def signer(accounts, admin, key):
    account = accounts.add(key)
    admin.transfer(account, 10**20)
    return Signer(account, key)


@pytest.fixture(scope="module")
def partners(accounts, admin, register_partner):
    """Two vetted, bonded partners with keys (they sign quotes and settlements)."""
    out = [signer(accounts, admin, key) for key in PARTNER_KEYS[:2]]
    for p in out:
        register_partner(p.account)
    return out


@pytest.fixture(scope="module")
def partner(partners):
    return partners[0]


@pytest.fixture(scope="module")
def inspectors(accounts, admin, registry, certifier):
    """Two accredited inspectors with keys, and a third one that is not accredited."""
    out = [signer(accounts, admin, key) for key in INSPECTOR_KEYS]
    expiry = brownie.chain[-1].timestamp + 365 * DAY
    for i in out[:2]:
        registry.accreditInspector(i.address, expiry, cid("accreditation"), {"from": certifier})
    return out


@pytest.fixture(scope="module")
def keyed_buyer(accounts, admin):
    """A buyer with a key (it signs settlements)."""
    return signer(accounts, admin, "0x" + "91" * 32)


@pytest.fixture(scope="module")
def kleros(arbitrator):
    """Kleros's SimpleCentralizedArbitrator (npm @kleros/erc-792): its deployer rules; costs 0.1 ETH."""
    return container("SimpleCentralizedArbitrator").deploy({"from": arbitrator})


@pytest.fixture(scope="module")
def fee(book, governor, fee_recipient):
    book.setFee(FEE_BPS, fee_recipient, {"from": governor})
    return FEE_BPS


@pytest.fixture(scope="module")
def v2(book, registry, buyer, fee):
    return V2(book, registry, buyer)


@pytest.fixture(scope="module")
def token(admin, book, governor):
    t = container("TestERC20").deploy({"from": admin})
    book.allowToken(t, {"from": governor})
    return t
