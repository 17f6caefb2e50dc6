"""Prometheus metrics and a health endpoint for the node, on 127.0.0.1 only.

A registry per ``NodeMetrics`` (not prometheus_client's global one), so
tests and embedded nodes can create as many as they like. The HTTP server is
a small threaded ``http.server`` on its own daemon thread:

* ``GET /metrics``: the Prometheus text format.
* ``GET /healthz``: 200 ``{"status": "ok", "last_processed", "head", "behind"}``
  while the last successful cycle is younger than ``stale_after_s``; 503 with
  ``"status": "stale"`` (or ``"starting"`` before the first cycle) otherwise,
  so a supervisor restarts a node that is stuck rather than dead.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

LOOPBACK = "127.0.0.1"


class NodeMetrics:
    def __init__(self, *, stale_after_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.blocks_behind = Gauge("fabmesh_blocks_behind_head", "Chain head minus the last processed block",
                                   registry=r)
        self.last_processed = Gauge("fabmesh_last_processed_block", "Highest block whose events are applied",
                                    registry=r)
        self.jobs = Gauge("fabmesh_jobs", "Jobs by state", ["state"], registry=r)
        self.tx_sent = Counter("fabmesh_tx_sent", "Transactions sent, by action", ["action"], registry=r)
        self.tx_failed = Counter("fabmesh_tx_failed", "Transactions failed or reverted, by action", ["action"],
                                 registry=r)
        self.claim_races_lost = Counter("fabmesh_claim_races_lost", "Orders another partner claimed first",
                                        registry=r)
        self.claims_held_back = Counter("fabmesh_claims_held_back",
                                        "Claims not sent because a rival's claim was pending (a revert saved)",
                                        registry=r)
        self.awaiting_confirmation = Gauge("fabmesh_txs_awaiting_confirmation",
                                           "Own mined transactions with fewer than `confirmations` blocks on top",
                                           registry=r)
        self.decode_rate = Gauge("fabmesh_decode_logs_per_second", "Event decode rate of the last batch", registry=r)
        self.cycles = Counter("fabmesh_cycles", "Daemon cycles by result", ["result"], registry=r)
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last_ok: float | None = None
        self._health: dict[str, int | None] = {"last_processed": None, "head": None, "behind": None}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- recording ----------------------------------------------------------

    def cycle_ok(self, *, last_processed: int, head: int) -> None:
        """A cycle finished: the node is healthy for another ``stale_after_s``."""
        behind = max(0, head - last_processed)
        self.blocks_behind.set(behind)
        self.last_processed.set(last_processed)
        self.cycles.labels("ok").inc()
        with self._lock:
            self._last_ok = self._clock()
            self._health = {"last_processed": last_processed, "head": head, "behind": behind}

    def cycle_failed(self, kind: str = "error") -> None:
        """A cycle failed (``kind``: transient, fatal, ...); health goes stale if this goes on."""
        self.cycles.labels(kind).inc()

    def set_jobs(self, counts: Mapping[str, int]) -> None:
        for state, count in counts.items():
            self.jobs.labels(state).set(count)

    def observe_decode(self, logs: int, seconds: float) -> None:
        if seconds > 0:
            self.decode_rate.set(logs / seconds)

    def health(self) -> tuple[int, dict]:
        with self._lock:
            last_ok, body = self._last_ok, dict(self._health)
        if last_ok is None:
            return 503, {"status": "starting", **body}
        age = self._clock() - last_ok
        status = "ok" if age <= self.stale_after_s else "stale"
        return (200 if status == "ok" else 503), {"status": status, "last_cycle_age_s": round(age, 3), **body}

    # -- HTTP ---------------------------------------------------------------

    @property
    def port(self) -> int | None:
        """The bound port (useful with port 0), or None when not serving."""
        return None if self._server is None else self._server.server_address[1]

    def start(self, port: int = 0, host: str = LOOPBACK) -> int:
        """Serves /metrics and /healthz on a daemon thread; returns the bound port."""
        if self._server is not None:
            raise RuntimeError("metrics server already running")
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's naming
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    status, body = metrics.health()
                    self._send(status, json.dumps(body).encode(), "application/json")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - scrapes are not news
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fabmesh-metrics",
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()
        return server.server_address[1]

    def stop(self) -> None:
        """Stops serving and releases the port (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
