"""The octoprint adapter against two real headless OctoPrint servers, each with its virtual printer."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pynode.core.errors import TransientError
from pynode.daemon.adapters import ProductionFailed, ProductionJob, ProductionResult
from pynode.daemon.adapters.octoprint import OctoprintSettings
from pynode.daemon.adapters.octoprint.adapter import OctoprintAdapter
from pynode.daemon.adapters.octoprint.client import PrinterConfigError
from pynode.dev.octoprint import OctoprintServer, gcode, tiny_stl, write_slicer_profile

pytestmark = pytest.mark.integration

WAIT_S = 120.0


def slow_gcode(seconds: int) -> bytes:
    """A print of about ``seconds``: half-second dwells between short moves."""
    return b"G28\nG92 E0\n" + b"".join(b"G4 P500\nG1 X%d Y10 E%d F600\n" % (5 + i, i + 1)
                                        for i in range(2 * seconds))


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[OctoprintServer]]:
    root = tmp_path_factory.mktemp("farm")
    servers = [OctoprintServer(root / f"printer-{i}", name=f"octoprint-{i}") for i in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def adapter_for(servers: list[OctoprintServer], tmp_path: Path, **options: float) -> OctoprintAdapter:
    settings = OctoprintSettings(printers=[{"name": f"p{i}", "url": s.url, "api_key_file": s.api_key_file}
                                           for i, s in enumerate(servers)], start_grace_s=5.0,
                                 request_timeout_s=5.0, **options)
    return OctoprintAdapter(settings, state_dir=tmp_path / "state")


def submit(adapter: OctoprintAdapter, tmp_path: Path, order_id: int, content: bytes) -> ProductionJob:
    design = tmp_path / f"part-{order_id}.gcode"
    design.write_bytes(content)
    job = ProductionJob(order_id=order_id, design_path=design, spec={}, work_dir=tmp_path / f"job-{order_id}")
    adapter.submit(job)
    return job


def wait_printing(server: OctoprintServer) -> None:
    deadline = time.monotonic() + WAIT_S
    while server.job()["state"] != "Printing":
        assert time.monotonic() < deadline, server.job()
        time.sleep(0.1)


def outcome(adapter: OctoprintAdapter, order_id: int) -> ProductionResult:
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            result = adapter.poll(order_id)
        except TransientError:
            result = None
        if result is not None:
            return result
        assert time.monotonic() < deadline, f"order {order_id} still printing"
        time.sleep(0.2)


def test_two_prints_go_to_the_two_idle_printers_and_come_back_with_evidence(
        farm: list[OctoprintServer], tmp_path: Path) -> None:
    adapter = adapter_for(farm, tmp_path)
    adapter.check()
    assert adapter.capacity() == 2
    first = slow_gcode(2)
    submit(adapter, tmp_path, 1, first)
    submit(adapter, tmp_path, 2, gcode(4, name="second"))
    assert adapter.capacity() == 0  # both printers are held until their results are read
    with pytest.raises(TransientError, match="no idle printer among 2"):
        submit(adapter, tmp_path, 3, gcode())
    submit(adapter, tmp_path, 1, first)  # again: a no-op, not a second print
    result = outcome(adapter, 1)
    evidence = json.loads(result.evidence[0].read_text())
    assert result.passed and evidence["printer"] == "p0" and evidence["file"] == "fabmesh-1.gcode"
    assert evidence["gcode_sha256"] == hashlib.sha256(first).hexdigest()
    assert evidence["result"]["success"] is True and evidence["result"]["print_time_s"] > 0.5
    assert evidence["filament"]["length_mm"] == pytest.approx(2 * 2.0)  # E goes 1..4 in slow_gcode(2)
    assert result.measurements["print_time_s"] == evidence["result"]["print_time_s"]
    assert outcome(adapter, 2).passed and json.loads(outcome(adapter, 2).evidence[0].read_text())["printer"] == "p1"
    assert adapter.poll(1) == result  # kept in the state file: asked once
    restarted = adapter_for(farm, tmp_path)  # a restarted node: the state files say where each order is
    assert restarted.poll(2) == outcome(adapter, 2)
    # a node stopped after the upload, before its state file said so: submitting again prints nothing twice
    state_file = tmp_path / "state" / "1.json"
    state_file.write_text(json.dumps({**json.loads(state_file.read_text()), "started": False, "result": None}))
    submit(restarted, tmp_path, 1, first)
    assert farm[0].request("GET", "/api/files/local/fabmesh-1.gcode").json()["prints"]["success"] == 1
    assert outcome(restarted, 1).measurements == result.measurements
    adapter.cleanup(1)
    adapter.cleanup(2)
    assert farm[0].request("GET", "/api/files/local/fabmesh-1.gcode").status_code == 404
    assert adapter.capacity() == 2
    adapter.close()
    restarted.close()


def test_a_print_cancelled_on_the_printer_fails_the_order(farm: list[OctoprintServer], tmp_path: Path) -> None:
    adapter = adapter_for(farm[:1], tmp_path)
    submit(adapter, tmp_path, 11, slow_gcode(20))
    wait_printing(farm[0])
    assert adapter.poll(11) is None
    farm[0].cancel()
    with pytest.raises(ProductionFailed, match=r"^order 11 on printer p0: OctoPrint ended fabmesh-11.gcode "
                                               r"unsuccessfully \(cancelled"):
        outcome(adapter, 11)
    adapter.cleanup(11)
    adapter.close()


def test_a_server_restarted_mid_print_is_waited_on_then_the_lost_job_fails(
        farm: list[OctoprintServer], tmp_path: Path) -> None:
    adapter = adapter_for(farm[1:], tmp_path)
    submit(adapter, tmp_path, 21, slow_gcode(30))
    wait_printing(farm[1])
    farm[1].stop()
    with pytest.raises(TransientError, match="no connection"):
        adapter.poll(21)
    farm[1].start()
    with pytest.raises(ProductionFailed, match=r"^order 21 on printer p0: the job vanished: OctoPrint shows "
                                               r".*no print record for fabmesh-21.gcode \(a restarted server"):
        outcome(adapter, 21)
    adapter.cleanup(21)
    adapter.close()


def test_a_printer_left_disconnected_after_a_restart_fails_its_order_after_reconnect_timeout(
        farm: list[OctoprintServer], tmp_path: Path) -> None:
    adapter = adapter_for(farm[1:], tmp_path, reconnect_timeout_s=1.0)
    submit(adapter, tmp_path, 31, slow_gcode(30))
    wait_printing(farm[1])
    farm[1].restart()
    farm[1].request("POST", "/api/connection", json={"command": "disconnect"}).raise_for_status()
    try:
        assert adapter.poll(31) is None  # not connected yet: a printer may take a moment
        time.sleep(1.5)
        with pytest.raises(ProductionFailed, match=r"^order 31: printer p0 not connected to its OctoPrint server "
                                                   r"for [0-9]+ s \(reconnect_timeout_s 1\)$"):
            adapter.poll(31)
    finally:
        farm[1].request("POST", "/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        farm[1].restart()  # connected again for the next test
    adapter.cleanup(31)
    adapter.close()


def test_a_wrong_api_key_stops_the_node_at_check_with_one_line(farm: list[OctoprintServer], tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.key"
    wrong.write_text("0" * 32 + "\n")
    settings = OctoprintSettings(printers=[{"name": "p0", "url": farm[0].url, "api_key_file": wrong}])
    adapter = OctoprintAdapter(settings, state_dir=tmp_path / "state")
    with pytest.raises(PrinterConfigError) as raised:
        adapter.check()
    assert str(raised.value) == (f"printer p0 ({farm[0].url}): asking its version: OctoPrint refused the API key "
                                 f"(HTTP 403): check {wrong}")


def test_an_stl_design_is_sliced_by_prusaslicer_then_printed(farm: list[OctoprintServer], tmp_path: Path) -> None:
    settings = OctoprintSettings(printers=[{"name": "p0", "url": farm[0].url, "api_key_file": farm[0].api_key_file}],
                                 start_grace_s=5.0, request_timeout_s=5.0,
                                 slicer={"profile": write_slicer_profile(tmp_path / "virtual.ini")})
    adapter = OctoprintAdapter(settings, state_dir=tmp_path / "state")
    adapter.check()  # the slicer is installed and the profile reads
    design = tiny_stl(tmp_path / "bracket.stl")
    adapter.submit(ProductionJob(order_id=41, design_path=design, spec={}, work_dir=tmp_path / "job-41"))
    result = outcome(adapter, 41)
    sliced = (tmp_path / "job-41" / "sliced.gcode").read_bytes()
    evidence = json.loads(result.evidence[0].read_text())
    assert result.passed and evidence["result"]["success"] is True
    assert evidence["gcode_sha256"] == hashlib.sha256(sliced).hexdigest() and evidence["gcode_size"] == len(sliced)
    assert farm[0].request("GET", "/api/files/local/fabmesh-41.gcode").json()["size"] == len(sliced)  # uploaded
    assert evidence["slicing"]["generated_by"].startswith("generated by PrusaSlicer 2.5")
    assert evidence["slicing"]["design_sha256"] == hashlib.sha256(design.read_bytes()).hexdigest()
    assert evidence["filament"]["length_mm"] > 0  # OctoPrint's own analysis of what the slicer extrudes
    adapter.cleanup(41)
    assert not (tmp_path / "job-41" / "sliced.gcode").exists()
    adapter.close()
