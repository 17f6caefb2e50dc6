"""`fabmesh node watch-orders -c watch.toml` with ``protocol = 2`` on a real anvil and two real Kubo nodes: three
vetted partners publish really signed quotes for one order on the deployment's pubsub channel from the other
Kubo; the watcher awards the one its policy picks (mode best: the lowest allowed price) with a key envelope the
winner opens and decrypts the design with, and logs every rejected quote with its reason (a cheaper quote from a
partner outside the allow-list: "not allowed"; the dearer allowed one: "outbid")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import Miner, Repeating
from pynode.crypto.envelope import OrderContext
from pynode.crypto.errors import WrongRecipient
from pynode.dev.kubo import KuboNode
from pynode.ipfs.cid import digest_to_cid
from pynode.ipfs.pubsub import KuboPubsub
from pynode.orders.quote_channel import QuoteChannel
from pynode.protocol.v2.types import OrderStatus
from v2_parties import cli_buyer_v2, v2_chain, vetted_shop

pytestmark = pytest.mark.integration

WAIT_S = 90.0


@pytest.fixture
def shops_kubo(tmp_path, kubo):
    """A second Kubo, peered with the watcher's: the partners' side of the channel."""
    node = KuboNode(tmp_path / "shops-kubo", "kubo-shops").start()
    try:
        node.peer(kubo)
        yield node
    finally:
        node.stop()


def read_events(path: Path) -> list[dict]:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]


def until(watcher: subprocess.Popen, log_path: Path, done: Callable[[list[dict]], bool], shops: Repeating) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done(read_events(log_path)):
        assert watcher.poll() is None, log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{shops.failures()}\n" + log_path.read_text()[-3000:]
        time.sleep(0.2)


def test_the_v2_watcher_awards_the_best_allowed_quote_off_the_channel(anvil, kubo, shops_kubo, dev_accounts,
                                                                      v2_deployments_dir, tmp_path):
    chain = v2_chain(anvil, kubo, v2_deployments_dir, tmp_path / "home")
    certifier = dev_accounts["certifier"]
    cheap_outsider, best, dearer = (vetted_shop(chain, anvil, certifier) for _ in range(3))
    party = cli_buyer_v2(chain, anvil, kubo.api_url, tmp_path)
    posted = party.buyer.post(party.prepare("watched"))
    terms = posted.order.terms
    quotes = [cheap_outsider.quote(chain, terms, 7 * 10**16), best.quote(chain, terms, 8 * 10**16),
              dearer.quote(chain, terms, 9 * 10**16)]

    config = tmp_path / "watch.toml"
    config.write_text(f'protocol = 2\n[watch]\nannounce_s = 1\n[award]\nmode = "best"\nwait_s = 2\n'
                      f'award_margin_s = 5\nallow = ["{best.address}", "{dearer.address}"]\n')
    env = {**os.environ, "FABMESH_HOME": str(party.home), "FABMESH_RPC_URL": anvil.rpc_url,
           "FABMESH_IPFS_API": kubo.api_url, "FABMESH_DEPLOYMENTS": str(v2_deployments_dir),
           "FABMESH_CONFIRMATIONS": "0"}
    log_path = tmp_path / "watch.log"
    fabmesh = str(Path(sys.executable).parent / "fabmesh")
    argv = [fabmesh, "--account", "buyer", "--password-file", str(party.password_file), "node", "watch-orders",
            "-c", str(config), "--interval", "0.3"]
    channel = QuoteChannel(KuboPubsub(shops_kubo.api_url), chain.book.domain())
    with open(log_path, "w") as log:
        watcher = subprocess.Popen(argv, env=env, stderr=log, stdout=subprocess.DEVNULL)
        try:
            # the shops repeat their quotes, as daemons do: pubsub keeps no history for a late subscriber
            with Repeating(lambda: [channel.publish_quote(q) for q in quotes], 0.5, "shops") as shops:
                # no block, no chain time: the window stays open until every quote is in, then blocks close it
                until(watcher, log_path, lambda events: len({e["partner"] for e in events
                                                             if e["event"] == "quote_received"}) == 3, shops)
                with Miner(anvil.rpc, 0.5):
                    until(watcher, log_path, lambda events: any(e["event"] == "awarded" for e in events), shops)
        finally:
            watcher.send_signal(signal.SIGTERM)
            code = watcher.wait(timeout=60)
    assert code == 0, log_path.read_text()[-3000:]
    events = read_events(log_path)

    awarded = [e for e in events if e["event"] == "awarded"]
    assert [(e["order_id"], e["partner"], e["price"]) for e in awarded] == [
        (posted.order_id, best.address, str(8 * 10**16))]
    rejected = {(e["partner"], e["reason"]) for e in events if e["event"] == "quote_rejected"}
    assert (cheap_outsider.address, "not allowed") in rejected and (dearer.address, "outbid") in rejected
    assert not any(partner == best.address for partner, _ in rejected)
    assert [e["order_id"] for e in events if e["event"] == "watch_retry"] == []

    # on chain: awarded to the best quote at its price, the envelope the winner opens and decrypts with
    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    assert tracker.status == OrderStatus.AWARDED
    assert (tracker.partner, tracker.price) == (best.address, 8 * 10**16)
    context = OrderContext(chain_id=chain.chain_id, contract=chain.book.address, order_id=posted.order_id,
                           recipient=best.address, design_sha256=bytes(tracker.docs.design_sha256))
    vault = party.buyer.vault
    key = vault.content_key_from_envelope(digest_to_cid(tracker.key_envelope_cid), best.keypair, context)
    out = tmp_path / "opened.stl"
    vault.open(digest_to_cid(bytes(tracker.docs.design_cid)), key, out, bytes(tracker.docs.design_sha256))
    assert out.read_bytes() == (tmp_path / "design-watched.stl").read_bytes()
    with pytest.raises(WrongRecipient):  # the loser's key opens nothing
        vault.content_key_from_envelope(digest_to_cid(tracker.key_envelope_cid), dearer.keypair, context)
