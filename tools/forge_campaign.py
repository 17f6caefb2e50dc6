#!/usr/bin/env python3
"""The forge invariant campaign and the settlement split's properties (make test-forge); writes
bench/results/invariants.json.

1. The campaign on OrderBookV2 + PartnerRegistryV2 (tests/contracts/forge): runs x depth from foundry.toml,
   0 violations required.
2. The same campaign on contracts/test/BrokenOrderBookV2.sol: forge must FAIL it (the campaign catches a book
   whose restricted functions skip the AccessManager).
3. SplitsProof: the split conserves value and bounds the fee, fuzzed (foundry.toml [fuzz] runs per property);
   OrderBookV2HandlerPaths: the campaign's model agrees with the book along a dispute, ruling and completion.
4. halmos proves SplitsHalmos over every input: a split that completes conserves value.
Exit status 1 when any of the four does not hold.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "invariants.json"
CAMPAIGN = "OrderBookV2Invariants"
BROKEN = "BrokenOrderBookV2Invariants"
# SplitsProof fuzzes the split; OrderBookV2HandlerPaths walks the handler's deep paths (dispute, fee, ruling)
PROPERTIES = "SplitsProof|OrderBookV2HandlerPaths"
PROOFS = "SplitsHalmos"
# halmos lives in a venv of its own (tools/halmos/requirements.txt); the Makefile passes its path
HALMOS = os.environ.get("HALMOS", str(ROOT / ".tools" / "halmos" / "bin" / "halmos"))


def forge_test(contract: str) -> tuple[dict, float]:
    """Runs one test contract with --json; returns its invariant result and the seconds it took."""
    # forge replays a persisted counterexample instead of searching afresh: every campaign starts clean
    shutil.rmtree(ROOT / ".forge" / "cache" / "invariant", ignore_errors=True)
    start = time.monotonic()
    proc = subprocess.run(
        ["forge", "test", "--match-contract", f"^{contract}$", "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    seconds = time.monotonic() - start
    report = None
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            report = json.loads(line)
    if report is None:
        sys.exit(f"forge test {contract}: no JSON report (exit {proc.returncode})\n{proc.stderr[-2000:]}")
    suites = [s for name, s in report.items() if name.endswith(f":{contract}")]
    if len(suites) != 1:
        sys.exit(f"forge test {contract}: expected one suite, found {list(report)}")
    results = suites[0]["test_results"]
    return results["invariant_protocol()"], seconds


def invariant_figures(result: dict) -> dict:
    kind = result["kind"]["Invariant"]
    return {"runs": kind["runs"], "calls": kind["calls"], "reverts": kind["reverts"]}


def split_properties() -> tuple[bool, float, str]:
    """Runs the PROPERTIES tests; returns whether all passed, the seconds and forge's summary."""
    start = time.monotonic()
    proc = subprocess.run(
        ["forge", "test", "--match-contract", f"^({PROPERTIES})$", "--match-test", "^test_"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    seconds = time.monotonic() - start
    summary = [line.strip() for line in proc.stdout.splitlines() if line.startswith("Suite result")]
    return proc.returncode == 0, seconds, "; ".join(summary) if summary else proc.stdout[-500:]


def halmos_proofs() -> tuple[bool, float, str]:
    """Runs halmos on the PROOFS contract (forge's build output); returns whether every check passed."""
    start = time.monotonic()
    proc = subprocess.run(
        [HALMOS, "--contract", PROOFS, "--forge-build-out", ".forge/out", "--solver-timeout-assertion", "120000"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    seconds = time.monotonic() - start
    plain = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)  # halmos colours its report even into a pipe
    lines = [line.strip() for line in plain.splitlines() if "check_" in line or "Symbolic test result" in line]
    return proc.returncode == 0, seconds, "; ".join(lines) if lines else (proc.stdout + proc.stderr)[-500:]


def main() -> int:
    config = tomllib.loads((ROOT / "foundry.toml").read_text())["invariant"]
    failures = []

    result, seconds = forge_test(CAMPAIGN)
    figures = invariant_figures(result)
    violations = 0 if result["status"] == "Success" else 1
    if violations:
        failures.append(f"campaign: {result.get('reason')}")
    print(f"campaign: {figures['calls']:,} calls in {figures['runs']} runs of depth {config['depth']}, "
          f"{violations} violations, {seconds:.0f} s")

    broken, broken_seconds = forge_test(BROKEN)
    caught = broken["status"] == "Failure"
    if not caught:
        failures.append("the broken book passed the campaign")
    print(f"broken variant: {'caught' if caught else 'NOT caught'} ({broken.get('reason')}), {broken_seconds:.0f} s")

    split_ok, split_seconds, summary = split_properties()
    if not split_ok:
        failures.append(f"split properties: {summary}")
    print(f"split properties: {summary}, {split_seconds:.0f} s")

    proved, proof_seconds, proof_summary = halmos_proofs()
    if not proved:
        failures.append(f"halmos: {proof_summary}")
    print(f"halmos: {proof_summary}, {proof_seconds:.0f} s")

    RESULTS.write_text(json.dumps({
        "calls": figures["calls"],
        "runs": figures["runs"],
        "depth": config["depth"],
        "violations": violations,
        "campaign_seconds": round(seconds, 1),
        "broken_variant_caught": caught,
        "broken_variant_reason": broken.get("reason"),
        "split_properties_passed": split_ok,
        "split_fuzz_runs": tomllib.loads((ROOT / "foundry.toml").read_text())["fuzz"]["runs"],
        "halmos_proved": proved,
        "halmos": proof_summary,
    }, indent=2) + "\n")
    for failure in failures:
        print(f"test-forge: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
