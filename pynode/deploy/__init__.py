"""Deploying the contracts from a source checkout: compile (standard JSON), send, record.

`scripts/deploy.py` is the operator's command for any chain; `pynode.dev.deploy`
runs the same code for local chains with anvil's funded admin account.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from pynode.chain.deployment import CONTRACT_NAMES
from pynode.chain.provider import chain_id
from pynode.deploy.compiler import compile_contract, load_settings
from pynode.deploy.deployer import Deployer, DeployPlan, DeployResult
from pynode.deploy.record import refuse_overwrite, write_record


def deploy(w3: Web3, account: LocalAccount, plan: DeployPlan, directory: Path, *, confirmations: int,
           force: bool = False, reuse_compile: bool = False,
           progress: Callable[[str], None] = lambda line: None) -> tuple[Path, DeployResult]:
    """Deploys and writes <directory>/<chainId>.json; refuses, before sending anything, to replace a record
    unless `force`. `reuse_compile` takes solc's output from the compile cache (local chains)."""
    chain = chain_id(w3)
    if not force:
        refuse_overwrite(directory, chain)
    progress(f"chain {chain}: deployer {account.address}, admin {plan.admin or account.address}")
    settings = load_settings()
    progress(f"compiling {', '.join(CONTRACT_NAMES)} with solc {settings.version}")
    compiled = {name: compile_contract(name, settings, reuse=reuse_compile) for name in CONTRACT_NAMES}
    result = Deployer(w3, account, compiled, confirmations=confirmations, progress=progress).deploy(plan)
    return write_record(directory, result, compiled, settings, confirmations), result
