"""Loopback networking helpers for local processes.

No port is picked here for a process to bind later: any other process on the
machine could take it in between. Processes bind port 0 and report the port they
got; a port that must stay ours while nothing listens on it is held bound.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

LOOPBACK = "127.0.0.1"


@contextmanager
def held_port(port: int = 0) -> Iterator[int]:
    """A 127.0.0.1 TCP port (the OS's pick for 0) bound and not listening while the context is open.

    Connections to it are refused, the OS hands it to no other socket, and only a socket that
    asks for it by number with SO_REUSEADDR may bind it too (a server that held it before,
    started again on its own address; its cut connections may still be in TIME_WAIT).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        yield sock.getsockname()[1]


def refuses_connections(port: int) -> bool:
    """True when nothing accepts a connection on the 127.0.0.1 port now; says nothing about the next moment,
    unless the port is held (held_port), so no caller may take it as free to bind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((LOOPBACK, port)) != 0


def post_json(url: str, payload: dict | None = None, timeout: float = 2.0) -> dict:
    body = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")
