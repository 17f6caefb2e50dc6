"""The opcua adapter without sockets: state mapping, evidence, settings, error typing, reconnect timing."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from asyncua import ua
from asyncua.ua import uaerrors

from pynode.core.aioloop import LoopThread
from pynode.core.backoff import Backoff
from pynode.core.errors import InputError
from pynode.daemon.adapters import make_adapter
from pynode.daemon.adapters.opcua import OpcuaSettings, model
from pynode.daemon.adapters.opcua.adapter import MachineUnreachable, OpcuaAdapter
from pynode.daemon.adapters.opcua.session import MachineConfigError, MachineRefused, MachineUnavailable, classify
from pynode.daemon.config import NodeConfig
from pynode.dev.opcua_machine import Job, Simulation, nc_program

EXAMPLE = Path(__file__).resolve().parents[3] / "pynode" / "daemon" / "node.example.toml"
ENDPOINT = "opc.tcp://cnc-7.shop.lan:4840/machine"


def snap(**fields: object) -> model.Snapshot:
    values = {"identifier": "fabmesh-5", "state": ua.LocalizedText("Running"), "runs_completed": 1,
              "runs_planned": 4, "alarm_active": False, "alarm_message": "", "program_name": "bracket.nc"}
    return model.Snapshot.from_values({**values, **fields})


@pytest.mark.parametrize(("value", "state"), [
    (ua.LocalizedText("Running"), model.JobState.RUNNING), ("Ended", model.JobState.ENDED),
    (ua.LocalizedText(" Interrupted "), model.JobState.INTERRUPTED), ("Aborted", model.JobState.ABORTED),
    ("Initializing", model.JobState.INITIALIZING), ("Finished", None), (3, None), (None, None),
])
def test_current_state_reads_the_machine_tools_state_names(value: object, state: model.JobState | None) -> None:
    assert model.parse_state(value) is state


@pytest.mark.parametrize(("fields", "verdict", "reason"), [
    ({}, model.Verdict.WAITING, ""),
    ({"state": "Interrupted"}, model.Verdict.WAITING, ""),  # feed hold, door open: it comes back
    ({"state": "Ended"}, model.Verdict.DONE, ""),
    ({"alarm_active": True, "alarm_message": "Coolant\nlow"}, model.Verdict.FAILED,
     "order 5: machine alarm: Coolant low"),
    ({"alarm_active": True}, model.Verdict.FAILED, "order 5: machine alarm: no message"),
    ({"state": "Aborted"}, model.Verdict.FAILED, "order 5: the machine aborted job fabmesh-5"),
    ({"identifier": "shop-job-88"}, model.Verdict.FAILED,
     "order 5: the machine lost job fabmesh-5 (it has shop-job-88 loaded)"),
    ({"identifier": ""}, model.Verdict.FAILED, "order 5: the machine lost job fabmesh-5 (it has nothing loaded)"),
    ({"state": "Exploded"}, model.Verdict.FAILED, "order 5: unknown machine state 'Exploded'"),
])
def test_judge(fields: dict, verdict: model.Verdict, reason: str) -> None:
    assert model.judge(snap(**fields), 5) == (verdict, reason)


def test_an_alarm_message_is_one_short_line() -> None:
    _, reason = model.judge(snap(alarm_active=True, alarm_message="E" * 1000), 5)
    assert len(reason) < 260 and reason.endswith("…")


def test_mistyped_values_read_as_empty() -> None:
    odd = model.Snapshot.from_values({"identifier": 7, "state": None, "runs_completed": -3, "runs_planned": True,
                                      "alarm_active": 1, "alarm_message": None})
    assert odd == model.Snapshot(identifier=None, state=None)


def test_measured_values_keep_finite_numbers_with_names_a_report_can_carry() -> None:
    items = [model.Measurement("bore_d", 10.004), model.Measurement("len", 120),
             model.Measurement("bad name!", 1.0), model.Measurement("nan_d", float("nan")),
             model.Measurement("flag", True), model.Measurement("text", "12.0")]  # type: ignore[arg-type]
    values, skipped = model.measured_values(items)
    assert values == {"bore_d": 10.004, "len": 120.0}
    assert skipped == ["measurement 'bad name!' has a name a report cannot carry",
                       "measurement nan_d is not a finite number", "measurement flag is not a finite number",
                       "measurement text is not a finite number"]


def test_evidence_and_verdict() -> None:
    ended = snap(state="Ended", runs_completed=4)
    document = model.evidence_document(
        5, ended, [model.Measurement("z", 1.5, {"Unit": "mm", "Nominal": 1.5, "Other": [1]}),
                   model.Measurement("a", float("inf"))],
        endpoint=ENDPOINT, program_size=10, program_sha256="ab" * 32, quantity=4)
    assert document == {
        "order_id": 5, "machine_job": "fabmesh-5", "endpoint": ENDPOINT,
        "program": {"name": "bracket.nc", "size": 10, "sha256": "ab" * 32}, "state": "Ended",
        "runs_completed": 4, "runs_planned": 4, "quantity": 4,
        "measurements": [{"name": "a", "value": None}, {"name": "z", "value": 1.5, "Nominal": 1.5, "Unit": "mm"}]}
    assert model.verdict_notes(ended, 4, []) == (True, "machine ended job fabmesh-5: 4 of 4 parts")
    assert model.verdict_notes(snap(state="Ended", runs_completed=3), 4, ["x skipped"]) == (
        False, "machine ended job fabmesh-5: 3 of 4 parts (short); x skipped")


# --- settings -----------------------------------------------------------------------

@pytest.mark.parametrize(("values", "message"), [
    ({"endpoint": "http://cnc:4840"}, "production (opcua): endpoint: String should match pattern"),
    ({"endpoint": ENDPOINT, "username": "op"}, "username and password_file go together"),
    ({"endpoint": ENDPOINT, "security_policy": "Basic256Sha256"}, "needs certificate_file and private_key_file"),
    ({"endpoint": ENDPOINT, "certificate_file": "c.pem"}, "certificate files need security_policy Basic256Sha256"),
    ({"endpoint": ENDPOINT, "security_policy": "Basic128Rsa15"}, "security_policy: Input should be 'None' or"),
    ({"endpoint": ENDPOINT, "password": "hunter2"}, "password: Extra inputs are not permitted"),
])
def test_bad_settings_are_one_line(tmp_path: Path, values: dict, message: str) -> None:
    with pytest.raises(InputError) as bad:
        make_adapter("opcua", values, state_dir=tmp_path)
    assert message in str(bad.value) and "\n" not in str(bad.value)


def test_node_toml_resolves_the_secret_and_certificate_paths(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(f'[production]\nadapter = "opcua"\nendpoint = "{ENDPOINT}"\nusername = "op"\n'
                    'password_file = "secrets/machine.txt"\nsecurity_policy = "Basic256Sha256"\n'
                    'certificate_file = "pki/node.der"\nprivate_key_file = "/etc/fabmesh/node.pem"\n')
    production = NodeConfig.load(path).production
    assert isinstance(production, OpcuaSettings)
    assert production.password_file == tmp_path / "secrets" / "machine.txt"
    assert production.certificate_file == tmp_path / "pki" / "node.der"
    assert production.private_key_file == Path("/etc/fabmesh/node.pem")
    path.write_text('[production]\nadapter = "opcua"\nendpoint = "opc.tcp://x"\n')
    with pytest.raises(InputError, match=r"node.toml: production.endpoint: String should match"):
        NodeConfig.load(path)


def test_the_example_documents_every_opcua_key() -> None:
    text = EXAMPLE.read_text()
    for key in OpcuaSettings.model_fields:
        assert f"# {key} = " in text, key


# --- error types and reconnect timing ----------------------------------------------------

@pytest.mark.parametrize(("exc", "kind"), [
    (uaerrors.BadUserAccessDenied(), MachineConfigError), (uaerrors.BadSecurityPolicyRejected(), MachineConfigError),
    (uaerrors.BadNoMatch(), MachineConfigError), (uaerrors.BadInvalidState(), MachineRefused),
    (uaerrors.BadServerHalted(), MachineUnavailable), (ConnectionRefusedError(111, "refused"), MachineUnavailable),
    (ConnectionResetError(), MachineUnavailable), (TimeoutError(), MachineUnavailable),
    (ua.UaError("closed"), MachineUnavailable),
])
def test_classify_by_type(exc: BaseException, kind: type) -> None:
    typed = classify(exc, "reading")
    assert type(typed) is kind and str(typed).startswith("reading: ")


def test_classify_lets_a_bug_through() -> None:
    with pytest.raises(KeyError):
        classify(KeyError("bug"), "reading")


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_lost_machine_is_retried_with_backoff_then_fatal_past_the_timeout(tmp_path: Path) -> None:
    clock = Clock()
    adapter = OpcuaAdapter(OpcuaSettings(endpoint=ENDPOINT, reconnect_timeout_s=60), state_dir=tmp_path,
                           clock=clock, backoff=Backoff(base_s=1, cap_s=8))
    lost = MachineUnavailable("x: connection refused")
    assert adapter._lost(lost) is lost
    with pytest.raises(MachineUnavailable, match="unreachable; reconnecting in"):
        adapter._connected()  # before the backoff's time: no socket is even tried
    clock.now += 59
    assert adapter._lost(lost) is lost
    clock.now += 2
    fatal = adapter._lost(lost)
    assert isinstance(fatal, MachineUnreachable)
    assert str(fatal) == f"{ENDPOINT} unreachable for 61 s (reconnect_timeout_s 60): x: connection refused"
    adapter.close()


def test_a_machine_off_at_start_up_is_no_error_and_starts_no_outage_clock(tmp_path: Path) -> None:
    clock = Clock()
    adapter = OpcuaAdapter(OpcuaSettings(endpoint=ENDPOINT), state_dir=tmp_path, clock=clock)
    adapter._lost(MachineUnavailable("x: connection refused"))  # as if the first attempt had been refused
    adapter.check()
    assert (adapter._down_since, adapter._retry_at, adapter._failures) == (None, 0.0, 0)


def test_loop_thread_runs_times_out_and_joins() -> None:
    loop = LoopThread("unit-loop")
    assert loop.run(asyncio.sleep(0, result=42), 5) == 42
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"no answer within 0\.05 s"):
        loop.run(slow(), 0.05)
    assert cancelled.wait(5)
    loop.close()
    assert not loop.alive and not [t for t in threading.enumerate() if t.name == "unit-loop"]
    loop.close()  # twice: a no-op


# --- the dev machine's simulation -------------------------------------------------------

def test_the_simulated_machine_counts_parts_and_measures_what_the_program_asks() -> None:
    program = nc_program({"bore_d": {"nominal": 10.0, "plus": 0.02, "minus": 0.01}})
    assert b"(MEASURE bore_d 10.0 +0.02 -0.01 mm)" in program
    sim = Simulation(job_s=10.0)
    assert sim.state(0.0) is model.JobState.INITIALIZING
    sim.job = Job("fabmesh-1", "p.nc", program, planned=4, started_at=100.0)
    assert (sim.state(105.0), sim.runs_completed(105.0)) == (model.JobState.RUNNING, 2)
    assert (sim.state(110.0), sim.runs_completed(110.0)) == (model.JobState.ENDED, 4)
    assert sim.measurements()["bore_d"][0] == pytest.approx(10.006)
    sim.out_of_tolerance = {"bore_d"}
    assert sim.measurements()["bore_d"][0] == pytest.approx(10.04)
    sim.job.aborted = True
    assert sim.state(120.0) is model.JobState.ABORTED
