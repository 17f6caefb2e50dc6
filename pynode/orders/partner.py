"""What a manufacturer (partner) does with an order: decide, claim, fetch the design, produce, attest, ship, get paid.

Shared by the CLI (`fabmesh order claim`, `fetch-design`, `attest`, `withdraw`) and the node daemon.
Every write first re-reads the order from its events (verified against the on-chain
commitment), so calling an action twice never sends it twice: the second call sees the
new status and refuses with an ``InputError``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from pynode.chain.client import Chain
from pynode.chain.contracts import PartnerInfo, region_text
from pynode.chain.orders import MATERIAL, PROCESS, ZERO_ADDRESS, OrderTracker
from pynode.chain.tx import TxRequest
from pynode.core.errors import FatalError, InputError
from pynode.crypto.envelope import MAX_ENVELOPE_SIZE, OrderContext, open_envelope, parse_envelope
from pynode.crypto.hpke import HpkeKeyPair
from pynode.documents.spec import ProductionSpec
from pynode.ipfs.cid import cid_to_digest, design_cid, digest_to_cid
from pynode.ipfs.vault import DesignVault
from pynode.orders.spec_document import fetch_spec_document
from pynode.orders.vocabulary import vocabulary_bits
from pynode.protocol.types import RecordKind, Status

#: revert reasons that mean "someone else got there first": a lost race, not an error
RACE_REASONS = ("OrderNotOpen", "OrderMismatch", "NotReservedPartner")
#: revert reasons that mean this partner cannot claim at all any more: stop the node
FATAL_REASONS = ("PartnerIsSuspended", "NotRegistered", "PartnerIsUnbonding", "NotVetted")


@dataclass(frozen=True)
class JobPolicy:
    """Which open orders a partner wants (a subset of what the registry lets it claim)."""

    processes: int = 0
    materials: int = 0
    region_prefix: str = ""
    min_price: int = 0
    max_claim_bond: int | None = None
    tokens: frozenset[str] = frozenset()  # checksummed; empty: any

    @classmethod
    def from_config(cls, policy) -> JobPolicy:
        return cls(processes=vocabulary_bits(policy.processes, PROCESS, "process"),
                   materials=vocabulary_bits(policy.materials, MATERIAL, "material"),
                   region_prefix=policy.region_prefix, min_price=policy.min_price_wei,
                   max_claim_bond=policy.max_claim_bond_wei,
                   tokens=frozenset(to_checksum_address(t) for t in policy.tokens))


def policy_reason(policy: JobPolicy, tracker: OrderTracker, me: str, now: int) -> str | None:
    """Why this node does not want the order (None: it does). Pure: no I/O."""
    buyer, token, price, bond, claim_deadline = tracker.terms[:5]
    reserved, processes, materials = tracker.spec[:3]
    if tracker.status != Status.OPEN:
        return f"order is {tracker.status.name}"
    if to_checksum_address(buyer) == me:
        return "own order"
    if reserved != ZERO_ADDRESS and to_checksum_address(reserved) != me:
        return f"reserved for {reserved}"
    if processes & ~policy.processes:
        return f"processes 0x{processes:x} not in policy 0x{policy.processes:x}"
    if materials & ~policy.materials:
        return f"materials 0x{materials:x} not in policy 0x{policy.materials:x}"
    region = region_text(tracker.docs.region)
    if policy.region_prefix and not region.startswith(policy.region_prefix):
        return f"region {region!r} outside {policy.region_prefix!r}"
    if price < policy.min_price:
        return f"price {price} below minimum {policy.min_price}"
    if policy.max_claim_bond is not None and bond > policy.max_claim_bond:
        return f"claim bond {bond} above maximum {policy.max_claim_bond}"
    if policy.tokens and to_checksum_address(token) not in policy.tokens:
        return f"token {token} not accepted"
    if now > claim_deadline:
        return "claim deadline passed"
    return None


def is_race_lost(reason: str) -> bool:
    return any(reason.startswith(name) or f" {name}(" in reason or reason == name for name in RACE_REASONS)


def is_fatal_revert(reason: str) -> bool:
    return any(reason.startswith(name) for name in FATAL_REASONS)


def _safe_name(name: str | None) -> str:
    base = Path(name or "").name
    return base if base and re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,120}$", base) else "design.bin"


class Partner:
    """The partner-side actions on one chain, as ``account`` with its HPKE key pairs (by key id hex)."""

    def __init__(self, chain: Chain, vault: DesignVault, account: LocalAccount,
                 hpke_keys: Mapping[str, HpkeKeyPair] | Iterable[HpkeKeyPair] = (),
                 policy: JobPolicy | None = None) -> None:
        self.chain = chain
        self.vault = vault
        self.account = account
        if isinstance(hpke_keys, Mapping):
            self.hpke_keys = {k.removeprefix("0x").lower(): v for k, v in hpke_keys.items()}
        else:
            self.hpke_keys = {kp.key_id.hex(): kp for kp in hpke_keys}
        self.policy = policy or JobPolicy()

    @property
    def address(self) -> str:
        return self.account.address

    # -- reading ---------------------------------------------------------------

    def load(self, order_id: int) -> OrderTracker:
        """The settled order (its newest change ``confirmations`` deep): what a one-shot action builds on."""
        return self.chain.settled_order(order_id)

    def is_mine(self, tracker: OrderTracker) -> bool:
        partner = tracker.state.partner
        return partner != ZERO_ADDRESS and to_checksum_address(partner) == self.address

    def check_standing(self) -> None:
        """FatalError if this account cannot work as a partner (unregistered, suspended, unbonding)."""
        info = self.chain.registry.partner_info(self.address)
        if not info.registered:
            raise FatalError(f"{self.address} is not a registered partner")
        if info.suspended:
            raise FatalError(f"partner {self.address} is suspended by governance")
        if info.unbonding:
            raise FatalError(f"partner {self.address} is unbonding and cannot take orders")

    def eligible(self, tracker: OrderTracker, now: int | None = None, info: PartnerInfo | None = None) -> str | None:
        """None if the policy and the registry let this partner claim the order, else why not.

        ``now`` (chain time) and ``info`` (this partner's registry entry) may be passed in by a
        caller that checks many orders at once.
        """
        if now is None:
            now = self.chain.w3.eth.get_block("latest")["timestamp"]
        reason = policy_reason(self.policy, tracker, self.address, now)
        if reason is not None:
            return reason
        info = info or self.chain.registry.partner_info(self.address)
        processes, materials = tracker.spec.processes, tracker.spec.materials
        if info.capabilities & processes != processes or info.materials & materials != materials:
            return "registered capabilities do not cover the order"
        return None

    def has_record(self, tracker: OrderTracker, kind: RecordKind) -> bool:
        """Whether the order's provenance chain already holds a ``kind`` record by this partner."""
        return any(rec.kind == kind and to_checksum_address(rec.actor) == self.address for rec in tracker.records)

    def spec_document(self, tracker: OrderTracker) -> ProductionSpec:
        return fetch_spec_document(self.vault.ipfs, tracker)

    def envelope_cid(self, order_id: int, tracker: OrderTracker | None = None) -> str:
        """The key envelope CID of this partner's award: the AWARDED record of a verified ``tracker`` (its
        evidence is the envelope CID, inside the committed provenance chain), else the OrderAwarded event."""
        if tracker is not None and self.is_mine(tracker):
            awarded = [rec for rec in tracker.records if rec.kind == RecordKind.AWARDED]
            if awarded:
                return str(digest_to_cid(bytes(awarded[-1].evidence)))
        topic_id = "0x" + order_id.to_bytes(32, "big").hex()
        events = self.chain.book.logs(("OrderAwarded",), topic_id,
                                      from_block=self.chain.book.posted_at(order_id, self.chain.from_block))
        for event in reversed(events):
            if to_checksum_address(event.args["partner"]) == self.address:
                return str(digest_to_cid(bytes(event.args["keyEnvelopeCid"])))
        raise InputError(f"order {order_id} was not awarded to {self.address}")

    def fetch_design(self, order_id: int, out_dir: Path, tracker: OrderTracker | None = None) -> Path:
        """Decrypts the awarded design into ``out_dir`` (atomically); returns the file. Idempotent."""
        tracker = tracker or self.load(order_id)
        if not self.is_mine(tracker) or not any(rec.kind == RecordKind.AWARDED for rec in tracker.records):
            raise InputError(f"order {order_id} is not awarded to {self.address} ({tracker.status.name})")
        design_sha256 = bytes(tracker.docs.design_sha256)
        try:
            design = self.spec_document(tracker).model_dump().get("design", {})
        except InputError:
            design = {}
        out = Path(out_dir) / _safe_name(design.get("name"))
        if out.is_file() and _sha256(out) == design_sha256:
            return out
        envelope_cid = self.envelope_cid(order_id, tracker)
        document = self.vault.ipfs.cat_bytes(envelope_cid, max_size=MAX_ENVELOPE_SIZE)
        key_id = parse_envelope(document).recipient_key_id.hex()
        keypair = self.hpke_keys.get(key_id)
        if keypair is None:
            raise InputError(f"order {order_id}: the key envelope is sealed to HPKE key 0x{key_id}, "
                             "which this node does not hold")
        context = OrderContext(chain_id=self.chain.chain_id, contract=self.chain.book.address, order_id=order_id,
                               recipient=self.address, design_sha256=design_sha256)
        content_key = open_envelope(document, keypair, context)
        out.parent.mkdir(parents=True, exist_ok=True)
        # the spec names the design's full CID, codec included (ipfs/cid.py)
        self.vault.open(design_cid(bytes(tracker.docs.design_cid), design.get("cid")), content_key, out, design_sha256)
        return out

    # -- requests (the daemon sends them through its journal) ---------------------

    def claim_request(self, tracker: OrderTracker) -> TxRequest:
        return self.chain.book.claim(tracker)

    def start_request(self, tracker: OrderTracker) -> TxRequest:
        return self.chain.book.simple("startProduction", tracker)

    def attest_request(self, tracker: OrderTracker, report_cid: str, report_sha256: bytes, passed: bool) -> TxRequest:
        return self.chain.book.attest(tracker, cid_to_digest(report_cid), report_sha256, passed)

    def ship_request(self, tracker: OrderTracker, report_cid: str, report_sha256: bytes) -> TxRequest:
        return self.chain.book.ship(tracker, cid_to_digest(report_cid), report_sha256)

    def withdraw_request(self, tracker: OrderTracker) -> TxRequest:
        return self.chain.book.simple("withdrawPayment", tracker)

    def finalize_request(self, tracker: OrderTracker) -> TxRequest:
        return self.chain.book.simple("finalize", tracker)

    def pin_report(self, report_bytes: bytes) -> tuple[str, bytes]:
        """Pins the canonical report (laid out like designs); returns (CID, SHA-256 of the bytes)."""
        cid = self.vault.ipfs.add_bytes(report_bytes, raw_leaves=self.vault.raw_leaves)
        return cid, hashlib.sha256(report_bytes).digest()


def _sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.digest()
