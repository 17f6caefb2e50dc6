"""Deploys a Safe multisig (npm @safe-global/safe-smart-account 1.5) for protocol v2's governance: the singleton and
the proxy factory (unless the chain has them: pass their addresses), then a Safe proxy of the owners, set up in
its creation transaction. The owners and threshold are read back before the record names the Safe.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynode.chain.contracts import _Wrapper
from pynode.chain.deployment import ContractInfo
from pynode.chain.v2.safe import Safe
from pynode.chain.v2.safe_tx import ZERO
from pynode.core.address import keccak_text, to_checksum_address
from pynode.core.errors import FatalError, InputError
from pynode.deploy.session import DeploySession, checked_address

#: where each Safe contract's source unit is (compiler.standard_input's `source`)
SAFE_SOURCES = {
    "Safe": "node_modules/@safe-global/safe-smart-account/contracts/Safe.sol",
    "SafeProxyFactory": "node_modules/@safe-global/safe-smart-account/contracts/proxies/SafeProxyFactory.sol",
}
MAX_OWNERS = 20  # a Safe checks every signature in one transaction: keep a governance Safe small
_PROXY_CREATION = "0x" + keccak_text("ProxyCreation(address,address)").hex()


@dataclass(frozen=True)
class SafePlan:
    """A `threshold`-of-owners Safe; `singleton`/`factory`: existing deployments to use (None: deploy them)."""

    owners: tuple[str, ...]
    threshold: int
    singleton: str | None = None
    factory: str | None = None
    salt: int = 0

    def __post_init__(self) -> None:
        owners = tuple(checked_address(a, "Safe owner") for a in self.owners)
        object.__setattr__(self, "owners", owners)
        if not 0 < len(owners) <= MAX_OWNERS or len(set(owners)) != len(owners) or ZERO in owners:
            raise InputError(f"the Safe needs 1 to {MAX_OWNERS} distinct non-zero owners, got {len(owners)}")
        if type(self.threshold) is not int or not 0 < self.threshold <= len(owners):
            raise InputError(f"Safe threshold must be an integer in [1, {len(owners)}], got {self.threshold!r}")
        for name in ("singleton", "factory"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, checked_address(getattr(self, name), f"Safe {name}"))
        if type(self.salt) is not int or not 0 <= self.salt < 1 << 256:
            raise InputError(f"Safe salt must be an integer in [0, 2**256 - 1], got {self.salt!r}")


class SafeDeployer(DeploySession):
    def deploy(self, plan: SafePlan) -> dict:
        """Creates the Safe; returns the record's ``safe`` entry."""
        singleton = plan.singleton or self._create("Safe", ()).address
        factory_at = plan.factory or self._create("SafeProxyFactory", ()).address
        blank = Safe(self.w3, ContractInfo("Safe", singleton, self.compiled["Safe"].abi))
        setup = blank.request("setup", "setup", list(plan.owners), plan.threshold, ZERO, b"", ZERO, ZERO, 0,
                              ZERO).data
        factory = _Wrapper(self.w3, ContractInfo("SafeProxyFactory", factory_at,
                                                 self.compiled["SafeProxyFactory"].abi))
        sent = self._send(factory.request(f"create a {plan.threshold}-of-{len(plan.owners)} Safe",
                                          "createProxyWithNonce", singleton, setup, plan.salt), last=True)
        created = [log for log in sent.receipt["logs"] if to_checksum_address(log["address"]) == factory_at
                   and log["topics"] and "0x" + bytes(log["topics"][0]).hex() == _PROXY_CREATION]
        if len(created) != 1:
            raise FatalError(f"create the Safe: {sent.tx_hash} logged {len(created)} ProxyCreation events, not one")
        address = to_checksum_address(bytes(created[0]["topics"][1])[-20:])
        safe = Safe(self.w3, ContractInfo("Safe", address, self.compiled["Safe"].abi))
        owners, threshold = safe.owners(), safe.threshold()
        if sorted(owners) != sorted(plan.owners) or threshold != plan.threshold:
            raise FatalError(f"the Safe at {address} has owners {owners} and threshold {threshold}, not the plan's")
        return {"address": address, "owners": list(plan.owners), "threshold": plan.threshold,
                "singleton": singleton, "proxyFactory": factory_at, "salt": plan.salt, "version": safe.version(),
                "transactionHash": sent.tx_hash, "blockNumber": sent.block_number}
