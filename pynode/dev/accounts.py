"""anvil's well-known funded accounts, by the role each plays on a local network."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

from pynode.deploy.deployer import DeployPlan
from pynode.deploy.deployer_v2 import DeployPlanV2, PanelPlan
from pynode.dev.anvil import DEFAULT_MNEMONIC

ROLES = ("admin", "buyer", "maker", "maker2", "inspector", "certifier", "arbitrator", "auditor", "stranger")
# Protocol v2's guardian and panel members: HD indexes far above the `account<N>` ones demos and benches take
# (anvil funds only its first accounts: pynode.dev.deploy.deploy_v2 funds these).
V2_ROLES = {"guardian": 100, "panelist": 101, "panelist2": 102}
# A local governance Safe's owners (pynode.dev.deploy.deploy_v2's safe_owners): they only sign, a relayer pays.
SAFE_OWNERS = {"owner1": 103, "owner2": 104, "owner3": 105}
DEV_SAFE_THRESHOLD = 2
DEV_GOVERNANCE_DELAY = 60  # s: a local chain's governance waits a minute (live: >= 2 days)


def _derived(index: int) -> LocalAccount:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def dev_accounts(count: int = len(ROLES)) -> dict[str, LocalAccount]:
    """Role name → account; beyond the named roles, `account<N>`."""
    names = list(ROLES) + [f"account{i}" for i in range(len(ROLES), count)]
    return {name: _derived(i) for i, name in enumerate(names[:count])}


def v2_accounts() -> dict[str, LocalAccount]:
    """Protocol v2's extra role accounts (V2_ROLES) by name."""
    return {name: _derived(index) for name, index in V2_ROLES.items()}


def safe_owner_accounts() -> dict[str, LocalAccount]:
    """The dev governance Safe's owners (SAFE_OWNERS) by name."""
    return {name: _derived(index) for name, index in SAFE_OWNERS.items()}


def role_plan(accounts: dict[str, LocalAccount]) -> DeployPlan:
    """A local deployment whose certifier, inspector and arbitrator roles go to these accounts."""
    return DeployPlan(certifiers=(accounts["certifier"].address,), inspectors=(accounts["inspector"].address,),
                      arbitrators=(accounts["arbitrator"].address,))


def role_plan_v2(accounts: dict[str, LocalAccount], governance_delay: int = DEV_GOVERNANCE_DELAY) -> DeployPlanV2:
    """A local v2 deployment: the deployer (`admin`) stays the manager's admin and governs with
    `governance_delay`; `guardian` and `certifier` act at once; a 2-of-3 panel of `arbitrator`, `panelist`,
    `panelist2` (`accounts` as dev_accounts() | v2_accounts())."""
    panel = PanelPlan(members=tuple(accounts[n].address for n in ("arbitrator", "panelist", "panelist2")), quorum=2,
                      arbitration_cost=10**15, appeal_cost=2 * 10**15)
    return DeployPlanV2(governors=(accounts["admin"].address,), guardians=(accounts["guardian"].address,),
                        certifiers=(accounts["certifier"].address,), panel=panel, governance_delay=governance_delay,
                        dev=True)
