"""Opcode-level gas accounting of the v2 lifecycle (anvil debug_traceTransaction): where each transaction's
gas goes, by opcode group and call depth (contracts/v2/README.md, gas).

    FABMESH_ANVIL_BIN=<an anvil wrapper adding --steps-tracing> python -m scripts.brownie_anvil run \
        scripts/gas_trace_v2.py

anvil records opcode steps only with --steps-tracing (an empty structLogs otherwise, reported as an error).
"""

import json
from collections import Counter

from brownie import accounts, web3

from scripts.gas import BenchV2

GROUPS = {"SSTORE": "sstore", "SLOAD": "sload", "CALL": "call", "STATICCALL": "call", "DELEGATECALL": "call",
          "LOG1": "log", "LOG2": "log", "LOG3": "log", "LOG4": "log", "LOG0": "log", "KECCAK256": "keccak",
          "CALLDATACOPY": "calldata_copy", "TSTORE": "transient", "TLOAD": "transient"}


def intrinsic(tx_hash):
    tx = web3.eth.get_transaction(tx_hash)
    data = bytes(tx["input"])
    zero = data.count(0)
    return 21000 + 16 * (len(data) - zero) + 4 * zero, len(data), zero


def breakdown(tx):
    trace = web3.provider.make_request("debug_traceTransaction", [tx.txid, {"enableMemory": False,
                                                                            "disableStack": False}])
    logs = (trace.get("result") or {}).get("structLogs")
    if not logs:
        raise SystemExit("no opcode steps: run anvil with --steps-tracing (see the module docstring)")
    by = Counter()
    calls = []
    ops = Counter()
    for i, log in enumerate(logs):
        op, cost, depth = log["op"], log["gasCost"], log["depth"]
        if op in ("CALL", "STATICCALL", "DELEGATECALL"):
            # whole call = gas before it - gas at the caller's next step (the callee's ops are also counted
            # below, by depth); the call's own part is the rest
            j = next(k for k in range(i + 1, len(logs)) if logs[k]["depth"] == depth)
            whole = log["gas"] - logs[j]["gas"]
            inner = sum(x["gasCost"] for x in logs[i + 1:j] if x["depth"] == depth + 1
                        and x["op"] not in ("CALL", "STATICCALL", "DELEGATECALL"))
            calls.append({"op": op, "depth": depth, "whole": whole, "own": whole - inner})
            cost = whole - inner if depth == 1 else 0
        key = GROUPS.get(op, "other")
        by[f"d{depth}_{key}"] += cost
        if key == "other" and depth == 1:
            ops[op] += cost
    base, size, zero = intrinsic(tx.txid)
    return {"gas_used": tx.gas_used, "intrinsic": base, "calldata_bytes": size, "zero_bytes": zero,
            **dict(by), "calls": calls, "top_other": ops.most_common(8)}


def main():
    admin, buyer, certifier, governor, stranger, arbitrator = (accounts[0], accounts[1], accounts[5], accounts[9],
                                                               accounts[8], accounts[6])
    bench = BenchV2(admin, buyer, certifier, governor, accounts.add(), accounts.add(), arbitrator, stranger)
    bench.lifecycle(nonce=0)
    v = bench.v2
    out = {}
    t = v.post(bench.court)
    out["post"] = breakdown(t.post_tx)
    out["award"] = breakdown(v.award(t, bench.partner, nonce=1))
    out["ship"] = breakdown(v.ship(t))
    out["confirm"] = breakdown(v.confirm(t))
    t = v.post_awarded(bench.court, bench.partner, quote_kw={"nonce": 2})
    out["postAwarded"] = breakdown(t.post_tx)
    print("TRACE " + json.dumps(out))
