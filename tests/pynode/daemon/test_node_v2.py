"""`fabmesh node run` on protocol v2 (node.toml ``protocol = 2``) against a real anvil, real Kubo daemons and the
simulated shop floor: it quotes an order a buyer posted and announced, the buyer receives the quote on the
channel (through a second Kubo, peered) with a real signature, awards it (pynode.orders.v2's BuyerV2) with a
real HPKE envelope of a really encrypted design, and the node produces and ships; the buyer checks the report,
confirms and the payee is paid. A lying buyer,
whose spec publishes a smaller part than its design holds, and one whose envelope is sealed to a key the
partner does not hold (F3), have their awards rejected inside the reject window: the buyer is credited the
price back and the partner's bond is free again. A disputed shipment is answered with the matching
arbitration fee, and a node killed after quoting carries out the award of the quote it signed before."""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_utils import keccak

from harness import PASSWORD, SCRYPT_N, Miner, NodeHome, NodeProcess, write_config
from infra.provider_proxy import ProviderProxy
from pynode.chain.contracts import region_bytes
from pynode.chain.deployment import load_deployment
from pynode.chain.orders import MATERIAL, PROCESS
from pynode.chain.provider import connect
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxSender
from pynode.chain.v2.arbitrator import PanelArbitrator
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.orders import ZERO_ADDRESS, OrderTracker
from pynode.chain.v2.registry import PartnerRegistryV2
from pynode.crypto.envelope import OrderContext
from pynode.crypto.hpke import generate_keypair
from pynode.designs.geometry import measure_file
from pynode.dev.designs import bracket_stl
from pynode.dev.kubo import KuboNode
from pynode.dev.wait import wait_for
from pynode.documents.order_announcement import OrderAnnouncement
from pynode.documents.spec import build_spec_document
from pynode.ipfs.cid import cid_to_digest
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.pubsub import KuboPubsub
from pynode.ipfs.vault import DesignVault, SealedDesign
from pynode.orders.quote_channel import QuoteChannel, VerifiedQuote
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderDocs, OrderSpec, OrderStatus, OrderTerms, PartnerProfile, RecordKind
from pynode.wallet.hpke_keys import HpkeKeyStore
from pynode.wallet.keystore import Keystore
from v2_parties import cli_buyer_v2, v2_chain

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

DAY = 86400
PRICE_CAP, MIN_BOND = 10**15, 10**16
WAIT_S = 90.0
# priced from the spec's published geometry: a lying spec gets a cheaper quote, then its award rejected
QUOTE_TOML = """
protocol = 2
[quote]
validity_s = 900
margin_bps = 1000
[quote.tokens."0x0000000000000000000000000000000000000000"]
material_per_part = { al-6061 = 1000000000000 }
machine_rate_per_hour = 100000000000000
[quote.processes.cnc-milling]
mm3_per_hour = 20000
setup_s = 60
"""


@dataclass
class V2:
    w3: object
    book: OrderBookV2
    registry: PartnerRegistryV2
    start: int
    panel: str
    decoder: RevertDecoder
    arbitrator: PanelArbitrator

    def send(self, account, request):
        return TxSender(self.w3, account, self.decoder, confirmations=0).send(request)

    def order(self, order_id: int) -> OrderTracker:
        return self.book.load_order(order_id, self.start)


@pytest.fixture(scope="module")
def v2(anvil, v2_deployments_dir) -> V2:
    deployment = load_deployment(anvil.chain_id, v2_deployments_dir, None, protocol=2)
    w3 = connect(anvil.rpc_url)
    decoder = RevertDecoder(*(info.abi for info in deployment.contracts.values()))
    return V2(w3, OrderBookV2(w3, deployment["OrderBookV2"]), PartnerRegistryV2(w3, deployment["PartnerRegistryV2"]),
              deployment.deploy_block, deployment["PanelArbitrator"].address, decoder,
              PanelArbitrator(w3, deployment["PanelArbitrator"]))


@pytest.fixture(scope="module")
def buyer_channel(v2, kubo, tmp_path_factory) -> Iterator[tuple[QuoteChannel, queue.Queue[VerifiedQuote]]]:
    """The buyer's channel on a Kubo of its own, peered with the node's: quotes received into a queue."""
    buyer_kubo = KuboNode(tmp_path_factory.mktemp("buyer-kubo") / "repo", "kubo-buyer").start()
    buyer_kubo.peer(kubo)
    channel = QuoteChannel(KuboPubsub(buyer_kubo.api_url), v2.book.domain())
    received: queue.Queue[VerifiedQuote] = queue.Queue()
    thread = threading.Thread(target=lambda: [received.put(q) for q in channel.quotes()], daemon=True)
    thread.start()
    try:
        yield channel, received
    finally:
        channel.close()
        buyer_kubo.stop()


def start_shop(v2, anvil, kubo, deployments: Path, dev_accounts, root: Path, name: str, *,
               confirmations: int = 0, poll_interval_s: float = 0.2, extra: str = "",
               log_level: str = "info", rpc_url: str | None = None) -> NodeProcess:
    """`name` (a dev account) registered on the v2 registry with its wallet's HPKE key, vetted, running
    `fabmesh node run` on a v2 node.toml (plus ``extra`` keys; ``rpc_url``: another endpoint than anvil's)."""
    account = dev_accounts[name]
    Keystore(root / "wallet" / "keystores", SCRYPT_N).create(name, PASSWORD, private_key=bytes(account.key))
    keypair = HpkeKeyStore(root / "wallet" / "hpke", SCRYPT_N).create(name, PASSWORD, pq=False)
    (root / "password.txt").write_text(PASSWORD + "\n")
    profile = PartnerProfile(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], region_bytes("u33d"), 40,
                             keccak(text=f"profile-{name}"))
    v2.send(account, v2.registry.register(profile, keypair.public_key, 5 * v2.registry.min_bond()))
    v2.send(dev_accounts["certifier"], v2.registry.vet(account.address, v2.registry.profile_hash(account.address),
                                                       keccak(text=f"vetting-{name}")))
    home = NodeHome(root, name, account, keypair)
    write_config(home, rpc_urls=[rpc_url or anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments,
                 processes=["cnc-milling"], materials=["al-6061"], confirmations=confirmations,
                 poll_interval_s=poll_interval_s, extra=extra + QUOTE_TOML)
    node = NodeProcess(home, log_level=log_level).start()
    node.wait_connected()
    return node


@pytest.fixture(scope="module")
def shop(v2, anvil, kubo, v2_deployments_dir, dev_accounts, tmp_path_factory) -> Iterator[NodeProcess]:
    """`maker`'s node, acting on the head (confirmations = 0: anvil mines a block per transaction)."""
    node = start_shop(v2, anvil, kubo, v2_deployments_dir, dev_accounts, tmp_path_factory.mktemp("shop-v2"), "maker")
    try:
        yield node
    finally:
        node.terminate()


def post(v2, kubo, buyer, channel: QuoteChannel, design: Path, *, lie: bool) -> tuple[OrderTerms, SealedDesign]:
    """Seals the design, pins its spec (the lying buyer publishes an eighth of its volume), posts, announces."""
    vault = DesignVault(IpfsClient(kubo.api_url))
    geometry = measure_file(design)
    if lie:
        geometry = {**geometry, "volume_mm3": round(geometry["volume_mm3"] / 8, 4)}
    sealed = vault.seal(design)
    spec_cid = vault.ipfs.add_bytes(build_spec_document(
        process="CNC_MILLING", material="AL_6061", quantity=1, tolerances={}, certifications=[], region="u33d",
        design_name=design.name, design_size=sealed.plaintext_size, design_sha256=sealed.plaintext_sha256,
        design_cid=sealed.cid, geometry=geometry))
    docs = OrderDocs(cid_to_digest(sealed.cid), sealed.plaintext_sha256, cid_to_digest(spec_cid), region_bytes("u33d"))
    spec = OrderSpec(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], 0, (), codec.docs_hash(docs))
    now = v2.w3.eth.get_block("latest")["timestamp"]
    terms = OrderTerms(buyer.address, ZERO_ADDRESS, PRICE_CAP, MIN_BOND, v2.panel, now + DAY, now + 10 * DAY, 3 * DAY,
                       v2.book.reject_window(), v2.book.dispute_timeout(), v2.book.fee_bps(), codec.spec_hash(spec))
    v2.send(buyer, v2.book.post(terms, spec, docs))
    channel.announce(OrderAnnouncement(channel.domain.chain_id, v2.book.address, codec.order_id(terms),
                                       codec.terms_hash(terms)))
    return terms, sealed


_HEARD: list[VerifiedQuote] = []  # every quote the buyer's channel delivered (a repeat is dropped as a duplicate)


def quote_for(received: queue.Queue[VerifiedQuote], terms: OrderTerms, node: NodeProcess,
              partner: str | None = None) -> VerifiedQuote:
    """The first quote heard for the order (from ``partner``, if given); others heard meanwhile are kept."""
    deadline = time.monotonic() + WAIT_S
    while True:
        found = [h for h in _HEARD if h.signed.quote.terms_hash == codec.terms_hash(terms)
                 and partner in (None, h.signed.quote.partner)]
        if found:
            return found[0]
        assert node.running(), node.log_tail()
        assert time.monotonic() < deadline, f"no quote for the order: {node.log_tail()}"
        try:
            _HEARD.append(received.get(timeout=0.5))
        except queue.Empty:
            continue


def award(v2, kubo, buyer, terms: OrderTerms, sealed: SealedDesign, heard: VerifiedQuote, *,
          sealed_to: bytes | None = None) -> OrderTracker:
    """Seals the design key to the quoting partner's registered key (or ``sealed_to``), pins the envelope,
    awards the quote."""
    order_id, partner = codec.order_id(terms), heard.signed.quote.partner
    context = OrderContext(chain_id=heard.signed.chain_id, contract=v2.book.address, order_id=order_id,
                           recipient=partner, design_sha256=sealed.plaintext_sha256)
    envelope = DesignVault(IpfsClient(kubo.api_url)).publish_envelope(
        sealed.content_key, sealed_to or v2.registry.encryption_key(partner, v2.start), context)
    sent = v2.send(buyer, v2.book.award(v2.order(order_id), heard.signed.quote, heard.signed.signature,
                                        cid_to_digest(envelope)))
    return v2.book.load_order(order_id, v2.start, sent.block_number)  # as awarded: the node may act at once


def until_status(v2, order_id: int, status: OrderStatus, node: NodeProcess) -> OrderTracker:
    def reached() -> bool:
        assert node.running(), node.log_tail()
        return v2.order(order_id).status == status

    wait_for(reached, WAIT_S, interval=0.2, what=f"order {status.name}: {node.log_tail()}")
    return v2.order(order_id)


def test_the_node_quotes_produces_ships_and_is_paid(v2, anvil, kubo, v2_deployments_dir, shop, buyer_channel,
                                                    dev_accounts, tmp_path):
    """The buyer side is pynode.orders.v2's BuyerV2: its award checks the quote as the book will, its confirm
    checks the shipped quality report before releasing the escrow."""
    channel, received = buyer_channel
    maker = dev_accounts["maker"]
    chain = v2_chain(anvil, kubo, v2_deployments_dir, tmp_path / "home")
    party = cli_buyer_v2(chain, anvil, kubo.api_url, tmp_path)
    prepared = party.prepare("honest", design=bracket_stl(tmp_path / "bracket.stl"), price=PRICE_CAP,
                             min_bond=MIN_BOND)
    party.buyer.post(prepared)
    channel.announce(OrderAnnouncement(chain.chain_id, chain.book.address, prepared.order_id,
                                       codec.terms_hash(prepared.terms)))
    heard = quote_for(received, prepared.terms, shop)
    quote = heard.signed.quote
    assert heard.signed.recover_signer(chain.book.domain()) == maker.address == quote.partner
    assert 0 < quote.price <= PRICE_CAP and quote.bond == MIN_BOND and quote.nonce == prepared.order_id << 64 | 1

    sent, _ = party.buyer.award(chain.book.load_order(prepared.order_id, chain.from_block), heard.signed,
                                party.keypair)
    # read at the award's block: the node may ship in the next ones, before a read at the head
    awarded = v2.book.load_order(prepared.order_id, v2.start, sent.block_number)
    assert (awarded.status, awarded.partner, awarded.price) == (OrderStatus.AWARDED, maker.address, quote.price)
    shipped = until_status(v2, awarded.order_id, OrderStatus.SHIPPED, shop)
    assert shipped.report is not None  # the quality report's CID and hash, committed by ship

    before = v2.w3.eth.get_balance(quote.payee)
    party.buyer.confirm(chain.book.load_order(prepared.order_id, chain.from_block))
    completed = v2.order(awarded.order_id)
    assert completed.status == OrderStatus.COMPLETED
    assert v2.w3.eth.get_balance(quote.payee) == before + quote.price - completed.fee
    wait_for(lambda: '"state":"done"' in shop.log_path.read_text(), WAIT_S, interval=0.2,
             what=f"job done: {shop.log_tail()}")


def test_a_lying_buyers_award_is_rejected_inside_the_window(v2, kubo, shop, buyer_channel, dev_accounts, tmp_path):
    channel, received = buyer_channel
    buyer, maker = dev_accounts["buyer"], dev_accounts["maker"]
    free_before = v2.registry.free_bond(maker.address)
    terms, sealed = post(v2, kubo, buyer, channel, bracket_stl(tmp_path / "big.stl", width=80.0), lie=True)
    heard = quote_for(received, terms, shop)
    awarded = award(v2, kubo, buyer, terms, sealed, heard)
    credit_before = v2.book.credits(buyer.address, ZERO_ADDRESS)
    # the award locked the quote's bond (read at the award's block: the node may have rejected it since)
    assert v2.registry.free_bond(maker.address, awarded.seen[0]) == free_before - MIN_BOND

    rejected = until_status(v2, awarded.order_id, OrderStatus.REJECTED, shop)
    assert rejected.transitions[-1].time <= awarded.reject_window_closes
    assert v2.book.credits(buyer.address, ZERO_ADDRESS) == credit_before + awarded.price  # the escrow back
    assert v2.registry.free_bond(maker.address) == free_before  # the bond released, no penalty
    assert "design geometry disagrees with the spec: volume_mm3" in shop.log_path.read_text()


def test_an_award_whose_envelope_does_not_open_is_rejected(v2, kubo, shop, buyer_channel, dev_accounts, tmp_path):
    """F3: the design key sealed to a key the partner does not hold; the partner rejects instead of shipping."""
    channel, received = buyer_channel
    maker = dev_accounts["maker"]
    free_before = v2.registry.free_bond(maker.address)
    terms, sealed = post(v2, kubo, dev_accounts["buyer"], channel, bracket_stl(tmp_path / "part.stl", depth=30.0),
                         lie=False)
    heard = quote_for(received, terms, shop)
    awarded = award(v2, kubo, dev_accounts["buyer"], terms, sealed, heard, sealed_to=generate_keypair().public_key)
    rejected = until_status(v2, awarded.order_id, OrderStatus.REJECTED, shop)
    assert rejected.transitions[-1].time <= awarded.reject_window_closes
    assert v2.registry.free_bond(maker.address) == free_before
    assert "design does not decrypt or measure: the key envelope is sealed to HPKE key" in shop.log_path.read_text()


def test_a_dispute_is_answered_with_the_matching_arbitration_fee(v2, kubo, shop, buyer_channel, dev_accounts,
                                                                 tmp_path):
    """The buyer disputes a shipment with the panel's cost; the node matches the deposit ([policy] allows any
    fee), which creates the dispute at the arbitrator and records the payment in the order's record chain."""
    channel, received = buyer_channel
    buyer, maker = dev_accounts["buyer"], dev_accounts["maker"]
    terms, sealed = post(v2, kubo, buyer, channel, bracket_stl(tmp_path / "disputed.stl", thickness=6.0), lie=False)
    awarded = award(v2, kubo, buyer, terms, sealed, quote_for(received, terms, shop))
    shipped = until_status(v2, awarded.order_id, OrderStatus.SHIPPED, shop)
    cost = v2.arbitrator.arbitration_cost()
    v2.send(buyer, v2.book.dispute(shipped, keccak(text="evidence"), cost))

    def created() -> bool:
        assert shop.running(), shop.log_tail()
        return v2.book.arbitration(awarded.order_id).created

    wait_for(created, WAIT_S, interval=0.2, what=f"dispute created: {shop.log_tail()}")
    disputed = v2.order(awarded.order_id)
    assert disputed.status == OrderStatus.DISPUTED and disputed.dispute_id is not None
    assert [(r.kind, r.actor) for r in disputed.records] == [(RecordKind.ARBITRATION_FEE_PAID, maker.address)]
    assert v2.book.arbitration(awarded.order_id).buyer_fee == cost


def test_a_killed_node_keeps_its_quote_and_carries_out_the_award(v2, kubo, shop, buyer_channel, dev_accounts,
                                                                 tmp_path):
    """SIGKILL right after the quote: the restarted node finds the quote in its store (not signed again, its
    nonce still the first of the order's) and carries out the award of the quote its previous run signed."""
    channel, received = buyer_channel
    buyer = dev_accounts["buyer"]
    terms, sealed = post(v2, kubo, buyer, channel, bracket_stl(tmp_path / "restart.stl", width=50.0), lie=False)
    heard = quote_for(received, terms, shop)
    shop.kill()
    shop.start().wait_connected()
    awarded = award(v2, kubo, buyer, terms, sealed, heard)
    until_status(v2, awarded.order_id, OrderStatus.SHIPPED, shop)
    with sqlite3.connect(f"file:{shop.home.db_path}?mode=ro", uri=True) as db:
        rows = [json.loads(text) for (text,) in db.execute("SELECT order_json FROM jobs")]
    row = next(r for r in rows if r["order_id"] == str(awarded.order_id))
    assert row["quotes_signed"] == 1 and row["quote"]["nonce"] == str(heard.signed.quote.nonce)
    assert heard.signed.quote.nonce == awarded.order_id << 64 | 1


@pytest.mark.parametrize("running", [False, True], ids=["stopped", "running"])
def test_a_reorg_that_drops_an_order_rewinds_the_node(v2, anvil, kubo, shop, buyer_channel, dev_accounts, tmp_path,
                                                      running: bool):
    """The blocks holding a quoted order leave the chain (anvil reverts them, then mines others), the node stopped
    or running: it finds the fork, rewinds its checkpoint and reads its jobs again; the order it quoted no longer
    exists, and its job is closed. Running, its reads of the vanished blocks (null blocks, anvil's out-of-range
    and resource-not-found answers) are transient: it stays up, and its next cycle's reorg check rewinds."""
    channel, received = buyer_channel
    snapshot = anvil.rpc("evm_snapshot")
    terms, _ = post(v2, kubo, dev_accounts["buyer"], channel,
                    bracket_stl(tmp_path / "gone.stl", width=46.0 if running else 45.0), lie=False)
    quote_for(received, terms, shop)
    if not running:
        assert shop.terminate() == 0
    anvil.rpc("evm_revert", snapshot)
    for _ in range(3):
        anvil.rpc("evm_mine")
    if not running:
        shop.start().wait_connected()

    def rewound() -> bool:
        assert shop.running(), shop.log_tail()
        events = [json.loads(line) for line in shop.log_path.read_text().splitlines() if line.startswith("{")]
        return any(e["event"] == "reorg" for e in events) and any(
            e["event"] == "job_state" and e["order_id"] == str(codec.order_id(terms)) and e["state"] == "closed"
            and "a reorg took its post away" in e["reason"] for e in events)

    wait_for(rewound, WAIT_S, interval=0.2, what=f"reorg found: {shop.log_tail()}")


def test_a_node_waiting_for_confirmations_ships_once(v2, anvil, kubo, v2_deployments_dir, buyer_channel, dev_accounts,
                                                     tmp_path):
    """At confirmations = 1 (blocks mined every 0.3 s) the node reads orders a block deep: after each of its own
    transactions it waits for the safe block to show it, so nothing is sent twice."""
    channel, received = buyer_channel
    buyer, maker2 = dev_accounts["buyer"], dev_accounts["maker2"]
    with Miner(anvil.rpc):
        node = start_shop(v2, anvil, kubo, v2_deployments_dir, dev_accounts, tmp_path / "deep", "maker2",
                          confirmations=1)
        try:
            terms, sealed = post(v2, kubo, buyer, channel, bracket_stl(tmp_path / "deep.stl", width=42.0), lie=False)
            awarded = award(v2, kubo, buyer, terms, sealed, quote_for(received, terms, node, maker2.address))
            until_status(v2, awarded.order_id, OrderStatus.SHIPPED, node)
            time.sleep(1.5)  # a few blocks more: a second ship would be sent (and revert) by now
            log = node.log_path.read_text()
            assert log.count('"action":"ship"') == 2 and '"event":"tx_reverted"' not in log  # tx_sent + tx_mined
            assert '"event":"job_retry"' not in log
        finally:
            node.terminate()


def test_sends_are_pipelined_across_jobs(v2, anvil, kubo, v2_deployments_dir, shop, buyer_channel, dev_accounts,
                                         tmp_path):
    """Three orders awarded in one block (automine off, a block every 4 s): the node's ships are in flight
    together, each job's transaction broadcast without waiting for another's receipt."""
    channel, received = buyer_channel
    chain = v2_chain(anvil, kubo, v2_deployments_dir, tmp_path / "home")
    parties = [cli_buyer_v2(chain, anvil, kubo.api_url, tmp_path / f"buyer-{i}") for i in range(3)]
    orders, quotes = [], []
    for i, party in enumerate(parties):
        prepared = party.prepare(f"pipelined-{i}", design=bracket_stl(tmp_path / f"p{i}.stl", width=30.0 + i),
                                 price=PRICE_CAP, min_bond=MIN_BOND)
        party.buyer.post(prepared)
        channel.announce(OrderAnnouncement(chain.chain_id, chain.book.address, prepared.order_id,
                                           codec.terms_hash(prepared.terms)))
        orders.append(prepared)
    quotes = [quote_for(received, prepared.terms, shop) for prepared in orders]
    trackers = [chain.book.load_order(prepared.order_id, chain.from_block) for prepared in orders]
    anvil.rpc("evm_setAutomine", False)
    try:
        with Miner(anvil.rpc, 4.0):
            awards: list = [None] * 3
            threads = [threading.Thread(target=lambda i=i: awards.__setitem__(i, parties[i].buyer.award(
                trackers[i], quotes[i].signed, parties[i].keypair)[0])) for i in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(WAIT_S)
            for prepared in orders:
                until_status(v2, prepared.order_id, OrderStatus.SHIPPED, shop)
    finally:
        anvil.rpc("evm_setAutomine", True)
    award_blocks = {sent.block_number for sent in awards}
    assert len(award_blocks) == 1, f"the three awards were mined in blocks {award_blocks}"
    ids = {str(prepared.order_id) for prepared in orders}

    def ship_events() -> list[dict]:
        return [e for e in map(json.loads, shop.log_path.read_text().splitlines())
                if e.get("event") in ("tx_sent", "tx_mined") and e.get("action") == "ship" and e["order_id"] in ids]

    wait_for(lambda: sum(e["event"] == "tx_mined" for e in ship_events()) == 3, WAIT_S, interval=0.2,
             what=f"ships seen mined: {shop.log_tail()}")
    # pipelined: ships were in flight together (two or more sent before any was seen mined). Which blocks they
    # land in depends on how fast the machine produces the three jobs, so that is not asserted.
    events = ship_events()
    first_mined = next(i for i, e in enumerate(events) if e["event"] == "tx_mined")
    assert sum(e["event"] == "tx_sent" for e in events[:first_mined]) >= 2, events
    assert min(e["block"] for e in events if e["event"] == "tx_mined") > award_blocks.pop()


def _logged(node: NodeProcess) -> list[dict]:
    text = node.log_path.read_text(errors="replace")
    lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]  # the last one may be half written
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_a_pushed_head_starts_the_cycle_that_quotes(v2, anvil, kubo, v2_deployments_dir, buyer_channel, dev_accounts,
                                                    tmp_path):
    """With ``ws_url`` set and a poll interval of an hour, the cycle that finds a new order and quotes it can only
    have been started by the head anvil pushed for the order's block (or the announcement would wait an hour)."""
    channel, received = buyer_channel
    buyer, partner = dev_accounts["buyer"], dev_accounts["stranger"]
    node = start_shop(v2, anvil, kubo, v2_deployments_dir, dev_accounts, tmp_path / "pushed", "stranger",
                      poll_interval_s=3600.0, extra=f'ws_url = "{anvil.ws_url}"\n', log_level="debug")
    try:
        # subscribed, and the cycles start-up asks for (the first, the one the subscription's wake starts) are
        # over: from here the node waits an hour unless a head is pushed
        wait_for(lambda: any(e["event"] == "push_subscribed" for e in _logged(node))
                 and sum(e["event"] == "cycle" for e in _logged(node)) >= 2, WAIT_S, interval=0.05,
                 what=f"subscribed and idle: {node.log_tail()}")
        idle_cycles = sum(e["event"] == "cycle" for e in _logged(node))
        terms, _ = post(v2, kubo, buyer, channel, bracket_stl(tmp_path / "pushed.stl", width=44.0), lie=False)
        heard = quote_for(received, terms, node, partner.address)
        assert heard.signed.recover_signer(v2.book.domain()) == partner.address
        assert node.running(), node.log_tail()
        assert node.terminate() == 0
    finally:
        node.kill()
    logged = _logged(node)
    names = [e["event"] for e in logged]
    cycles = [i for i, name in enumerate(names) if name == "cycle"]
    signed = [i for i, e in enumerate(logged) if e["event"] == "quote_signed"
              and e["order_id"] == str(codec.order_id(terms))]
    # signed once, in a cycle that began after the node went idle (the wake of a pushed head ended the wait)
    assert len(signed) == 1 and cycles[idle_cycles - 1] < signed[0] < cycles[idle_cycles], names
    assert "push_lost" not in names and "push_unavailable" not in names and "cycle_failed" not in names


def test_an_idle_node_reads_only_the_head_and_a_new_order_costs_few_reads(v2, anvil, kubo, v2_deployments_dir,
                                                                         buyer_channel, dev_accounts, tmp_path):
    """Counted by the provider proxy (no limits) in front of anvil: a cycle with no new block reads the head and
    nothing else (the reorg check compares it with the block the last cycle saw); the order that makes a new
    block is scanned by one eth_getLogs and quoted from its OrderPosted log: no block read by hash (anvil sends
    each log's blockTimestamp), at most the shop's registry entry and the announcement's orderHash as views."""
    channel, received = buyer_channel
    with ProviderProxy(anvil.rpc_url) as proxy:
        node = start_shop(v2, anvil, kubo, v2_deployments_dir, dev_accounts, tmp_path / "counted", "auditor",
                          rpc_url=proxy.url("daemon"))
        try:
            time.sleep(1.0)  # the first cycles read the start-up's blocks
            proxy.engine.reset_counts()
            time.sleep(1.5)  # several idle cycles (0.2 s polls), no block mined
            assert set(proxy.engine.reset_counts().by_method("daemon")) == {"eth_getBlockByNumber"}
            terms, _ = post(v2, kubo, dev_accounts["buyer"], channel, bracket_stl(tmp_path / "counted.stl", width=47.0),
                            lie=False)
            quote_for(received, terms, node, dev_accounts["auditor"].address)
            counted = proxy.engine.reset_counts().by_method("daemon")
        finally:
            node.terminate()
    assert "eth_getBlockByHash" not in counted and counted.get("eth_call", 0) <= 2, counted
    assert counted.get("eth_getLogs", 0) <= 2, counted
