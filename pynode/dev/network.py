"""A local multi-organization network: one anvil chain, one Kubo node per organization."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from pynode.dev.accounts import dev_accounts, role_plan
from pynode.dev.anvil import Anvil
from pynode.dev.deploy import deploy
from pynode.dev.kubo import KuboNode


class LocalNetwork:
    """Starts everything or nothing: a failure part-way stops what already started."""

    def __init__(self, workdir: Path, organizations: list[str], *, block_time: float | None = None,
                 max_persisted_states: int | None = None, detached: bool = False) -> None:
        self.workdir = workdir
        self.anvil = Anvil(workdir, block_time=block_time, max_persisted_states=max_persisted_states,
                           detached=detached)
        self.kubo = {org: KuboNode(workdir / "ipfs" / org, name=f"kubo-{org}", detached=detached)
                     for org in organizations}
        self.deployment: dict | None = None
        self._stack = ExitStack()

    def start(self) -> LocalNetwork:
        with ExitStack() as stack:
            stack.enter_context(self.anvil)
            for node in self.kubo.values():
                stack.enter_context(node)
            self.mesh()
            self.deployment = deploy(self.anvil.rpc_url, self.anvil.chain_id, self.workdir / "deployments",
                                     role_plan(dev_accounts()))
            self._stack = stack.pop_all()
        return self

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
