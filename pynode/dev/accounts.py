"""anvil's well-known funded accounts, by the role each plays on a local network."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

from pynode.deploy.deployer import DeployPlan
from pynode.dev.anvil import DEFAULT_MNEMONIC

ROLES = ("admin", "buyer", "maker", "maker2", "inspector", "certifier", "arbitrator", "auditor", "stranger")


def dev_accounts(count: int = len(ROLES)) -> dict[str, LocalAccount]:
    """Role name → account; beyond the named roles, `account<N>`."""
    Account.enable_unaudited_hdwallet_features()
    names = list(ROLES) + [f"account{i}" for i in range(len(ROLES), count)]
    return {name: Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
            for i, name in enumerate(names[:count])}


def role_plan(accounts: dict[str, LocalAccount]) -> DeployPlan:
    """A local deployment whose certifier, inspector and arbitrator roles go to these accounts."""
    return DeployPlan(certifiers=(accounts["certifier"].address,), inspectors=(accounts["inspector"].address,),
                      arbitrators=(accounts["arbitrator"].address,))
