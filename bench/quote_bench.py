"""Quote transport: publish → verified receipt between two Kubo daemons, libp2p pubsub (the quote channel)
against Kubo's libp2p stream forwarding (``ipfs p2p``), side by side in one run.

Two fresh Kubo nodes on 127.0.0.1 (no bootstrap peers, peered with each other; pubsub and
``Experimental.Libp2pStreamMounting`` on). Node A is a partner's daemon, node B a buyer's watcher. Every
figure ends when the receiver holds a *verified* quote (strict parse, domain, ECDSA recovery, dedupe:
``QuoteChannel.accept_quote``) and starts when the sender begins handing the document to its Kubo:

* ``pubsub``: A publishes pre-signed quotes on the deployment's quotes topic (HTTP ``pubsub/pub``), B's
  channel reads them from its ``pubsub/sub`` stream.
* ``rfq_round_trip``: B announces an order (``pubsub/pub`` on the orders topic); A's channel receives it,
  signs a quote for it and publishes it; B receives the verified quote. The off-chain part of "order on
  chain → quote at the buyer" (the daemon's read of the order and block times are not in it).
* ``p2p_stream``: one TCP connection from A through ``ipfs p2p forward`` to B's ``ipfs p2p listen`` target,
  a document per line: the best case of that transport (one open stream per buyer–daemon pair).

Messages are sent ``--gap-ms`` apart, so the figures are latencies, not queueing; ``--warmup`` messages
first (mesh and stream set-up) are not counted.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import record
from pynode.dev.kubo import KuboNode
from pynode.documents.order_announcement import OrderAnnouncement
from pynode.documents.quote import SignedQuote, sign_quote
from pynode.ipfs.pubsub import KuboPubsub
from pynode.orders.quote_channel import QuoteChannel
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2.types import Quote

PARTNER = Account.from_key(b"\x05" * 32)
DOMAIN = Domain("fabmesh OrderBook", "2", 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
PROTOCOL = "/x/fabmesh-quotes"
TIMEOUT_S = 30.0
T = TypeVar("T")


def make_quote(nonce: int, terms_hash: bytes = b"\x01" * 32) -> SignedQuote:
    return sign_quote(PARTNER, DOMAIN, Quote(terms_hash, PARTNER.address, PARTNER.address, 10**17, 10**16, 86400,
                                             int(time.time()) + 3600, nonce))


def summary(latencies_s: list[float], sent: int) -> dict:
    ms = [1000 * s for s in latencies_s]
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {"messages": sent, "received": len(ms), "lost": sent - len(ms), "p50_ms": round(cuts[49], 2),
            "p99_ms": round(cuts[98], 2), "mean_ms": round(statistics.fmean(ms), 2), "max_ms": round(max(ms), 2)}


class Timed:
    """Send times and first verified receipt times by key; ``wait`` until every sent key arrived."""

    def __init__(self) -> None:
        self.sent: dict[int, float] = {}
        self.received: dict[int, float] = {}
        self.done = threading.Condition()

    def arrive(self, key: int) -> None:
        now = time.perf_counter()
        with self.done:
            self.received.setdefault(key, now)
            self.done.notify_all()

    def wait(self) -> None:
        with self.done:
            self.done.wait_for(lambda: self.sent.keys() <= self.received.keys(), timeout=TIMEOUT_S)

    def latencies(self, skip: int) -> list[float]:
        keys = list(self.sent)[skip:]
        return [self.received[k] - self.sent[k] for k in keys if k in self.received]


def consume(stream: Iterable[T], on_item: Callable[[T], Any]) -> None:
    """Hands every item of ``stream`` to ``on_item`` on a thread of its own (a channel's consumer)."""
    def run() -> None:
        for item in stream:
            on_item(item)

    threading.Thread(target=run, daemon=True).start()


def wait_subscribed(pubsub: KuboPubsub, topic: str, peer: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while peer not in pubsub.peers(topic):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{peer} never subscribed to {topic}")
        time.sleep(0.05)


def run_sends(timed: Timed, keys: list[int], send: Callable[[int], Any], gap_s: float) -> None:
    for key in keys:
        timed.sent[key] = time.perf_counter()
        send(key)
        time.sleep(gap_s)
    timed.wait()


def pubsub_one_way(a: KuboNode, b: KuboNode, count: int, warmup: int, gap_s: float) -> dict:
    quotes = {n: make_quote(n) for n in range(count + warmup)}
    publisher, receiver = QuoteChannel(KuboPubsub(a.api_url), DOMAIN), QuoteChannel(KuboPubsub(b.api_url), DOMAIN)
    timed = Timed()
    consume(receiver.quotes(), lambda verified: timed.arrive(verified.signed.quote.nonce))
    wait_subscribed(KuboPubsub(a.api_url), publisher.quotes_topic, b.identity()["ID"])
    run_sends(timed, list(quotes), lambda n: publisher.publish_quote(quotes[n]), gap_s)
    receiver.close()
    return summary(timed.latencies(warmup), count) | {"delivered": receiver.stats["delivered"]}


def rfq_round_trip(a: KuboNode, b: KuboNode, count: int, warmup: int, gap_s: float) -> dict:
    daemon, buyer = QuoteChannel(KuboPubsub(a.api_url), DOMAIN), QuoteChannel(KuboPubsub(b.api_url), DOMAIN)
    signing: list[float] = []

    def quote_it(announcement: OrderAnnouncement) -> None:
        started = time.perf_counter()
        signed = make_quote(announcement.order_id, announcement.terms_hash)
        signing.append(time.perf_counter() - started)
        daemon.publish_quote(signed)

    timed = Timed()
    consume(daemon.announcements(), quote_it)
    consume(buyer.quotes(), lambda verified: timed.arrive(verified.signed.quote.nonce))
    wait_subscribed(KuboPubsub(b.api_url), buyer.orders_topic, a.identity()["ID"])
    wait_subscribed(KuboPubsub(a.api_url), daemon.quotes_topic, b.identity()["ID"])
    def announce(n: int) -> None:
        buyer.announce(OrderAnnouncement(DOMAIN.chain_id, DOMAIN.verifying_contract, n, n.to_bytes(32, "big")))

    run_sends(timed, list(range(10**6, 10**6 + count + warmup)), announce, gap_s)
    daemon.close()
    buyer.close()
    return summary(timed.latencies(warmup), count) | {
        "daemon_sign_p50_ms": round(1000 * statistics.median(signing[warmup:]), 2)}


def p2p_stream(a: KuboNode, b: KuboNode, count: int, warmup: int, gap_s: float) -> dict:
    quotes = {n: make_quote(n) for n in range(2 * 10**6, 2 * 10**6 + count + warmup)}
    receiver = QuoteChannel(KuboPubsub(b.api_url), DOMAIN)  # its strict receipt only: nothing subscribed
    timed = Timed()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        connection, _ = server.accept()
        for line in connection.makefile("rb"):
            verified = receiver.accept_quote(line.rstrip(b"\n"))
            if verified is not None:
                timed.arrive(verified.signed.quote.nonce)

    threading.Thread(target=serve, daemon=True).start()
    b.ipfs("p2p", "listen", PROTOCOL, f"/ip4/127.0.0.1/tcp/{server.getsockname()[1]}")
    a.ipfs("p2p", "forward", PROTOCOL, "/ip4/127.0.0.1/tcp/0", f"/p2p/{b.identity()['ID']}")
    listen = a.ipfs("p2p", "ls").decode().split()[1]  # /ip4/127.0.0.1/tcp/<port Kubo bound>
    sender = socket.create_connection(("127.0.0.1", int(listen.split("/")[4])))
    sender.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    run_sends(timed, list(quotes), lambda n: sender.sendall(quotes[n].to_json() + b"\n"), gap_s)
    sender.close()
    server.close()
    return summary(timed.latencies(warmup), count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    args = parser.parse_args()
    gap_s = args.gap_ms / 1000
    with tempfile.TemporaryDirectory(prefix="quote-bench-") as tmp:
        nodes = []
        for name in ("daemon", "buyer"):
            node = KuboNode(Path(tmp) / name / "repo", f"kubo-{name}")
            node.init()
            node.ipfs("config", "--json", "Experimental.Libp2pStreamMounting", "true")
            nodes.append(node.start())
        a, b = nodes
        try:
            a.peer(b)
            b.peer(a)
            version = a.ipfs("version", "--number").decode().strip()
            results: dict[str, Any] = {"pubsub": pubsub_one_way(a, b, args.messages, args.warmup, gap_s),
                       "rfq_round_trip": rfq_round_trip(a, b, args.messages, args.warmup, gap_s),
                       "p2p_stream": p2p_stream(a, b, args.messages, args.warmup, gap_s)}
        finally:
            for node in nodes:
                node.stop()
    results |= {"kubo": version, "gap_ms": args.gap_ms, "warmup": args.warmup,
                "definition": "publish -> verified receipt (strict parse, domain, ECDSA recovery, dedupe) between "
                              "two Kubo daemons on 127.0.0.1; rfq_round_trip = announcement published -> the "
                              "daemon's signed quote verified at the buyer"}
    path = record({"quote_channel": results, "quote_channel_p50_ms": results["pubsub"]["p50_ms"],
                   "quote_rfq_round_trip_p50_ms": results["rfq_round_trip"]["p50_ms"]})
    for name in ("pubsub", "rfq_round_trip", "p2p_stream"):
        print(f"{name:15} p50 {results[name]['p50_ms']:7.2f} ms  p99 {results[name]['p99_ms']:7.2f} ms  "
              f"lost {results[name]['lost']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
