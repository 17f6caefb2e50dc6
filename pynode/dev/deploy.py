"""Deploys the contracts to a local chain: the live-network deploy (pynode.deploy) as anvil's admin account.

One way to deploy: the same compile, transactions and record as
`scripts/deploy.py`, signed with the well-known funded key of anvil's first
account, counted as soon as mined (a local chain mines on demand). A record
already in `deployments_dir` is replaced: local chains are thrown away.
`deploy_v2` deploys protocol v2, the default (<chainId>.v2.json), optionally with a new Safe multisig as the
manager's admin and governor; `deploy` protocol v1 (<chainId>.json beside it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from web3 import Web3

from pynode.chain.provider import chain_id as rpc_chain_id
from pynode.chain.provider import connect
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxRequest, TxSender
from pynode.core.errors import FatalError
from pynode.deploy import deploy as deploy_and_record
from pynode.deploy.deployer import DeployPlan
from pynode.deploy.deployer_v2 import DeployPlanV2
from pynode.deploy.safe import SafePlan
from pynode.dev.accounts import dev_accounts, role_plan_v2, v2_accounts

V2_ACCOUNT_FUNDS = 1000 * 10**18  # wei each extra v2 role account gets (anvil funds only its first accounts)


def _local(rpc_url: str, chain_id: int) -> Web3:
    url = urlsplit(rpc_url)
    if url.hostname not in ("127.0.0.1", "localhost") or not url.port:
        raise FatalError(f"local deploys go to a loopback chain, not {rpc_url}: use scripts/deploy.py")
    w3 = connect(rpc_url)
    if rpc_chain_id(w3) != chain_id:
        raise FatalError(f"{rpc_url} is chain {rpc_chain_id(w3)}, not {chain_id}")
    return w3


def deploy(rpc_url: str, chain_id: int, deployments_dir: Path, plan: DeployPlan | None = None) -> dict:
    """Deploys to the local chain at `rpc_url` (chain `chain_id`); returns the deployments record it wrote."""
    path, _ = deploy_and_record(_local(rpc_url, chain_id), dev_accounts()["admin"], plan or DeployPlan(),
                                deployments_dir, confirmations=0, force=True, reuse_compile=True)
    return json.loads(path.read_text())


def deploy_v2(rpc_url: str, chain_id: int, deployments_dir: Path, plan: DeployPlanV2 | None = None, *,
              safe_owners: Sequence[str] = (), safe_threshold: int = 0) -> dict:
    """Deploys protocol v2 to the local chain (default plan: pynode.dev.accounts.role_plan_v2, the v2 role
    accounts funded first); returns the record it wrote (<chainId>.v2.json).

    `safe_owners` (addresses): a new `safe_threshold`-of-owners Safe becomes the manager's admin; with the default
    plan it also governs (with the dev governance delay) instead of the deployer."""
    w3 = _local(rpc_url, chain_id)
    admin = dev_accounts()["admin"]
    if plan is None:
        extra = v2_accounts()
        sender = TxSender(w3, admin, RevertDecoder(), confirmations=0)
        for name, account in extra.items():
            if w3.eth.get_balance(account.address) < V2_ACCOUNT_FUNDS // 2:
                sender.send(TxRequest(account.address, b"", f"fund {name}", V2_ACCOUNT_FUNDS))
        plan = role_plan_v2(dev_accounts() | extra)
        if safe_owners:
            plan = replace(plan, governors=())
    safe = SafePlan(tuple(safe_owners), safe_threshold) if safe_owners else None
    path, _ = deploy_and_record(w3, admin, plan, deployments_dir, confirmations=0, force=True, reuse_compile=True,
                                safe=safe)
    return json.loads(path.read_text())
