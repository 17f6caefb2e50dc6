"""Solidity standard-JSON input per contract, compiled with the pinned solc.

Each input carries the contents of every source the contract imports and the
compiler settings brownie-config.yaml gives brownie, so it is self-contained:
a block explorer's "Standard JSON input" verification recompiles exactly it.
Source unit names are checkout-relative paths after remapping, as brownie
names them (contracts/OrderBook.sol, node_modules/@openzeppelin/...).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from pynode.core.errors import FatalError
from pynode.core.fsutil import write_atomic

CHECKOUT = Path(__file__).resolve().parents[2]  # deploying runs from a source checkout
CONFIG = CHECKOUT / "brownie-config.yaml"
CACHE = CHECKOUT / "build" / "standard-json"
SOLCX_DIR = CHECKOUT / ".tools" / "solcx"
OUTPUTS = ["abi", "evm.bytecode.object", "evm.deployedBytecode.object",
           "evm.deployedBytecode.immutableReferences", "metadata"]
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_IMPORT = re.compile(r"\bimport\s+(?:[^;]*?\bfrom\s+)?[\"']([^\"']+)[\"']\s*(?:as\s+\w+\s*)?;")


@dataclass(frozen=True)
class CompilerSettings:
    version: str  # as pinned, e.g. 0.8.37
    optimizer_runs: int | None  # None: optimizer off
    evm_version: str
    remappings: tuple[str, ...]

    def solc_settings(self) -> dict:
        optimizer = {"enabled": self.optimizer_runs is not None, "runs": self.optimizer_runs or 200}
        return {"optimizer": optimizer, "evmVersion": self.evm_version, "remappings": list(self.remappings)}


@dataclass(frozen=True)
class Compiled:
    name: str
    standard_input: dict
    abi: list[dict]
    bytecode: bytes  # creation code, constructor arguments not included
    deployed_bytecode: bytes
    immutable_references: dict  # {id: [{"start", "length"}]} within deployed_bytecode
    compiler_version: str  # long form from the metadata, e.g. 0.8.37+commit.f401782d


def load_settings(config: Path = CONFIG) -> CompilerSettings:
    import yaml  # checkout-only: deploying needs the contract sources and brownie-config.yaml

    try:
        compiler = yaml.safe_load(config.read_text())["compiler"]
        solc = compiler["solc"]
        optimizer = solc.get("optimizer") or {}
        runs = int(optimizer.get("runs", 200)) if optimizer.get("enabled") else None
        return CompilerSettings(str(solc["version"]), runs, str(compiler["evm_version"]),
                                tuple(str(r) for r in solc.get("remappings") or ()))
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise FatalError(f"cannot read the compiler settings from {config}: {type(exc).__name__}") from exc


def _resolve(importer: str, path: str, remappings: tuple[str, ...]) -> str:
    if path.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    for remapping in remappings:
        prefix, _, target = remapping.partition("=")
        if path.startswith(prefix):
            return target + path[len(prefix):]
    return path


def collect_sources(entry: str, remappings: tuple[str, ...], root: Path = CHECKOUT) -> dict[str, str]:
    """Unit name → contents of `entry` and everything it imports, transitively. solc checks the result:
    a missed import fails compilation with "Source not found"."""
    sources: dict[str, str] = {}
    pending = [entry]
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        try:
            sources[unit] = (root / unit).read_text()
        except OSError as exc:
            raise FatalError(f"cannot read Solidity source {unit}: {exc.strerror} (deploying runs from a source "
                             "checkout after `make bootstrap`)") from exc
        pending += [_resolve(unit, p, remappings) for p in _IMPORT.findall(_COMMENT.sub("", sources[unit]))]
    return dict(sorted(sources.items()))


def standard_input(name: str, settings: CompilerSettings, root: Path = CHECKOUT, source: str | None = None) -> dict:
    """`source`: the unit that defines `name` (default contracts/<name>.sol)."""
    entry = source or f"contracts/{name}.sol"
    sources = collect_sources(entry, settings.remappings, root)
    return {"language": "Solidity",
            "sources": {unit: {"content": text} for unit, text in sources.items()},
            "settings": {**settings.solc_settings(), "outputSelection": {entry: {name: OUTPUTS}}}}


def _solc(standard: dict, version: str) -> dict:
    import solcx
    from solcx.exceptions import SolcError, SolcNotInstalled

    os.environ.setdefault("SOLCX_BINARY_PATH", str(SOLCX_DIR))  # where `make bootstrap` registers it
    try:
        return solcx.compile_standard(standard, solc_version=version)
    except SolcNotInstalled as exc:
        raise FatalError(f"solc {version} is not installed: run `make bootstrap`") from exc
    except SolcError as exc:
        errors = [e.get("formattedMessage", e.get("message", "")).strip().splitlines()[0]
                  for e in (exc.error_dict or {}).get("errors", []) if e.get("severity") == "error"]
        raise FatalError(f"solc failed: {'; '.join(errors) or exc.message}") from exc


def compile_input(name: str, standard: dict, version: str, *, reuse: bool = False) -> Compiled:
    """Compiles `standard`. The output is cached by the input's hash (solc is deterministic); `reuse` reads
    the cache (local chains: tests deploy dozens of times), else solc runs and refreshes it."""
    canonical = json.dumps(standard, sort_keys=True, separators=(",", ":"))
    cache = CACHE / f"{name}-{version}-{hashlib.sha256(canonical.encode()).hexdigest()[:16]}.json"
    try:
        if not reuse:
            raise FileNotFoundError(cache)
        output = json.loads(cache.read_text())
    except (OSError, ValueError):
        output = _solc(standard, version)
        # atomic: concurrent deploys compile at most once each and never read half a file
        write_atomic(cache, json.dumps(output), mode=0o644)
    entry = next(iter(standard["settings"]["outputSelection"]))
    contract = output["contracts"][entry][name]
    evm = contract["evm"]
    return Compiled(name, standard, contract["abi"], bytes.fromhex(evm["bytecode"]["object"]),
                    bytes.fromhex(evm["deployedBytecode"]["object"]),
                    evm["deployedBytecode"].get("immutableReferences") or {},
                    json.loads(contract["metadata"])["compiler"]["version"])


def compile_contract(name: str, settings: CompilerSettings | None = None, *, reuse: bool = False,
                     source: str | None = None) -> Compiled:
    settings = settings or load_settings()
    return compile_input(name, standard_input(name, settings, source=source), settings.version, reuse=reuse)
