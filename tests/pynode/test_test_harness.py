"""The harness itself: unit tests really cannot reach the network."""

from __future__ import annotations

import socket

import pytest


def test_unit_tests_cannot_open_sockets():
    with socket.socket() as sock, pytest.raises(RuntimeError, match="mark it integration"):
        sock.connect(("127.0.0.1", 9))


@pytest.mark.integration
def test_integration_tests_can(anvil):
    with socket.create_connection(("127.0.0.1", anvil.port), timeout=2):
        pass
