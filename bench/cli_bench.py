"""CLI start-up: wall time and peak RSS of `fabmesh --version`, `--help` and read commands, beside the floor.

Each command is a fresh process (the console script beside this interpreter), run --runs times after one
warm-up run; the median and the fastest are kept. ``--baseline DIR`` runs an older pynode (one unpacked into
DIR) the same way, each run beside one of the current tree's, so both see the same machine load. Bytecode
is cached in a temporary PYTHONPYCACHEPREFIX, as an installed package has it (make exports
PYTHONDONTWRITEBYTECODE, which would recompile edited modules on every run), without writing into the tree.

* floor: `python -c pass` (the interpreter alone) and `python -c "import click"` (the CLI framework).
* local: `--version`, `--help`, `wallet list` (an empty home), `dev status` (no network running).
* chain: `order list`, `partner list` and `audit all --json` against a real anvil with the contracts
  deployed and no orders: start-up plus a few local RPC round trips.

Writes ``cli_startup`` (all figures) and ``cli_version_ms`` / ``cli_help_ms`` / ``cli_read_max_ms`` (the
slowest read command's median) to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import record
from pynode.dev.accounts import dev_accounts, role_plan
from pynode.dev.anvil import Anvil
from pynode.dev.deploy import deploy

FABMESH = str(Path(sys.executable).parent / "fabmesh")
LOCAL = {"version": ["--version"], "help": ["--help"], "wallet_list": ["wallet", "list"],
         "dev_status": ["dev", "status"]}
CHAIN = {"order_list": ["order", "list"], "partner_list": ["partner", "list"], "audit_all": ["--json", "audit", "all"]}
READS = ("wallet_list", "dev_status", "order_list", "partner_list", "audit_all")


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


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one run of ``argv``, which must exit 0."""
    done = subprocess.run([sys.executable, "-c", RUNNER, *argv], env=env, capture_output=True, text=True,
                          check=True)
    run = json.loads(done.stdout)
    if run["code"] != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {run['code']}: {run['errors'].strip()}")
    return run["seconds"], run["cpu_s"], run["rss_kib"]


def summary(samples: list[tuple[float, float, int]]) -> dict:
    wall = [s for s, _, _ in samples]
    return {"median_ms": round(statistics.median(wall) * 1000, 1), "min_ms": round(min(wall) * 1000, 1),
            "cpu_median_ms": round(statistics.median(c for _, c, _ in samples) * 1000, 1),
            "peak_rss_mib": round(max(r for _, _, r in samples) / 1024, 1)}


def measure(argv: list[str], envs: dict[str, dict[str, str]], runs: int) -> dict[str, dict]:
    """Each environment's figures for ``argv``, their runs interleaved (a busy machine slows them alike)."""
    for env in envs.values():
        timed(argv, env)  # warm-up: bytecode into the cache prefix, files into the page cache
    samples: dict[str, list] = {name: [] for name in envs}
    for _ in range(runs):
        for name, env in envs.items():
            samples[name].append(timed(argv, env))
    return {name: summary(runs_of) for name, runs_of in samples.items()}


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
        env.update(FABMESH_HOME=str(work / "home"), FABMESH_CONFIRMATIONS="0")
        envs = {"current": {**env, "PYTHONPYCACHEPREFIX": str(work / "pycache")}}
        if args.baseline is not None:
            envs["baseline"] = {**env, "PYTHONPYCACHEPREFIX": str(work / "pycache-baseline"),
                                "PYTHONPATH": str(args.baseline.resolve())}
        found = {name: measure([sys.executable, "-c", code], {"current": envs["current"]}, args.runs)
                 for name, code in (("floor_python", "pass"), ("floor_import_click", "import click"))}
        found.update({name: measure([FABMESH, *argv], envs, args.runs) for name, argv in LOCAL.items()})
        with Anvil(work / "anvil") as anvil:
            deploy(anvil.rpc_url, anvil.chain_id, work / "deployments", role_plan(dev_accounts()))
            for each in envs.values():  # no IPFS: no order, no document to fetch
                each.update(FABMESH_RPC_URL=anvil.rpc_url, FABMESH_DEPLOYMENTS=str(work / "deployments"),
                            FABMESH_IPFS_API="http://127.0.0.1:1")
            found.update({name: measure([FABMESH, *argv], envs, args.runs) for name, argv in CHAIN.items()})
    figures = {name: by_env["current"] for name, by_env in found.items()}
    slowest = max(READS, key=lambda name: figures[name]["median_ms"])
    load = os.getloadavg()[0]
    startup = {**figures, "runs": args.runs, "load_avg_1m_at_end": round(load, 2), "slowest_read": slowest,
               "definition": "median wall ms (and CPU ms, user + system, which a busy machine inflates less) of "
                             "a fresh process (the console script) after a warm-up run, bytecode cached; chain "
                             "commands against a local anvil with the contracts deployed and no orders"}
    if args.baseline is not None:
        startup["baseline"] = {"tree": str(args.baseline),
                               **{name: by_env["baseline"] for name, by_env in found.items() if "baseline" in by_env}}
    path = record({"cli_startup": startup, "cli_version_ms": figures["version"]["median_ms"],
                   "cli_help_ms": figures["help"]["median_ms"], "cli_read_max_ms": figures[slowest]["median_ms"]})
    for name, by_env in found.items():
        for which, values in by_env.items():
            print(f"{name:>20} {which:>8}: {values['median_ms']:7.1f} ms median, {values['min_ms']:7.1f} ms min, "
                  f"{values['cpu_median_ms']:7.1f} ms CPU, {values['peak_rss_mib']:6.1f} MiB")
    print(f"(load average {load:.2f}) -> {path}")

if __name__ == "__main__":
    main()
