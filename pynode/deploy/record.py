"""deployments/<chainId>.v2.json (protocol v1: <chainId>.json beside it): what was deployed, where, by which
transactions, from which sources.

pynode reads chainId, deployBlock and contracts.<Name>.address
(pynode.chain.deployment); the rest is for people and block explorers: the
transaction of every step, constructor arguments (named and ABI-encoded),
compiler settings, the git commit, and beside the record the standard-JSON
input each contract was compiled from (<chainId>/<Name>.input.json).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pynode.chain.deployment import record_name
from pynode.core.errors import InputError
from pynode.core.fsutil import write_atomic
from pynode.deploy.compiler import CHECKOUT, Compiled, CompilerSettings
from pynode.deploy.session import DeployResult

#: what decides the bytecode besides the commit: a change here since the commit makes the record say "dirty"
BUILD_INPUTS = ("contracts", "brownie-config.yaml", "package-lock.json")


def record_path(directory: Path, chain_id: int, protocol: int = 2) -> Path:
    return directory / record_name(chain_id, protocol)


def refuse_overwrite(directory: Path, chain_id: int, protocol: int = 2) -> None:
    path = record_path(directory, chain_id, protocol)
    if path.exists():
        raise InputError(f"{path} already records a deployment on chain {chain_id}: pass --force to replace it")


def git_commit(root: Path = CHECKOUT) -> dict:
    """HEAD and whether the files that decide the bytecode differ from it; nulls outside a git checkout."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--", *BUILD_INPUTS) if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _write(path: Path, text: str) -> None:
    write_atomic(path, text, mode=0o644)  # a reader never sees half a file; records are public


def write_record(directory: Path, result: DeployResult, compiled: dict[str, Compiled], settings: CompilerSettings,
                 confirmations: int) -> Path:
    """Writes the standard-JSON inputs, then the record that names them (the record is the last file written)."""
    contracts = {}
    for name, deployed in result.contracts.items():
        standard = Path(str(result.chain_id)) / f"{name}.input.json"
        _write(directory / standard, json.dumps(compiled[name].standard_input, indent=1, sort_keys=True) + "\n")
        contracts[name] = {
            "address": deployed.address,
            "transactionHash": deployed.tx_hash,
            "blockNumber": deployed.block,
            "constructorArguments": deployed.constructor_args,
            "constructorArgumentsEncoded": "0x" + deployed.constructor_args_encoded.hex(),
            "standardJsonInput": standard.as_posix(),
        }
    version = {c.compiler_version for c in compiled.values()}.pop()
    record = {
        "chainId": result.chain_id,
        "deployBlock": min(d.block for d in result.contracts.values()),
        "deployer": result.deployer,
        "admin": result.admin,
        "contracts": contracts,
        "roles": result.roles,
        "tokens": result.tokens,
        "params": result.params,
        "transactions": result.transactions,
        "confirmations": confirmations,
        "compiler": {"version": version, "evmVersion": settings.evm_version,
                     "optimizer": settings.solc_settings()["optimizer"], "remappings": list(settings.remappings)},
        "git": git_commit(),
        **result.extra,
    }
    if result.protocol != 1:  # a v1 record names no protocol (records written before v2 existed read as v1)
        record["protocol"] = result.protocol
    path = record_path(directory, result.chain_id, result.protocol)
    _write(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path
