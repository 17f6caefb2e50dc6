"""`make soak`: the load, crash and outage run of bench/soak_run.py; results to bench/results/soak.json.

    python bench/soak.py                      # the full plan on protocol v2: 1,000 orders, 3 buyers, 5 daemons
    python bench/soak.py --protocol 1         # the same on v1 (claims instead of quotes)
    python bench/soak.py --orders 60 --daemons 3 --kill-every 5 15   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "pynode"))  # the node harness of the tests

from bench.common import RESULTS, record
from bench.soak_run import SoakPlan, run_soak
from pynode.dev.paths import CHECKOUT


def parse_plan(argv: list[str]) -> tuple[SoakPlan, Path, str]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in fields(SoakPlan):
        default = f.default
        if isinstance(default, tuple):
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(default[0]), nargs=2, default=default)
        else:
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(default), default=default)
    parser.add_argument("--workdir", type=Path, default=CHECKOUT / "soak-out")
    parser.add_argument("--results", default="soak.json", help="file name under bench/results/")
    args = vars(parser.parse_args(argv))
    workdir, results = args.pop("workdir"), args.pop("results")
    plan = SoakPlan(**{k: tuple(v) if isinstance(v, list) else v for k, v in args.items()})
    return plan, workdir, results


def main(argv: list[str]) -> int:
    plan, workdir, results = parse_plan(argv)
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {text}", flush=True)

    load_before = os.getloadavg()
    outcome = run_soak(plan, workdir, say)
    outcome["wall_s"] = round(time.monotonic() - started, 1)
    # the machine is shared: the load beside the figures (1, 5, 15 min averages, as uptime prints them)
    outcome["load_avg_start"], outcome["load_avg_end"] = [round(x, 2) for x in load_before], \
        [round(x, 2) for x in os.getloadavg()]
    (RESULTS / results).unlink(missing_ok=True)  # a run owns the whole file (earlier runs: in git)
    path = record(outcome, results)
    print(json.dumps({k: v for k, v in outcome.items() if k not in ("plan", "violations")}, indent=2))
    for violation in outcome["violations"]:
        print("violation:", violation)
    if plan.protocol == 2:
        ok = (outcome["terminal_exactly_once"] and not outcome["double_awards"] and not outcome["double_payouts"]
              and not outcome["losing_quote_gas"] and not outcome["daemon_duplicate_mined_actions"]
              and not outcome["invariant_violations"])
    else:
        ok = (outcome["terminal_exactly_once"] and not outcome["duplicate_claims"] and not outcome["lost_attestations"]
              and not outcome["invariant_violations"])
    print(f"soak {'passed' if ok else 'FAILED'}; results in {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
