"""What a buyer does on protocol v2: post escrow-first or quote-first, award a signed quote, confirm a checked
shipment, dispute with the arbitrator's fee, cancel, refund.

Each action checks what it can before anything is spent: a quote's signature, domain, terms hash, nonce and
the rules the book and the registry's bond lock apply (orders/award_policy.rejection) before the design key
is sealed to the partner; a shipment's report (fetched, hashed, read, matched to the order) before the
escrow is released. Every send is simulated first (TxSender.send). Bad input is an InputError, one line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from eth_account.signers.local import LocalAccount

from pynode.chain.tx import SentTx, TxRequest, TxReverted, TxSender
from pynode.chain.v2.arbitrator import PanelArbitrator
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.orders import OrderTracker
from pynode.chain.v2.registry import PartnerInfoV2, PartnerRegistryV2
from pynode.core.address import to_checksum_address
from pynode.core.errors import InputError
from pynode.crypto.envelope import OrderContext
from pynode.crypto.hpke import HpkeKeyPair
from pynode.documents.quality_report import MAX_REPORT_BYTES, QualityReport, parse_report
from pynode.documents.quote import SignedQuote
from pynode.documents.report_rules import report_mismatch
from pynode.ipfs.cid import cid_to_digest, report_cid
from pynode.ipfs.client import DocumentTooLarge, IpfsRequestRejected
from pynode.ipfs.vault import KeyEnvelope, SealedDesign
from pynode.orders.award_policy import AwardSettings, PartnerFacts, rejection
from pynode.orders.buyer import BuyerBase, BuyerConnection, DesignOrder, region_field, requirements
from pynode.orders.quote_policy import cert_ids
from pynode.orders.v2.snapshot import Snapshot, read_snapshot
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderDocs, OrderSpec, OrderStatus, OrderTerms, Quote

if TYPE_CHECKING:

    from pynode.chain.deployment import Deployment
    from pynode.chain.jsonrpc import RpcClient
    from pynode.protocol.eip712 import Domain

# a report the network cannot find now (its partner's Kubo down) is unavailable, retried later, after this long:
# Kubo would look for two minutes, and a loop that confirms many orders would wait that long for each
REPORT_FETCH_S = 5.0
_ANY_PARTNER = AwardSettings()  # the book's and the registry's rules only: no lists, limits or floors


class QuoteRefused(InputError):
    """A quote the book would not accept now (or not from this partner): nothing was sealed or sent."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # an award_policy.RejectReason value, "bad signature" or "nonce used"


class WrongStatus(InputError):
    """The order is not in the status the action needs."""


class ReportRefused(InputError):
    """The shipped quality report does not check out (missing hash match, unreadable, for another order or
    partner, or failed): the escrow stays; dispute instead."""


class ChainV2(BuyerConnection, Protocol):
    """The v2 connection the buyer works through (pynode.chain.v2.client.ChainV2 is one)."""

    deployment: Deployment
    rpc: RpcClient
    book: OrderBookV2
    registry: PartnerRegistryV2
    confirmations: int

    @property
    def from_block(self) -> int: ...
    def arbitrator(self, address: str) -> PanelArbitrator: ...
    def now(self) -> int: ...
    def head(self) -> int: ...
    def head_block(self) -> dict[str, Any]: ...
    def sender(self, account: LocalAccount) -> TxSender: ...


@dataclass(frozen=True, kw_only=True)
class OrderRequestV2(DesignOrder):
    price: int  # escrowed: the cap a quote may ask
    award_deadline: int
    delivery_deadline: int
    inspection_window: int
    arbitrator: str = ""  # "": the deployment's PanelArbitrator
    min_bond: int = 0
    inspectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreparedOrder:
    """An order sealed, its documents pinned, its terms fixed: what a quote-first partner signs over."""

    terms: OrderTerms
    spec: OrderSpec
    docs: OrderDocs
    design: SealedDesign
    spec_cid: str
    key_backup_cid: str
    geometry: dict | None  # what the spec publishes of the design's geometry
    geometry_skipped: str | None  # why it publishes none

    @property
    def order_id(self) -> int:
        return codec.order_id(self.terms)


@dataclass(frozen=True)
class PostedOrderV2:
    order: PreparedOrder
    sent: SentTx
    envelope_cid: str | None = None  # quote-first: the awarded partner's key envelope

    @property
    def order_id(self) -> int:
        return self.order.order_id


class BuyerV2(BuyerBase[ChainV2]):
    @cached_property
    def domain(self) -> Domain:
        """The book's EIP-712 domain, which quotes are signed under."""
        return self.chain.book.domain()

    # ------------------------------------------------------------------------------ posting

    def prepare(self, request: OrderRequestV2, buyer_public_key: bytes,
                progress: Callable[[int], None] | None = None, snapshot: Snapshot | None = None) -> PreparedOrder:
        """Seals and pins the design, keeps its key sealed to the buyer, pins the spec (with the design's public
        geometry), fixes the terms. Nothing is escrowed yet; the names are checked before anything is pinned.
        ``snapshot``: the book's parameters as a record has them (None: read from the book; :meth:`post` reads
        them again if the book refuses them)."""
        wanted = requirements(request)
        arbitrator = self._arbitrator(request.arbitrator)
        inspectors = tuple(_address(i, "inspector") for i in request.inspectors)
        sealed, spec_cid, backup, geometry, skipped = self.seal(request, buyer_public_key, progress)
        docs = OrderDocs(cid_to_digest(sealed.cid), sealed.plaintext_sha256, cid_to_digest(spec_cid),
                         region_field(request.region))
        spec = OrderSpec(wanted.processes, wanted.materials, wanted.cert_ids, inspectors, codec.docs_hash(docs))
        terms = OrderTerms(self.account.address, to_checksum_address(request.token), request.price, request.min_bond,
                           arbitrator, request.award_deadline, request.delivery_deadline, request.inspection_window,
                           *(snapshot or read_snapshot(self.chain.book)), codec.spec_hash(spec))
        return PreparedOrder(terms, spec, docs, sealed, spec_cid, backup, geometry, skipped)

    def _arbitrator(self, given: str) -> str:
        if given:
            return _address(given, "arbitrator")
        deployed = self.chain.deployment.contracts.get("PanelArbitrator")
        if deployed is None:
            raise InputError("no arbitrator given, and the v2 deployment has no PanelArbitrator")
        return to_checksum_address(deployed.address)

    def post(self, order: PreparedOrder) -> PostedOrderV2:
        """Escrow-first: escrows the price; quotes then arrive on the channel (announce it there). Terms whose
        snapshot the book refuses (a record's, older than a governance change) are refused in the simulation,
        before anything is signed: the parameters are read and the order, a new id, goes again."""
        self.approve(order.terms.token, order.terms.price)
        try:
            sent = self.chain.send(self.account, self.chain.book.post(order.terms, order.spec, order.docs))
        except TxReverted as exc:
            if exc.error != "SnapshotMismatch":
                raise
            order = replace(order, terms=order.terms._replace(**read_snapshot(self.chain.book)._asdict()))
            sent = self.chain.send(self.account, self.chain.book.post(order.terms, order.spec, order.docs))
        self.chain.book.note_posted(order.order_id, sent.block_number)
        return PostedOrderV2(order, sent)

    def post_awarded(self, order: PreparedOrder, signed: SignedQuote, keypair: HpkeKeyPair) -> PostedOrderV2:
        """Quote-first: posts the order already awarded to ``signed`` (a quote over ``order.terms``), its key
        envelope sealed to the partner's registered key and pinned first."""
        quote = self.check_quote(order.terms, order.spec, signed)
        envelope = self._envelope(order.order_id, order.docs, quote.partner, keypair)
        self.vault.publish(envelope)
        self.approve(order.terms.token, order.terms.price)
        sent = self.chain.send(self.account, self.chain.book.post_awarded(
            order.terms, order.spec, order.docs, quote, signed.signature, cid_to_digest(envelope.cid)))
        self.chain.book.note_posted(order.order_id, sent.block_number)
        return PostedOrderV2(order, sent, envelope.cid)

    # ------------------------------------------------------------------------------- awarding

    def partner_facts(self, partner: str, spec: OrderSpec, block: int | str = "latest",
                      info: PartnerInfoV2 | None = None) -> PartnerFacts:
        """The partner's registry entry as the award policy reads it (the spec's certifications' expiries;
        ``info``: the entry, if the caller just read it)."""
        info = info or self.chain.registry.partner_info(partner, block)
        expiries = {cert: self.chain.registry.certification_expiry(partner, cert, block)
                    for cert in cert_ids(spec.cert_ids)}
        return PartnerFacts(info.flags, info.capabilities, info.materials, expiries, info.free_bond, info.completed,
                            info.failed_qa)

    def check_quote(self, terms: OrderTerms, spec: OrderSpec, signed: SignedQuote,
                    facts: PartnerFacts | None = None, now: int | None = None) -> Quote:
        """The quote, if the book would accept it for these terms at ``now`` (None: the head's time): this
        deployment's domain, signed by its partner, its nonce not cancelled, and every rule of the book and the
        registry's bond lock (award_policy.rejection). Else InputError naming the first failure; nothing is sealed
        or sent."""
        quote = signed.quote
        signer = signed.recover_signer(self.domain)
        if signer != quote.partner:
            raise QuoteRefused("bad signature", f"quote is signed by {signer}, not its partner {quote.partner}")
        if self.chain.book.quote_nonce_used(quote.partner, quote.nonce):
            raise QuoteRefused("nonce used", f"quote nonce {quote.nonce} of {quote.partner} is cancelled or used")
        facts = facts or self.partner_facts(quote.partner, spec)
        why = rejection(_ANY_PARTNER, terms, spec, quote, facts, self.chain.now() if now is None else now)
        if why is not None:
            raise QuoteRefused(why[0].value, f"quote of {quote.partner} refused: {why[0].value} ({why[1]})")
        return quote

    def award(self, tracker: OrderTracker, signed: SignedQuote, keypair: HpkeKeyPair,
              facts: PartnerFacts | None = None, now: int | None = None) -> tuple[SentTx, str]:
        """Awards an open order to ``signed`` (award_request), its key envelope published, and waits for the
        receipt."""
        request, envelope = self.award_request(tracker, signed, keypair, facts, now)
        self.vault.publish(envelope)
        return self.chain.send(self.account, request), envelope.cid

    def award_request(self, tracker: OrderTracker, signed: SignedQuote, keypair: HpkeKeyPair,
                      facts: PartnerFacts | None = None, now: int | None = None,
                      info: PartnerInfoV2 | None = None) -> tuple[TxRequest, KeyEnvelope]:
        """The award of an open order to ``signed``, not sent: checked (check_quote), the design key sealed to
        the partner's registry HPKE key, the award carrying the envelope's CID; the envelope is not stored yet
        (``vault.publish`` it before the award is broadcast, after its simulation: an award the book refuses
        gives the key to no one). ``tracker``: the settled order; ``info``: the partner's registry entry, if
        the caller just read it."""
        if tracker.status != OrderStatus.OPEN:
            raise WrongStatus(f"order {tracker.order_id} is {tracker.status.name}, not OPEN")
        quote = self.check_quote(tracker.terms, tracker.spec, signed, facts, now)
        envelope = self._envelope(tracker.order_id, tracker.docs, quote.partner, keypair, info)
        return self.chain.book.award(tracker, quote, signed.signature, cid_to_digest(envelope.cid)), envelope

    def encryption_key(self, partner: str, info: PartnerInfoV2 | None = None) -> bytes:
        """The partner's registered HPKE key; the key event is looked up once per key hash the registry names
        (a partner that rotates its key names a new hash, so a stale key is never used)."""
        info = info or self.chain.registry.partner_info(partner)
        key = (to_checksum_address(partner), bytes(info.encryption_key_hash))
        if key not in self._partner_keys:
            self._partner_keys[key] = self.chain.registry.encryption_key(partner, self.chain.from_block, info)
        return self._partner_keys[key]

    @cached_property
    def _partner_keys(self) -> dict[tuple[str, bytes], bytes]:
        return {}

    def _envelope(self, order_id: int, docs: OrderDocs, partner: str, keypair: HpkeKeyPair,
                  info: PartnerInfoV2 | None = None) -> KeyEnvelope:
        design_sha256 = bytes(docs.design_sha256)
        content_key = self.keys.load(keypair, chain_id=self.chain.chain_id, book=self._book,
                                     buyer=self.account.address, design_cid=bytes(docs.design_cid),
                                     design_sha256=design_sha256)
        partner_key = self.encryption_key(partner, info)
        context = OrderContext(chain_id=self.chain.chain_id, contract=self._book, order_id=order_id,
                               recipient=partner, design_sha256=design_sha256)
        return self.vault.seal_envelope(content_key, partner_key, context)

    # ----------------------------------------------------------------------- after shipping

    def shipped_report(self, tracker: OrderTracker) -> QualityReport:
        """The shipment's quality report, fetched by its CID, hashed, read strictly and matched to the order
        (chain, book, order, partner, passed); InputError on any difference."""
        if tracker.status != OrderStatus.SHIPPED or tracker.report is None:
            raise WrongStatus(f"order {tracker.order_id} is {tracker.status.name}, not SHIPPED")
        digest, report_hash = tracker.report
        try:
            data = self.vault.ipfs.cat_bytes(report_cid(digest, report_hash), max_size=MAX_REPORT_BYTES,
                                             timeout=REPORT_FETCH_S)
        except (DocumentTooLarge, IpfsRequestRejected) as exc:  # unavailable stays transient: retried
            raise ReportRefused(f"order {tracker.order_id}: the shipped report: {exc}") from None
        if hashlib.sha256(data).digest() != report_hash:
            raise ReportRefused(f"order {tracker.order_id}: the shipped report does not hash to its reportHash")
        try:
            report = parse_report(data)
        except InputError as exc:
            raise ReportRefused(f"order {tracker.order_id}: the shipped report: {exc}") from None
        mismatch = report_mismatch(report.dump(), order_id=tracker.order_id, chain_id=self.chain.chain_id,
                                   contract=self._book, partner=tracker.partner, passed=True)
        if mismatch:
            key, got, want = mismatch
            raise ReportRefused(f"order {tracker.order_id}: the shipped report says {key} {got}, expected {want}")
        return report

    def confirm(self, tracker: OrderTracker) -> SentTx:
        """Releases the escrow to the payee once the shipped report checks out (confirm_request)."""
        return self.chain.send(self.account, self.confirm_request(tracker))

    def confirm_request(self, tracker: OrderTracker) -> TxRequest:
        """The confirmation, not sent, once the shipped report checks out (shipped_report)."""
        self.shipped_report(tracker)
        return self.chain.book.confirm(tracker)

    def dispute(self, tracker: OrderTracker, evidence: Path) -> tuple[SentTx, str, int]:
        """Disputes a shipment with the order's arbitrator's fee as deposit; returns (tx, evidence CID, fee)."""
        if tracker.status != OrderStatus.SHIPPED:
            raise WrongStatus(f"order {tracker.order_id} is {tracker.status.name}, not SHIPPED")
        try:
            data = evidence.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read evidence {evidence}: {exc.strerror}") from None
        fee = self.chain.arbitrator(tracker.terms.arbitrator).arbitration_cost()
        evidence_cid = self.vault.ipfs.add_bytes(data)
        sent = self.chain.send(self.account, self.chain.book.dispute(tracker, cid_to_digest(evidence_cid), fee))
        return sent, evidence_cid, fee

    def cancel(self, tracker: OrderTracker) -> SentTx:
        return self.chain.send(self.account, self.cancel_request(tracker))

    def cancel_request(self, tracker: OrderTracker) -> TxRequest:
        """An open order's escrow back to the buyer (not sent)."""
        if tracker.status != OrderStatus.OPEN:
            raise WrongStatus(f"order {tracker.order_id} is {tracker.status.name}: only an OPEN order is cancelled")
        return self.chain.book.cancel(tracker)

    def refund(self, tracker: OrderTracker) -> SentTx:
        return self.chain.send(self.account, self.refund_request(tracker))

    def refund_request(self, tracker: OrderTracker) -> TxRequest:
        """The escrow back after the award deadline passed unawarded, or the due date unshipped (the bond too;
        not sent)."""
        if tracker.status not in (OrderStatus.OPEN, OrderStatus.AWARDED):
            raise WrongStatus(f"order {tracker.order_id} is {tracker.status.name}: nothing to refund")
        return self.chain.book.refund(tracker)


def _address(value: str, what: str) -> str:
    try:
        return to_checksum_address(value)
    except ValueError:
        raise InputError(f"{what} {value!r} is not a 0x address") from None
