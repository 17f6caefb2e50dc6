"""Fixtures for pynode tests.

Tests are unit tests unless marked `integration`; unit tests cannot open
sockets. Integration tests get a real anvil and a real Kubo daemon on free
127.0.0.1 ports, started once per session and stopped at the end.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pynode.dev.anvil import Anvil
from pynode.dev.kubo import KuboNode


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: talks to real anvil/Kubo processes on 127.0.0.1")


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
