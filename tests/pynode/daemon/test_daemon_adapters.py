"""Production adapters: simulated determinism across restarts, the hot folder protocol and its hostile inputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pynode.core.errors import InputError, TransientError
from pynode.daemon.adapters import (
    HotfolderAdapter,
    HotfolderSettings,
    ProductionFailed,
    ProductionJob,
    SimulatedAdapter,
    SimulatedSettings,
    UnknownJob,
    make_adapter,
)
from pynode.documents.quality_report import within
from pynode.documents.spec import Tolerance

SPEC = {"process": "cnc-milling", "material": "AlMg3", "quantity": 4, "notes": "deburr all edges",
        "tolerances": {"bore_d": {"nominal": 10.0, "plus": 0.02, "minus": 0.01, "unit": "mm"},
                       "length": {"nominal": 120, "plus": 0.1, "minus": 0.1, "unit": "mm"},
                       "flat": {"nominal": 0, "plus": 0.05, "minus": 0, "unit": "mm"}}}


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_job(tmp_path: Path, order_id: int) -> ProductionJob:
    work = tmp_path / "jobs" / str(order_id)
    work.mkdir(parents=True, exist_ok=True)
    design = work / "bracket.step"
    design.write_bytes(b"ISO-10303-21; design of order %d" % order_id)
    return ProductionJob(order_id=order_id, design_path=design, spec=SPEC, work_dir=work)


# --- simulated -------------------------------------------------------------

def simulated(tmp_path: Path, clock: Clock, **settings: object) -> SimulatedAdapter:
    return SimulatedAdapter(SimulatedSettings(**settings), state_dir=tmp_path / "state", clock=clock)


def test_simulated_waits_then_returns_the_same_outcome_after_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    adapter = simulated(tmp_path, clock, duration_s=30, defect_rate=0.5, seed=7)
    job = make_job(tmp_path, 42)
    adapter.submit(job)
    assert adapter.poll(42) is None
    clock.now += 10
    adapter.submit(job)  # a second submit does not restart the clock
    clock.now += 21
    first = adapter.poll(42)
    assert first is not None
    restarted = simulated(tmp_path, clock, duration_s=30, defect_rate=0.5, seed=7)  # a new process
    again = restarted.poll(42)
    assert again == first
    assert first.evidence[0].read_text().startswith("name,measured\n")
    tolerances = {name: Tolerance(**t) for name, t in SPEC["tolerances"].items()}
    checks = {name: within(tolerances[name], value) for name, value in first.measurements.items()}
    assert set(checks) == set(tolerances)
    assert all(checks.values()) == first.passed
    restarted.cleanup(42)
    restarted.cleanup(42)
    with pytest.raises(UnknownJob):
        restarted.poll(42)


def test_simulated_defect_rate_and_seed(tmp_path: Path) -> None:
    def verdicts(seed: int, rate: float) -> list[bool]:
        clock = Clock()
        adapter = simulated(tmp_path / f"{seed}-{rate}", clock, duration_s=0, defect_rate=rate, seed=seed)
        out = []
        for order in range(60):
            adapter.submit(make_job(tmp_path, order))
            result = adapter.poll(order)
            assert result is not None
            out.append(result.passed)
        return out

    assert all(verdicts(1, 0.0)) and not any(verdicts(1, 1.0))
    mixed = verdicts(1, 0.5)
    assert 10 < sum(mixed) < 50
    assert verdicts(1, 0.5) == mixed and verdicts(2, 0.5) != mixed


def test_simulated_rejects_a_bad_spec_and_a_missing_design(tmp_path: Path) -> None:
    adapter = simulated(tmp_path, Clock())
    job = make_job(tmp_path, 1)
    with pytest.raises(InputError, match="spec: quantity"):
        adapter.submit(ProductionJob(1, job.design_path, {**SPEC, "quantity": 0}, job.work_dir))
    with pytest.raises(ProductionFailed, match="missing"):
        adapter.submit(ProductionJob(1, job.work_dir / "nope", SPEC, job.work_dir))


# --- hot folder --------------------------------------------------------------

@pytest.fixture
def hot(tmp_path: Path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "outbox").mkdir()
    clock = Clock()
    adapter = HotfolderAdapter(HotfolderSettings(inbox=tmp_path / "inbox", outbox=tmp_path / "outbox",
                                                 settle_s=1, max_result_bytes=4096, timeout_s=3600),
                               state_dir=tmp_path / "state", clock=clock)
    adapter.clock = clock  # type: ignore[attr-defined]
    return adapter


def answer(hot: HotfolderAdapter, order_id: int, document: object, *, raw: bytes | None = None,
           files: dict[str, bytes] | None = None) -> Path:
    folder = hot.settings.outbox / str(order_id)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    path = folder / "result.json"
    path.write_bytes(raw if raw is not None else json.dumps(document).encode())
    os.utime(path, (hot.clock.now - 5, hot.clock.now - 5))  # type: ignore[attr-defined]
    return folder


GOOD = {"order_id": 12, "passed": True, "measurements": {"bore_d": 10.005, "length": 120.01},
        "evidence": ["cmm.csv", "photos/top.jpg"], "notes": "ok"}
FILES = {"cmm.csv": b"bore_d,10.005\n", "photos/top.jpg": b"\xff\xd8jpeg"}


def test_hotfolder_happy_path(hot: HotfolderAdapter, tmp_path: Path) -> None:
    job = make_job(tmp_path, 12)
    hot.submit(job)
    hot.submit(job)  # no-op
    dropped = hot.settings.inbox / "12"
    assert sorted(p.name for p in dropped.iterdir()) == ["bracket.step", "job.json"]
    assert [p.name for p in hot.settings.inbox.iterdir()] == ["12"]  # no temp folder left behind
    spec = json.loads((dropped / "job.json").read_text())
    assert spec["design"] == "bracket.step" and spec["spec"]["notes"] == "deburr all edges"
    assert spec["spec"]["tolerances"]["length"]["nominal"] == 120
    assert hot.poll(12) is None
    folder = answer(hot, 12, GOOD, files=FILES)
    result = hot.poll(12)
    assert result is not None and result.passed and result.measurements == GOOD["measurements"]
    assert result.evidence == (folder.resolve() / "cmm.csv", folder.resolve() / "photos" / "top.jpg")
    hot.cleanup(12)
    assert not dropped.exists() and not folder.exists()


def test_hotfolder_waits_for_a_fresh_result_to_settle(hot: HotfolderAdapter, tmp_path: Path) -> None:
    hot.submit(make_job(tmp_path, 12))
    path = answer(hot, 12, GOOD, files=FILES) / "result.json"
    os.utime(path, (hot.clock.now, hot.clock.now))  # type: ignore[attr-defined]
    assert hot.poll(12) is None
    hot.clock.now += 2  # type: ignore[attr-defined]
    assert hot.poll(12) is not None


def test_hotfolder_times_out_and_reports_unmounted_shares(hot: HotfolderAdapter, tmp_path: Path) -> None:
    hot.submit(make_job(tmp_path, 3))
    hot.clock.now += 3601  # type: ignore[attr-defined]
    with pytest.raises(ProductionFailed, match=r"no result\.json"):
        hot.poll(3)
    hot.settings.outbox.rmdir()
    with pytest.raises(TransientError, match="not there"):
        hot.poll(3)
    with pytest.raises(UnknownJob):
        hot.poll(999)


MALFORMED = {
    "not json": (None, b"{passed: yes}", "invalid JSON at line 1"),
    "not utf-8": (None, b'{"notes": "\xff\xfe"}', "not UTF-8"),
    "array": ([GOOD], None, "must be a JSON object"),
    "missing passed": ({k: v for k, v in GOOD.items() if k != "passed"}, None, "passed: Field required"),
    "passed as string": ({**GOOD, "passed": "yes"}, None, "passed: Input should be a valid boolean"),
    "measurement as string": ({**GOOD, "measurements": {"bore_d": "10.0"}}, None, "measurements.bore_d"),
    "NaN measurement": (None, json.dumps(GOOD).replace("10.005", "NaN").encode(), "NaN is not a number"),
    "unknown key": ({**GOOD, "operator": "bob"}, None, "operator: Extra inputs are not permitted"),
    "wrong order": ({**GOOD, "order_id": 13}, None, "order_id is 13, expected 12"),
    "duplicate key": (None, b'{"order_id": 12, "order_id": 12}', "duplicate key 'order_id'"),
    "bad measurement name": ({**GOOD, "measurements": {"a b/c": 1.0}}, None, "measurement name"),
    "missing evidence": ({**GOOD, "evidence": ["cmm.csv", "nope.pdf"]}, None, "'nope.pdf' does not exist"),
    "absolute evidence": ({**GOOD, "evidence": ["/etc/passwd"]}, None, "must be relative"),
    "traversal": ({**GOOD, "evidence": ["../../inbox/12/bracket.step"]}, None, "must be relative"),
    "evidence is the folder": ({**GOOD, "evidence": ["photos/.."]}, None, "must be relative"),
    "duplicate evidence": ({**GOOD, "evidence": ["cmm.csv", "./cmm.csv"]}, None, "twice"),
    "evidence directory": ({**GOOD, "evidence": ["photos"]}, None, "'photos' does not exist"),
    "oversized": (None, b'{"notes": "' + b"x" * 5000 + b'"}', "larger than the 4096-byte limit"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_hotfolder_malformed_results_fail_the_job_with_one_line(hot: HotfolderAdapter, tmp_path: Path,
                                                                case: str) -> None:
    document, raw, message = MALFORMED[case]
    hot.submit(make_job(tmp_path, 12))
    answer(hot, 12, document, raw=raw, files=FILES)
    with pytest.raises(ProductionFailed) as info:
        hot.poll(12)
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith("order 12: result.json")


def test_hotfolder_symlinks_out_of_the_folder_are_refused(hot: HotfolderAdapter, tmp_path: Path) -> None:
    secret = tmp_path / "secret.key"
    secret.write_text("private")
    hot.submit(make_job(tmp_path, 12))
    folder = answer(hot, 12, {**GOOD, "evidence": ["link"]})
    (folder / "link").symlink_to(secret)
    with pytest.raises(ProductionFailed, match="leads outside"):
        hot.poll(12)
    (folder / "result.json").unlink()
    (folder / "result.json").symlink_to(secret)
    old = hot.clock.now - 5  # type: ignore[attr-defined]
    os.utime(folder / "result.json", (old, old), follow_symlinks=False)
    with pytest.raises(ProductionFailed, match="not a regular file"):
        hot.poll(12)


def test_hotfolder_resubmit_after_a_crash_between_rename_and_state(hot: HotfolderAdapter, tmp_path: Path) -> None:
    job = make_job(tmp_path, 8)
    hot.submit(job)
    (hot.state_dir / "8.json").unlink()  # as if killed right after the rename
    (hot.settings.inbox / "8" / "picked-up-by-shop").write_text("")
    hot.submit(job)  # must not replace what the shop may already be working on
    assert (hot.settings.inbox / "8" / "picked-up-by-shop").exists()
    assert hot.poll(8) is None


def test_registry(tmp_path: Path) -> None:
    sim = make_adapter("simulated", {"duration_s": 1}, state_dir=tmp_path)
    assert isinstance(sim, SimulatedAdapter) and sim.settings.duration_s == 1
    hot = make_adapter("hotfolder", HotfolderSettings(inbox=tmp_path, outbox=tmp_path), state_dir=tmp_path)
    assert isinstance(hot, HotfolderAdapter)
    with pytest.raises(InputError, match="unknown production adapter 'robot'"):
        make_adapter("robot", {}, state_dir=tmp_path)
    with pytest.raises(InputError, match=r"production \(simulated\): defect_rate"):
        make_adapter("simulated", {"defect_rate": 2}, state_dir=tmp_path)


def test_an_adapter_that_does_not_count_its_machines_reports_no_capacity(tmp_path: Path) -> None:
    # the quote policy then bounds the node by [policy] max_concurrent_jobs alone (ShopState.capacity None)
    assert simulated(tmp_path, Clock()).capacity() is None
