"""brownie driver of the v2 order book, for its tests (tests/contracts/v2) and `make gas`: terms, spec and
docs, partners' signed quotes (eth_account), and a tracked Order whose every transition is replayed in Python
(pynode.protocol.v2.codec) and checked against the book's stored commitment, so every call also proves the
transition chain and the slot encoding."""

from typing import NamedTuple

from brownie import chain
from eth_account import Account

from pynode.chain.orders import MATERIAL, PROCESS, keccak
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import (
    Attestation,
    Order,
    OrderDocs,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderTerms,
    Quote,
    Settlement,
    Transition,
)


def cid(label) -> bytes:
    """A deterministic stand-in for a CID digest or document hash."""
    return keccak(str(label).encode())


DAY = 86400
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
PRICE = 10**17
BOND = 10**16
LEAD = 5 * DAY
ENVELOPE = cid("envelope")
REPORT = (cid("qa-report"), cid("qa-report-sha"))
REASON, EVIDENCE = cid("reason"), cid("evidence")
PARTNER_KEYS = ["0x" + f"{0x71 + i:02x}" * 32 for i in range(4)]
INSPECTOR_KEYS = ["0x" + f"{0x81 + i:02x}" * 32 for i in range(3)]


class Tracked:
    """One order as the book commits to it; `order` is what every call passes back."""

    def __init__(self, order_id, order, spec, docs):
        self.order_id, self.order, self.spec, self.docs = order_id, order, spec, docs

    @property
    def terms(self):
        return self.order.terms

    @property
    def state(self):
        return self.order.state

    @property
    def packed(self):
        """The order as the book takes it (bytes32[8], codec.pack_order)."""
        return codec.pack_order(self.order)


class Signer(NamedTuple):
    """A brownie account with its key, to sign EIP-712 messages."""

    account: object
    key: str

    @property
    def address(self):
        return self.account.address


def tx_time(tx):
    return chain[tx.block_number].timestamp


class V2:
    def __init__(self, book, registry, buyer):
        self.book, self.registry, self.buyer = book, registry, buyer
        self.seed = 0
        self.nonce = 1 << 16  # automatic quote nonces; callers choosing theirs stay below

    @property
    def domain(self):
        return Domain.from_eip5267(self.book.eip712Domain())

    # ---------------------------------------------------------------- documents

    def spec(self, inspectors=(), cert_ids=0, processes=PROCESS["CNC_MILLING"], materials=MATERIAL["AL_6061"]):
        self.seed += 1
        docs = OrderDocs(cid(f"design-{self.seed}"), cid(f"sha-{self.seed}"), cid(f"spec-{self.seed}"),
                         b"u33d\0\0\0\0")
        spec = OrderSpec(processes, materials, cert_ids, tuple(str(i) for i in inspectors), codec.docs_hash(docs))
        return spec, docs

    def terms(self, spec, arbitrator, *, buyer=None, token=ZERO, price=PRICE, min_bond=BOND, award_in=DAY,
              deliver_in=10 * DAY, inspection=3 * DAY, start=None, **override):
        start = start if start is not None else chain[-1].timestamp
        terms = OrderTerms(
            buyer=str(buyer or self.buyer), token=str(token), price=price, min_bond=min_bond,
            arbitrator=str(arbitrator), award_deadline=start + award_in, delivery_deadline=start + deliver_in,
            inspection_window=inspection, reject_window=self.book.rejectWindow(),
            dispute_timeout=self.book.disputeTimeout(), fee_bps=self.book.feeBps(), spec_hash=codec.spec_hash(spec),
        )
        return terms._replace(**override)

    # ------------------------------------------------------------------- quotes

    def quote(self, terms, partner, *, price=None, bond=BOND, lead=LEAD, expiry_in=DAY, nonce=None, payee=None,
              key=None, signer=None):
        """A quote for `terms` by `partner` (a Signer or an address with `key`), signed with real ECDSA."""
        if nonce is None:
            self.nonce += 1
            nonce = self.nonce
        q = Quote(codec.terms_hash(terms), str(partner.address), str(payee or partner.address),
                  terms.price if price is None else price, bond, lead, chain[-1].timestamp + expiry_in, nonce)
        return q, self.sign(signer or partner, q)

    def packed_quote(self, terms, partner, **kw):
        """`quote`'s (quote, signature) with the quote packed as award and postAwarded take it (codec.pack_quote)."""
        q, sig = self.quote(terms, partner, **kw)
        return codec.pack_quote(q), sig

    def sign(self, signer, value):
        return eip712.sign(Account.from_key(signer.key), self.domain, value)

    def attestation(self, t, inspector, passed=True, *, nonce=None, deadline_in=DAY, report=REPORT):
        if nonce is None:
            nonce = self.book.nonces(inspector.address, t.order_id) & (2**64 - 1)
        att = Attestation(t.order_id, str(inspector.address), report[0], report[1], passed, nonce,
                          chain[-1].timestamp + deadline_in)
        return att, self.sign(inspector, att)

    def settlement(self, t, signer, buyer_share, bond_to_buyer=False, deadline_in=DAY, order_id=None):
        s = Settlement(t.order_id if order_id is None else order_id, buyer_share, bond_to_buyer,
                       chain[-1].timestamp + deadline_in)
        return s, self.sign(signer, s)

    # -------------------------------------------------------------- transitions

    def check(self, t):
        assert self.book.orderHash(t.order_id) == "0x" + codec.order_hash(t.order).hex()

    def _advance(self, t, tx, kind, evidence, actor=None, **state):
        time = tx_time(tx)
        head = codec.link(t.state.head, kind, str(actor or tx.sender), evidence, time)
        t.order = Order(t.terms, t.state._replace(head=head, **state))
        self.check(t)
        return tx

    @staticmethod
    def _value(terms, value):
        """ETH sent with a post: the price for an ETH order unless `value` says otherwise."""
        if value is not None:
            return value
        return terms.price if terms.token == ZERO else 0

    def post(self, arbitrator, *, buyer=None, value=None, spec=None, docs=None, terms=None, **kw):
        buyer = buyer or self.buyer
        if spec is None:
            spec, docs = self.spec()
        terms = terms or self.terms(spec, arbitrator, buyer=buyer, **kw)
        tx = self.book.post(terms, spec, docs, {"from": buyer, "value": self._value(terms, value)})
        order_id = tx.return_value
        head = codec.link(codec.genesis(chain.id, self.book.address, order_id), Transition.POSTED, str(buyer),
                          codec.terms_hash(terms), tx_time(tx))
        t = Tracked(order_id, Order(terms, OrderState(OrderStatus.OPEN, ZERO, ZERO, 0, 0, 0, 0, head)), spec, docs)
        self.check(t)
        t.post_tx = tx
        return t

    def _awarded_state(self, tx, q):
        """The Awarded state as a client folds it from OrderAwarded (its packed words), checked against the quote."""
        time = tx_time(tx)
        event = tx.events["OrderAwarded"]
        payee, price, bond, due_by = codec.decode_awarded(event["payeePrice"], event["bondDueBy"])
        assert (event["partner"], payee, price, bond, due_by) == (q.partner, q.payee, q.price, q.bond,
                                                                  time + q.lead_time)
        return dict(status=OrderStatus.AWARDED, partner=event["partner"], payee=payee, price=price, bond=bond,
                    stamp=time, due_by=due_by)

    def award(self, t, partner, *, quote=None, envelope=ENVELOPE, sender=None, **qkw):
        q, sig = quote or self.quote(t.terms, partner, **qkw)
        tx = self.book.award(t.packed, t.spec, codec.pack_quote(q), sig, envelope, {"from": sender or t.terms.buyer})
        evidence = codec.award_evidence(codec.terms_hash(t.terms), eip712.struct_hash(self.domain, q), envelope)
        return self._advance(t, tx, Transition.AWARDED, evidence, **self._awarded_state(tx, q))

    def post_awarded(self, arbitrator, partner, *, buyer=None, envelope=ENVELOPE, quote_kw=None, value=None,
                     spec=None, docs=None, **kw):
        buyer = buyer or self.buyer
        if spec is None:
            spec, docs = self.spec()
        terms = self.terms(spec, arbitrator, buyer=buyer, **kw)
        q, sig = self.quote(terms, partner, **(quote_kw or {}))
        tx = self.book.postAwarded(terms, spec, docs, codec.pack_quote(q), sig, envelope,
                                   {"from": buyer, "value": self._value(terms, value)})
        order_id = tx.return_value
        state = self._awarded_state(tx, q)
        evidence = codec.award_evidence(codec.terms_hash(terms), eip712.struct_hash(self.domain, q), envelope)
        head = codec.link(codec.genesis(chain.id, self.book.address, order_id), Transition.AWARDED, str(buyer),
                          evidence, tx_time(tx))
        t = Tracked(order_id, Order(terms, OrderState(head=head, **state)), spec, docs)
        self.check(t)
        t.post_tx = tx
        return t

    def reject(self, t, reason=REASON, sender=None):
        tx = self.book.reject(t.packed, reason, {"from": sender or t.state.partner})
        return self._advance(t, tx, Transition.REJECTED, reason, status=OrderStatus.REJECTED)

    def ship(self, t, report=REPORT, sender=None):
        tx = self.book.ship(t.packed, *report, {"from": sender or t.state.partner})
        return self._advance(t, tx, Transition.SHIPPED, codec.report_evidence(*report, True),
                             status=OrderStatus.SHIPPED, stamp=tx_time(tx))

    def confirm(self, t, sender=None):
        tx = self.book.confirm(t.packed, {"from": sender or t.terms.buyer})
        return self._advance(t, tx, Transition.CONFIRMED, ZERO32, status=OrderStatus.COMPLETED)

    def collect_fees(self, ts, sender):
        """The fee recipient's collection of completed orders' fees: each with a fee moves Completed -> FeeCollected;
        one with none stays Completed."""
        tx = self.book.collectFees([t.packed for t in ts], {"from": sender})
        for t in ts:
            fee = t.state.price * t.terms.fee_bps // 10_000
            if fee:
                self._advance(t, tx, Transition.FEE_COLLECTED, fee.to_bytes(32, "big"),
                              status=OrderStatus.FEE_COLLECTED)
            else:
                self.check(t)
        return tx

    def finalize(self, t, sender):
        tx = self.book.finalize(t.packed, {"from": sender})
        return self._advance(t, tx, Transition.FINALIZED, ZERO32, status=OrderStatus.COMPLETED)

    def cancel(self, t, sender=None):
        tx = self.book.cancel(t.packed, {"from": sender or t.terms.buyer})
        return self._advance(t, tx, Transition.CANCELLED, ZERO32, status=OrderStatus.CANCELLED)

    def refund(self, t, sender):
        reason = 1 if t.state.status == OrderStatus.AWARDED else 0
        tx = self.book.refund(t.packed, {"from": sender})
        return self._advance(t, tx, Transition.REFUNDED, reason.to_bytes(32, "big"), status=OrderStatus.REFUNDED)

    def dispute(self, t, value, evidence=EVIDENCE, sender=None):
        tx = self.book.dispute(t.packed, evidence, {"from": sender or t.terms.buyer, "value": value})
        return self._advance(t, tx, Transition.DISPUTED, evidence, status=OrderStatus.DISPUTED, stamp=tx_time(tx))

    def pay_fee(self, t, value, sender=None):
        return self.book.payArbitrationFee(t.packed, {"from": sender or t.state.partner, "value": value})

    def split(self, t, buyer_share):
        rest = t.state.price - buyer_share
        fee = rest * t.terms.fee_bps // 10_000
        return buyer_share, rest - fee, fee

    def _resolved(self, t, tx, kind, buyer_share, bond_to_buyer):
        return self._advance(t, tx, kind, codec.split_evidence(*self.split(t, buyer_share), bond_to_buyer),
                             status=OrderStatus.RESOLVED)

    def claim_default(self, t, sender):
        tx = self.book.claimDefault(t.packed, {"from": sender})
        return self._resolved(t, tx, Transition.DISPUTE_DEFAULTED, t.state.price, True)

    def execute_ruling(self, t, sender, buyer_share, bond_to_buyer):
        tx = self.book.executeRuling(t.packed, {"from": sender})
        return self._resolved(t, tx, Transition.RULED, buyer_share, bond_to_buyer)

    def settle_expired(self, t, sender):
        tx = self.book.settleExpired(t.packed, {"from": sender})
        return self._resolved(t, tx, Transition.DISPUTE_EXPIRED, t.state.price // 2, False)

    def settle(self, t, settlement, sig, sender):
        tx = self.book.settle(t.packed, settlement, sig, {"from": sender})
        return self._resolved(t, tx, Transition.SETTLED, settlement.buyer_share, settlement.bond_to_buyer)
