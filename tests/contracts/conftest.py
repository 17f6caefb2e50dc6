"""Shared fixtures: role-named accounts, module-scoped deployment, partner and order factories."""

import importlib.util
from pathlib import Path

import brownie.test
import pytest
from brownie import FeeOnTransferERC20, TestERC20, chain

from pynode.chain.orders import (
    MATERIAL,
    PROCESS,
    ZERO_ADDRESS,
    OrderTracker,
    keccak,
    make_docs,
    make_spec,
    make_terms,
    order_hash,
)
from pynode.dev.anvil import Anvil
from pynode.protocol.types import Status
from scripts.brownie_anvil import development_anvil
from scripts.brownie_deploy import deploy_contracts, grant_roles

DAY = 86400
MIN_BOND = 10**17
UNBONDING_DELAY = 7 * DAY
DISPUTE_TIMEOUT = 14 * DAY
PRICE = 10**17
CLAIM_BOND = 10**16
X25519_KEY = b"\x01" + b"\x11" * 32  # suite-prefixed, as pynode.crypto.hpke encodes keys
XWING_KEY = b"\x02" + b"\x22" * 1216
CAPS = PROCESS["CNC_MILLING"] | PROCESS["FDM"] | PROCESS["SLS"]
MATS = MATERIAL["AL_6061"] | MATERIAL["PLA"] | MATERIAL["NYLON"]


def profile(caps=CAPS, materials=MATS, region="u33d", capacity=100, seed=b"profile"):
    return (caps, materials, region.encode().ljust(8, b"\x00"), capacity, keccak(seed))


def _fmt(arg):
    if hasattr(arg, "address"):
        arg = arg.address
    if isinstance(arg, str) and arg.startswith("0x") and len(arg) == 42:
        return arg.lower()
    if isinstance(arg, (bytes, bytearray)):
        return str(bytes(arg))
    if isinstance(arg, bool):
        return str(arg)
    return str(int(arg)) if isinstance(arg, int) else str(arg)


def err(name, *args):
    """The revert message brownie 1.22 reports for custom error `name(args)`: addresses lowercase,
    bytes as Python bytes literals, integers in decimal."""
    return f"{name}: {', '.join(_fmt(a) for a in args)}"


def now() -> int:
    """The chain's current time: mines a block and reads its timestamp. (brownie's chain.time() and
    anvil's clock drift apart across fn_isolation reverts; the next transaction's time is this or later.)"""
    chain.mine()
    return chain[-1].timestamp


def cid(label) -> bytes:
    """A deterministic stand-in for a CID digest or document hash."""
    return keccak(str(label).encode())


SIGNER_KEY = "0x" + "42" * 32  # the EIP-712 signing inspector's key
# Default documents of the Orders helper (module constants: a call in a default argument reads as per-call).
ENVELOPE, QA_REPORT, EVIDENCE = cid("envelope"), cid("qa-report"), cid("evidence")

_ANVIL: list[Anvil] = []


def pytest_collection_finish(session):
    """An anvil of this run's own for brownie's `development` network (scripts/brownie_anvil.py says why);
    brownie connects after this hook."""
    from brownie._config import CONFIG  # here: brownie hashes the sources of module-level imports, not a .so

    if not session.items or CONFIG.argv.get("network") not in (None, "development"):
        return
    _ANVIL.append(development_anvil(Path(session.config._tmp_path_factory.mktemp("brownie-anvil"))))


def pytest_sessionfinish(session):
    while _ANVIL:
        _ANVIL.pop().stop()


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="session")
def state_machine():
    """brownie's `state_machine`, from the pure-Python source of brownie.test.stateful.

    eth-brownie 1.22.2 ships that module compiled with mypyc, and the compiled
    `_BrownieStateMachine.__init__` rejects the very subclass `state_machine()` generates
    ("TypeError: brownie.test.stateful._BrownieStateMachine object expected"). The wheel also ships the
    .py source of the same module; loading it gives the documented behaviour (rule_*, invariant_*,
    initialize, setup, chain snapshot per run)."""
    source = Path(brownie.test.__file__).with_name("stateful.py")
    spec = importlib.util.spec_from_file_location("brownie_stateful_source", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_machine


@pytest.fixture(scope="module")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="module")
def buyer(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def maker(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def maker2(accounts):
    return accounts[3]


@pytest.fixture(scope="module")
def inspector(accounts):
    return accounts[4]


@pytest.fixture(scope="module")
def certifier(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def arbitrator(accounts):
    return accounts[6]


@pytest.fixture(scope="module")
def auditor(accounts):
    return accounts[7]


@pytest.fixture(scope="module")
def stranger(accounts):
    return accounts[8]


@pytest.fixture(scope="module")
def governor(accounts):
    return accounts[9]


@pytest.fixture(scope="module")
def deployment(admin, governor, certifier, inspector, arbitrator):
    registry, book = deploy_contracts(admin, MIN_BOND, UNBONDING_DELAY, DISPUTE_TIMEOUT)
    grant_roles(
        registry, book, admin,
        governors=[governor], certifiers=[certifier], inspectors=[inspector], arbitrators=[arbitrator],
    )
    return registry, book


@pytest.fixture(scope="module")
def registry(deployment):
    return deployment[0]


@pytest.fixture
def signer(book, admin, accounts):
    """An inspector that only signs (never sends a transaction)."""
    account = accounts.add(SIGNER_KEY)
    book.grantRole(book.INSPECTOR_ROLE(), account, {"from": admin})
    return account


@pytest.fixture(scope="module")
def book(deployment):
    return deployment[1]


@pytest.fixture(scope="module")
def token(admin, book, governor):
    t = TestERC20.deploy({"from": admin})
    book.setTokenAllowed(t, True, {"from": governor})
    return t


@pytest.fixture(scope="module")
def fee_token(admin, book, governor):
    t = FeeOnTransferERC20.deploy({"from": admin})
    book.setTokenAllowed(t, True, {"from": governor})
    return t


@pytest.fixture(scope="module")
def register_partner(registry, certifier):
    """register_partner(account, vet=True, certs=((cert_id, expiry), ...), **profile_kwargs)."""

    def _register(account, vet=True, certs=(), key=X25519_KEY, **kwargs):
        registry.register(profile(**kwargs), key, {"from": account, "value": MIN_BOND})
        if vet:
            registry.vet(account, cid("vetting"), {"from": certifier})
        for cert_id, expiry in certs:
            registry.certify(account, cert_id, expiry, cid(f"cert-{cert_id}"), {"from": certifier})

    return _register


@pytest.fixture
def makers(register_partner, maker, maker2):
    """Both makers registered and vetted (per test, so a test can instead register them its own way)."""
    register_partner(maker)
    register_partner(maker2)
    return maker, maker2


class Orders:
    """Posts orders and drives them through the book, folding events into OrderTracker after each call
    and checking the folded order against the stored commitment (so events always suffice)."""

    def __init__(self, book, buyer):
        self.book = book
        self.buyer = buyer
        self.seed = 0

    def post(self, buyer=None, *, token=None, price=PRICE, claim_bond=CLAIM_BOND, claim_in=DAY,
             deliver_in=10 * DAY, inspection_window=3 * DAY, fee_bps=None, **spec_kwargs):
        buyer = buyer or self.buyer
        self.seed += 1
        docs = make_docs(self.seed)
        spec = make_spec(docs, **spec_kwargs)
        start = now()
        terms = make_terms(
            buyer, spec, token=token.address if token else ZERO_ADDRESS, price=price, claim_bond=claim_bond,
            claim_deadline=start + claim_in, delivery_deadline=start + deliver_in,
            inspection_window=inspection_window, fee_bps=self.book.feeBps() if fee_bps is None else fee_bps,
        )
        if token:
            token.mint(buyer, price, {"from": buyer})
            token.approve(self.book, price, {"from": buyer})
        tx = self.book.post(terms, spec, docs, {"from": buyer, "value": 0 if token else price})
        tracker = OrderTracker(tx.return_value)
        tracker.apply_tx(tx)
        tracker.tx = tx
        self.check(tracker)
        return tracker

    def check(self, tracker):
        assert self.book.orderHash(tracker.order_id) == "0x" + order_hash(tracker.order).hex()

    def call(self, tracker, fn, *args, sender, value=0):
        tx = getattr(self.book, fn)(tracker.order_id, tracker.order, *args, {"from": sender, "value": value})
        tracker.apply_tx(tx)
        self.check(tracker)
        return tx

    def claim(self, tracker, partner):
        return self.call(tracker, "claim", tracker.spec, sender=partner, value=tracker.terms.claim_bond)

    def award(self, tracker, envelope=ENVELOPE):
        return self.call(tracker, "award", envelope, sender=tracker.terms.buyer)

    def ship(self, tracker, report=QA_REPORT):
        return self.call(tracker, "ship", report, cid("qa-report-sha256"), sender=tracker.state.partner)

    def confirm(self, tracker):
        return self.call(tracker, "confirm", sender=tracker.terms.buyer)

    def dispute(self, tracker, evidence=EVIDENCE):
        return self.call(tracker, "dispute", evidence, sender=tracker.terms.buyer)

    def to_status(self, status, partner, **post_kwargs):
        """Posts an order and drives it along the happy path until it reaches `status`."""
        tracker = self.post(**post_kwargs)
        along = Status.SHIPPED if status == Status.DISPUTED else status
        steps = [
            (Status.CLAIMED, lambda: self.claim(tracker, partner)),
            (Status.AWARDED, lambda: self.award(tracker)),
            (Status.IN_PRODUCTION, lambda: self.call(tracker, "startProduction", sender=partner)),
            (Status.SHIPPED, lambda: self.ship(tracker)),
            (Status.COMPLETED, lambda: self.confirm(tracker)),
        ]
        for reached, step in steps:
            if tracker.status == along:
                break
            step()
            assert tracker.status == reached
        if status == Status.DISPUTED:
            self.dispute(tracker)
        assert tracker.status == status
        return tracker


@pytest.fixture(scope="module")
def orders(book, buyer):
    return Orders(book, buyer)
