"""Helpers shared by pynode integration tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pynode.chain.orders import make_docs, make_spec, make_terms

PRICE = 10**17
BOND = 10**16


def chain_now(chain) -> int:
    return chain.w3.eth.get_block("latest")["timestamp"]


def post_order(chain, buyer, cert_ids=()):
    """Posts a CNC/AL_6061 order with placeholder documents; returns (order id, SentTx)."""
    docs = make_docs(7)
    spec = make_spec(docs, cert_ids=cert_ids)
    terms = make_terms(buyer.address, spec, price=PRICE, claim_bond=BOND, claim_deadline=chain_now(chain) + 86400,
                       delivery_deadline=chain_now(chain) + 7 * 86400)
    sent = chain.send(buyer, chain.book.post(terms, spec, docs))
    return chain.book.order_count(), sent
