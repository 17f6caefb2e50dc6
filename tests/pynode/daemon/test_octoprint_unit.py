"""The octoprint adapter without sockets: state mapping, pool selection, evidence, settings, key files, backoff."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from pynode.core.backoff import Backoff
from pynode.core.errors import InputError
from pynode.daemon.adapters import ProductionFailed, ProductionJob, make_adapter
from pynode.daemon.adapters.octoprint import OctoprintSettings, PrinterSettings, model
from pynode.daemon.adapters.octoprint.adapter import OctoprintAdapter
from pynode.daemon.adapters.octoprint.client import PrinterConfigError, PrinterUnavailable, read_api_key
from pynode.daemon.adapters.octoprint.settings import SlicerSettings
from pynode.daemon.config import NodeConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "pynode" / "daemon" / "node.example.toml"
NAME = "fabmesh-5.gcode"
T0 = 1_800_000_000.0


def printer(**flags: bool) -> dict[str, Any]:
    base = {"operational": True, "ready": True, "printing": False, "paused": False, "pausing": False,
            "cancelling": False, "finishing": False, "resuming": False, "error": False}
    return {"state": {"flags": {**base, **flags}, "text": "Operational", "error": ""}}


def job(name: str | None = NAME, state: str = "Operational") -> dict[str, Any]:
    return {"job": {"file": {"name": name}, "filament": {"tool0": {"length": 812.5, "volume": 1.9},
                                                         "tool1": {"length": 10.0, "volume": 0.1}},
                    "estimatedPrintTime": 60.0}, "state": state}


def record(last: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": NAME, "hash": "abc", "gcodeAnalysis": {"estimatedPrintTime": 60.0,
                                                           "filament": {"tool0": {"length": 800.0, "volume": 2.5}}},
            "prints": {"last": last} if last else {}}


def judge(job_: dict[str, Any], printer_: dict[str, Any] | None, record_: dict[str, Any] | None,
          age: float = 100.0) -> tuple[model.Verdict, str]:
    return model.judge(NAME, job_, printer_, record_, submitted_at=T0, age_s=age, grace_s=30.0)


@pytest.mark.parametrize(("state", "idle"), [
    (printer(), True), (printer(printing=True), False), (printer(paused=True), False),
    (printer(cancelling=True), False), (printer(error=True), False), (printer(operational=False), False),
    (printer(ready=False), False), (None, False),
])
def test_idle_is_operational_ready_and_not_printing(state: dict[str, Any] | None, idle: bool) -> None:
    assert model.is_idle(state) is idle


def test_the_pool_gives_the_first_idle_printer_no_unfinished_order_holds() -> None:
    assert model.choose_printer(["a", "b", "c"], held={"a"}) == "b"
    assert model.choose_printer(["a"], held={"a"}) is None
    assert model.choose_printer([], held=set()) is None


def test_a_print_of_our_file_in_progress_is_running() -> None:
    assert judge(job(state="Printing"), printer(printing=True), record()) == (model.Verdict.RUNNING, "")
    assert judge(job(state="Cancelling"), printer(cancelling=True), record())[0] is model.Verdict.RUNNING


def test_the_files_print_record_says_how_it_ended() -> None:
    assert judge(job(), printer(), record({"date": T0 + 50, "success": True, "printTime": 42.0}))[0] \
        is model.Verdict.DONE
    verdict, reason = judge(job(), printer(), record({"date": T0 + 50, "success": False}))
    assert verdict is model.Verdict.FAILED and "unsuccessfully (cancelled" in reason
    # a record older than this submission is an earlier upload's, not ours
    assert judge(job(), printer(), record({"date": T0 - 100, "success": True}), age=5)[0] is model.Verdict.WAITING


def test_a_job_that_vanished_fails_after_the_grace_and_waits_within_it() -> None:
    assert judge(job(None), printer(), record(), age=5)[0] is model.Verdict.WAITING
    verdict, reason = judge(job(None), printer(), record(), age=31)
    assert verdict is model.Verdict.FAILED
    assert reason == (f"the job vanished: OctoPrint shows no job and has no print record for {NAME} "
                      "(a restarted server does not resume a print)")
    assert "shows other.gcode" in judge(job("other.gcode"), printer(), record())[1]


def test_a_printer_not_connected_is_waited_on_a_gone_file_or_a_printer_error_fails() -> None:
    assert judge(job(None, "Offline"), None, record(), age=500)[0] is model.Verdict.WAITING
    assert judge(job(None), printer(operational=False), record(), age=500)[0] is model.Verdict.WAITING
    assert judge(job(), printer(), None) == (model.Verdict.FAILED, f"file {NAME} is gone from OctoPrint")
    errored = printer(error=True)
    errored["state"]["error"] = "Thermal runaway"
    verdict, reason = judge(job(), errored, record())
    assert verdict is model.Verdict.FAILED and "Thermal runaway" in reason


def test_evidence_carries_print_time_filament_hash_and_octoprints_record() -> None:
    document = model.evidence_document(5, "mk4-1", "http://10.0.0.7", job(), record(
        {"date": T0 + 50, "success": True, "printTime": 42.5}), gcode_sha256="ab" * 32, gcode_size=172)
    assert document["result"] == {"success": True, "ended_at": T0 + 50, "print_time_s": 42.5, "state": "Operational"}
    assert document["filament"] == {"length_mm": 800.0, "volume_cm3": 2.5}  # the file's analysis first
    assert model.filament(job(), {}) == (822.5, pytest.approx(2.0))  # else the job's
    assert model.analysed(record()) and not model.analysed({"gcodeAnalysis": {}})
    assert document["gcode_sha256"] == "ab" * 32 and document["printer"] == "mk4-1"
    assert model.measurements(document) == {"print_time_s": 42.5, "filament_length_mm": 800.0,
                                            "filament_volume_cm3": 2.5}


def settings(tmp_path: Path, *names: str) -> OctoprintSettings:
    printers = []
    for name in names or ("a",):
        (tmp_path / f"{name}.key").write_text("K" * 32 + "\n")
        printers.append({"name": name, "url": f"http://127.0.0.1:1/{name}", "api_key_file": tmp_path / f"{name}.key"})
    return OctoprintSettings(printers=printers)


def test_settings_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^production \(octoprint\): printers: .*at least 1 item"):
        make_adapter("octoprint", {"printers": []}, state_dir=tmp_path)
    key = str(tmp_path / "k")
    twice = [{"name": "a", "url": "http://127.0.0.1:5000", "api_key_file": key},
             {"name": "a", "url": "http://127.0.0.1:5001", "api_key_file": key}]
    with pytest.raises(InputError, match="printer names must be unique"):
        make_adapter("octoprint", {"printers": twice}, state_dir=tmp_path)
    with pytest.raises(InputError, match=r"printers\.0\.url"):
        make_adapter("octoprint", {"printers": [{"name": "a", "url": "ftp://x", "api_key_file": key}]},
                     state_dir=tmp_path)


def test_node_toml_resolves_each_printers_key_file_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "node.toml").write_text('[production]\nadapter = "octoprint"\n[[production.printers]]\n'
                                        'name = "mk4-1"\nurl = "http://10.0.0.7"\napi_key_file = "keys/mk4-1"\n')
    config = NodeConfig.load(tmp_path / "node.toml")
    assert isinstance(config.production, OctoprintSettings)
    assert config.production.printers[0].api_key_file == tmp_path / "keys" / "mk4-1"
    (tmp_path / "node.toml").write_text('[production]\nadapter = "octoprint"\n[[production.printers]]\n'
                                        'name = "mk4-1"\nurl = "http://10.0.0.7"\n')
    with pytest.raises(InputError, match=r"^.*node.toml: production.printers.0.api_key_file: Field required$"):
        NodeConfig.load(tmp_path / "node.toml")


def test_an_api_key_file_that_cannot_serve_is_one_fatal_line(tmp_path: Path) -> None:
    with pytest.raises(PrinterConfigError, match=r"^production: printer a: cannot read api_key_file .*/nope: "
                                                 r"No such file or directory$"):
        read_api_key(tmp_path / "nope", "a")
    (tmp_path / "two").write_text("one two\n")
    with pytest.raises(PrinterConfigError, match="holds no single key"):
        read_api_key(tmp_path / "two", "a")
    (tmp_path / "ok").write_text("  0123abcd\n")
    assert read_api_key(tmp_path / "ok", "a") == "0123abcd"


def test_a_design_that_is_not_gcode_fails_before_any_printer_is_asked(tmp_path: Path) -> None:
    adapter = OctoprintAdapter(settings(tmp_path), state_dir=tmp_path / "state")
    design = tmp_path / "bracket.stl"
    design.write_bytes(b"solid x\nendsolid x\n")
    job_ = ProductionJob(order_id=9, design_path=design, spec={}, work_dir=tmp_path / "job")
    with pytest.raises(ProductionFailed, match=r"^order 9: design bracket.stl is not G-code .*; this node slices "
                                               r"no STL/3MF: \[production.slicer\] is not set$"):
        adapter.submit(job_)
    assert not adapter._clients  # no printer was asked


class Ceiling(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


class DownClient:
    calls = 0

    def job(self) -> dict[str, Any]:
        DownClient.calls += 1
        raise PrinterUnavailable("printer a (http://x): reading the job: no connection")


def test_an_unreachable_printer_is_asked_again_only_after_its_backoff(tmp_path: Path) -> None:
    now = [100.0]
    adapter = OctoprintAdapter(settings(tmp_path), state_dir=tmp_path / "state", clock=lambda: now[0],
                               backoff=Backoff(base_s=4.0, cap_s=4.0, rng=Ceiling()))
    adapter._clients["a"] = DownClient()  # type: ignore[assignment]
    with pytest.raises(PrinterUnavailable, match="no connection"):
        adapter._ask("a", lambda c: c.job())
    with pytest.raises(PrinterUnavailable, match=r"^printer a unreachable; retrying in 4.0 s$"):
        adapter._ask("a", lambda c: c.job())
    assert DownClient.calls == 1
    now[0] += 4.0
    with pytest.raises(PrinterUnavailable, match="no connection"):
        adapter._ask("a", lambda c: c.job())
    assert DownClient.calls == 2 and adapter._down_since["a"] == 100.0


def test_the_example_documents_every_octoprint_key() -> None:
    text = EXAMPLE.read_text()
    for key in [*OctoprintSettings.model_fields, *PrinterSettings.model_fields, *SlicerSettings.model_fields]:
        assert f"# {key} = " in text, key
