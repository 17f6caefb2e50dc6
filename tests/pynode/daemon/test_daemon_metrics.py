"""Metrics server: scrape, health going stale, clean stop that frees the port."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import requests

from pynode.daemon.metrics import NodeMetrics
from pynode.daemon.store import JobState, Store


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_registries_are_independent() -> None:
    a, b = NodeMetrics(), NodeMetrics()  # would raise "Duplicated timeseries" on the global registry
    a.claim_races_lost.inc()
    assert b.registry.get_sample_value("fabmesh_claim_races_lost_total") == 0
    assert a.registry.get_sample_value("fabmesh_claim_races_lost_total") == 1


def test_every_job_state_is_a_label_even_at_zero(tmp_path: Path) -> None:
    metrics = NodeMetrics()
    with Store(tmp_path / "node.sqlite") as store:
        store.upsert_job(1, JobState.COMPLETED, {})
        store.upsert_job(2, JobState.SHIPPED, {})
        metrics.set_jobs(store.count_by_state())
    scraped = {s.value: metrics.registry.get_sample_value("fabmesh_jobs", {"state": s.value}) for s in JobState}
    assert scraped == {s.value: 1 if s in (JobState.COMPLETED, JobState.SHIPPED) else 0 for s in JobState}


def test_health_without_a_server() -> None:
    clock = Clock()
    metrics = NodeMetrics(stale_after_s=10, clock=clock)
    assert metrics.health()[0] == 503 and metrics.health()[1]["status"] == "starting"
    metrics.cycle_ok(last_processed=90, head=100)
    assert metrics.health() == (200, {"status": "ok", "last_cycle_age_s": 0.0, "last_processed": 90, "head": 100,
                                      "behind": 10})
    clock.now += 10.5
    metrics.cycle_failed("transient")
    assert metrics.health()[0] == 503 and metrics.health()[1]["status"] == "stale"


@pytest.mark.integration
def test_scrape_health_and_stop() -> None:
    clock = Clock()
    metrics = NodeMetrics(stale_after_s=30, clock=clock)
    port = metrics.start(0)
    assert port == metrics.port and port > 0
    base = f"http://127.0.0.1:{port}"
    try:
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 503
        metrics.cycle_ok(last_processed=1234, head=1240)
        metrics.set_jobs({"producing": 2, "done": 5})
        metrics.tx_sent.labels("claim").inc(3)
        metrics.tx_failed.labels("ship").inc()
        metrics.claim_races_lost.inc()
        metrics.observe_decode(50_000, 0.5)
        metrics.cycle_failed("transient")
        text = requests.get(f"{base}/metrics", timeout=5).text
        for line in ('fabmesh_blocks_behind_head 6.0', 'fabmesh_last_processed_block 1234.0',
                     'fabmesh_jobs{state="producing"} 2.0', 'fabmesh_tx_sent_total{action="claim"} 3.0',
                     'fabmesh_tx_failed_total{action="ship"} 1.0', 'fabmesh_claim_races_lost_total 1.0',
                     'fabmesh_decode_logs_per_second 100000.0', 'fabmesh_cycles_total{result="ok"} 1.0',
                     'fabmesh_cycles_total{result="transient"} 1.0'):
            assert line in text, line
        reply = requests.get(f"{base}/healthz", timeout=5)
        assert reply.status_code == 200
        assert json.loads(reply.text) == {"status": "ok", "last_cycle_age_s": 0.0, "last_processed": 1234,
                                          "head": 1240, "behind": 6}
        clock.now += 31
        reply = requests.get(f"{base}/healthz", timeout=5)
        assert reply.status_code == 503 and reply.json()["status"] == "stale"
        assert requests.get(f"{base}/other", timeout=5).status_code == 404
    finally:
        metrics.stop()
    metrics.stop()  # idempotent
    assert metrics.port is None
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/metrics", timeout=2)
    with socket.socket() as probe:  # nothing listens any more (REUSEADDR: ignore closed connections' TIME_WAIT)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()
    assert metrics.start(port) == port  # and restartable on the same port
    metrics.stop()
