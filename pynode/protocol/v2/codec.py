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

from pynode.core.abi_types import encode  # eth_abi's bytes; eth_abi itself only for what it must judge
from pynode.core.address import keccak, to_checksum_address
from pynode.protocol.v2.types import (
    FIELDS,
    ORDER_ABI,
    Order,
    OrderDocs,
    OrderSpec,
    OrderTerms,
    Quote,
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


# OrderPosted's packed data (IOrderBookV2.OrderPosted): the terms, spec and docs fields in order, each
# big-endian in this many bytes, minus what the event implies (the buyer is its topic, specHash and docsHash hash
# the spec and docs it holds); then 20 bytes per inspector.
_POSTED_TERMS = (("token", 20), ("price", 12), ("min_bond", 12), ("arbitrator", 20), ("award_deadline", 5),
                 ("delivery_deadline", 5), ("inspection_window", 4), ("reject_window", 4), ("dispute_timeout", 4),
                 ("fee_bps", 2))
_POSTED_SPEC = (("processes", 4), ("materials", 8), ("cert_ids", 16))
_POSTED_DOCS = (("design_cid", 32), ("design_sha256", 32), ("spec_cid", 32), ("region", 8))
_ADDRESS_FIELDS = ("token", "arbitrator")
POSTED_HEAD_SIZE = sum(size for _, size in _POSTED_TERMS + _POSTED_SPEC + _POSTED_DOCS)  # 220


def _pack(value: NamedTuple, layout: tuple[tuple[str, int], ...]) -> bytes:
    out = b""
    for name, size in layout:
        v = getattr(value, name)
        out += bytes(v).rjust(size, b"\0") if isinstance(v, bytes) else (
            bytes.fromhex(v[2:]) if isinstance(v, str) else v.to_bytes(size, "big"))
    return out


def _unpack(data: bytes, at: int, layout: tuple[tuple[str, int], ...]) -> tuple[dict[str, object], int]:
    values: dict[str, object] = {}
    for name, size in layout:
        chunk = data[at:at + size]
        values[name] = (to_checksum_address(chunk) if name in _ADDRESS_FIELDS
                        else chunk if name in ("design_cid", "design_sha256", "spec_cid", "region")
                        else int.from_bytes(chunk, "big"))
        at += size
    return values, at


def posted_data(terms: OrderTerms, spec: OrderSpec, docs: OrderDocs) -> bytes:
    """OrderPosted's ``posted`` bytes for an order posted with these terms, spec and docs."""
    return (_pack(terms, _POSTED_TERMS) + _pack(spec, _POSTED_SPEC) + _pack(docs, _POSTED_DOCS)
            + b"".join(bytes.fromhex(str(a)[2:]) for a in spec.inspectors))


def decode_posted(buyer: str, data: bytes) -> tuple[OrderTerms, OrderSpec, OrderDocs]:
    """The terms, spec and docs of an OrderPosted event (``buyer``: its topic), hashes rebuilt; ValueError if
    ``data`` is not such an encoding."""
    data = bytes(data)
    count, rest = divmod(len(data) - POSTED_HEAD_SIZE, 20)
    if count < 0 or rest:
        raise ValueError(f"OrderPosted data of {len(data)} bytes is not 220 + 20 per inspector")
    t, at = _unpack(data, 0, _POSTED_TERMS)
    s, at = _unpack(data, at, _POSTED_SPEC)
    d, at = _unpack(data, at, _POSTED_DOCS)
    docs = OrderDocs(**d)  # type: ignore[arg-type]
    inspectors = tuple(to_checksum_address(data[at + 20 * i:at + 20 * (i + 1)]) for i in range(count))
    spec = OrderSpec(**s, inspectors=inspectors, docs_hash=docs_hash(docs))  # type: ignore[arg-type]
    terms = OrderTerms(buyer=to_checksum_address(buyer), **t, spec_hash=spec_hash(spec))  # type: ignore[arg-type]
    return terms, spec, docs


def awarded_words(payee: str, price: int, bond: int, due_by: int) -> tuple[bytes, bytes]:
    """OrderAwarded's packed state words: ``payeePrice`` = payee << 96 | price, ``bondDueBy`` = bond << 40 | dueBy."""
    return (((int(payee, 16) << 96) | price).to_bytes(32, "big"), ((bond << 40) | due_by).to_bytes(32, "big"))


def decode_awarded(payee_price: bytes | str, bond_due_by: bytes | str) -> tuple[str, int, int, int]:
    """(payee, price, bond, dueBy) of OrderAwarded's packed words (hex strings or bytes); ValueError if a word
    has bits outside those fields."""
    a, b = (int.from_bytes(bytes.fromhex(w[2:]) if isinstance(w, str) else bytes(w), "big")
            for w in (payee_price, bond_due_by))
    if b >> 136:
        raise ValueError("OrderAwarded bondDueBy has bits above bond (96) and dueBy (40)")
    payee = to_checksum_address((a >> 96).to_bytes(20, "big"))
    return payee, a & (2**96 - 1), b >> 40, b & (2**40 - 1)


def order_hash(order: Order) -> bytes:
    """The order's slot: keccak256(abi.encode(Order))."""
    return keccak(encode([ORDER_ABI], [order]))


def _words(*fields: tuple[int, int]) -> bytes:
    """One word of (value, bit offset) fields: value << offset, OR-ed."""
    word = 0
    for value, at in fields:
        word |= value << at
    return word.to_bytes(32, "big")


def pack_order(order: Order) -> list[bytes]:
    """The 8 words every book call after post passes the order as (``bytes32[8]``; IOrderBookV2.award, "Packed
    order"; docs/protocol.md §7.1): the order's fields, each in its own bits of one word."""
    t, s = order
    return [
        _words((int(t.buyer, 16), 96), (t.price, 0)),
        _words((int(t.token, 16), 96), (t.min_bond, 0)),
        _words((int(t.arbitrator, 16), 96), (t.award_deadline, 56), (t.delivery_deadline, 16), (t.fee_bps, 0)),
        _words((int(s.partner, 16), 96), (t.inspection_window, 64), (t.reject_window, 32), (t.dispute_timeout, 0)),
        _words((int(s.payee, 16), 96), (s.price, 0)),
        _words((int(s.status), 176), (s.bond, 80), (s.stamp, 40), (s.due_by, 0)),
        bytes(t.spec_hash),
        bytes(s.head),
    ]


def pack_quote(quote: Quote) -> list[bytes]:
    """The 4 words ``award`` and ``postAwarded`` take a quote as (``bytes32[4]``, "Packed quote"): its termsHash is
    the awarded terms' and not carried."""
    return [
        _words((int(quote.partner, 16), 96), (quote.price, 0)),
        _words((int(quote.payee, 16), 96), (quote.bond, 0)),
        _words((quote.lead_time, 40), (quote.expiry, 0)),
        quote.nonce.to_bytes(32, "big"),
    ]


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
