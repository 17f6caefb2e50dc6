"""A local multi-organization network: one anvil chain, one Kubo node per organization."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from pynode.dev.accounts import DEV_SAFE_THRESHOLD, dev_accounts, role_plan, safe_owner_accounts
from pynode.dev.anvil import Anvil
from pynode.dev.deploy import deploy, deploy_v2
from pynode.dev.kubo import KuboNode


class LocalNetwork:
    """Starts everything or nothing: a failure part-way stops what already started.

    `protocol` 2 (the default) deploys the v2 contracts, governed by the dev 2-of-3 Safe (pynode.dev.accounts);
    1 the v1 contracts instead."""

    def __init__(self, workdir: Path, organizations: list[str], *, block_time: float | None = None,
                 max_persisted_states: int | None = None, detached: bool = False, protocol: int = 2) -> None:
        self.workdir = workdir
        self.protocol = protocol
        # A whole-second block time starts once the contracts are deployed: the deploy's transactions are mined
        # as sent (automine), not one per block interval
        self.block_time = block_time if block_time is not None and float(block_time).is_integer() else None
        self.anvil = Anvil(workdir, block_time=None if self.block_time else block_time,
                           max_persisted_states=max_persisted_states, detached=detached)
        self.kubo = {org: KuboNode(workdir / "ipfs" / org, name=f"kubo-{org}", detached=detached)
                     for org in organizations}
        self.deployment: dict | None = None
        self._stack = ExitStack()

    def start(self) -> LocalNetwork:
        with ExitStack() as stack, ThreadPoolExecutor(3) as pool:
            stack.enter_context(self.anvil)
            # The deploy and the repos' `ipfs init` run side by side; the daemons start on this thread, since they
            # die with the thread that started them (PR_SET_PDEATHSIG)
            deployed = pool.submit(self.deploy)
            list(pool.map(KuboNode.init, self.kubo.values()))
            for node in self.kubo.values():
                stack.enter_context(node)
            self.mesh()
            self.deployment = deployed.result()
            if self.block_time:
                self.anvil.rpc("evm_setIntervalMining", int(self.block_time))
            self._stack = stack.pop_all()
        return self

    def deploy(self) -> dict:
        directory = self.workdir / "deployments"
        if self.protocol == 2:
            owners = [owner.address for owner in safe_owner_accounts().values()]
            return deploy_v2(self.anvil.rpc_url, self.anvil.chain_id, directory, safe_owners=owners,
                             safe_threshold=DEV_SAFE_THRESHOLD)
        return deploy(self.anvil.rpc_url, self.anvil.chain_id, directory, role_plan(dev_accounts()))

    def mesh(self) -> None:
        """Connects every organization's node to every other: no outside peers exist."""
        nodes = list(self.kubo.values())
        for i, node in enumerate(nodes):
            for other in nodes[i + 1:]:
                node.connect(other)

    def stop(self) -> None:
        self._stack.close()

    def __enter__(self) -> LocalNetwork:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
