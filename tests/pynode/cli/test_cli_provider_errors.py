"""A CLI command against a throttling or absent RPC endpoint.

Retried for FABMESH_RETRY_TIMEOUT, then one line, exit 1.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

pytestmark = pytest.mark.integration


class Throttling(BaseHTTPRequestHandler):
    """Answers every JSON-RPC request the way Alchemy does when throttling (HTTP 429, code 429, Retry-After)."""

    hits: ClassVar[list[float]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Throttling.hits.append(time.monotonic())
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "error": {
            "code": 429, "message": "Your app has exceeded its compute units per second capacity."}}).encode()
        self.send_response(429)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def throttling_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    Throttling.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_rate_limit_is_retried_for_the_window_then_one_line(run, monkeypatch, throttling_endpoint) -> None:
    monkeypatch.setenv("FABMESH_RETRY_TIMEOUT", "3")
    started = time.monotonic()
    result = run("--rpc-url", throttling_endpoint, "partner", "list")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "429" in lines[0], result.stderr
    assert "requests" not in result.stderr and "Traceback" not in result.stderr and result.stdout == ""
    hits = Throttling.hits
    assert len(hits) >= 3 and 2.0 <= elapsed < 8.0  # retried inside the window, Retry-After (1 s) apart
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(hits))


def test_an_absent_endpoint_is_one_line_after_the_window(run, monkeypatch, held_port) -> None:
    monkeypatch.setenv("FABMESH_RETRY_TIMEOUT", "1")
    result = run("--rpc-url", f"http://127.0.0.1:{held_port}", "order", "list")  # held: refused, and no one's
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0], result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr and "Errno" not in result.stderr
