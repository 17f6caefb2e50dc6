"""Vault throughput and memory: our encrypt+pin vs Kubo's own `ipfs add`, side by side.

One Kubo daemon, one random file. Each of our phases runs in a fresh Python
process so its peak RSS (ru_maxrss) is its own, imports included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import record, run_child
from pynode.dev.kubo import KuboNode

SEAL = """
import json, resource, sys, time
from pathlib import Path
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
with IpfsClient(sys.argv[1]) as ipfs:
    started = time.perf_counter()
    sealed = DesignVault(ipfs).seal(Path(sys.argv[2]))
    seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "cid": sealed.cid, "key": sealed.content_key.hex(),
                  "sha256": sealed.plaintext_sha256.hex(),
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

OPEN = """
import json, resource, sys, time
from pathlib import Path
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
with IpfsClient(sys.argv[1]) as ipfs:
    started = time.perf_counter()
    DesignVault(ipfs).open(sys.argv[2], bytes.fromhex(sys.argv[3]), Path(sys.argv[4]), bytes.fromhex(sys.argv[5]))
    seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BASELINE = """
import json, resource
import pynode.ipfs.client, pynode.ipfs.vault
print(json.dumps({"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_random(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        remaining = size
        while remaining:
            block = os.urandom(min(remaining, 1 << 20))
            out.write(block)
            remaining -= len(block)


def measure(node: KuboNode, work: Path, size_mib: int, repeats: int) -> dict:
    """Alternates raw add and our seal on fresh random files; medians, so one slow run does not decide."""
    raw, seal, open_, seal_rss, open_rss = [], [], [], [], []
    for rep in range(repeats):
        design = work / f"design-{size_mib}-{rep}.bin"
        write_random(design, size_mib << 20)  # fresh content: Kubo would skip blocks it already has
        started = time.perf_counter()
        node.ipfs("add", "-Q", "--pin=true", "--cid-version=1", "--raw-leaves=false", str(design), timeout=3600)
        raw.append(time.perf_counter() - started)
        write_random(design, size_mib << 20)
        sealed = run_child(SEAL, node.api_url, str(design))
        out = work / f"out-{size_mib}.bin"
        opened = run_child(OPEN, node.api_url, sealed["cid"], sealed["key"], str(out), sealed["sha256"])
        assert out.stat().st_size == design.stat().st_size
        for path in (design, out):
            path.unlink()
        seal.append(sealed["seconds"])
        open_.append(opened["seconds"])
        seal_rss.append(sealed["rss_mib"])
        open_rss.append(opened["rss_mib"])
    return {"raw_add_s": statistics.median(raw), "seal_s": statistics.median(seal),
            "open_s": statistics.median(open_), "seal_rss_mib": max(seal_rss), "open_rss_mib": max(open_rss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--small-mib", type=int, default=32, help="second size, to show memory does not grow")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fabmesh-bench-") as tmp, KuboNode(Path(tmp) / "repo") as node:
        version = node.ipfs("version", "-n").decode().strip()
        small = measure(node, Path(tmp), args.small_mib, 1)
        big = measure(node, Path(tmp), args.size_mib, args.repeats)
    mib = args.size_mib
    results = {
        "vault_add_ratio": round(big["raw_add_s"] / big["seal_s"], 3),
        "vault_peak_rss_mib": round(max(big["seal_rss_mib"], big["open_rss_mib"]), 1),
        "vault": {
            "file_mib": mib,
            "repeats": args.repeats,
            "kubo_version": version,
            "raw_ipfs_add_mib_per_s": round(mib / big["raw_add_s"], 1),
            "encrypt_pin_mib_per_s": round(mib / big["seal_s"], 1),
            "fetch_decrypt_mib_per_s": round(mib / big["open_s"], 1),
            "encrypt_pin_peak_rss_mib": round(big["seal_rss_mib"], 1),
            "decrypt_peak_rss_mib": round(big["open_rss_mib"], 1),
            "import_baseline_rss_mib": round(run_child(BASELINE)["rss_mib"], 1),
            f"peak_rss_mib_at_{args.small_mib}_mib": round(max(small["seal_rss_mib"], small["open_rss_mib"]), 1),
            "ratio_definition": "vault_add_ratio = median raw `ipfs add` seconds / median encrypt+pin seconds "
                                "(throughput ours / raw)",
        },
    }
    path = record(results)
    print(f"vault: ratio {results['vault_add_ratio']} of raw ipfs add, "
          f"peak RSS {results['vault_peak_rss_mib']} MiB -> {path}")


if __name__ == "__main__":
    main()
