"""Account selection for brownie scripts (chainlink-mix style)."""

import os

from brownie import accounts, network

# fabmesh-local: the live-type network `fabmesh dev up` registers for a local anvil at $FABMESH_RPC_URL.
LOCAL_NETWORKS = ("development", "anvil", "hardhat", "ganache", "fabmesh-local")


def get_account(index: int = 0, env_key: str = "FABMESH_DEPLOYER_KEY"):
    """Local chains: the unlocked account `index`. Elsewhere: the private key in `env_key`."""
    if network.show_active() in LOCAL_NETWORKS or network.show_active().endswith("-fork"):
        return accounts[index]
    key = os.environ.get(env_key)
    if not key:
        raise SystemExit(f"set {env_key} to the deployer's private key for network {network.show_active()}")
    return accounts.add(key)
