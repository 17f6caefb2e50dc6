"""docs/vectors/v2.json and pynode/protocol/v2 against OrderBookV2 itself.

The pure values (type hashes, domain name and version) must equal the vectors; the values that depend on
where the book is deployed (domain separator, digests, genesis, commitments) must equal what
pynode/protocol/v2 computes for this book, which the unit tests pin to the vectors for the vectors' book.
An order posted and awarded here with a quote pynode signed ends in the commitment pynode predicts.
"""

import json
from pathlib import Path

from brownie import chain
from eth_account import Account
from eth_utils import to_checksum_address

from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import codec, eip712
from pynode.protocol.v2.types import (
    FIELDS,
    Attestation,
    Order,
    OrderDocs,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderTerms,
    Quote,
    RecordKind,
    Settlement,
    Transition,
)
from tests.contracts.conftest import CAPS, MATS, cid

V2 = json.loads((Path(__file__).resolve().parents[3] / "docs" / "vectors" / "v2.json").read_text())
TYPED = {"quote": Quote, "attestation": Attestation, "settlement": Settlement}
ZERO = "0x" + "00" * 20
PARTNER_KEY = "0x" + "71" * 32


def b(text):
    return bytes.fromhex(text.removeprefix("0x"))


def vector_value(name):
    message, cls = V2["eip712"][name]["message"], TYPED[name]
    return cls(*(b(message[n]) if kind.startswith("bytes") else message[n] for n, kind in FIELDS[cls]))


def domain_of(book):
    return Domain.from_eip5267(book.eip712Domain())


def test_type_hashes_and_domain_are_the_vectors(book):
    assert bytes(book.QUOTE_TYPEHASH()) == b(V2["eip712"]["quote"]["type_hash"])
    assert bytes(book.ATTESTATION_TYPEHASH()) == b(V2["eip712"]["attestation"]["type_hash"])
    assert bytes(book.SETTLEMENT_TYPEHASH()) == b(V2["eip712"]["settlement"]["type_hash"])
    domain = domain_of(book)
    assert (domain.name, domain.version) == (V2["eip712"]["domain"]["name"], V2["eip712"]["domain"]["version"])
    assert (domain.chain_id, domain.verifying_contract) == (chain.id, book.address)


def test_the_books_digests_are_pynodes(book):
    domain = domain_of(book)
    views = {"quote": book.quoteDigest, "attestation": book.attestationDigest,
             "settlement": book.settlementDigest}
    for name, view in views.items():
        value = vector_value(name)
        assert bytes(view(value)) == eip712.digest(domain, value), name


def test_genesis_and_an_unrecorded_head(book):
    for order_id in (0, 7, 2**256 - 1):
        assert bytes(book.genesis(order_id)) == codec.genesis(chain.id, book.address, order_id)
    assert bytes(book.recordHead(7)) == codec.genesis(chain.id, book.address, 7)


def _terms(book, buyer, arbitrator, spec):
    start = chain.time()
    return OrderTerms(buyer.address, ZERO, 10**17, 10**15, arbitrator.address, start + 86400, start + 30 * 86400,
                      3 * 86400, book.rejectWindow(), book.disputeTimeout(), book.feeBps(), codec.spec_hash(spec))


def _partner(accounts, admin, register_partner):
    maker = accounts.add(PARTNER_KEY)  # a key pynode can sign with (anvil's unlocked accounts expose none)
    admin.transfer(maker, 10**20)
    register_partner(maker)
    return maker


def _order(book, buyer, arbitrator):
    docs = OrderDocs(cid("design"), cid("design-sha"), cid("spec"), b"u33d".ljust(8, b"\x00"))
    spec = OrderSpec(CAPS, MATS, 0, (), codec.docs_hash(docs))
    return docs, spec, _terms(book, buyer, arbitrator, spec)


def _awarded(quote, head, tx):
    return OrderState(OrderStatus.AWARDED, quote.partner, quote.payee, quote.price, quote.bond, tx.timestamp,
                      tx.timestamp + quote.lead_time, head)


def test_a_posted_and_awarded_order_is_the_commitment_pynode_predicts(book, accounts, admin, buyer, arbitrator,
                                                                       register_partner):
    maker = _partner(accounts, admin, register_partner)
    docs, spec, terms = _order(book, buyer, arbitrator)
    tx = book.post(terms, spec, docs, {"from": buyer, "value": terms.price})
    order_id = tx.return_value
    genesis = codec.genesis(chain.id, book.address, order_id)
    terms_hash = codec.terms_hash(terms)
    head = codec.link(genesis, Transition.POSTED, buyer.address, terms_hash, tx.timestamp)
    posted = Order(terms, OrderState(OrderStatus.OPEN, ZERO, ZERO, 0, 0, 0, 0, head))
    assert bytes(book.orderHash(order_id)) == codec.order_hash(posted)
    event = tx.events["OrderPosted"]
    assert (event["orderId"], event["buyer"]) == (order_id, buyer.address)
    assert bytes(event["posted"]) == codec.posted_data(terms, spec, docs)
    assert codec.decode_posted(event["buyer"], event["posted"]) == (terms, spec, docs)

    domain = domain_of(book)
    quote = Quote(terms_hash, maker.address, to_checksum_address(maker.address), 9 * 10**16, 10**15, 5 * 86400,
                  chain.time() + 3600, 5)
    signature = eip712.sign(Account.from_key(PARTNER_KEY), domain, quote)
    envelope_cid = cid("envelope")
    tx = book.award(codec.pack_order(posted), spec, codec.pack_quote(quote), signature, envelope_cid, {"from": buyer})
    evidence = codec.award_evidence(terms_hash, eip712.struct_hash(domain, quote), envelope_cid)
    head = codec.link(head, Transition.AWARDED, buyer.address, evidence, tx.timestamp)
    awarded = Order(terms, _awarded(quote, head, tx))
    assert bytes(book.orderHash(order_id)) == codec.order_hash(awarded)
    event = tx.events["OrderAwarded"]  # a client folds the awarded state from the packed words
    assert (event["partner"], *codec.decode_awarded(event["payeePrice"], event["bondDueBy"])) == (
        awarded.state.partner, awarded.state.payee, awarded.state.price, awarded.state.bond, awarded.state.due_by)

    root = cid("serials")  # a record: the record chain moves from the genesis, the order's slot does not
    tx = book.recordSerials(codec.pack_order(awarded), root, {"from": maker})
    record = codec.link(codec.genesis(chain.id, book.address, order_id), RecordKind.SERIALS_RECORDED, maker.address,
                        root, tx.timestamp)
    assert bytes(book.recordHead(order_id)) == record == bytes(tx.events["Recorded"]["head"])
    assert bytes(book.orderHash(order_id)) == codec.order_hash(awarded)


def test_a_quote_first_order_starts_its_awarded_link_from_the_genesis(book, accounts, admin, buyer, arbitrator,
                                                                      register_partner):
    maker = _partner(accounts, admin, register_partner)
    docs, spec, terms = _order(book, buyer, arbitrator)
    domain = domain_of(book)
    quote = Quote(codec.terms_hash(terms), maker.address, maker.address, terms.price, 10**15, 86400,
                  chain.time() + 3600, 2**255 + 9)
    signature = eip712.sign(Account.from_key(PARTNER_KEY), domain, quote)
    envelope_cid = cid("envelope")
    tx = book.postAwarded(terms, spec, docs, codec.pack_quote(quote), signature, envelope_cid,
                          {"from": buyer, "value": terms.price})
    order_id = tx.return_value
    evidence = codec.award_evidence(quote.terms_hash, eip712.struct_hash(domain, quote), envelope_cid)
    head = codec.link(codec.genesis(chain.id, book.address, order_id), Transition.AWARDED, buyer.address, evidence,
                      tx.timestamp)
    assert bytes(book.orderHash(order_id)) == codec.order_hash(Order(terms, _awarded(quote, head, tx)))


def test_order_posted_packs_terms_spec_docs_and_every_inspector(book, accounts, buyer, arbitrator):
    """A calldata-less client rebuilds terms, spec and docs (their hashes included) from the event alone."""
    docs = OrderDocs(cid("design-i"), cid("design-sha-i"), cid("spec-i"), b"u33dq".ljust(8, b"\x00"))
    inspectors = tuple(a.address for a in accounts[3:6])
    spec = OrderSpec(CAPS, MATS, (7 << 32) | 3, inspectors, codec.docs_hash(docs))
    terms = _terms(book, buyer, arbitrator, spec)
    tx = book.post(terms, spec, docs, {"from": buyer, "value": terms.price})
    event = tx.events["OrderPosted"]
    assert bytes(event["posted"]) == codec.posted_data(terms, spec, docs)
    assert len(event["posted"]) == codec.POSTED_HEAD_SIZE + 20 * len(inspectors)
    assert codec.decode_posted(event["buyer"], event["posted"]) == (terms, spec, docs)
    assert codec.order_id(terms) == tx.return_value
