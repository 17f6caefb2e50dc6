"""PartnerRegistryV2: partners, their bonds (free and locked by orders), vetting bound to the profile seen,
certifications, accredited inspectors and reputation. Views return Python values, writes TxRequests.

Restricted functions (vet … reinstate) are AccessManaged: a certifier or guardian sends them directly, governance
through the manager's schedule/execute (pynode.chain.v2's governance wrapper wraps these requests). The book-only
functions (slashBond, recordOutcome) have no builder: only the order book may call them. Awards lock and completions
release bonds in the partner's slot, which the book stores (its partnerWord; partnerInfo assembles both halves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pynode.chain.contracts import PartnerFlagBits, _KeyedRegistry, region_text
from pynode.protocol.v2.types import PartnerProfile

if TYPE_CHECKING:
    from pynode.chain.tx import TxRequest


@dataclass(frozen=True)
class PartnerInfoV2(PartnerFlagBits):
    """``partnerInfo(partner)`` (Types.sol PartnerInfo); ``locked`` is the bond open orders hold."""

    flags: int
    completed: int
    on_time: int
    failed_qa: int
    disputes_lost: int
    abandoned: int
    locked: int
    capabilities: int
    materials: int
    bond: int
    unbonding_ready_at: int
    region: str
    capacity: int
    profile_cid: bytes
    encryption_key_hash: bytes

    @property
    def free_bond(self) -> int:
        return self.bond - self.locked


class PartnerRegistryV2(_KeyedRegistry):
    # ------------------------------------------------------------------------------- views

    def partner_info(self, partner: str, block: int | str = "latest") -> PartnerInfoV2:
        (flags, completed, on_time, failed_qa, disputes_lost, abandoned, locked, capabilities, materials, bond,
         ready_at, region, capacity, profile_cid, key_hash) = self.call("partnerInfo", partner, block=block)
        return PartnerInfoV2(flags, completed, on_time, failed_qa, disputes_lost, abandoned, locked, capabilities,
                             materials, bond, ready_at, region_text(region), capacity, bytes(profile_cid),
                             bytes(key_hash))

    def profile_hash(self, partner: str, block: int | str = "latest") -> bytes:
        """What ``vet`` must be given: keccak256(abi.encode(the partner's current profile))."""
        return bytes(self.call("profileHash", partner, block=block))

    def free_bond(self, partner: str, block: int | str = "latest") -> int:
        return int(self.call("freeBond", partner, block=block))

    def is_certified(self, partner: str, cert_id: int, block: int | str = "latest") -> bool:
        return bool(self.call("isCertified", partner, cert_id, block=block))

    def certification_expiry(self, partner: str, cert_id: int, block: int | str = "latest") -> int:
        return int(self.call("certificationExpiry", partner, cert_id, block=block))

    def inspector_expiry(self, inspector: str, block: int | str = "latest") -> int:
        return int(self.call("inspectorExpiry", inspector, block=block))

    def is_accredited_inspector(self, inspector: str, block: int | str = "latest") -> bool:
        return bool(self.call("isAccreditedInspector", inspector, block=block))

    def check_eligible(self, partner: str, processes: int, materials: int, cert_ids: int) -> None:
        """Returns if ``partner`` may be awarded an order with these requirements; else CallReverted, whose
        data the revert decoder names (NotVetted, CapabilityMismatch, CertificationMissing, …)."""
        self.call("checkEligible", partner, processes, materials, cert_ids)

    def min_bond(self) -> int:
        return int(self.call("minBond"))

    def unbonding_delay(self) -> int:
        return int(self.call("unbondingDelay"))

    def order_book(self) -> str:
        return str(self.call("orderBook"))

    def encryption_key(self, partner: str, from_block: int, info: PartnerInfoV2 | None = None) -> bytes:
        """The partner's current HPKE public key: the newest key event whose hash matches the registry's
        (``info``: the partner's registry entry, if the caller just read it)."""
        return self.key_with_hash(partner, (info or self.partner_info(partner)).encryption_key_hash, from_block)

    # ------------------------------------------------------------------------------ partners

    def register(self, profile: PartnerProfile, encryption_key: bytes, bond: int) -> TxRequest:
        return self.request("register", "register", profile, encryption_key, value=bond)

    def update_profile(self, profile: PartnerProfile) -> TxRequest:
        return self.request("update profile", "updateProfile", profile)

    def rotate_encryption_key(self, encryption_key: bytes) -> TxRequest:
        return self.request("rotate key", "rotateEncryptionKey", encryption_key)

    def add_bond(self, amount: int) -> TxRequest:
        return self.request("add bond", "addBond", value=amount)

    def start_unbonding(self) -> TxRequest:
        return self.request("start unbonding", "startUnbonding")

    def withdraw_bond(self, to: str) -> TxRequest:
        return self.request("withdraw bond", "withdrawBond", to)

    # ----------------------------------------------------------------------------- certifier

    def vet(self, partner: str, seen_profile_hash: bytes, evidence_cid: bytes) -> TxRequest:
        """``seen_profile_hash``: ``profile_hash(partner)`` as the certifier reviewed it (a changed profile reverts)."""
        return self.request(f"vet {partner}", "vet", partner, seen_profile_hash, evidence_cid)

    def unvet(self, partner: str, reason_cid: bytes) -> TxRequest:
        return self.request(f"unvet {partner}", "unvet", partner, reason_cid)

    def certify(self, partner: str, cert_id: int, expiry: int, evidence_cid: bytes) -> TxRequest:
        return self.request(f"certify {partner}", "certify", partner, cert_id, expiry, evidence_cid)

    def revoke_certification(self, partner: str, cert_id: int, reason_cid: bytes) -> TxRequest:
        return self.request(f"revoke certification of {partner}", "revokeCertification", partner, cert_id,
                            reason_cid)

    def accredit_inspector(self, inspector: str, expiry: int, evidence_cid: bytes) -> TxRequest:
        return self.request(f"accredit inspector {inspector}", "accreditInspector", inspector, expiry, evidence_cid)

    def revoke_inspector(self, inspector: str, reason_cid: bytes) -> TxRequest:
        return self.request(f"revoke inspector {inspector}", "revokeInspector", inspector, reason_cid)

    # ---------------------------------------------------------------- guardian, governance

    def suspend(self, partner: str, reason_cid: bytes) -> TxRequest:
        return self.request(f"suspend {partner}", "suspend", partner, reason_cid)

    def reinstate(self, partner: str) -> TxRequest:
        return self.request(f"reinstate {partner}", "reinstate", partner)
