"""Deploying the contracts from a source checkout: compile (standard JSON), send, record.

`scripts/deploy.py` is the operator's command for any chain; `pynode.dev.deploy`
runs the same code for local chains with anvil's funded admin account. Protocol v2
(a DeployPlanV2) records beside v1: deployments/<chainId>.v2.json.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from pynode.chain.deployment import CONTRACT_NAMES
from pynode.chain.provider import chain_id
from pynode.deploy.compiler import compile_contract, load_settings
from pynode.deploy.deployer import Deployer, DeployPlan
from pynode.deploy.deployer_v2 import SOURCES, DeployerV2, DeployPlanV2
from pynode.deploy.record import refuse_overwrite, write_record
from pynode.deploy.session import DeployResult


def deploy(w3: Web3, account: LocalAccount, plan: DeployPlan | DeployPlanV2, directory: Path, *, confirmations: int,
           force: bool = False, reuse_compile: bool = False,
           progress: Callable[[str], None] = lambda line: None) -> tuple[Path, DeployResult]:
    """Deploys the plan's protocol (a DeployPlanV2: v2) and writes <directory>/<chainId>.json (v2:
    <chainId>.v2.json); refuses, before sending anything, to replace a record unless `force`. `reuse_compile`
    takes solc's output from the compile cache (local chains)."""
    protocol = 2 if isinstance(plan, DeployPlanV2) else 1
    chain = chain_id(w3)
    if not force:
        refuse_overwrite(directory, chain, protocol)
    progress(f"chain {chain}: deployer {account.address}, admin {plan.admin or account.address}")
    settings = load_settings()
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
    return write_record(directory, result, compiled, settings, confirmations), result
