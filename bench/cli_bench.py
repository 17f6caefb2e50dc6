"""CLI start-up: wall time and peak RSS of `fabmesh --version`, `--help` and the read commands, beside the floor.

Each command is a fresh process (the console script beside this interpreter), run --runs times after one
warm-up run; the median and the fastest are kept. ``--baseline DIR`` runs an older pynode (one unpacked into
DIR) the same way, each run beside one of the current tree's, so both see the same machine load. Bytecode
is cached in a temporary PYTHONPYCACHEPREFIX, as an installed package has it (make exports
PYTHONDONTWRITEBYTECODE, which would recompile edited modules on every run), without writing into the tree.

* floor: `python -c pass` (the interpreter alone) and `python -c "import click"` (the CLI framework).
* local: `--version`, `--help`, `wallet list`, `wallet address` (an account's stored address), `dev status`
  (no network running).
* chain: `partner list`, `order list`, `order show 1`, `audit all --json` and `check` (with --account: its
  balance too), each with `--protocol 1`, against a real anvil and a real Kubo, with the contracts deployed and
  one finished order (bench/audit_bench.build_orders: posted, claimed, awarded, attested, shipped, confirmed).
* chain, protocol 2 (names ending in _v2): the same reads with `--protocol 2`, `governance status` and
  `arbitration status ID`, on the v2 contracts deployed beside v1's (pynode.dev.deploy.deploy_v2) with one
  finished v2 order (tests/pynode/v2_parties: a vetted shop's signed quote awarded, shipped with a real quality
  report, confirmed).

A read command's start-up is its wall time minus the time its endpoints spent answering it: the command
talks to anvil through a recording proxy here, which adds up, per run, the time from each request's arrival
to its answer's last byte (the node's work, not the command's). Kubo's answers (order show's spec, the
audit's documents) are counted as start-up: they are few and small.

Writes ``cli_startup`` (all figures), ``cli_version_ms`` / ``cli_help_ms``, ``cli_read_ms`` (each read
command's median start-up) and ``cli_read_max_ms`` (the slowest of them) to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pynode"))

from bench.audit_bench import accounts, build_orders  # noqa: E402 - the checkout goes on sys.path first
from bench.common import record  # noqa: E402 - the checkout goes on sys.path first
from pynode.chain.client import Chain  # noqa: E402 - after the sys.path lines above
from pynode.core.settings import Settings  # noqa: E402 - after the sys.path lines above
from pynode.dev.accounts import dev_accounts, role_plan  # noqa: E402 - after the sys.path lines above
from pynode.dev.anvil import Anvil  # noqa: E402 - after the sys.path lines above
from pynode.dev.deploy import deploy, deploy_v2  # noqa: E402 - after the sys.path lines above
from pynode.dev.kubo import KuboNode  # noqa: E402 - after the sys.path lines above
from pynode.ipfs.client import IpfsClient  # noqa: E402 - after the sys.path lines above
from v2_parties import cli_buyer_v2, ship, v2_chain, vetted_shop  # noqa: E402 - so does tests/pynode

FABMESH = str(Path(sys.executable).parent / "fabmesh")
ACCOUNT = "bench"
LOCAL = {"version": ["--version"], "help": ["--help"], "wallet_list": ["wallet", "list"],
         "wallet_address": ["wallet", "address", ACCOUNT], "dev_status": ["dev", "status"]}
V1, V2 = ["--protocol", "1"], ["--protocol", "2"]  # 2 is the default: named anyway, as a baseline tree's may be 1
CHAIN = {"partner_list": [*V1, "partner", "list"], "order_list": [*V1, "order", "list"],
         "order_show": [*V1, "order", "show", "1"], "audit_all": [*V1, "--json", "audit", "all"],
         "check": [*V1, "--account", ACCOUNT, "check"]}


def chain_v2(order_id: int) -> dict[str, list[str]]:
    """The protocol-2 reads, on the finished v2 order ``order_id``."""
    return {"partner_list_v2": [*V2, "partner", "list"], "order_list_v2": [*V2, "order", "list"],
            "order_show_v2": [*V2, "order", "show", str(order_id)], "audit_all_v2": [*V2, "--json", "audit", "all"],
            "check_v2": [*V2, "--account", ACCOUNT, "check"], "governance_status_v2": ["governance", "status"],
            "arbitration_status_v2": ["arbitration", "status", str(order_id)]}


READS = ("wallet_list", "wallet_address", "dev_status", *CHAIN, *chain_v2(0))


class RecordingProxy(ThreadingHTTPServer):
    """Forwards JSON-RPC POSTs to ``upstream`` and adds up the seconds each took to answer (``rpc_s``)."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = urlsplit(upstream)
        self.lock = threading.Lock()
        self.rpc_s = 0.0
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def take(self) -> tuple[float, int]:
        """The answering time and request count since the last take."""
        with self.lock:
            taken = self.rpc_s, self.requests
            self.rpc_s, self.requests = 0.0, 0
        return taken


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's session expects
    #: the answer's headers and body are two writes: with Nagle's algorithm the body waits for the client's delayed
    #: ACK of the headers (40 ms a request, outside the time counted as the endpoint's), which no endpoint adds
    disable_nagle_algorithm = True
    server: RecordingProxy

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        started = time.perf_counter()
        upstream = http.client.HTTPConnection(self.server.upstream.hostname, self.server.upstream.port, timeout=60)
        upstream.request("POST", self.server.upstream.path or "/", body, {"Content-Type": "application/json"})
        answer = upstream.getresponse()
        reply = answer.read()
        upstream.close()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        with self.server.lock:
            self.server.rpc_s += time.perf_counter() - started
            self.server.requests += 1

    def log_message(self, *_: object) -> None:
        pass


#: times one run of its argv and reports its peak RSS. A child's ru_maxrss counts the process it was forked
#: from, so the command is started from this small interpreter, not from the benchmark (web3 imported, anvil
#: running): the floor it adds is an interpreter's, which every command exceeds anyway.
RUNNER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
errors = child.stderr.read()
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "rss_kib": usage.ru_maxrss,
                  "code": os.waitstatus_to_exitcode(status), "errors": errors.decode(errors="replace")[-300:]}))
"""


Sample = tuple[float, float, int, float, int]  # wall s, CPU s, peak RSS KiB, RPC answering s, RPC requests


def timed(argv: list[str], env: dict[str, str], proxy: RecordingProxy | None) -> Sample:
    """One run of ``argv``, which must exit 0, and what the RPC endpoint spent answering it."""
    if proxy is not None:
        proxy.take()
    done = subprocess.run([sys.executable, "-c", RUNNER, *argv], env=env, capture_output=True, text=True,
                          check=True)
    rpc_s, requests = proxy.take() if proxy is not None else (0.0, 0)
    run = json.loads(done.stdout)
    if run["code"] != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {run['code']}: {run['errors'].strip()}")
    return run["seconds"], run["cpu_s"], run["rss_kib"], rpc_s, requests


def summary(samples: list[Sample]) -> dict:
    wall = [s[0] for s in samples]
    figures = {"median_ms": round(statistics.median(wall) * 1000, 1), "min_ms": round(min(wall) * 1000, 1),
               "cpu_median_ms": round(statistics.median(s[1] for s in samples) * 1000, 1),
               "peak_rss_mib": round(max(s[2] for s in samples) / 1024, 1)}
    if any(s[4] for s in samples):
        figures.update(startup_median_ms=round(statistics.median(s[0] - s[3] for s in samples) * 1000, 1),
                       rpc_median_ms=round(statistics.median(s[3] for s in samples) * 1000, 1),
                       rpc_requests=max(s[4] for s in samples))
    return figures


def measure(argv: list[str], envs: dict[str, dict[str, str]], runs: int,
            proxy: RecordingProxy | None = None) -> dict[str, dict]:
    """Each environment's figures for ``argv``, their runs interleaved (a busy machine slows them alike)."""
    for env in envs.values():
        timed(argv, env, proxy)  # warm-up: bytecode into the cache prefix, files into the page cache
    samples: dict[str, list] = {name: [] for name in envs}
    for _ in range(runs):
        for name, env in envs.items():
            samples[name].append(timed(argv, env, proxy))
    return {name: summary(runs_of) for name, runs_of in samples.items()}


def startup_ms(figures: dict) -> float:
    """A command's start-up: its wall time less the RPC endpoint's answering (none for a local command)."""
    return figures.get("startup_median_ms", figures["median_ms"])


def add_account(env: dict[str, str], work: Path) -> None:
    """The account `wallet address` and `check` name, created by the CLI itself."""
    password = work / "password"
    password.write_text("bench password\n")
    subprocess.run([FABMESH, "--password-file", str(password), "wallet", "new", ACCOUNT], env=env, check=True,
                   capture_output=True)


def build_v2_order(anvil: Anvil, kubo: KuboNode, deployments: Path, work: Path) -> int:
    """v2 deployed beside v1 and one v2 order taken to COMPLETED by its buyer and a vetted shop; its id."""
    deploy_v2(anvil.rpc_url, anvil.chain_id, deployments)
    chain = v2_chain(anvil, kubo, deployments, work / "setup-home-v2")
    shop = vetted_shop(chain, anvil, dev_accounts()["certifier"])
    party = cli_buyer_v2(chain, anvil, kubo.api_url, work)
    posted = party.buyer.post(party.prepare("bench"))
    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    party.buyer.award(tracker, shop.quote(chain, posted.order.terms, 5 * 10**16), party.keypair)
    tracker = ship(chain, party, shop, chain.book.load_order(posted.order_id, chain.from_block))
    party.buyer.confirm(tracker)
    return posted.order_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per command (after one warm-up)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also run the pynode package found in DIR (e.g. `git archive REV pynode | tar -x -C "
                             "DIR`), interleaved, under cli_startup.baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fabmesh-cli-bench-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FABMESH_", "ETH_RPC_URL"))}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(FABMESH_HOME=str(work / "home"), FABMESH_CONFIRMATIONS="0", FABMESH_RETRY_TIMEOUT="0")
        add_account(env, work)
        envs = {"current": {**env, "PYTHONPYCACHEPREFIX": str(work / "pycache")}}
        if args.baseline is not None:
            envs["baseline"] = {**env, "PYTHONPYCACHEPREFIX": str(work / "pycache-baseline"),
                                "PYTHONPATH": str(args.baseline.resolve())}
        found = {name: measure([sys.executable, "-c", code], {"current": envs["current"]}, args.runs)
                 for name, code in (("floor_python", "pass"), ("floor_import_click", "import click"))}
        found.update({name: measure([FABMESH, *argv], envs, args.runs) for name, argv in LOCAL.items()})
        acc = accounts()
        with Anvil(work / "anvil") as anvil, KuboNode(work / "kubo") as kubo:
            deploy(anvil.rpc_url, anvil.chain_id, work / "deployments", role_plan(acc))
            settings = Settings(rpc_url=anvil.rpc_url, ipfs_api=kubo.api_url, deployments=work / "deployments",
                                home=work / "setup-home", confirmations=0)
            with IpfsClient(kubo.api_url) as ipfs:
                build_orders(Chain.connect(settings), ipfs, acc, 1, work)
            anvil.rpc("evm_setAutomine", True)  # build_orders mined by hand
            reads = {**CHAIN, **chain_v2(build_v2_order(anvil, kubo, work / "deployments", work))}
            proxy = RecordingProxy(anvil.rpc_url)
            threading.Thread(target=proxy.serve_forever, daemon=True).start()
            for each in envs.values():
                each.update(FABMESH_RPC_URL=proxy.url, FABMESH_DEPLOYMENTS=str(work / "deployments"),
                            FABMESH_IPFS_API=kubo.api_url)
            try:
                found.update({name: measure([FABMESH, *argv], envs, args.runs, proxy) for name, argv in reads.items()})
            finally:
                proxy.shutdown()
                proxy.server_close()
    figures = {name: by_env["current"] for name, by_env in found.items()}
    reads = {name: startup_ms(figures[name]) for name in READS}
    slowest = max(reads, key=reads.__getitem__)
    load = os.getloadavg()[0]
    startup = {**figures, "runs": args.runs, "load_avg_1m_at_end": round(load, 2), "slowest_read": slowest,
               "definition": "median wall ms (and CPU ms, user + system, which a busy machine inflates less) of "
                             "a fresh process (the console script) after a warm-up run, bytecode cached; chain "
                             "commands against a local anvil (through a recording proxy) and Kubo, contracts "
                             "deployed and one finished order; a read's start-up (startup_median_ms, cli_read_ms) "
                             "is its wall time less the time the RPC endpoint spent answering it (rpc_median_ms)"}
    if args.baseline is not None:
        startup["baseline"] = {"tree": str(args.baseline),
                               **{name: by_env["baseline"] for name, by_env in found.items() if "baseline" in by_env}}
    path = record({"cli_startup": startup, "cli_version_ms": figures["version"]["median_ms"],
                   "cli_help_ms": figures["help"]["median_ms"], "cli_read_ms": reads,
                   "cli_read_max_ms": reads[slowest]})
    for name, by_env in found.items():
        for which, values in by_env.items():
            rpc = f", start-up {values['startup_median_ms']:7.1f} ms ({values['rpc_requests']} RPC requests, " \
                  f"{values['rpc_median_ms']:.1f} ms)" if "rpc_requests" in values else ""
            print(f"{name:>20} {which:>8}: {values['median_ms']:7.1f} ms median, {values['min_ms']:7.1f} ms min, "
                  f"{values['cpu_median_ms']:7.1f} ms CPU, {values['peak_rss_mib']:6.1f} MiB{rpc}")
    print(f"(load average {load:.2f}) -> {path}")


if __name__ == "__main__":
    main()
