"""A Safe multisig (npm @safe-global/safe-smart-account 1.5.0) as the v2 governance admin: deploy a Safe proxy,
and have its owners sign a transaction off chain (EIP-712 `SafeTx`, eth-account) that anyone then relays.

The singleton and factory come from contracts/test/GovernanceContracts.sol's build; on a chain that has the
canonical Safe deployments, pass their addresses instead.
"""

from collections.abc import Sequence

import brownie
from eth_account import Account
from hexbytes import HexBytes

from pynode.chain.v2.safe_tx import CALL, ZERO, SafeProposal

__all__ = ["deploy_safe", "exec_safe", "safe_signatures"]


def _container(name):
    return getattr(brownie.project.get_loaded_projects()[0], name)


def deploy_safe(deployer, owners: Sequence, threshold: int, *, singleton=None, factory=None, salt: int = 0):
    """A Safe proxy owned by `owners` (addresses) with `threshold`, set up in its creation transaction."""
    singleton = _container("Safe").at(singleton) if singleton else _container("Safe").deploy({"from": deployer})
    factory = (_container("SafeProxyFactory").at(factory) if factory
               else _container("SafeProxyFactory").deploy({"from": deployer}))
    owners = [str(o) for o in owners]
    setup = singleton.setup.encode_input(owners, threshold, ZERO, b"", ZERO, ZERO, 0, ZERO)
    tx = factory.createProxyWithNonce(singleton, setup, salt, {"from": deployer})
    return _container("Safe").at(tx.events["ProxyCreation"]["proxy"])


def safe_signatures(safe, keys: Sequence[str], to, data, *, value: int = 0, nonce: int | None = None) -> bytes:
    """The owners' (`keys`) EIP-712 signatures of the SafeTx calling `to` with `data`, in the order Safe checks
    them (ascending signer address), as r ‖ s ‖ v each (pynode's SafeProposal: one SafeTx encoding)."""
    proposal = SafeProposal(safe.address, int(brownie.chain.id), str(to), bytes(HexBytes(data)),
                            int(safe.nonce() if nonce is None else nonce), int(value))
    for key in keys:
        proposal = proposal.signed_by(Account.from_key(key))
    return proposal.packed_signatures()


def exec_safe(safe, keys: Sequence[str], to, data, sender, *, value: int = 0):
    """Executes the call `to`.`data` from `safe` with the owners' (`keys`) signatures, relayed by `sender`
    (any account: the signatures authorize it). With safeTxGas 0 a failing inner call reverts the whole
    transaction with the inner call's own revert data."""
    signatures = safe_signatures(safe, keys, to, data, value=value)
    return safe.execTransaction(to, value, data, CALL, 0, 0, 0, ZERO, ZERO, signatures, {"from": sender})
