"""A Safe multisig (npm @safe-global/safe-smart-account 1.5.0) as the v2 governance admin: deploy a Safe proxy,
and have its owners sign a transaction off chain (EIP-712 `SafeTx`, eth-account) that anyone then relays.

The singleton and factory come from contracts/test/GovernanceContracts.sol's build; on a chain that has the
canonical Safe deployments, pass their addresses instead.
"""

from collections.abc import Sequence

import brownie
from eth_account import Account
from eth_account.messages import encode_typed_data
from hexbytes import HexBytes

__all__ = ["SAFE_TX_TYPES", "deploy_safe", "exec_safe", "safe_signatures"]

ZERO = "0x" + "00" * 20
CALL = 0  # Enum.Operation.Call (never DelegateCall here)
SAFE_TX_TYPES = {
    "SafeTx": [
        {"name": "to", "type": "address"}, {"name": "value", "type": "uint256"}, {"name": "data", "type": "bytes"},
        {"name": "operation", "type": "uint8"}, {"name": "safeTxGas", "type": "uint256"},
        {"name": "baseGas", "type": "uint256"}, {"name": "gasPrice", "type": "uint256"},
        {"name": "gasToken", "type": "address"}, {"name": "refundReceiver", "type": "address"},
        {"name": "nonce", "type": "uint256"},
    ]
}


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
    them (ascending signer address), as r ‖ s ‖ v each."""
    message = {
        "to": str(to), "value": value, "data": bytes(HexBytes(data)), "operation": CALL, "safeTxGas": 0, "baseGas": 0,
        "gasPrice": 0, "gasToken": ZERO, "refundReceiver": ZERO,
        "nonce": safe.nonce() if nonce is None else nonce,
    }
    signable = encode_typed_data(
        domain_data={"chainId": brownie.chain.id, "verifyingContract": safe.address},
        message_types=SAFE_TX_TYPES, message_data=message,
    )
    signed = sorted(((Account.from_key(k).address, Account.sign_message(signable, k)) for k in keys),
                    key=lambda pair: int(pair[0], 16))
    return b"".join(s.r.to_bytes(32, "big") + s.s.to_bytes(32, "big") + bytes([s.v]) for _, s in signed)


def exec_safe(safe, keys: Sequence[str], to, data, sender, *, value: int = 0):
    """Executes the call `to`.`data` from `safe` with the owners' (`keys`) signatures, relayed by `sender`
    (any account: the signatures authorize it). With safeTxGas 0 a failing inner call reverts the whole
    transaction (Safe's GS013)."""
    signatures = safe_signatures(safe, keys, to, data, value=value)
    return safe.execTransaction(to, value, data, CALL, 0, 0, 0, ZERO, ZERO, signatures, {"from": sender})
