"""Only the partner a design is awarded to can read it, shown by trying to decrypt.

Real anvil, one real Kubo node per organization (buyer, maker, maker2, connected over
loopback as in `make demo`), real HPKE and AES-GCM. Each adversary gathers every byte it
can see and makes every decryption attempt it can, both through the library (which
refuses with a typed error) and around its checks: it opens every key envelope's HPKE
ciphertext with each key it holds under the envelope's own bound info, and tries each
32-byte string it saw as the design's content key. A positive control runs the same
attempts with the awarded partner's key and gets the design back, so the attempts work.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import ipfshttpclient
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from harness import PASSWORD, SCRYPT_N, NodeHome, make_partner
from pynode.chain.client import Chain
from pynode.chain.tx import TxRequest, TxReverted
from pynode.core.errors import InputError
from pynode.crypto import hpke, segmented
from pynode.crypto.envelope import OrderContext, open_envelope, parse_envelope
from pynode.crypto.errors import EnvelopeError, HpkeOpenError, WrongKey, WrongRecipient
from pynode.crypto.hpke import HpkeKeyPair, generate_keypair
from pynode.dev.anvil import Anvil
from pynode.dev.kubo import KuboNode
from pynode.ipfs.cid import cid_to_digest, digest_to_cid
from pynode.ipfs.client import IpfsClient, api_multiaddr
from pynode.ipfs.vault import DesignVault
from pynode.orders.buyer import Buyer, OrderRequest, PostedOrder
from pynode.orders.design_keys import DesignKeyStore
from pynode.orders.partner import Partner
from pynode.protocol.types import RecordKind, Status
from pynode.wallet.hpke_keys import HpkeKeyStore

pytestmark = pytest.mark.integration

ORGS = ("buyer", "maker", "maker2")
DAY = 86400
KEY_SIZE = segmented.CONTENT_KEY_SIZE
LEAK_STRIDE = 16  # a leaked plaintext run of KEY_SIZE + LEAK_STRIDE - 1 bytes or more is found
MAX_DOCUMENT = 1 << 20
SEALED_SEGMENT = segmented.MIN_SEGMENT_SIZE + segmented.TAG_SIZE
HEX_RUN = re.compile(rb"(?:0x)?((?:[0-9a-fA-F]{2}){32,})")


# ---------------------------------------------------------------- the network


@pytest.fixture(scope="module")
def kubos(tmp_path_factory) -> Iterator[dict[str, KuboNode]]:
    """One Kubo node per organization, for this module only: an observer lists everything they hold."""
    root = tmp_path_factory.mktemp("secrecy-kubo")
    with contextlib.ExitStack() as stack:
        nodes = {org: stack.enter_context(KuboNode(root / org, f"kubo-{org}")) for org in ORGS}
        yield nodes


def send(partner: Partner, request: TxRequest) -> None:
    partner.chain.send(partner.account, request)


def claim(partner: Partner, order_id: int) -> None:
    send(partner, partner.claim_request(partner.load(order_id)))


@dataclass
class Net:
    chain: Chain
    anvil: Anvil
    kubos: dict[str, KuboNode]
    ipfs: dict[str, IpfsClient]
    buyer: Buyer
    buyer_keypair: HpkeKeyPair
    homes: dict[str, NodeHome]
    design: Path

    def partner(self, org: str) -> Partner:
        """`org`'s partner client on its own Kubo node, with every HPKE key pair in its keystore (as the daemon)."""
        home = self.homes[org]
        store = hpke_store(home)
        keys = {key_id: store.unlock(home.name, PASSWORD, key_id) for key_id in store.key_ids(home.name)}
        return Partner(self.chain, DesignVault(self.ipfs[org]), home.account, keys)

    def received(self, who: str) -> Path:
        """Where `who` decrypts designs to."""
        return self.design.parent / "received" / who

    def post(self) -> PostedOrder:
        now = self.chain.w3.eth.get_block("latest")["timestamp"]
        request = OrderRequest(design=self.design, process="CNC_MILLING", material="AL_6061", quantity=1,
                               price=10**15, claim_deadline=now + DAY, delivery_deadline=now + 7 * DAY,
                               inspection_window=3 * DAY, claim_bond=10**14, region="u33d")
        return self.buyer.post(request, self.buyer_keypair.public_key)

    def award(self, order_id: int, org: str) -> str:
        """`org` claims, the buyer awards it; returns the key envelope's CID."""
        claim(self.partner(org), order_id)
        return self.buyer.award(order_id, self.homes[org].account.address, self.buyer_keypair)[1]

    def suspend(self, org: str, governor: LocalAccount) -> None:
        self.chain.send(governor, self.chain.registry.suspend(self.homes[org].account.address, keccak(b"fraud")))
        assert self.chain.registry.partner_info(self.homes[org].account.address).suspended


def hpke_store(home: NodeHome) -> HpkeKeyStore:
    return HpkeKeyStore(home.root / "wallet" / "hpke", SCRYPT_N)


@pytest.fixture
def net(chain, anvil, kubos, dev_accounts, tmp_path) -> Iterator[Net]:
    """maker and maker2 registered and vetted with real HPKE keys in their keystores; a random multi-segment design."""
    # Reconnected for every test: Kubo may drop idle connections, and there is no DHT to find peers again.
    kubos["maker"].connect(kubos["buyer"])
    kubos["maker2"].connect(kubos["buyer"])
    kubos["maker2"].connect(kubos["maker"])
    homes = {org: make_partner(chain, dev_accounts["certifier"], dev_accounts[org], tmp_path / org, org,
                               processes=["CNC_MILLING"], materials=["AL_6061"]) for org in ("maker", "maker2")}
    design = tmp_path / "bracket.step"
    design.write_bytes(os.urandom(5 * segmented.MIN_SEGMENT_SIZE + 123))
    with contextlib.ExitStack() as stack:
        ipfs = {org: stack.enter_context(IpfsClient(kubos[org].api_url, timeout=30)) for org in ORGS}
        vault = DesignVault(ipfs["buyer"], segment_size=segmented.MIN_SEGMENT_SIZE)
        buyer = Buyer(chain, vault, DesignKeyStore(tmp_path / "buyer" / "design-keys", ipfs["buyer"]),
                      dev_accounts["buyer"])
        yield Net(chain, anvil, kubos, ipfs, buyer, generate_keypair(), homes, design)


# ---------------------------------------------------------------- what an adversary sees


def referenced_documents(chain: Chain, ipfs: IpfsClient, order_ids: Iterable[int],
                         extra_cids: Iterable[str] = ()) -> list[bytes]:
    """The content of every IPFS object the orders reference on chain (design, spec, key envelope), plus extra_cids."""
    cids = list(extra_cids)
    for order_id in order_ids:
        tracker = chain.book.load_order(order_id, chain.from_block)
        cids += [str(digest_to_cid(bytes(tracker.docs.design_cid))), str(digest_to_cid(bytes(tracker.docs.spec_cid)))]
        cids += [str(digest_to_cid(bytes(rec.evidence))) for rec in tracker.records if rec.kind == RecordKind.AWARDED]
    return [ipfs.cat_bytes(cid, max_size=MAX_DOCUMENT) for cid in cids]


def everything_in_kubo(node: KuboNode) -> list[bytes]:
    """Every block in the node's repo (`refs local` + `block get`) and every pinned file (`pin ls` + `cat`)."""
    with contextlib.closing(ipfshttpclient.Client(api_multiaddr(node.api_url), timeout=30)) as client:
        blocks = [client.block.get(ref["Ref"]) for ref in client.unstable.refs.local()]
        pinned = list(client.pin.ls(type="recursive")["Keys"])
        files = [cid for cid in pinned if client.files.stat(f"/ipfs/{cid}")["Type"] == "file"]
        return blocks + [client.cat(cid) for cid in files]


def everything_on_chain(anvil: Anvil) -> list[bytes]:
    """Calldata of every transaction and internal call, every log, every storage slot and contract code."""
    blobs: list[bytes] = []
    for number in range(int(anvil.rpc("eth_blockNumber"), 16) + 1):
        for tx in anvil.rpc("eth_getBlockByNumber", hex(number), True)["transactions"]:
            blobs += call_data(anvil.rpc("debug_traceTransaction", tx["hash"], {"tracer": "callTracer"}))
    for log in anvil.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"}):
        blobs += [unhex(log["data"]), *map(unhex, log["topics"])]
    state = json.loads(gzip.decompress(unhex(anvil.rpc("anvil_dumpState"))))
    for account in state["accounts"].values():
        blobs.append(unhex(account["code"]))
        blobs += [int(word, 16).to_bytes(32, "big") for slot in account["storage"].items() for word in slot]
    return blobs


def call_data(frame: dict) -> list[bytes]:
    """Input and output of a callTracer frame and of every call below it."""
    own = [unhex(frame.get("input", "0x")), unhex(frame.get("output", "0x"))]
    return own + [blob for call in frame.get("calls", []) for blob in call_data(call)]


def unhex(text: str) -> bytes:
    digits = text.removeprefix("0x")
    return bytes.fromhex(digits.rjust(len(digits) + len(digits) % 2, "0"))


def with_hex_decoded(blobs: list[bytes]) -> list[bytes]:
    """The blobs plus every long hex string inside them, decoded (envelope fields, JSON documents)."""
    return blobs + [bytes.fromhex(match.decode()) for blob in blobs for match in HEX_RUN.findall(blob)]


def windows(blobs: Iterable[bytes]) -> set[bytes]:
    """Every KEY_SIZE-byte string at any offset of any blob: every content key an adversary could guess from them."""
    return {blob[i:i + KEY_SIZE] for blob in blobs for i in range(len(blob) - KEY_SIZE + 1)}


# ---------------------------------------------------------------- trying to decrypt


def hpke_info(document: bytes) -> bytes:
    """The HPKE info an envelope is sealed under: its canonical JSON without the HPKE output (envelope.py)."""
    bound = {name: value for name, value in json.loads(document).items() if name not in ("enc", "ciphertext")}
    return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode()


def envelopes(blobs: Iterable[bytes]) -> set[bytes]:
    found = set()
    for blob in blobs:
        with contextlib.suppress(EnvelopeError):
            parse_envelope(blob)
            found.add(blob)
    return found


def design_ciphertexts(blobs: Iterable[bytes]) -> set[bytes]:
    return {blob for blob in blobs if blob.startswith(segmented.MAGIC)}


def open_hpke(document: bytes, keypair: HpkeKeyPair) -> bytes | None:
    """The content key if ``keypair`` opens the envelope, skipping open_envelope's recipient checks (a modified
    client)."""
    parsed = parse_envelope(document)
    try:
        return hpke.open(keypair, parsed.enc, parsed.ciphertext, hpke_info(document))
    except HpkeOpenError as error:
        assert "HPKE decryption failed: wrong key" in str(error) or "encapsulated key is" in str(error)
        return None


def decrypt(ciphertext: bytes, key: bytes) -> bytes | None:
    try:
        return b"".join(segmented.iter_decrypt([ciphertext], key))
    except WrongKey:
        return None


def steal(blobs: list[bytes], keypairs: Iterable[HpkeKeyPair], guesses: Iterable[bytes] = ()) -> list[bytes]:
    """Every design an adversary holding ``blobs`` and ``keypairs`` decrypts; asserts there was something to try."""
    documents, ciphertexts = envelopes(blobs), design_ciphertexts(blobs)
    assert documents and ciphertexts, "the adversary saw no envelope or no design ciphertext: nothing was tried"
    keys = set(guesses) | {key for document in documents for keypair in keypairs
                           if (key := open_hpke(document, keypair)) is not None}
    return [plain for ciphertext in ciphertexts for key in keys if (plain := decrypt(ciphertext, key)) is not None]


def fresh_keypairs() -> list[HpkeKeyPair]:
    return [generate_keypair(), generate_keypair(pq=True)]


def file_key(ciphertext: bytes, content_key: bytes) -> bytes:
    """The AES-256-GCM key a design is encrypted under: HKDF of the content key and the header's salt."""
    salt_at = len(segmented.MAGIC) + 5  # after the version byte and the u32 segment size
    salt = ciphertext[salt_at : salt_at + segmented.SALT_SIZE]
    okm = HKDF(algorithm=hashes.SHA256(), length=2 * KEY_SIZE, salt=salt, info=segmented.HKDF_INFO)
    key = okm.derive(content_key)[:KEY_SIZE]
    header, first = ciphertext[: segmented.HEADER_SIZE], ciphertext[segmented.HEADER_SIZE :][: SEALED_SEGMENT]
    assert AESGCM(key).decrypt(bytes(12), first, header)  # segment 0 (not final) opens: it is the real key
    return key


def leaked_plaintext(plaintext: bytes, blobs: Iterable[bytes]) -> list[tuple[int, int]]:
    """(blob index, offset) of every plaintext run of KEY_SIZE + LEAK_STRIDE - 1 bytes or more found in the blobs."""
    pieces = windows([plaintext])
    return [(index, offset) for index, blob in enumerate(blobs)
            for offset in range(0, len(blob) - KEY_SIZE + 1, LEAK_STRIDE) if blob[offset:offset + KEY_SIZE] in pieces]


def assert_design_stays_secret(net: Net, org: str, order_ids: list[int], extra_cids: Iterable[str] = ()) -> None:
    """`org` fetches everything the orders reference through its own Kubo and cannot decrypt any of it."""
    partner = net.partner(org)
    for order_id in order_ids:
        with pytest.raises(InputError, match="not awarded to"):
            partner.fetch_design(order_id, net.received(org))
    loot = with_hex_decoded(referenced_documents(net.chain, net.ipfs[org], order_ids, extra_cids))
    keypairs = [*partner.hpke_keys.values(), *fresh_keypairs()]
    for document in envelopes(loot):
        context = parse_envelope(document).context
        mine = OrderContext(context.chain_id, context.contract, context.order_id, partner.address,
                            context.design_sha256)
        with pytest.raises(WrongRecipient, match=r"envelope is for partner 0x[0-9a-fA-F]{40}, this node is "):
            open_envelope(document, keypairs[0], mine)
    assert steal(loot, keypairs, guesses=windows(loot)) == []
    assert leaked_plaintext(net.design.read_bytes(), loot) == []
    assert not list(net.received(org).glob("*"))


# ---------------------------------------------------------------- the tests


def test_partner_that_claimed_but_was_not_awarded_cannot_decrypt(net):
    """maker2 claims the first posting and is never awarded; the buyer posts the design again and awards maker.

    maker2 holds both ciphertexts, the spec documents, maker's envelope and even the buyer's own key backups.
    """
    first = net.post()
    claim(net.partner("maker2"), first.order_id)
    net.anvil.rpc("evm_increaseTime", DAY + 1)
    net.anvil.rpc("evm_mine")
    net.buyer.act("refund", first.order_id)  # the claim lapsed: NotAwarded
    assert net.chain.book.load_order(first.order_id, net.chain.from_block).status == Status.REFUNDED
    second = net.post()
    net.award(second.order_id, "maker")

    assert_design_stays_secret(net, "maker2", [first.order_id, second.order_id],
                               extra_cids=[first.key_backup_cid, second.key_backup_cid])
    assert net.partner("maker").fetch_design(second.order_id, net.received("maker")).read_bytes() \
        == net.design.read_bytes()


def test_suspended_partner_cannot_claim_so_no_key_is_ever_sealed_to_it(net, dev_accounts):
    net.suspend("maker2", dev_accounts["admin"])
    posted = net.post()
    with pytest.raises(TxReverted, match="PartnerIsSuspended"):
        claim(net.partner("maker2"), posted.order_id)
    with pytest.raises(InputError, match="is OPEN, not CLAIMED"):
        net.buyer.award(posted.order_id, net.homes["maker2"].account.address, net.buyer_keypair)
    tracker = net.chain.book.load_order(posted.order_id, net.chain.from_block)
    with pytest.raises(TxReverted, match="OrderNotClaimed"):  # the contract refuses an award without a claim too
        net.chain.send(dev_accounts["buyer"], net.chain.book.award(tracker, keccak(b"envelope")))
    net.award(posted.order_id, "maker")

    assert_design_stays_secret(net, "maker2", [posted.order_id], extra_cids=[posted.key_backup_cid])


def test_partner_suspended_after_its_claim_is_refused_the_award_and_cannot_decrypt(net, dev_accounts):
    """Suspension blocks new claims only (contracts/README.md): the contract's `award` does not re-check the
    claimant. The buyer's client does (the registry's own eligibility check, re-run), so a partner suspended
    after claiming never gets an envelope; the buyer lets the claim lapse and refunds."""
    posted = net.post()
    claim(net.partner("maker2"), posted.order_id)
    net.suspend("maker2", dev_accounts["admin"])

    with pytest.raises(InputError, match=r"no longer qualifies.*PartnerIsSuspended"):
        net.buyer.award(posted.order_id, net.homes["maker2"].account.address, net.buyer_keypair)

    assert net.chain.book.load_order(posted.order_id, net.chain.from_block).status == Status.CLAIMED
    assert_design_stays_secret(net, "maker2", [posted.order_id], extra_cids=[posted.key_backup_cid])


def test_observer_of_every_block_pin_log_calldata_and_slot_cannot_decrypt(net):
    """After a whole job, an observer reads everything the three Kubo nodes and the chain hold.

    IPFS: every local block and every pinned file of each node. Chain: calldata and output of every transaction and
    internal call, every log, every storage slot and all code. No secret appears in any of it, and neither fresh HPKE
    keys (X25519, X-Wing) nor any 32-byte string from it decrypts the design.
    """
    posted = net.post()
    net.award(posted.order_id, "maker")
    maker = net.partner("maker")
    maker.fetch_design(posted.order_id, net.received("maker"))  # the winner's node now holds the blocks too
    send(maker, maker.start_request(maker.load(posted.order_id)))
    report = b'{"bore_d": 10.01}'
    report_cid, report_sha256 = maker.pin_report(report)
    send(maker, maker.attest_request(maker.load(posted.order_id), report_cid, report_sha256, passed=True))
    send(maker, maker.ship_request(maker.load(posted.order_id), report_cid, report_sha256))
    net.buyer.act("confirm", posted.order_id)

    ipfs_blobs = [blob for node in net.kubos.values() for blob in everything_in_kubo(node)]
    chain_blobs = everything_on_chain(net.anvil)
    seen = with_hex_decoded(ipfs_blobs + chain_blobs)
    plaintext, content_key = net.design.read_bytes(), posted.design.content_key
    ciphertext = net.ipfs["buyer"].cat_bytes(posted.design.cid, max_size=MAX_DOCUMENT)
    assert any(cid_to_digest(posted.design.cid) in blob for blob in chain_blobs)  # the observer sees the order

    aes_key = file_key(ciphertext, content_key)
    secrets = {"content key": content_key, "AES-GCM file key": aes_key,
               **{f"{org} HPKE private key": kp.private_key for org in net.homes
                  for kp in net.partner(org).hpke_keys.values()},
               "buyer HPKE private key": net.buyer_keypair.private_key}
    for name, secret in secrets.items():
        assert not any(secret in blob or secret.hex().encode() in blob.lower() for blob in seen), name
    assert leaked_plaintext(plaintext, seen) == []
    assert leaked_plaintext(plaintext, [b"padding" + plaintext[100:147]]) == [(0, 16)]  # the search does find runs

    assert steal(seen, fresh_keypairs()) == []
    # Every 32-byte string at any offset of anything seen, tried as this design's content key.
    assert ciphertext in seen and [guess for guess in windows(seen) if decrypt(ciphertext, guess) is not None] == []


def test_awarded_partner_decrypts_exactly_the_buyers_design(net):
    posted = net.post()
    envelope_cid = net.award(posted.order_id, "maker")
    maker = net.partner("maker")

    received = maker.fetch_design(posted.order_id, net.received("maker"))
    assert received.read_bytes() == net.design.read_bytes()
    # The attempts the other tests make do work with the right key: they recover the design, nothing else.
    loot = referenced_documents(net.chain, net.ipfs["maker"], [posted.order_id])
    assert steal(loot, maker.hpke_keys.values()) == [net.design.read_bytes()]
    assert net.ipfs["maker"].cat_bytes(envelope_cid, max_size=MAX_DOCUMENT) in envelopes(loot)


def test_after_key_rotation_new_awards_use_the_new_key_and_old_envelopes_still_open(net):
    home = net.homes["maker"]
    before = net.post()
    old_envelope = net.ipfs["maker"].cat_bytes(net.award(before.order_id, "maker"), max_size=MAX_DOCUMENT)

    new_key = hpke_store(home).create(home.name, PASSWORD, pq=False)
    net.chain.send(home.account, net.chain.registry.rotate_encryption_key(new_key.public_key))
    assert net.chain.registry.encryption_key(home.account.address, net.chain.from_block) == new_key.public_key
    old_key = home.hpke
    assert hpke_store(home).current_key_id(home.name) == new_key.key_id.hex()
    assert hpke_store(home).key_ids(home.name) == sorted([old_key.key_id.hex(), new_key.key_id.hex()])

    after = net.post()
    new_envelope = net.ipfs["maker"].cat_bytes(net.award(after.order_id, "maker"), max_size=MAX_DOCUMENT)

    assert parse_envelope(new_envelope).recipient_key_id == new_key.key_id
    assert open_hpke(new_envelope, old_key) is None and open_hpke(old_envelope, new_key) is None
    assert open_hpke(new_envelope, new_key) == after.design.content_key
    kept = hpke_store(home).unlock(home.name, PASSWORD, old_key.key_id.hex())
    assert open_envelope(old_envelope, kept, parse_envelope(old_envelope).context) == before.design.content_key
    with pytest.raises(WrongRecipient, match=f"envelope is for key 0x{new_key.key_id.hex()}"):
        open_envelope(new_envelope, old_key, parse_envelope(new_envelope).context)
    # A node still running with only the old key cannot fetch the new job; with its keystore it fetches both.
    stale = Partner(net.chain, DesignVault(net.ipfs["maker"]), home.account, [old_key])
    with pytest.raises(InputError, match=f"sealed to HPKE key 0x{new_key.key_id.hex()}, which this node does not"):
        stale.fetch_design(after.order_id, net.received("stale"))
    for posted in (before, after):
        received = net.partner("maker").fetch_design(posted.order_id, net.received(f"maker-{posted.order_id}"))
        assert received.read_bytes() == net.design.read_bytes()
