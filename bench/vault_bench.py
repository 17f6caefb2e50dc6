"""Vault throughput and memory against Kubo's own CLI, side by side in one run.

Encrypt + pin vs `ipfs add` of a file of the same size, and fetch + decrypt vs
`ipfs cat` of the same (ciphertext) CID into a file beside ours. One Kubo daemon;
each rep alternates which side goes first, on fresh random files. Each of our
phases runs in a fresh Python process so its peak RSS (ru_maxrss) is its own,
imports included.

Where the time went (py-spy, 256 MiB, before the buffer and thread work): sealing
spent 56% in ipfshttpclient/urllib3 framing the upload (a fresh 1 MiB bytes per
chunk: page faults, not copying) and 18% in SHA-256, AES-GCM 4%; opening spent
half its time walking Kubo's 4 KiB response chunks through generators, then file
writes and SHA-256. Now: seal = upload thread (send, 64 KiB framing) beside the
encrypting one (SHA-256, AES-GCM, file reads); open = download thread (http.client
readinto) beside decrypt (file writes ~40%, SHA-256 ~25%, AES-GCM ~6%).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import record, run_child
from pynode.dev.kubo import KuboNode
from pynode.dev.paths import ipfs_bin

T = TypeVar("T")

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


# What a user runs for the same work: pynode adds designs as CIDv1 without raw leaves (the default
# `ipfs_raw_leaves = false`), Kubo's default chunker (size-262144) on both sides.
RAW_ADD = ("add", "-Q", "--pin=true", "--cid-version=1", "--raw-leaves=false")


def raw_add(node: KuboNode, design: Path, size_mib: int) -> float:
    """Seconds for `ipfs add` of a fresh file (fresh content: Kubo would skip blocks it already has)."""
    write_random(design, size_mib << 20)
    started = time.perf_counter()
    node.ipfs(*RAW_ADD, str(design), timeout=3600)
    return time.perf_counter() - started


def seal(node: KuboNode, design: Path, size_mib: int) -> dict:
    write_random(design, size_mib << 20)
    return run_child(SEAL, node.api_url, str(design))


def raw_cat(node: KuboNode, cid: str, out: Path) -> float:
    """Seconds for `ipfs cat CID > out`."""
    with open(out, "wb") as sink:
        started = time.perf_counter()
        subprocess.run([str(ipfs_bin()), "cat", cid], env=node.env, stdout=sink, check=True, timeout=3600)
        return time.perf_counter() - started


def open_sealed(node: KuboNode, sealed: dict, out: Path) -> dict:
    return run_child(OPEN, node.api_url, sealed["cid"], sealed["key"], str(out), sealed["sha256"])


def side_by_side(ours: Callable[[], T], raw: Callable[[], float], ours_first: bool) -> tuple[T, float]:
    if ours_first:
        mine = ours()
        return mine, raw()
    theirs = raw()
    return ours(), theirs


def measure(node: KuboNode, work: Path, size_mib: int, repeats: int) -> dict:
    """Each rep: raw add and our seal, then raw cat and our open of the sealed CID, alternating which
    of each pair goes first; medians, so one slow run does not decide."""
    runs: dict[str, list[float]] = defaultdict(list)
    design, out, raw_out = work / f"design-{size_mib}.bin", work / f"out-{size_mib}.bin", work / f"cat-{size_mib}.bin"
    for rep in range(repeats):
        sealed, seconds = side_by_side(partial(seal, node, design, size_mib), partial(raw_add, node, design, size_mib),
                                       ours_first=rep % 2 == 1)
        runs["raw_add"].append(seconds)
        opened, seconds = side_by_side(partial(open_sealed, node, sealed, out), partial(raw_cat, node, sealed["cid"],
                                       raw_out), ours_first=rep % 2 == 1)
        runs["raw_cat"].append(seconds)
        assert out.stat().st_size == design.stat().st_size
        for name, result in (("seal", sealed), ("open", opened)):
            runs[name].append(result["seconds"])
            runs[f"{name}_rss"].append(result["rss_mib"])
        for path in (design, out, raw_out):
            path.unlink()
    return {name: max(values) if name.endswith("rss") else statistics.median(values) for name, values in runs.items()}


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
        "vault_add_ratio": round(big["raw_add"] / big["seal"], 3),
        "vault_fetch_ratio": round(big["raw_cat"] / big["open"], 3),
        "vault_peak_rss_mib": round(max(big["seal_rss"], big["open_rss"], small["seal_rss"], small["open_rss"]), 1),
        "vault": {
            "file_mib": mib,
            "repeats": args.repeats,
            "kubo_version": version,
            "raw_ipfs_add_mib_per_s": round(mib / big["raw_add"], 1),
            "encrypt_pin_mib_per_s": round(mib / big["seal"], 1),
            "raw_ipfs_cat_mib_per_s": round(mib / big["raw_cat"], 1),
            "fetch_decrypt_mib_per_s": round(mib / big["open"], 1),
            "encrypt_pin_peak_rss_mib": round(big["seal_rss"], 1),
            "decrypt_peak_rss_mib": round(big["open_rss"], 1),
            "import_baseline_rss_mib": round(run_child(BASELINE)["rss_mib"], 1),
            f"peak_rss_mib_at_{args.small_mib}_mib": round(max(small["seal_rss"], small["open_rss"]), 1),
            "ratio_definition": f"vault_add_ratio = median `ipfs {' '.join(RAW_ADD)} FILE` seconds / median "
                                "encrypt+pin seconds (DesignVault.seal, a file of the same size); "
                                "vault_fetch_ratio = median `ipfs cat CID > FILE` seconds / median fetch+decrypt "
                                "seconds (DesignVault.open of that CID to a file, fsync and rename included); "
                                "both throughput ours / raw, each pair in the same rep",
        },
    }
    path = record(results)
    print(f"vault: add {results['vault_add_ratio']} of raw ipfs add, fetch {results['vault_fetch_ratio']} of raw "
          f"ipfs cat, peak RSS {results['vault_peak_rss_mib']} MiB -> {path}")


if __name__ == "__main__":
    main()
