"""The quote channel between real Kubo daemons: three nodes on 127.0.0.1 with no bootstrap peers, peered
with each other; quotes published on one arrive verified on the others, forgeries are dropped, and a
subscriber whose Kubo restarts picks the stream up again."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from pynode.core.errors import IpfsUnavailable
from pynode.dev.kubo import KuboNode
from pynode.documents.order_announcement import OrderAnnouncement
from pynode.documents.quote import SignedQuote, sign_quote
from pynode.ipfs.client import IpfsRequestRejected
from pynode.ipfs.pubsub import KuboPubsub
from pynode.orders.quote_channel import QuoteChannel, VerifiedQuote
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import eip712
from pynode.protocol.v2.types import Quote

pytestmark = pytest.mark.integration

PARTNER = Account.from_key(b"\x05" * 32)
DOMAIN = Domain("fabmesh OrderBook", "2", 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
WAIT_S = 60.0


def quote(nonce: int) -> SignedQuote:
    return sign_quote(PARTNER, DOMAIN, Quote(b"\x01" * 32, PARTNER.address, PARTNER.address, 10**17, 10**16,
                                             86400, int(time.time()) + 3600, nonce))


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[KuboNode]]:
    work: Path = tmp_path_factory.mktemp("quote-kubo")
    started = [KuboNode(work / name / "repo", f"kubo-{name}").start() for name in ("a", "b", "c")]
    try:
        for node in started:
            for other in started:
                if other is not node:
                    node.peer(other)
        yield started
    finally:
        for node in started:
            node.stop()


class Receiver:
    """A channel on one node, consumed by a thread into a queue, as a buyer's watcher would."""

    def __init__(self, node: KuboNode) -> None:
        self.channel = QuoteChannel(KuboPubsub(node.api_url), DOMAIN)
        self.received: queue.Queue[VerifiedQuote] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for verified in self.channel.quotes():
            self.received.put(verified)

    def close(self) -> None:
        self.channel.close()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


def wait_subscribed(publisher: KuboPubsub, topic: str, peers: list[str]) -> None:
    """Until the publisher's Kubo knows every peer as subscribed (gossip of subscriptions takes a moment)."""
    deadline = time.monotonic() + WAIT_S
    while not set(peers) <= set(publisher.peers(topic)):
        assert time.monotonic() < deadline, f"{peers} never subscribed to {topic}"
        time.sleep(0.05)


def test_a_quote_published_on_one_node_arrives_verified_on_the_others(nodes: list[KuboNode]) -> None:
    a, b, c = nodes
    pubsub = KuboPubsub(a.api_url)
    publisher = QuoteChannel(pubsub, DOMAIN)
    receivers = [Receiver(b), Receiver(c)]
    try:
        wait_subscribed(pubsub, publisher.quotes_topic, [b.identity()["ID"], c.identity()["ID"]])
        signed = quote(1)
        digest = publisher.publish_quote(signed)
        for receiver in receivers:
            got = receiver.received.get(timeout=WAIT_S)
            assert got.signed == signed and got.digest == digest == eip712.digest(DOMAIN, signed.quote)
            assert got.peer == a.identity()["ID"]
    finally:
        for receiver in receivers:
            receiver.close()


def test_forged_and_invalid_documents_are_dropped_and_the_next_quote_arrives(nodes: list[KuboNode]) -> None:
    a, b, _ = nodes
    raw = KuboPubsub(a.api_url)
    receiver = Receiver(b)
    try:
        wait_subscribed(raw, receiver.channel.quotes_topic, [b.identity()["ID"]])
        real = quote(2)
        forged = SignedQuote(real.chain_id, real.order_book, real.quote,
                             eip712.sign(Account.from_key(b"\x06" * 32), DOMAIN, real.quote))
        for data in (forged.to_json(), b'{"type": "fabmesh/signed-quote"', real.to_json(), real.to_json()):
            raw.publish(receiver.channel.quotes_topic, data)
        assert receiver.received.get(timeout=WAIT_S).signed == real
        deadline = time.monotonic() + WAIT_S  # the repeat after it is counted as it arrives
        while receiver.channel.stats["duplicate"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.received.empty()
        assert receiver.channel.stats == {"invalid_bad_signature": 1, "invalid_malformed": 1, "delivered": 1,
                                          "duplicate": 1}
    finally:
        receiver.close()


def test_announcements_reach_the_daemons(nodes: list[KuboNode]) -> None:
    a, b, _ = nodes
    pubsub = KuboPubsub(a.api_url)
    buyer = QuoteChannel(pubsub, DOMAIN)
    daemon = QuoteChannel(KuboPubsub(b.api_url), DOMAIN)
    announced = OrderAnnouncement(DOMAIN.chain_id, DOMAIN.verifying_contract, 7, b"\x03" * 32)
    stream = daemon.announcements()
    got: queue.Queue[OrderAnnouncement] = queue.Queue()
    thread = threading.Thread(target=lambda: got.put(next(stream)), daemon=True)
    thread.start()
    wait_subscribed(pubsub, buyer.orders_topic, [b.identity()["ID"]])
    buyer.announce(announced)
    assert got.get(timeout=WAIT_S) == announced
    daemon.close()


def test_a_subscriber_whose_kubo_restarts_receives_again(nodes: list[KuboNode]) -> None:
    a, b, _ = nodes
    pubsub = KuboPubsub(a.api_url)
    publisher = QuoteChannel(pubsub, DOMAIN)
    receiver = Receiver(b)
    try:
        wait_subscribed(pubsub, publisher.quotes_topic, [b.identity()["ID"]])
        # cuts the open subscription (Kubo waits for it until its stop timeout; see docs/protocol.md, Quote
        # transport); same API and swarm ports afterwards, and the peering service reconnects the nodes
        b.restart()
        signed = quote(3)
        deadline = time.monotonic() + WAIT_S
        while receiver.received.empty():  # repeated until it lands, as a daemon repeats open quotes
            assert time.monotonic() < deadline, f"nothing after the restart; stats {dict(receiver.channel.stats)}"
            publisher.publish_quote(signed)
            time.sleep(0.2)
        assert receiver.received.get().signed == signed
        assert receiver.channel.stats["reconnects"] >= 1
    finally:
        receiver.close()


def test_a_kubo_without_pubsub_is_a_one_line_refusal_not_a_retry(tmp_path: Path) -> None:
    node = KuboNode(tmp_path / "repo", "kubo-no-pubsub")
    node.init()
    node.ipfs("config", "--json", "Pubsub.Enabled", "false")
    with node:
        channel = QuoteChannel(KuboPubsub(node.api_url), DOMAIN)
        with pytest.raises(IpfsRequestRejected, match=r"^IPFS pubsub sub refused: ") as refused:
            next(channel.quotes())
        assert "\n" not in str(refused.value) and channel.stats["reconnects"] == 0
        with pytest.raises(IpfsRequestRejected, match=r"^IPFS pubsub pub refused: "):
            channel.publish_quote(quote(4))


def test_an_unreachable_kubo_is_transient(held_port: int) -> None:
    pubsub = KuboPubsub(f"http://127.0.0.1:{held_port}", timeout=2.0)
    unanswered = rf"^IPFS API at http://127.0.0.1:{held_port} did not answer \(pubsub pub\)"
    with pytest.raises(IpfsUnavailable, match=unanswered):
        pubsub.publish("t", b"x")
    with pytest.raises(IpfsUnavailable, match="pubsub sub"):
        pubsub.subscribe("t")


def test_publishes_racing_from_one_daemon_all_succeed(nodes: list[KuboNode]) -> None:
    """Kubo's seqno validator drops the loser of two concurrent publishes from one daemon ('validation
    ignored'), and receivers an older seqno after a newer one; a daemon republishing quotes while it signs new
    ones publishes from several threads. Without the fix, 60 of these 320 publishes failed."""
    a, b, _ = nodes
    topic, senders, each = "fabmesh-test/seqno-race", 8, 40
    publisher = KuboPubsub(a.api_url)
    with KuboPubsub(b.api_url).subscribe(topic) as subscription:
        wait_subscribed(publisher, topic, [b.identity()["ID"]])
        errors: list[Exception] = []

        def send(sender: int) -> None:
            pubsub = KuboPubsub(a.api_url)
            for n in range(each):
                try:
                    pubsub.publish(topic, f"{sender}-{n}".encode())
                except Exception as exc:  # noqa: BLE001 - the test reports every failed publish
                    errors.append(exc)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        expected = {f"{i}-{n}".encode() for i in range(senders) for n in range(each)}
        received: set[bytes] = set()
        reader = threading.Thread(target=lambda: received.update(m.data for m in subscription), daemon=True)
        reader.start()
        deadline = time.monotonic() + WAIT_S
        while received != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        # pubsub stays best effort (a copy overtaken on another path is dropped by the receiver's seqno check,
        # which is why the channel republishes what is open): every publish succeeded, and each sender got through
        assert received <= expected and {m.split(b"-")[0] for m in received} == {b"%d" % i for i in range(senders)}
