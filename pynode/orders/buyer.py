"""What a buyer does: post an escrowed order for an encrypted design, award, confirm, dispute, recover.

Everything here first checks on-chain state (the order is rebuilt from its
events and verified against its commitment), then simulates, then sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, NamedTuple, Protocol, TypeVar

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from pynode.chain.client import Chain
from pynode.chain.contracts import PartnerInfo, region_bytes
from pynode.chain.erc20 import Erc20
from pynode.chain.orders import (
    CERT,
    MATERIAL,
    PROCESS,
    ZERO_ADDRESS,
    OrderTracker,
    docs_hash,
    pack_cert_ids,
    spec_hash,
)
from pynode.chain.tx import SentTx, TxRequest, TxReverted
from pynode.core.errors import InputError
from pynode.crypto.envelope import OrderContext
from pynode.crypto.hpke import HpkeKeyPair
from pynode.designs.geometry import GeometryError, measure_file
from pynode.documents.spec import build_spec_document
from pynode.ipfs.cid import cid_to_digest
from pynode.ipfs.vault import DesignVault, SealedDesign
from pynode.orders.design_keys import DesignKeyStore
from pynode.protocol.types import OrderDocs, OrderSpec, OrderTerms, Status

if TYPE_CHECKING:
    from web3 import Web3

    from pynode.chain.contracts import _BookReads


@dataclass(frozen=True, kw_only=True)
class DesignOrder:
    """What a v1 and a v2 order request share: the design and what its spec document says."""

    design: Path
    process: str
    material: str
    quantity: int
    token: str = ZERO_ADDRESS
    region: str = ""
    certifications: tuple[str, ...] = ()
    tolerances: dict | None = None
    notes: str = ""


@dataclass(frozen=True, kw_only=True)
class OrderRequest(DesignOrder):
    price: int
    claim_deadline: int
    delivery_deadline: int
    inspection_window: int
    claim_bond: int = 0
    reserved_for: str = ZERO_ADDRESS


@dataclass(frozen=True)
class PostedOrder:
    order_id: int
    sent: SentTx
    design: SealedDesign
    spec_cid: str
    key_backup_cid: str
    geometry: dict | None = None  # what the spec publishes of the design's geometry
    geometry_skipped: str | None = None  # why it publishes none


def _lookup(vocabulary: dict[str, int], name: str, what: str) -> int:
    try:
        return vocabulary[name.upper()]
    except KeyError:
        raise InputError(f"unknown {what} {name!r}; known: {', '.join(sorted(vocabulary))}") from None


def cert_id(name: str) -> int:
    """ISO_9001, AS9100, ISO_13485, or a custom numeric id."""
    if name.isdigit() and 0 < int(name) < 1 << 32:
        return int(name)
    return _lookup(CERT, name, "certification")


def _public_geometry(design: Path) -> tuple[dict | None, str | None]:
    """The design's metrics for the spec, or why there are none: a design of another format (STEP, a PDF
    drawing) or one the libraries cannot read is still posted, without geometry."""
    try:
        return measure_file(design), None
    except GeometryError as exc:
        return None, str(exc)


def spec_document(request: DesignOrder, sealed: SealedDesign, geometry: dict | None) -> bytes:
    """The order's public spec document: the request's production fields, the sealed design's facts and the
    geometry measured from its plaintext (None: the spec publishes none)."""
    return build_spec_document(
        process=request.process.upper(), material=request.material.upper(), quantity=request.quantity,
        tolerances=request.tolerances or {}, certifications=list(request.certifications), region=request.region,
        design_name=request.design.name, design_size=sealed.plaintext_size, design_sha256=sealed.plaintext_sha256,
        design_cid=sealed.cid, notes=request.notes, geometry=geometry)


class Requirements(NamedTuple):
    processes: int
    materials: int
    cert_ids: int  # packed, as the spec holds them


def requirements(request: DesignOrder) -> Requirements:
    """The process, material and certification bits a request names; InputError on an unknown name."""
    processes = _lookup(PROCESS, request.process, "process")
    materials = _lookup(MATERIAL, request.material, "material")
    certs = [cert_id(c) for c in request.certifications]
    if len(certs) > 4:
        raise InputError("an order can require at most four certifications")
    return Requirements(processes, materials, pack_cert_ids(*certs))


def region_field(region: str) -> bytes:
    """``OrderDocs.region``: the geohash prefix, or eight zero bytes for none."""
    return region_bytes(region) if region else b"\x00" * 8


class SealedRequest(NamedTuple):
    design: SealedDesign
    spec_cid: str
    key_backup_cid: str
    geometry: dict | None  # what the spec publishes of the design's geometry
    geometry_skipped: str | None  # why it publishes none


class BuyerConnection(Protocol):
    """What both buyers need of their connection (v1's Chain, v2's ChainV2)."""

    @property
    def chain_id(self) -> int: ...
    @property
    def book(self) -> _BookReads: ...
    @property
    def w3(self) -> Web3: ...
    def send(self, account: LocalAccount, tx: TxRequest) -> SentTx: ...


ChainT = TypeVar("ChainT", bound=BuyerConnection)


class BuyerBase(Generic[ChainT]):
    """What a v1 and a v2 buyer do alike: seal and pin a design with its key kept, approve a token."""

    def __init__(self, chain: ChainT, vault: DesignVault, keys: DesignKeyStore, account: LocalAccount) -> None:
        self.chain = chain
        self.vault = vault
        self.keys = keys
        self.account = account

    @property
    def _book(self) -> str:
        return self.chain.book.address

    def seal(self, request: DesignOrder, buyer_public_key: bytes,
             progress: Callable[[int], None] | None = None) -> SealedRequest:
        """Encrypts and pins the design, keeps its content key sealed to the buyer (local file and pinned backup),
        pins the spec document with the geometry measured from the plaintext."""
        geometry, skipped = _public_geometry(request.design)  # from the plaintext, before it is sealed
        sealed = self.vault.seal(request.design, progress)
        backup = self.keys.save(sealed.content_key, chain_id=self.chain.chain_id, book=self._book,
                                buyer=self.account.address, buyer_public_key=buyer_public_key,
                                design_cid=cid_to_digest(sealed.cid), design_sha256=sealed.plaintext_sha256)
        spec_cid = self.vault.ipfs.add_bytes(spec_document(request, sealed, geometry))
        return SealedRequest(sealed, spec_cid, backup, geometry, skipped)

    def approve(self, token: str, amount: int) -> None:
        """Lets the book pull ``amount`` of an ERC-20 ``token`` (nothing for ETH, or an allowance already enough)."""
        if to_checksum_address(token) == ZERO_ADDRESS:
            return
        erc20 = Erc20(self.chain.w3, token)
        if erc20.allowance(self.account.address, self._book) < amount:
            self.chain.send(self.account, erc20.approve(self._book, amount))


class Buyer(BuyerBase[Chain]):

    def post(self, request: OrderRequest, buyer_public_key: bytes,
             progress: Callable[[int], None] | None = None) -> PostedOrder:
        wanted = requirements(request)
        sealed, spec_cid, backup, geometry, skipped = self.seal(request, buyer_public_key, progress)
        docs = OrderDocs(design_cid=cid_to_digest(sealed.cid), design_sha256=sealed.plaintext_sha256,
                         spec_cid=cid_to_digest(spec_cid), region=region_field(request.region))
        spec = OrderSpec(reserved_for=request.reserved_for, processes=wanted.processes, materials=wanted.materials,
                         cert_ids=wanted.cert_ids, docs_hash=docs_hash(docs))
        terms = OrderTerms(buyer=self.account.address, token=request.token, price=request.price,
                           claim_bond=request.claim_bond, claim_deadline=request.claim_deadline,
                           delivery_deadline=request.delivery_deadline, inspection_window=request.inspection_window,
                           fee_bps=self.chain.book.fee_bps(), spec_hash=spec_hash(spec))
        self.approve(request.token, request.price)
        sent = self.chain.send(self.account, self.chain.book.post(terms, spec, docs))
        return PostedOrder(self._posted_id(sent), sent, sealed, spec_cid, backup, geometry, skipped)

    def _posted_id(self, sent: SentTx) -> int:
        topic = bytes.fromhex(self.chain.book.topic("OrderPosted")[2:])
        for log in sent.receipt["logs"]:
            if log["address"] == self._book and log["topics"] and bytes(log["topics"][0]) == topic:
                return int.from_bytes(bytes(log["topics"][1]), "big")
        raise InputError(f"transaction {sent.tx_hash} emitted no OrderPosted")

    def award(self, order_id: int, partner: str, keypair: HpkeKeyPair,
              tracker: OrderTracker | None = None, *, info: PartnerInfo | None = None,
              eligible: bool = False) -> tuple[SentTx, str]:
        """Seals the design key to the claimant's registered key, pins the envelope, awards.

        Only a claim with ``confirmations`` blocks on top is awarded (a shallower one may still vanish,
        and a published envelope cannot be taken back): ``tracker`` must come from
        :meth:`Chain.settled_order`, which is also what is read when it is not given. ``info`` (the
        claimant's registry entry) and ``eligible`` (:meth:`claimant_refusal` found nothing) are for a caller
        that checked both at this head already.
        """
        tracker = tracker or self.chain.settled_order(order_id)
        if tracker.status != Status.CLAIMED:
            raise InputError(f"order {order_id} is {tracker.status.name}, not CLAIMED")
        claimant = tracker.state.partner
        if to_checksum_address(partner) != to_checksum_address(claimant):
            raise InputError(f"order {order_id} was claimed by {claimant}, not {partner}")
        if not eligible and (refusal := self.claimant_refusal(tracker)) is not None:
            raise InputError(f"order {order_id}: claimant {claimant} no longer qualifies ({refusal}); the design key "
                             "stays sealed: let the claim lapse and refund after the claim deadline")
        design_sha256 = bytes(tracker.docs.design_sha256)
        content_key = self.keys.load(keypair, chain_id=self.chain.chain_id, book=self._book,
                                     buyer=self.account.address, design_cid=bytes(tracker.docs.design_cid),
                                     design_sha256=design_sha256)
        partner_key = self.chain.registry.encryption_key(claimant, self.chain.from_block, info)
        context = OrderContext(chain_id=self.chain.chain_id, contract=self._book, order_id=order_id,
                               recipient=claimant, design_sha256=design_sha256)
        envelope_cid = self.vault.publish_envelope(content_key, partner_key, context)
        sent = self.chain.send(self.account, self.chain.book.award(tracker, cid_to_digest(envelope_cid)))
        return sent, envelope_cid

    def claimant_refusal(self, tracker: OrderTracker, safe: int | None = None) -> str | None:
        """Why the claimant may not be awarded now, or None. The contract checks eligibility only at claim
        time; a partner suspended, unbonding or decertified since then must not receive the design key.
        Checked at the safe block (``safe``, if the caller just read the head) and at the head: a
        reinstatement or certification that is not yet ``confirmations`` deep does not count, a suspension
        already does."""
        spec = tracker.spec
        check = self.chain.registry.request("eligibility check", "checkEligible", tracker.state.partner,
                                            spec.processes, spec.materials, spec.cert_ids)
        sender = self.chain.sender(self.account)
        safe = max(self.chain.safe_block() if safe is None else safe, self.chain.from_block)
        for block in (safe, "latest") if self.chain.confirmations else ("latest",):
            try:
                sender.simulate(check, block)
            except TxReverted as exc:
                return exc.reason
        return None

    def act(self, function: str, order_id: int, tracker: OrderTracker | None = None) -> SentTx:
        """confirm, cancel, refund or finalize (the last two anyone may call), on the settled order."""
        tracker = tracker or self.chain.settled_order(order_id)
        return self.chain.send(self.account, self.chain.book.simple(function, tracker))

    def dispute(self, order_id: int, evidence: Path) -> tuple[SentTx, str]:
        evidence_cid = self.vault.ipfs.add_bytes(evidence.read_bytes())
        tracker = self.chain.settled_order(order_id)
        sent = self.chain.send(self.account, self.chain.book.dispute(tracker, cid_to_digest(evidence_cid)))
        return sent, evidence_cid
