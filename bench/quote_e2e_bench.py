"""Quote latency end to end on protocol v2: an order's post block on chain → the verified quote at the buyer.

Real processes: anvil (automine), two Kubo daemons peered on 127.0.0.1 (the shop's, the buyer's), v2
deployed by pynode.dev.deploy.deploy_v2, a vetted shop running `fabmesh node run` (node.toml ``protocol =
2``, the simulated shop floor, ``--poll`` seconds between cycles, confirmations 0). The buyer (BuyerV2)
seals and pins a design, posts the order, announces it on the quote channel as the watcher does, and its
QuoteChannel (strict parse, domain, ECDSA recovery) receives the daemon's quote; the order is then
cancelled, so the open set stays as small as on a shop that is awarded its quotes.

``quote_latency`` = the buyer's channel delivering the verified quote for the order − the moment a
``newHeads`` WebSocket subscriber on anvil was pushed the post's block. By default (``--push``) the daemon's
node.toml sets ``ws_url`` to anvil's WebSocket, and the head pushed for the post's block starts its next
cycle at once (the poll stays the fallback). With ``--no-push`` it finds the order at its next poll (the scan
of the book's events or the announcement queued meanwhile): the poll interval is part of the figure. Orders
are posted one at a time, ``--warmup`` first ones not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pynode"))

from bench.common import record  # noqa: E402 - the checkout goes on sys.path first
from harness import NodeProcess, write_config  # noqa: E402 - so does tests/pynode
from pynode.dev.accounts import dev_accounts  # noqa: E402 - after the sys.path lines above
from pynode.dev.anvil import Anvil  # noqa: E402 - after the sys.path lines above
from pynode.dev.deploy import deploy_v2  # noqa: E402 - after the sys.path lines above
from pynode.dev.kubo import KuboNode  # noqa: E402 - after the sys.path lines above
from pynode.documents.order_announcement import OrderAnnouncement  # noqa: E402 - after the sys.path lines above
from pynode.ipfs.pubsub import KuboPubsub  # noqa: E402 - after the sys.path lines above
from pynode.orders.quote_channel import QuoteChannel  # noqa: E402 - after the sys.path lines above
from pynode.protocol.v2.codec import terms_hash  # noqa: E402 - after the sys.path lines above
from v2_parties import cli_buyer_v2, daemon_shop, v2_chain  # noqa: E402 - after the sys.path lines above

TIMEOUT_S = 30.0
QUOTE_TOML = """
protocol = 2
[quote]
validity_s = 900
margin_bps = 1000
[quote.tokens."0x0000000000000000000000000000000000000000"]
material_per_part = { al-6061 = 1000000000000 }
machine_rate_per_hour = 100000000000000
[quote.processes.cnc-milling]
setup_s = 60
part_s = 600
"""


class Arrivals:
    """First time each key was seen, from a thread; ``wait`` for one key."""

    def __init__(self) -> None:
        self.at: dict[object, float] = {}
        self.cond = threading.Condition()

    def saw(self, key: object) -> None:
        now = time.perf_counter()
        with self.cond:
            self.at.setdefault(key, now)
            self.cond.notify_all()

    def wait(self, key: object, what: str) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: key in self.at, timeout=TIMEOUT_S):
                raise RuntimeError(f"no {what} within {TIMEOUT_S} s")
            return self.at[key]


def subscribe_heads(rpc_url: str, heads: Arrivals, stop: threading.Event) -> threading.Thread:
    """A ``newHeads`` subscriber on anvil's WebSocket (same port as its HTTP): block number -> first push."""
    ws = ws_connect(rpc_url.replace("http://", "ws://"), open_timeout=10)
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}))
    if "result" not in json.loads(ws.recv(timeout=10)):
        raise RuntimeError("anvil refused the newHeads subscription")

    def run() -> None:
        with ws:
            while not stop.is_set():
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    return  # anvil stopped
                heads.saw(int(message["params"]["result"]["number"], 16))

    thread = threading.Thread(target=run, name="heads", daemon=True)
    thread.start()
    return thread


def cuts(ms: list[float]) -> dict:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50_ms": round(q[49], 1), "p99_ms": round(q[98], 1), "mean_ms": round(statistics.fmean(ms), 1),
            "max_ms": round(max(ms), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--poll", type=float, default=0.1, help="the daemon's poll interval, seconds")
    parser.add_argument("--push", action=argparse.BooleanOptionalAction, default=True,
                        help="the daemon subscribes to anvil's pushed heads (ws_url) and wakes on each; "
                             "--no-push: it polls only")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="quote-e2e-") as name:
        tmp = Path(name)
        anvil = Anvil(tmp / "anvil").start()
        kubos = [KuboNode(tmp / f"kubo-{who}", f"kubo-{who}").start() for who in ("shop", "buyer")]
        node: NodeProcess | None = None
        stop = threading.Event()
        subscriber: threading.Thread | None = None
        try:
            shop_kubo, buyer_kubo = kubos
            shop_kubo.peer(buyer_kubo)
            deployments = tmp / "deployments"
            deploy_v2(anvil.rpc_url, anvil.chain_id, deployments)
            chain = v2_chain(anvil, buyer_kubo, deployments, tmp / "home")
            home = daemon_shop(chain, anvil, dev_accounts()["certifier"], tmp / "shop", "shop")
            write_config(home, rpc_urls=[anvil.rpc_url], ipfs_api=shop_kubo.api_url, deployments=deployments,
                         processes=["cnc-milling"], materials=["al-6061"], confirmations=0,
                         poll_interval_s=args.poll,
                         extra=(f'ws_url = "{anvil.ws_url}"\n' if args.push else "") + QUOTE_TOML)
            node = NodeProcess(home).start()
            node.wait_connected()
            party = cli_buyer_v2(chain, anvil, buyer_kubo.api_url, tmp)
            channel = QuoteChannel(KuboPubsub(buyer_kubo.api_url), chain.book.domain())
            quotes, heads = Arrivals(), Arrivals()
            threading.Thread(target=lambda: [quotes.saw(bytes(v.signed.quote.terms_hash)) for v in channel.quotes()],
                             name="quotes", daemon=True).start()
            subscriber = subscribe_heads(anvil.rpc_url, heads, stop)
            latencies = []
            for i in range(args.orders + args.warmup):
                posted = party.buyer.post(party.prepare(f"order-{i}"))
                block = posted.sent.block_number
                key = terms_hash(posted.order.terms)
                channel.announce(OrderAnnouncement(chain.chain_id, chain.book.address, posted.order_id, key))
                arrived = quotes.wait(key, f"quote for order {i}: {node.log_tail()}")
                on_chain = heads.wait(block, f"head {block}")
                if i >= args.warmup:
                    latencies.append(1000 * (arrived - on_chain))
                party.buyer.cancel(chain.book.load_order(posted.order_id, chain.from_block))
            channel.close()
        finally:
            stop.set()
            if subscriber is not None:
                subscriber.join(timeout=5)
            if node is not None:
                node.terminate()
            for kubo in kubos:
                kubo.stop()
            anvil.stop()
    figures = cuts(latencies) | {
        "orders": len(latencies), "warmup": args.warmup, "poll_interval_s": args.poll, "push": args.push,
        "load_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "definition": "quote_latency = the buyer's QuoteChannel holding the verified quote for the order - a "
                      "newHeads WebSocket subscriber on anvil pushed the post's block",
        "setup": "anvil automine, 2 Kubo peered, `fabmesh node run` protocol 2 (confirmations 0, "
                 + ("woken by anvil's pushed heads, polling as the fallback" if args.push else "polling only")
                 + "), BuyerV2 posts, announces, cancels after the quote; one at a time",
    }
    path = record({"quote_latency_p50_ms": figures["p50_ms"], "quote_latency_p99_ms": figures["p99_ms"],
                   "quote_latency": figures})
    print(f"quote latency p50 {figures['p50_ms']} ms p99 {figures['p99_ms']} ms over {len(latencies)} orders "
          f"(poll {args.poll} s, push {'on' if args.push else 'off'}) -> {path}")


if __name__ == "__main__":
    main()
