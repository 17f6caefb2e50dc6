"""v2 on-chain encodings: the struct hashes the book commits to, and both per-order hash chains.

Every commitment is keccak256 of the struct's ``abi.encode`` (a struct with a dynamic member, OrderSpec,
encodes as one tuple argument, so it starts with its 0x20 offset word, as ``abi.encode(spec)`` does in
Solidity). Both chains start from :func:`genesis`, which binds the chain id, the book and the order id,
and each link is :func:`link`; records and transitions differ only in which enum ``kind`` counts
(contracts/v2/libraries/OrderHashes.sol computes the same values on chain).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from eth_abi import encode
from eth_utils import keccak

from pynode.protocol.v2.types import (
    FIELDS,
    ORDER_ABI,
    Order,
    OrderDocs,
    OrderSpec,
    OrderTerms,
    abi_tuple,
)

LINK_ABI = ("bytes32", "uint8", "address", "bytes32", "uint40")
GENESIS_ABI = ("uint256", "address", "uint256")


class Link(NamedTuple):
    """One link of a chain: the head after it is keccak256(abi.encode(prev, kind, actor, evidence, time))."""

    kind: int  # a Transition (transition chain) or a RecordKind (record chain)
    actor: str
    evidence: bytes
    time: int


def docs_hash(docs: OrderDocs) -> bytes:
    return keccak(encode([abi_tuple(FIELDS[OrderDocs])], [docs]))


def spec_hash(spec: OrderSpec) -> bytes:
    return keccak(encode([abi_tuple(FIELDS[OrderSpec])], [spec]))


def terms_hash(terms: OrderTerms) -> bytes:
    """What a quote names (``Quote.termsHash``)."""
    return keccak(encode([abi_tuple(FIELDS[OrderTerms])], [terms]))


def order_id(terms: OrderTerms) -> int:
    """The id the book gives the order with these terms: the top 192 bits of their hash (OrderHashes.orderIdOf),
    so terms post once and a quote, which names them, awards one order."""
    return int.from_bytes(terms_hash(terms), "big") >> 64


def order_hash(order: Order) -> bytes:
    """The order's slot: keccak256(abi.encode(Order))."""
    return keccak(encode([ORDER_ABI], [order]))


def genesis(chain_id: int, book: str, order_id: int) -> bytes:
    """The head both chains of an order start from, so no head can be replayed on another chain, book or order."""
    return keccak(encode(list(GENESIS_ABI), [chain_id, book, order_id]))


def link(prev: bytes, kind: int, actor: str, evidence: bytes, time: int) -> bytes:
    return keccak(encode(list(LINK_ABI), [prev, int(kind), actor, evidence, time]))


def chain_heads(start: bytes, links: Iterable[Link]) -> list[bytes]:
    """Every head after each link, from ``start`` (a genesis)."""
    heads, head = [], start
    for item in links:
        head = link(head, item.kind, item.actor, item.evidence, item.time)
        heads.append(head)
    return heads


def award_evidence(terms_hash: bytes, quote_struct_hash: bytes, key_envelope_cid: bytes) -> bytes:
    """An Awarded link's evidence: keccak256(abi.encode(termsHash, the quote's EIP-712 struct hash, envelope CID))."""
    return keccak(encode(["bytes32", "bytes32", "bytes32"], [terms_hash, quote_struct_hash, key_envelope_cid]))


def report_evidence(report_cid: bytes, report_hash: bytes, passed: bool) -> bytes:
    """A shipment's (passed: true) or attestation's evidence: keccak256(abi.encode(reportCid, reportHash, passed))."""
    return keccak(encode(["bytes32", "bytes32", "bool"], [report_cid, report_hash, passed]))


def split_evidence(to_buyer: int, to_payee: int, fee: int, bond_to_buyer: bool) -> bytes:
    """A resolution's (settled, ruled, defaulted, expired) evidence: keccak256(abi.encode(toBuyer, toPayee, fee,
    bondToBuyer))."""
    return keccak(encode(["uint256", "uint256", "uint256", "bool"], [to_buyer, to_payee, fee, bond_to_buyer]))
