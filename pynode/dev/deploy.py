"""Deploys the contracts to a local chain: the live-network deploy (pynode.deploy) as anvil's admin account.

One way to deploy: the same compile, transactions and record as
`scripts/deploy.py`, signed with the well-known funded key of anvil's first
account, counted as soon as mined (a local chain mines on demand). A record
already in `deployments_dir` is replaced: local chains are thrown away.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from pynode.chain.provider import chain_id as rpc_chain_id
from pynode.chain.provider import connect
from pynode.core.errors import FatalError
from pynode.deploy import deploy as deploy_and_record
from pynode.deploy.deployer import DeployPlan
from pynode.dev.accounts import dev_accounts


def deploy(rpc_url: str, chain_id: int, deployments_dir: Path, plan: DeployPlan | None = None) -> dict:
    """Deploys to the local chain at `rpc_url` (chain `chain_id`); returns the deployments record it wrote."""
    url = urlsplit(rpc_url)
    if url.hostname not in ("127.0.0.1", "localhost") or not url.port:
        raise FatalError(f"local deploys go to a loopback chain, not {rpc_url}: use scripts/deploy.py")
    w3 = connect(rpc_url)
    if rpc_chain_id(w3) != chain_id:
        raise FatalError(f"{rpc_url} is chain {rpc_chain_id(w3)}, not {chain_id}")
    path, _ = deploy_and_record(w3, dev_accounts()["admin"], plan or DeployPlan(), deployments_dir,
                                confirmations=0, force=True, reuse_compile=True)
    return json.loads(path.read_text())
