"""RPC requests per completed order through a hosted provider's rules: what a metered provider bills.

The provider-rules proxy of the test suite (tests/pynode/infra/provider_proxy.py:
2K-block eth_getLogs ranges, a 10K result cap, 2 % random HTTP 429 with
Retry-After, a token bucket of 40 calls refilled at 20/s, anvil_*/evm_* refused)
in front of a real anvil with 1 s blocks, ``--blocks`` blocks past the
deployment (mined on anvil directly first).

Protocol 2, the default protocol (tests/pynode/infra/provider_run_v2.py): through the proxy `partner register`
and `partner vet`, `fabmesh node run` with ``protocol = 2`` quoting on the channel (poll interval ``--poll``),
`fabmesh node watch-orders` with a v2 watch.toml awarding the quote and confirming (same interval), ``--orders``
orders posted with the CLI, until every order is COMPLETED (v2 pays on confirm):

* ``rpc_requests_per_order`` (the headline; the run's figures under ``rpc``) = JSON-RPC calls the daemon, the
  watcher and the buyer/maker/certifier CLI commands sent through the proxy / completed orders (429-refused
  calls included: a client's retry is billed again);
* ``retries_seen_429`` = HTTP 429 replies the proxy served them (each one retried);
* ``time_per_order_s`` = first post to last order completed / orders.

Protocol 1 beside it in the same run (``--protocol both``, the default; tests/pynode/infra/provider_run.py): the
same chain, proxy and clients on the v1 stack (`fabmesh node run` claiming, `fabmesh node watch-orders` awarding
the claim, orders confirmed with the CLI), until every order is paid out (the daemon's withdrawPayment):
``rpc_v1_requests_per_order`` (figures under ``rpc_v1``). On both, ``reads`` are what `check`, `partner list`,
`order list`, `order show`, `withdraw`, `audit all` and `export epcis` sent afterwards (not in the per-order
figure).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pynode"))
sys.path.insert(0, str(ROOT / "tests" / "pynode" / "infra"))

from bench.common import record  # noqa: E402 - the checkout goes on sys.path first
from provider_run import HOSTED, ProviderRun, figures  # noqa: E402 - so do tests/pynode and its infra/
from provider_run_v2 import ProviderRunV2  # noqa: E402 - so does tests/pynode/infra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=20_000, help="blocks past the deployment block")
    parser.add_argument("--poll", type=float, default=2.0, help="daemon and watcher poll interval, seconds")
    parser.add_argument("--protocol", choices=("1", "2", "both"), default="both",
                        help="2: the headline rpc_requests_per_order; 1: rpc_v1_requests_per_order; both (v1 first)")
    args = parser.parse_args()
    rules = HOSTED
    common = {
        "provider_rules": {"max_block_range": rules.max_block_range, "max_results": rules.max_results,
                           "random_429_rate": rules.random_429_rate, "retry_after_s": rules.retry_after_s,
                           "bucket_size": rules.bucket_size, "bucket_refill_per_s": rules.bucket_refill_per_s,
                           "refused_prefixes": list(rules.refused_prefixes), "seed": rules.seed},
        "poll_interval_s": args.poll,
        "setup": f"anvil, 1 s blocks, confirmations 1, {args.blocks} blocks past the deployment; daemon and "
                 f"watcher poll every {args.poll} s; simulated production 0.5 s",
    }
    if args.protocol in ("1", "both"):
        values = figures(measure(ProviderRun, args)) | common | {
            "definition": "rpc_v1_requests_per_order = JSON-RPC calls sent through the provider-rules proxy by the "
                          "v1 daemon, the v1 order watcher and the lifecycle CLI commands (register, vet, post, "
                          "confirm) / completed orders; 429-refused calls included"}
        report("v1", record({"rpc_v1_requests_per_order": values["rpc_requests_per_order"], "rpc_v1": values}),
               values)
    if args.protocol in ("2", "both"):
        values = figures(measure(ProviderRunV2, args)) | common | {
            "definition": "rpc_requests_per_order = JSON-RPC calls sent through the provider-rules proxy by the "
                          "v2 daemon (quoting), the v2 order watcher (announce, award, confirm) and the lifecycle "
                          "CLI commands (register, vet, post) / orders COMPLETED; 429-refused calls included"}
        report("v2", record({"rpc_requests_per_order": values["rpc_requests_per_order"], "rpc": values}), values)


def measure(kind: type[ProviderRun], args: argparse.Namespace):
    """The run's result; exits non-zero if a CLI read after the orders failed through the proxy."""
    with tempfile.TemporaryDirectory(prefix="rpc-bench-") as tmp, \
            kind(Path(tmp), orders=args.orders, blocks_past_deploy=args.blocks, poll_interval_s=args.poll) as run:
        result = run.run()
    failed = [name for name, command in result.reads.items() if command.code != 0]
    if failed:
        raise SystemExit(f"protocol {kind.PROTOCOL}: CLI reads failed through the proxy: {', '.join(failed)}")
    return result


def report(protocol: str, path: Path, values: dict) -> None:
    print(f"{protocol}: {values['rpc_requests_per_order']} RPC requests per order ({values['orders']} orders, "
          f"{values['retries_seen_429']} 429s retried, {values['time_per_order_s']} s per order) -> {path}")

if __name__ == "__main__":
    main()
