"""Event-to-claim latency of `fabmesh node run` under a stream of orders.

A real anvil (automine: a block the moment a transaction arrives, so block time
is not part of the figure), the contracts deployed by scripts/deploy.py, one
vetted partner running the daemon as a child process (confirmations 0, poll
interval ``--poll``), and a buyer posting ``--orders`` matching orders at
``--rate`` per second. A watcher thread polls ``eth_blockNumber`` every 2 ms and
notes when each block first exists.

* ``claim_overhead_ms`` = the daemon's ``tx_sent`` log time of the claim minus the
  moment the block holding the ``OrderPosted`` event existed: everything the
  daemon adds (waiting for its next poll, eth_getLogs, decode, the store
  transaction, re-reading the order, policy, simulation, gas estimate, signing,
  broadcast). With confirmations N and block time T, the event becomes
  actionable N*T later; that part is the chain's, not the daemon's.
* ``claim_mined_ms``: the same start to the block holding the claim (adds mining).

Both modes run in one run, one after the other on the same chain, each with its own partner: polling only
(``claim``), and pushed heads (``claim.push_mode``: ``ws_url`` on anvil's WebSocket, the same poll interval).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "pynode"))  # the node harness of the tests

from bench.common import record
from harness import NodeHome, NodeProcess, make_partner, wait_for, write_config
from pynode.chain.client import Chain
from pynode.chain.orders import make_docs, make_spec, make_terms
from pynode.core.settings import Settings
from pynode.deploy.deployer import DeployPlan
from pynode.dev.anvil import DEFAULT_MNEMONIC, Anvil
from pynode.dev.deploy import deploy


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class BlockClock:
    """Wall time at which each block number was first seen."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = -1
        while not self._stop.is_set():
            number = self.w3.eth.block_number
            now = time.time()
            for n in range(last + 1, number + 1):
                self.seen.setdefault(n, now)
            last = max(last, number)
            time.sleep(0.002)

    def __enter__(self) -> BlockClock:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def run_mode(chain: Chain, anvil: Anvil, home: NodeHome, buyer: LocalAccount, args: argparse.Namespace,
             tmp: Path, ws_url: str | None) -> dict:
    """One daemon (pushed heads from ``ws_url``, or polling only) claiming a stream of ``--orders`` orders."""
    extra = f'ws_url = "{ws_url}"' if ws_url else ""
    write_config(home, rpc_urls=[anvil.rpc_url], ipfs_api="http://127.0.0.1:9", deployments=tmp / "deployments",
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=0,
                 poll_interval_s=args.poll, max_concurrent_jobs=10_000, extra=extra)
    node = NodeProcess(home, log_level="debug").start()
    node.wait_connected()
    if ws_url:
        wait_for(lambda: '"push_subscribed"' in node.log_path.read_text(), timeout=30, what="push subscribed")
    rng = random.Random(7)
    posted_block: dict[int, int] = {}
    with BlockClock(chain.w3) as clock:
        now = chain.w3.eth.get_block("latest")["timestamp"]
        for i in range(args.orders):
            docs = make_docs(i)
            spec = make_spec(docs)
            terms = make_terms(buyer.address, spec, price=10**15, claim_bond=10**14,
                               claim_deadline=now + 86400, delivery_deadline=now + 7 * 86400)
            sent = chain.send(buyer, chain.book.post(terms, spec, docs))
            posted_block[chain.book.order_count()] = sent.block_number
            time.sleep(rng.expovariate(args.rate))
        deadline = time.monotonic() + 60
        claims: dict[int, tuple[float, str]] = {}
        while time.monotonic() < deadline and len(claims) < args.orders:
            time.sleep(0.5)
            for line in node.log_path.read_text().splitlines():
                if '"tx_sent"' in line and '"action":"claim"' in line:
                    event = json.loads(line)
                    if event["order_id"] in posted_block:
                        claims[event["order_id"]] = (event["ts"], event["tx"])
        mined = {oid: chain.w3.eth.get_transaction_receipt(tx)["blockNumber"] for oid, (_, tx) in claims.items()}
        time.sleep(0.1)
    node.terminate()
    lines = node.log_path.read_text().splitlines()
    cycles = [json.loads(line) for line in lines if '"event":"cycle"' in line]
    overhead = [1000 * (ts - clock.seen[posted_block[oid]]) for oid, (ts, _) in claims.items()]
    mined_ms = [1000 * (clock.seen[mined[oid]] - clock.seen[posted_block[oid]]) for oid in claims]
    return {
        "orders": args.orders, "claimed": len(claims), "push": ws_url is not None,
        "push_lost": sum('"push_lost"' in line for line in lines),
        "overhead_p50_ms": round(percentile(overhead, 50), 1), "overhead_p99_ms": round(percentile(overhead, 99), 1),
        "overhead_mean_ms": round(statistics.fmean(overhead), 1),
        "mined_p50_ms": round(percentile(mined_ms, 50), 1), "mined_p99_ms": round(percentile(mined_ms, 99), 1),
        "cycle_scan_p50_ms": round(percentile([c["scan_ms"] for c in cycles], 50), 1),
        "cycle_jobs_p50_ms": round(percentile([c["jobs_ms"] for c in cycles if c["stepped"]], 50), 1),
        "cycle_jobs_p99_ms": round(percentile([c["jobs_ms"] for c in cycles if c["stepped"]], 99), 1),
        "cycles": len(cycles),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--rate", type=float, default=4.0, help="orders posted per second (Poisson stream)")
    parser.add_argument("--poll", type=float, default=0.1, help="daemon poll_interval_s (both modes)")
    args = parser.parse_args()

    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    accounts = [Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(6)]
    buyer, certifier = accounts[1], accounts[5]
    load_before = os.getloadavg()[0]  # the machine is shared: the figures read against its load
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with Anvil(tmp) as anvil:
            deploy(anvil.rpc_url, anvil.chain_id, tmp / "deployments", DeployPlan(certifiers=(certifier.address,)))
            settings = Settings(rpc_url=anvil.rpc_url, deployments=tmp / "deployments", home=tmp / "home",
                                confirmations=0)
            chain = Chain.connect(settings)
            # one partner per mode on one chain, one after the other: the same machine, load and contracts
            modes = {}
            for mode, maker, ws_url in (("poll", accounts[2], None), ("push", accounts[3], anvil.ws_url)):
                home = make_partner(chain, certifier, maker, tmp / mode, mode, processes=["CNC_MILLING"],
                                    materials=["AL_6061"])
                modes[mode] = run_mode(chain, anvil, home, buyer, args, tmp, ws_url)
    poll, push = modes["poll"], modes["push"]
    result = {
        "rate_per_s": args.rate, "poll_interval_s": args.poll, "confirmations": 0,
        "mining": "anvil automine (block time excluded)", **poll, "push_mode": push,
        "load_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "definition": "claim_overhead = daemon tx_sent(claim) time - time the OrderPosted block first existed; "
                      "includes the wait for the next poll (poll) or the pushed head (push: eth_subscribe "
                      "newHeads over anvil's WebSocket, poll interval kept as the safety net); block time and "
                      "confirmation depth excluded",
    }
    path = record({"claim": result, "claim_overhead_p50_ms": poll["overhead_p50_ms"],
                   "claim_overhead_p99_ms": poll["overhead_p99_ms"],
                   "claim_push_overhead_p50_ms": push["overhead_p50_ms"],
                   "claim_push_overhead_p99_ms": push["overhead_p99_ms"]})
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    short = {mode: r["claimed"] for mode, r in modes.items() if r["claimed"] < args.orders}
    if short:
        raise SystemExit(f"not every order claimed: {short} of {args.orders}")


if __name__ == "__main__":
    main()
