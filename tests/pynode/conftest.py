"""Fixtures for pynode tests.

Tests are unit tests unless marked `integration`; unit tests cannot open
sockets. Integration tests get a real anvil and a real Kubo daemon on
127.0.0.1 ports they bound themselves (port 0), started once per session and
stopped at the end. No test picks a free port for a process to bind later.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pynode.dev.anvil import Anvil
from pynode.dev.kubo import KuboNode
from pynode.dev.net import held_port as hold


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: talks to real anvil/geth/Kubo processes on 127.0.0.1")
    config.addinivalue_line("markers", "own_chain: in a module's pytestmark, its tests get an anvil, a deployment and "
                                       "settings of their own instead of the session's shared chain")


class SocketBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _unit_tests_have_no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("integration"):
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise SocketBlocked(f"{request.node.nodeid} is a unit test: mark it integration to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture
def held_port() -> Iterator[int]:
    """A 127.0.0.1 port held bound, not listening, for the test: connections to it are refused, and
    no other process can take it. A server that sets SO_REUSEADDR (the node's metrics server,
    http.server) binds it beside the holder."""
    with hold() as port:
        yield port


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def fabmesh_main(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Runs `fabmesh ARGS` in-process exactly as the console script does, exit code included (with the
    environment and working directory the test has set)."""
    from pynode.cli.main import main

    def invoke(*args: str, input: str = "") -> Result:  # noqa: A002 - the name click's CliRunner.invoke uses
        monkeypatch.setattr("sys.stdin", io.StringIO(input))
        with pytest.raises(SystemExit) as exited:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        return Result(exited.value.code, out, err)

    return invoke


@pytest.fixture(scope="session")
def processes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("processes")


def _own_chain(request: pytest.FixtureRequest) -> bool:
    """A module marked own_chain (the long daemon tests: whole jobs, crash, outage; tests that change how the
    chain mines) runs on a chain of its own: under the full suite the shared chain has been snapshot-reverted by
    every earlier test, and eth_getLogs then returned order histories that did not match the reverted state."""
    return request.node.get_closest_marker("own_chain") is not None


@pytest.fixture(scope="session")
def shared_anvil(processes_dir: Path) -> Iterator[Anvil]:
    with Anvil(processes_dir) as chain:
        yield chain


@pytest.fixture(scope="module")
def anvil(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    """The session's anvil, or the module's own (own_chain)."""
    if not _own_chain(request):
        yield request.getfixturevalue("shared_anvil")
        return
    with Anvil(tmp_path_factory.mktemp("own-anvil")) as chain:
        yield chain


@pytest.fixture(scope="session")
def kubo(processes_dir: Path) -> Iterator[KuboNode]:
    with KuboNode(processes_dir / "kubo-repo") as node:
        yield node


# ---------------------------------------------------------------- deployed contracts

@pytest.fixture(scope="session")
def dev_accounts():
    """anvil's funded accounts by role name (admin, buyer, maker, maker2, inspector, certifier, …)."""
    from pynode.dev.accounts import dev_accounts

    return dev_accounts()


def _deployed(anvil: Anvil, dev_accounts, target: Path) -> Path:
    """The contracts deployed by scripts/deploy.py, roles granted to the role accounts."""
    from pynode.dev.accounts import role_plan
    from pynode.dev.deploy import deploy

    deploy(anvil.rpc_url, anvil.chain_id, target, role_plan(dev_accounts))
    return target


def _settings(anvil: Anvil, kubo: KuboNode, deployments: Path, home: Path):
    from pynode.core.settings import Settings

    return Settings(rpc_url=anvil.rpc_url, ipfs_api=kubo.api_url, deployments=deployments, home=home, scrypt_n=1024,
                    confirmations=0)  # automine: no block ever lands on top of the last tx


@pytest.fixture(scope="session")
def shared_deployments_dir(shared_anvil, processes_dir, dev_accounts) -> Path:
    return _deployed(shared_anvil, dev_accounts, processes_dir / "deployments")


@pytest.fixture(scope="module")
def deployments_dir(request, anvil, dev_accounts, tmp_path_factory) -> Path:
    """The session's deployment (once per session), or the module's own (own_chain)."""
    if not _own_chain(request):
        return request.getfixturevalue("shared_deployments_dir")
    return _deployed(anvil, dev_accounts, tmp_path_factory.mktemp("own-deployments"))


def _deployed_v2(anvil: Anvil, target: Path) -> Path:
    """Protocol v2 deployed by pynode.dev.deploy.deploy_v2 (the dev plan: pynode.dev.accounts.role_plan_v2), its
    record <chainId>.v2.json written into `target` beside v1's."""
    from pynode.dev.deploy import deploy_v2

    deploy_v2(anvil.rpc_url, anvil.chain_id, target)
    return target


@pytest.fixture(scope="session")
def shared_v2_deployments_dir(shared_anvil, shared_deployments_dir) -> Path:
    return _deployed_v2(shared_anvil, shared_deployments_dir)


@pytest.fixture(scope="module")
def v2_deployments_dir(request, anvil, deployments_dir) -> Path:
    """deployments_dir with the v2 record beside v1's: the session's (once per session), or the module's own
    (own_chain). Settings(deployments=...) of either fixture reach both records."""
    if not _own_chain(request):
        return request.getfixturevalue("shared_v2_deployments_dir")
    return _deployed_v2(anvil, deployments_dir)


@pytest.fixture(scope="module")
def v2_deployment(anvil, v2_deployments_dir):
    """The v2 record loaded (pynode.chain.deployment.Deployment: AccessManager, PartnerRegistryV2, OrderBookV2,
    PanelArbitrator with their packaged ABIs)."""
    from pynode.chain.deployment import load_deployment

    return load_deployment(anvil.chain_id, v2_deployments_dir, None, protocol=2)


@pytest.fixture(scope="session")
def shared_settings(shared_anvil, kubo, shared_deployments_dir, tmp_path_factory):
    return _settings(shared_anvil, kubo, shared_deployments_dir, tmp_path_factory.mktemp("fabmesh-home"))


@pytest.fixture(scope="module")
def settings(request, anvil, kubo, deployments_dir, tmp_path_factory):
    """Settings for the session's chain, or for the module's own (own_chain)."""
    if not _own_chain(request):
        return request.getfixturevalue("shared_settings")
    return _settings(anvil, kubo, deployments_dir, tmp_path_factory.mktemp("own-home"))


@pytest.fixture
def chain(anvil, settings):
    """A Chain on the module's deployment (the session's unless own_chain); chain state is reverted after each test."""
    from pynode.chain.client import Chain

    snapshot = anvil.rpc("evm_snapshot")
    yield Chain.connect(settings)
    anvil.rpc("evm_revert", snapshot)



@pytest.fixture
def maker_ready(chain, dev_accounts):
    """`maker` registered (X25519 key), vetted and ISO 9001 certified."""
    from support import ready_maker

    return ready_maker(chain, dev_accounts)
