"""Catch-up decode rate: our raw eth_getLogs + EventDecoder vs the raw fetch alone vs web3's decoding.

A real anvil; a test contract (compiled with py-solc-x at run time) emits
>= 20,000 historical events in batches of a few hundred per transaction, with
the OrderBook's event shapes: indexed order id + indexed partner address and
bytes32/uint40/bool data words, plus an OrderPosted-like event with struct
arguments (one in ten). The partner address cycles over 64 values, as a busy
market would.

Figures (medians over ``--repeats`` rounds on the same block range of the same
node; each round runs every read once, in turn, so a load change hits them alike):

* raw fetch: one ``eth_getLogs`` over the whole range through web3's own
  ``HTTPProvider.make_request`` (requests + the standard JSON parser; no result
  formatters, no middleware), nothing else.
* ours: what ``Chain`` reads with: ``LogReader.batches`` over ``RpcClient``
  (its parse, range checks, the range-end hash pins) + ``EventDecoder.decode_all``;
  over one span (batch_size 2,000 > the range: no prefetch), and over spans of
  10 blocks (4,000 logs each, under hosted providers' 10,000-log caps), where the
  next span is fetched while the current one is decoded.
* our transport alone: the raw fetch's one request through ``RpcClient``.
* decode only: ``EventDecoder.decode_all`` over the already fetched logs.
* web3: ``contract.events.X().process_log`` over the same logs, already
  formatted the way ``w3.eth.get_logs`` would hand them over (formatting not timed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from web3 import Web3
from web3.contract import Contract
from web3.providers.rpc import HTTPProvider

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import record
from pynode.chain.events.decoder import EventDecoder, event_topic
from pynode.chain.events.reader import LogReader
from pynode.chain.jsonrpc import RpcClient
from pynode.chain.provider import connect
from pynode.dev.anvil import Anvil

ROOT = Path(__file__).resolve().parents[1]
SOLC_VERSION = "0.8.37"
SPAN_BLOCKS = 10  # 400 logs a block: spans of 4,000 logs

# Event shapes copied from OrderBook's ABI (build/contracts/OrderBook.json).
SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract OrderEvents {
    struct OrderTerms { address buyer; address token; uint96 price; uint96 claimBond; address reservedFor;
                        uint40 claimDeadline; uint40 deliveryDeadline; uint32 inspectionWindow; uint16 feeBps;
                        bytes32 specHash; }
    struct OrderDocs { bytes32 designCid; bytes32 designSha256; bytes32 specCid; bytes8 region; }
    event OrderPosted(uint256 indexed orderId, address indexed buyer, address indexed reservedFor,
                      OrderTerms terms, OrderDocs docs, uint40 time);
    event OrderClaimed(uint256 indexed orderId, address indexed partner, bytes32 prevHead, uint40 time);
    event OrderShipped(uint256 indexed orderId, address indexed partner, bytes32 reportCid, bytes32 reportHash,
                       bytes32 prevHead, uint40 time);
    event QualityAttested(uint256 indexed orderId, address indexed attester, bytes32 reportCid, bytes32 reportHash,
                          bool passed, bytes32 prevHead, uint40 time);

    function emitMany(uint256 start, uint256 n) external {
        for (uint256 i = start; i < start + n; i++) {
            address partner = address(uint160(uint256(keccak256(abi.encode(i % 64)))));
            bytes32 head = keccak256(abi.encode(i));
            uint40 t = uint40(block.timestamp);
            uint256 kind = i % 10;
            if (kind == 0) {
                emit OrderPosted(i, msg.sender, partner, OrderTerms(msg.sender, address(0), uint96(i) * 1e9, 1e15,
                    partner, t + 3600, t + 86400, 3 days, 100, head), OrderDocs(head, head, head, "EU-DE"), t);
            } else if (kind < 5) {
                emit OrderClaimed(i, partner, head, t);
            } else if (kind < 8) {
                emit OrderShipped(i, partner, head, keccak256(abi.encode(head)), head, t);
            } else {
                emit QualityAttested(i, partner, head, head, i % 3 != 0, head, t);
            }
        }
    }
}
"""


def compile_contract() -> tuple[list, str]:
    os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".tools" / "solcx"))
    import solcx

    out = solcx.compile_standard({
        "language": "Solidity", "sources": {"OrderEvents.sol": {"content": SOURCE}},
        "settings": {"optimizer": {"enabled": True, "runs": 200},
                     "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}}}, solc_version=SOLC_VERSION)
    contract = out["contracts"]["OrderEvents.sol"]["OrderEvents"]
    return contract["abi"], contract["evm"]["bytecode"]["object"]


def emit(w3: Web3, contract: Contract, sender: str, total: int, per_tx: int) -> tuple[int, int]:
    """Emits ``total`` events in transactions of ``per_tx``; returns the block range holding them."""
    first = w3.eth.block_number + 1
    hashes = [contract.functions.emitMany(start, min(per_tx, total - start)).transact({"from": sender,
                                                                                      "gas": 29_000_000})
              for start in range(0, total, per_tx)]
    for tx in hashes:
        assert w3.eth.wait_for_transaction_receipt(tx, timeout=120).status == 1
    return first, w3.eth.block_number


def interleaved(runs: dict[str, Callable[[], object]], repeats: int) -> tuple[dict[str, float], dict[str, object]]:
    """Median seconds of each run over ``repeats`` rounds of all runs in turn, and each run's last result."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}, results


def median_time(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--per-tx", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    abi, bytecode = compile_contract()
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    with tempfile.TemporaryDirectory(prefix="fabmesh-decode-bench-") as tmp, Anvil(Path(tmp),
                                                                                   block_time=None) as anvil:
        anvil.rpc("anvil_setBlockGasLimit", hex(60_000_000))
        w3 = connect(anvil.rpc_url)
        sender = w3.eth.accounts[0]
        deployed = w3.eth.send_transaction({"from": sender, "data": "0x" + bytecode})
        receipt = w3.eth.wait_for_transaction_receipt(deployed)
        contract = w3.eth.contract(receipt.contractAddress, abi=abi)
        emit_started = time.perf_counter()
        first, last = emit(w3, contract, sender, args.events, args.per_tx)
        emit_s = time.perf_counter() - emit_started
        address = contract.address

        query = [{"fromBlock": hex(first), "toBlock": hex(last), "address": address}]
        web3_http = HTTPProvider(anvil.rpc_url)
        rpc = RpcClient(anvil.rpc_url)
        decoder = EventDecoder({address: abi})
        one_span, spans = LogReader(rpc, batch_size=2000), LogReader(rpc, batch_size=SPAN_BLOCKS)

        def ours(reader: LogReader) -> list:
            return [d for batch in reader.batches([address], first, last) for d in decoder.decode_all(batch.logs)]

        medians, results = interleaved({
            "raw": lambda: web3_http.make_request("eth_getLogs", query)["result"],
            "ours": lambda: ours(one_span),
            "ours_spans": lambda: ours(spans),
            "rpc_client": lambda: rpc.make_request("eth_getLogs", query)["result"],
        }, args.repeats)
        raw_s, ours_s, spans_s = medians["raw"], medians["ours"], medians["ours_spans"]
        raw_logs, decoded = results["raw"], results["ours"]
        decode_s, _ = median_time(lambda: decoder.decode_all(raw_logs), args.repeats)
        n = len(raw_logs)
        assert n == args.events and len(decoded) == n == len(results["ours_spans"]), (n, len(decoded))
        assert results["ours_spans"] == decoded

        from web3._utils.method_formatters import log_entry_formatter

        formatted = [log_entry_formatter(log) for log in raw_logs]
        by_topic = {event_topic(e): getattr(contract.events, e["name"])() for e in abi if e["type"] == "event"}

        def web3_decode() -> list:
            return [by_topic[log["topics"][0].to_0x_hex()].process_log(log) for log in formatted]

        web3_s, web3_events = median_time(web3_decode, max(1, args.repeats // 2))
        for mine, theirs in zip(decoded[:200], web3_events[:200]):  # same values as web3
            assert mine.args == dict(theirs["args"]), (mine, theirs)
    results = {
        "decode_logs_per_s": round(n / decode_s),
        "decode_ratio_vs_raw": round(raw_s / ours_s, 3),
        "decode_ratio_vs_raw_spans": round(raw_s / spans_s, 3),
        "decode": {
            "events": n,
            "blocks": last - first + 1,
            "repeats": args.repeats,
            "raw_eth_getLogs_s": round(raw_s, 4),
            "raw_fetch_logs_per_s": round(n / raw_s),
            "fetch_decode_s": round(ours_s, 4),
            "fetch_decode_logs_per_s": round(n / ours_s),
            "span_blocks": SPAN_BLOCKS,
            "span_requests": spans.requests // args.repeats,
            "fetch_decode_spans_s": round(spans_s, 4),
            "fetch_decode_spans_logs_per_s": round(n / spans_s),
            "rpc_client_eth_getLogs_s": round(medians["rpc_client"], 4),
            "decode_only_s": round(decode_s, 4),
            "web3_process_log_s": round(web3_s, 4),
            "web3_process_log_logs_per_s": round(n / web3_s),
            "speedup_vs_web3_decode": round(web3_s / decode_s, 1),
            "emit_s": round(emit_s, 2),
            "load_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "event_mix": "OrderPosted-like (3 structs) 10%, OrderClaimed 40%, OrderShipped 30%, QualityAttested 20%",
            "ratio_definition": "decode_ratio_vs_raw = raw eth_getLogs seconds (one request through web3's "
                                "HTTPProvider.make_request: requests + the standard JSON parser) / our fetch+decode "
                                "seconds (LogReader over RpcClient + EventDecoder, one span); "
                                "decode_ratio_vs_raw_spans the same over spans of span_blocks blocks, the next "
                                "fetched while the current one is decoded; same node and block range, medians of "
                                "interleaved rounds",
        },
    }
    path = record(results)
    print(f"{n} logs: decode {results['decode_logs_per_s']}/s, "
          f"fetch+decode {results['decode']['fetch_decode_logs_per_s']}/s "
          f"vs raw fetch {results['decode']['raw_fetch_logs_per_s']}/s (ratio {results['decode_ratio_vs_raw']}; "
          f"spans of {SPAN_BLOCKS} blocks {results['decode_ratio_vs_raw_spans']}), "
          f"web3 decode {results['decode']['web3_process_log_logs_per_s']}/s -> {path}")


if __name__ == "__main__":
    main()
