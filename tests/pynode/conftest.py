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


@pytest.fixture(scope="session")
def anvil(processes_dir: Path) -> Iterator[Anvil]:
    with Anvil(processes_dir) as chain:
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


@pytest.fixture(scope="session")
def deployments_dir(anvil, processes_dir, dev_accounts) -> Path:
    """The contracts deployed once per session by scripts/deploy.py, roles granted to the role accounts."""
    from pynode.dev.accounts import role_plan
    from pynode.dev.deploy import deploy

    target = processes_dir / "deployments"
    deploy(anvil.rpc_url, anvil.chain_id, target, role_plan(dev_accounts))
    return target


@pytest.fixture(scope="session")
def settings(anvil, kubo, deployments_dir, tmp_path_factory):
    from pynode.core.settings import Settings

    return Settings(rpc_url=anvil.rpc_url, ipfs_api=kubo.api_url, deployments=deployments_dir,
                    home=tmp_path_factory.mktemp("fabmesh-home"), scrypt_n=1024,
                    confirmations=0)  # automine: no block ever lands on top of the last tx


@pytest.fixture
def chain(anvil, settings):
    """A Chain on the session deployment; chain state is reverted after each test."""
    from pynode.chain.client import Chain

    snapshot = anvil.rpc("evm_snapshot")
    yield Chain.connect(settings)
    anvil.rpc("evm_revert", snapshot)



@pytest.fixture
def maker_ready(chain, dev_accounts):
    """`maker` registered (X25519 key), vetted and ISO 9001 certified."""
    from support import ready_maker

    return ready_maker(chain, dev_accounts)
