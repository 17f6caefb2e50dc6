"""Deploying the contracts from a source checkout: compile (standard JSON), send, record.

`scripts/deploy.py` is the operator's command for any chain; `pynode.dev.deploy`
runs the same code for local chains with anvil's funded admin account. Protocol v2, the default
(a DeployPlanV2), records deployments/<chainId>.v2.json, v1 (a DeployPlan) <chainId>.json beside it; with a
SafePlan a new Safe multisig becomes the v2 admin (the record's `safe` entry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from pynode.chain.deployment import CONTRACT_NAMES
from pynode.chain.provider import chain_id
from pynode.core.errors import InputError
from pynode.deploy.compiler import CompilerSettings, compile_contract, load_settings
from pynode.deploy.deployer import Deployer, DeployPlan
from pynode.deploy.deployer_v2 import SOURCES, DeployerV2, DeployPlanV2
from pynode.deploy.record import refuse_overwrite, write_record
from pynode.deploy.safe import SAFE_SOURCES, SafeDeployer, SafePlan
from pynode.deploy.session import DeployResult


def deploy(w3: Web3, account: LocalAccount, plan: DeployPlan | DeployPlanV2, directory: Path, *, confirmations: int,
           force: bool = False, reuse_compile: bool = False,
           progress: Callable[[str], None] = lambda line: None,
           safe: SafePlan | None = None) -> tuple[Path, DeployResult]:
    """Deploys the plan's protocol (a DeployPlanV2: v2, a DeployPlan: v1) and writes <directory>/<chainId>.v2.json
    (v1: <chainId>.json); refuses, before sending anything, to replace a record unless `force`. `reuse_compile`
    takes solc's output from the compile cache (local chains). `safe` (v2 only, a plan without an admin): a new
    Safe of those owners is created first and the manager handed to it."""
    protocol = 2 if isinstance(plan, DeployPlanV2) else 1
    if safe is not None and (not isinstance(plan, DeployPlanV2) or plan.admin is not None):
        raise InputError("a new Safe becomes the admin of a protocol 2 deploy whose plan names no other admin")
    chain = chain_id(w3)
    if not force:
        refuse_overwrite(directory, chain, protocol)
    settings = load_settings()
    safe_entry: dict | None = None
    safe_transactions: list[dict] = []
    if safe is not None:
        safe_entry, safe_transactions = _deploy_safe(w3, account, safe, settings, confirmations, reuse_compile,
                                                     progress)
        plan = replace(plan, admin=safe_entry["address"])
    progress(f"chain {chain}: deployer {account.address}, admin {plan.admin or account.address}")
    sources: dict[str, str | None] = (
        {n: s for n, s in SOURCES.items() if n != "PanelArbitrator" or plan.panel is not None}
        if isinstance(plan, DeployPlanV2) else dict.fromkeys(CONTRACT_NAMES))
    progress(f"compiling {', '.join(sources)} with solc {settings.version}")
    compiled = {name: compile_contract(name, settings, reuse=reuse_compile, source=source)
                for name, source in sources.items()}
    if isinstance(plan, DeployPlanV2):
        result = DeployerV2(w3, account, compiled, confirmations=confirmations, progress=progress).deploy(plan)
    else:
        result = Deployer(w3, account, compiled, confirmations=confirmations, progress=progress).deploy(plan)
    if safe_entry is not None:
        result.extra["safe"] = safe_entry
        result.transactions[:0] = safe_transactions
    return write_record(directory, result, compiled, settings, confirmations), result


def _deploy_safe(w3: Web3, account: LocalAccount, plan: SafePlan, settings: CompilerSettings, confirmations: int,
                 reuse_compile: bool, progress: Callable[[str], None]) -> tuple[dict, list[dict]]:
    """The Safe (the record's `safe` entry) and the transactions that created it."""
    names = ["Safe"] + (["SafeProxyFactory"] if plan.factory is None else [])
    progress(f"compiling {', '.join(names)} with solc {settings.version}")
    compiled = {name: compile_contract(name, settings, reuse=reuse_compile, source=SAFE_SOURCES[name])
                for name in names}
    deployer = SafeDeployer(w3, account, compiled, confirmations=confirmations, progress=progress)
    return deployer.deploy(plan), deployer.transactions
