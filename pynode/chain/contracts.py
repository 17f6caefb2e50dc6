"""One typed wrapper per contract: views return Python values, writes return TxRequests.

Writes are not sent here: a `TxSender` simulates, signs and sends them, so the
same request objects serve the CLI, the daemon and the tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynode.chain.calls import call_view, views
from pynode.chain.deployment import ContractInfo
from pynode.chain.events.decoder import DecodedLog, EventDecoder, event_topic
from pynode.chain.events.reader import LogReader, TopicFilter
from pynode.chain.orders import ORDER_EVENTS, ZERO_ADDRESS, OrderTracker, order_hash
from pynode.core.address import keccak, keccak_text, to_checksum_address
from pynode.core.errors import FabmeshError, InputError
from pynode.protocol.types import OrderDocs, OrderSpec, OrderTerms, PartnerFlags

# Reads go over plain JSON-RPC (pynode.chain.calls): web3, and eth_account behind the EIP-712 domain, load only
# for a write or a domain, so a read command starts without them (tests/pynode/cli/test_lazy_cli.py).
if TYPE_CHECKING:
    from web3 import Web3
    from web3.contract import Contract

    from pynode.chain.jsonrpc import RpcClient
    from pynode.chain.tx import TxRequest
    from pynode.protocol.eip712 import Domain

LOG_INDEX_RETRIES = 4


class OrderOutOfSync(FabmeshError):
    """The order rebuilt from events does not hash to the on-chain commitment (missing or forged logs)."""


def _topic_for_uint(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _topic_for_address(address: str) -> str:
    return "0x" + bytes.fromhex(address[2:]).rjust(32, b"\x00").hex()


class _Wrapper:
    def __init__(self, w3: Web3 | RpcClient, info: ContractInfo, reader: LogReader | None = None) -> None:
        self.w3 = w3
        self.info = info
        self.reader = reader or LogReader(w3)
        self.address = info.address
        self.decoder = EventDecoder({info.address: info.abi})
        self._topics = {item["name"]: event_topic(item) for item in info.abi if item.get("type") == "event"}
        self._views = views(info.abi)

    @cached_property
    def contract(self) -> Contract:
        """web3's contract object, for decoding calldata; reads and writes do not need it."""
        from web3 import Web3

        w3 = self.w3 if isinstance(self.w3, Web3) else Web3()  # no provider: encoding only
        return w3.eth.contract(address=Web3.to_checksum_address(self.info.address), abi=self.info.abi)

    def topic(self, event: str) -> str:
        """topic0 of `event`, 0x-hex."""
        return self._topics[event]

    def request(self, label: str, function: str, *args: Any, value: int = 0) -> TxRequest:
        from pynode.chain.tx import TxRequest

        # eth_abi, as the views: the same bytes as web3's encode_abi in a twentieth of its time (a claim's
        # whole order is encoded on the way from a new order to its claim)
        return TxRequest(to=self.address, data=self._views[function].calldata(args), label=label, value=value)

    @staticmethod
    def role(name: str) -> bytes:
        """AccessControl role id, e.g. role("CERTIFIER_ROLE")."""
        return keccak_text(name)

    def has_role(self, role_name: str, account: str, block: int | str = "latest") -> bool:
        return bool(self.call("hasRole", self.role(role_name), account, block=block))

    def grant_role(self, role_name: str, account: str) -> TxRequest:
        return self.request(f"grant {role_name}", "grantRole", self.role(role_name), account)

    def call(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        return call_view(self.w3, self.address, self._views[function], args, block)

    def logs(self, events: tuple[str, ...], *topics: TopicFilter, from_block: int,
             to_block: int | None = None) -> list[DecodedLog]:
        """Decoded logs of `events` in [from_block, to_block] (None: the head), optionally filtered by
        indexed topics 1..3; read in bounded ranges by the events reader."""
        return self.reader.events(self.decoder, [self.address], from_block, to_block,
                                  [[self._topics[e] for e in events], *topics])


class PartnerFlagBits:
    """A registry entry's ``flags`` as properties (v1's PartnerInfo and v2's PartnerInfoV2 share the bits)."""

    flags: int

    @property
    def registered(self) -> bool:
        return bool(self.flags & PartnerFlags.REGISTERED)

    @property
    def vetted(self) -> bool:
        return bool(self.flags & PartnerFlags.VETTED)

    @property
    def suspended(self) -> bool:
        return bool(self.flags & PartnerFlags.SUSPENDED)

    @property
    def unbonding(self) -> bool:
        return bool(self.flags & PartnerFlags.UNBONDING)


@dataclass(frozen=True)
class PartnerInfo(PartnerFlagBits):
    capabilities: int
    materials: int
    flags: int
    completed: int
    on_time: int
    failed_qa: int
    disputes_lost: int
    bond: int
    unbonding_ready_at: int
    region: str
    capacity: int
    profile_cid: bytes
    encryption_key_hash: bytes


def region_bytes(region: str) -> bytes:
    """A geohash prefix as the contracts' bytes8: ASCII, left-aligned, zero-padded."""
    raw = region.encode()
    if len(raw) > 8 or not region.isascii() or not region.isalnum():
        raise InputError(f"region must be a geohash prefix of at most 8 letters/digits, got {region!r}")
    return raw.ljust(8, b"\x00")


def region_text(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\x00").decode("ascii", errors="replace")


class _KeyedRegistry(_Wrapper):
    """What v1's and v2's registries share: a partner's HPKE public key, found in its key events."""

    KEY_EVENTS = ("PartnerRegistered", "EncryptionKeyRotated")

    def __init__(self, w3: Web3 | RpcClient, info: ContractInfo, reader: LogReader | None = None) -> None:
        super().__init__(w3, info, reader)
        self._keys: dict[str, bytes] = {}  # partner -> the key last found for it (valid while its hash matches)

    def key_with_hash(self, partner: str, expected: bytes, from_block: int) -> bytes:
        """The partner's newest key event whose key hashes to ``expected`` (the registry's encryptionKeyHash)."""
        known = self._keys.get(partner)
        if known is not None and keccak(known) == expected:
            return known  # the registry still commits to it: no scan of the registry's history
        # newest first, in the widest ranges the node allows: the key the registry commits to is the latest one
        # set, so a partner that registered or rotated lately costs one eth_getLogs, not the registry's history
        end = self.reader.head()
        while end >= from_block:
            start = max(from_block, end - self.reader.ceiling + 1)
            for event in reversed(self.logs(self.KEY_EVENTS, _topic_for_address(partner), from_block=start,
                                            to_block=end)):
                key = bytes(event.args["encryptionKey"])
                if keccak(key) == expected:
                    self._keys[partner] = key
                    return key
            end = start - 1
        raise InputError(f"{partner} has no registered encryption key (is it a registered partner?)")


class PartnerRegistry(_KeyedRegistry):
    def partner_info(self, partner: str, block: int | str = "latest") -> PartnerInfo:
        raw = self.call("partnerInfo", partner, block=block)
        (caps, materials, flags, completed, on_time, failed_qa, disputes_lost, bond, ready_at, region, capacity,
         profile_cid, key_hash) = raw
        return PartnerInfo(caps, materials, flags, completed, on_time, failed_qa, disputes_lost, bond, ready_at,
                           region_text(region), capacity, bytes(profile_cid), bytes(key_hash))

    def min_bond(self) -> int:
        return int(self.call("minBond"))

    def unbonding_delay(self) -> int:
        return int(self.call("unbondingDelay"))

    def certification_expiry(self, partner: str, cert_id: int, block: int | str = "latest") -> int:
        return int(self.call("certificationExpiry", partner, cert_id, block=block))

    def encryption_key(self, partner: str, from_block: int, info: PartnerInfo | None = None) -> bytes:
        """The partner's current HPKE public key: the newest key event whose hash matches the registry's
        (``info``: the partner's registry entry, if the caller just read it at the head)."""
        return self.key_with_hash(partner, (info or self.partner_info(partner)).encryption_key_hash, from_block)

    # writes
    def register(self, profile: tuple[Any, ...], encryption_key: bytes, bond: int) -> TxRequest:
        return self.request("register", "register", profile, encryption_key, value=bond)

    def update_profile(self, profile: tuple[Any, ...]) -> TxRequest:
        return self.request("update profile", "updateProfile", profile)

    def rotate_encryption_key(self, encryption_key: bytes) -> TxRequest:
        return self.request("rotate key", "rotateEncryptionKey", encryption_key)

    def start_unbonding(self) -> TxRequest:
        return self.request("start unbonding", "startUnbonding")

    def withdraw_bond(self) -> TxRequest:
        return self.request("withdraw bond", "withdrawBond")

    def vet(self, partner: str, evidence_cid: bytes) -> TxRequest:
        return self.request(f"vet {partner}", "vet", partner, evidence_cid)

    def certify(self, partner: str, cert_id: int, expiry: int, evidence_cid: bytes) -> TxRequest:
        return self.request(f"certify {partner}", "certify", partner, cert_id, expiry, evidence_cid)

    def revoke_certification(self, partner: str, cert_id: int, reason_cid: bytes) -> TxRequest:
        return self.request(f"revoke certification of {partner}", "revokeCertification", partner, cert_id,
                            reason_cid)

    def suspend(self, partner: str, reason_cid: bytes) -> TxRequest:
        return self.request(f"suspend {partner}", "suspend", partner, reason_cid)

    def reinstate(self, partner: str) -> TxRequest:
        return self.request(f"reinstate {partner}", "reinstate", partner)


class _BookReads(_Wrapper):
    """What v1's and v2's order books read alike: the views they share and an order's logs from its post on
    (``ORDER_EVENTS``, the order id in topic 1)."""

    ORDER_EVENTS: tuple[str, ...] = ORDER_EVENTS

    def __init__(self, w3: Web3 | RpcClient, info: ContractInfo, reader: LogReader | None = None) -> None:
        super().__init__(w3, info, reader)
        self._posted_at: dict[int, int] = {}  # order id -> block of its OrderPosted: where its history starts

    def order_hash(self, order_id: int, block: int | str = "latest") -> bytes:
        return bytes(self.call("orderHash", order_id, block=block))

    def order_count(self, block: int | str = "latest") -> int:
        return int(self.call("orderCount", block=block))

    def fee_bps(self) -> int:
        return int(self.call("feeBps"))

    def domain(self, block: int | str = "latest") -> Domain:
        """The EIP-712 domain the book verifies attestations under (its ERC-5267 ``eip712Domain()``)."""
        from pynode.protocol.eip712 import Domain

        return Domain.from_eip5267(self.call("eip712Domain", block=block))

    def credits(self, account: str, token: str = ZERO_ADDRESS, block: int | str = "latest") -> int:
        return int(self.call("credits", account, token, block=block))

    def token_allowed(self, token: str) -> bool:
        return bool(self.call("tokenAllowed", token))

    def dispute_timeout(self) -> int:
        return int(self.call("disputeTimeout"))

    def note_posted(self, order_id: int, block: int) -> None:
        """Remembers where the order's events start, so its reads span its own blocks, not the deployment's."""
        self._posted_at[order_id] = block

    def posted_at(self, order_id: int, from_block: int) -> int:
        """The first block worth reading for ``order_id``: its OrderPosted block if known, else ``from_block``."""
        return max(from_block, self._posted_at.get(order_id, from_block))

    def order_logs(self, order_id: int, from_block: int, to_block: int) -> list[DecodedLog]:
        """The order's events up to ``to_block``, from its post on (from ``from_block`` when that is unknown)."""
        topic = _topic_for_uint(order_id)
        start = self.posted_at(order_id, from_block)
        logs = self.logs(self.ORDER_EVENTS, topic, from_block=start, to_block=to_block)
        if start > from_block and (not logs or logs[0].event != "OrderPosted"):
            # a reorg moved the post to an earlier block than remembered: read the whole history once
            self._posted_at.pop(order_id, None)
            logs = self.logs(self.ORDER_EVENTS, topic, from_block=from_block, to_block=to_block)
        if logs and logs[0].event == "OrderPosted":
            self._posted_at[order_id] = logs[0].block_number
        return logs


class OrderBook(_BookReads):
    def load_order(self, order_id: int, from_block: int, block: int | None = None, *,
                   expected: bytes | None = None) -> OrderTracker:
        """Rebuilds order `order_id` from its events and checks it against the on-chain commitment.

        Logs and state are read at the same block. A node may answer eth_getLogs for its newest
        block before that block's logs are indexed, so a mismatch is re-read a few times before it
        is reported as out of sync (missing or forged logs). ``expected``: the commitment at ``block``,
        if the caller just read it.
        """
        block = self.reader.head() if block is None else block
        expected = self.order_hash(order_id, block) if expected is None else expected
        for attempt in range(LOG_INDEX_RETRIES):
            logs = self.order_logs(order_id, from_block, block)
            if not logs:
                raise InputError(f"order {order_id} does not exist")
            tracker = OrderTracker(order_id)
            for log in logs:
                tracker.apply(log.event, log.args)
            if order_hash(tracker.order) == expected:
                return tracker
            time.sleep(0.1 * (attempt + 1))
        raise OrderOutOfSync(f"order {order_id}: events do not reproduce the on-chain order hash at block {block}")

    def load_orders(self, from_block: int, block: int | None = None) -> dict[int, OrderTracker]:
        """Every order rebuilt from one scan of the order events (not hash-checked: see load_order)."""
        block = self.reader.head() if block is None else block
        trackers: dict[int, OrderTracker] = {}
        for log in self.logs(ORDER_EVENTS, from_block=from_block, to_block=block):
            order_id = log.args["orderId"]
            if log.event == "OrderPosted":
                self._posted_at[order_id] = log.block_number
            trackers.setdefault(order_id, OrderTracker(order_id)).apply(log.event, log.args)
        return trackers

    # writes: every one after post passes the current Order back (see contracts/README.md)
    def post(self, terms: OrderTerms, spec: OrderSpec, docs: OrderDocs) -> TxRequest:
        value = terms.price if to_checksum_address(terms.token) == ZERO_ADDRESS else 0
        return self.request("post", "post", terms, spec, docs, value=value)

    def claim(self, t: OrderTracker) -> TxRequest:
        return self.request(f"claim order {t.order_id}", "claim", t.order_id, t.order, t.spec, value=t.terms.claim_bond)

    def award(self, t: OrderTracker, envelope_cid: bytes) -> TxRequest:
        return self.request(f"award order {t.order_id}", "award", t.order_id, t.order, envelope_cid)

    def attest(self, t: OrderTracker, report_cid: bytes, report_hash: bytes, passed: bool) -> TxRequest:
        return self.request(f"attest order {t.order_id}", "attest", t.order_id, t.order, report_cid, report_hash,
                            passed)

    def attest_by_sig(self, t: OrderTracker, attestation: tuple[Any, ...], signature: bytes) -> TxRequest:
        return self.request(f"relay attestation for order {t.order_id}", "attestBySig", t.order, attestation,
                            signature)

    def record_serials(self, t: OrderTracker, root: bytes) -> TxRequest:
        return self.request(f"record serials of order {t.order_id}", "recordSerials", t.order_id, t.order, root)

    def ship(self, t: OrderTracker, report_cid: bytes, report_hash: bytes) -> TxRequest:
        return self.request(f"ship order {t.order_id}", "ship", t.order_id, t.order, report_cid, report_hash)

    def dispute(self, t: OrderTracker, evidence_cid: bytes) -> TxRequest:
        return self.request(f"dispute order {t.order_id}", "dispute", t.order_id, t.order, evidence_cid)

    def resolve(self, t: OrderTracker, buyer_share: int, partner_lost: bool, ruling_cid: bytes) -> TxRequest:
        return self.request(f"resolve order {t.order_id}", "resolve", t.order_id, t.order, buyer_share,
                            partner_lost, ruling_cid)

    def simple(self, function: str, t: OrderTracker) -> TxRequest:
        """cancel, startProduction, confirm, finalize, settleExpiredDispute, refund, withdrawPayment."""
        return self.request(f"{function} order {t.order_id}", function, t.order_id, t.order)

    def withdraw(self, token: str = ZERO_ADDRESS) -> TxRequest:
        return self.request("withdraw", "withdraw", token)

    def set_token_allowed(self, token: str, allowed: bool) -> TxRequest:
        return self.request(f"allow token {token}", "setTokenAllowed", token, allowed)
