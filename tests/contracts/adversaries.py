"""Helpers shared by the adversarial tests (test_adversarial_*.py): contract accounts that act as buyers or
partners through their `execute(target, data)` (ReentrantAttacker, EthRejecter), encoded custom errors as
they appear in revert data, and the ledger check that the book holds exactly what it owes."""

from eth_abi import encode

from conftest import CLAIM_BOND, DAY, MIN_BOND, PRICE, X25519_KEY, cid, now, profile
from pynode.chain.orders import ZERO_ADDRESS, OrderTracker, keccak, make_docs, make_spec, make_terms

REENTRANT_CALL = "ReentrancyGuardReentrantCall()"


def error_data(signature: str, *args) -> str:
    """Revert data of custom error `signature` (e.g. "NotRegistered(address)") with `args`, as 0x-hex."""
    types = [t for t in signature[signature.index("(") + 1:-1].split(",") if t]
    values = [str(a.address) if hasattr(a, "address") else a for a in args]
    return "0x" + (keccak(signature.encode())[:4] + encode(types, values)).hex()


def reentries(tx) -> list[tuple[bool, str]]:
    """(ok, return or revert data) of every re-entrant call a ReentrantAttacker made in `tx`."""
    if "Reentered" not in tx.events:
        return []
    # brownie decodes an empty `bytes` event field as one zero byte; ABI data is never a single byte.
    return [(ev["ok"], "0x" + bytes(ev["result"]).hex().removeprefix("00")) for ev in tx.events["Reentered"]]


class ContractAccount:
    """A contract account (anything with `execute(target, data)`) acting on the book and registry; the
    deployer pays msg.value. Book calls on an order are folded into its tracker and checked against storage."""

    def __init__(self, contract, orders):
        self.contract = contract
        self.orders = orders
        self.book = orders.book

    @property
    def address(self):
        return self.contract.address

    def send(self, target, fn, *args, value=0):
        return self.contract.execute(target, getattr(target, fn).encode_input(*args), {"value": value})

    def act(self, tracker, fn, *args, value=0):
        tx = self.send(self.book, fn, tracker.order_id, tracker.order, *args, value=value)
        tracker.apply_tx(tx)
        self.orders.check(tracker)
        return tx

    def claim(self, tracker):
        return self.act(tracker, "claim", tracker.spec, value=tracker.terms.claim_bond)

    def ship(self, tracker):
        return self.act(tracker, "ship", cid("qa-report"), cid("qa-report-sha256"))

    def register(self, registry, certifier, vet=True):
        self.send(registry, "register", profile(), X25519_KEY, value=MIN_BOND)
        if vet:
            registry.vet(self.address, cid("vetting"), {"from": certifier})

    def post(self, *, token=None, **kwargs):
        """Posts an order with this account as buyer (a token order is minted to it and approved first)."""
        terms, spec, docs = order_inputs(self.address, self.orders, token=token, **kwargs)
        price = terms.price
        if token:
            token.mint(self.address, price, {"from": self.contract.tx.sender})
            self.send(token, "approve", self.book, price)
        tx = self.send(self.book, "post", terms, spec, docs, value=0 if token else price)
        tracker = OrderTracker(tx.events["OrderPosted"]["orderId"])
        tracker.apply_tx(tx)
        self.orders.check(tracker)
        return tracker


def order_inputs(buyer, orders, *, token=None, price=PRICE, claim_bond=CLAIM_BOND, claim_in=DAY, deliver_in=10 * DAY,
                 **spec_kwargs):
    """(terms, spec, docs) of a fresh order by `buyer` at the book's current fee, as `Orders.post` builds them."""
    orders.seed += 1
    docs = make_docs(orders.seed)
    spec = make_spec(docs, **spec_kwargs)
    start = now()
    terms = make_terms(
        str(buyer), spec, token=token.address if token else ZERO_ADDRESS, price=price, claim_bond=claim_bond,
        claim_deadline=start + claim_in, delivery_deadline=start + deliver_in, fee_bps=orders.book.feeBps(),
    )
    return terms, spec, docs


def allow_listed(contract_type, admin, book, governor):
    """Deploys a test token and has governance allow-list it in the book."""
    token = contract_type.deploy({"from": admin})
    book.setTokenAllowed(token, True, {"from": governor})
    return token


def assert_book_holds(book, token, owed):
    """The book's balance of `token` (None = ETH) is exactly `owed`: escrows, bonds and credits add up."""
    held = book.balance() if token is None else token.balanceOf(book)
    assert held == owed, f"book holds {held}, owes {owed}"
