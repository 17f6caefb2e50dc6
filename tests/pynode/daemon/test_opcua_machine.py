"""The opcua adapter against a real asyncua server on 127.0.0.1 (pynode/dev/opcua_machine.py).

One machine serves the module (asyncua builds its address space in seconds on a loaded host); each
test resets the machine's simulation. The adapter logs in with a username and a password file, as a
shop would.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pynode.core.backoff import Backoff
from pynode.daemon.adapters import ProductionFailed, ProductionJob, ProductionResult, make_adapter
from pynode.daemon.adapters.opcua import OpcuaSettings
from pynode.daemon.adapters.opcua.adapter import MachineUnreachable, OpcuaAdapter
from pynode.daemon.adapters.opcua.session import MachineConfigError, MachineUnavailable
from pynode.dev.net import held_port
from pynode.dev.opcua_machine import MachineServer, nc_program, self_signed

pytestmark = pytest.mark.integration

USER, PASSWORD = "shop", "s3cret pass"
TOLERANCES = {"bore_d": {"nominal": 10.0, "plus": 0.02, "minus": 0.01, "unit": "mm"},
              "length": {"nominal": 120.0, "plus": 0.1, "minus": 0.1, "unit": "mm"}}
SPEC = {"process": "cnc-milling", "material": "al-6061", "quantity": 3, "tolerances": TOLERANCES}
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def machine() -> Iterator[MachineServer]:
    with MachineServer(job_s=1.5, credentials=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture
def fresh(machine: MachineServer) -> MachineServer:
    machine.reset(job_s=1.5)
    return machine


def adapter(tmp_path: Path, endpoint: str, **settings: object) -> OpcuaAdapter:
    secret = tmp_path / "machine-password.txt"
    secret.write_text(PASSWORD + "\n")
    values = {"endpoint": endpoint, "username": USER, "password_file": secret, "request_timeout_s": 5.0,
              **settings}
    built = make_adapter("opcua", values, state_dir=tmp_path / "state")
    assert isinstance(built, OpcuaAdapter)
    built._backoff = Backoff(base_s=0.05, cap_s=0.2)  # reconnect attempts a test can wait for
    return built


def job(tmp_path: Path, order_id: int) -> ProductionJob:
    work = tmp_path / "jobs" / str(order_id)
    work.mkdir(parents=True, exist_ok=True)
    design = work / "bracket.nc"
    design.write_bytes(nc_program(TOLERANCES, name=f"bracket {order_id}"))
    return ProductionJob(order_id=order_id, design_path=design, spec=SPEC, work_dir=work)


@contextlib.contextmanager
def running(machine: MachineServer, tmp_path: Path, order_id: int, job_s: float) -> Iterator[OpcuaAdapter]:
    """An adapter whose job the machine is running (its first poll saw it so), closed on the way out."""
    machine.reset(job_s=job_s)
    shop = adapter(tmp_path, machine.endpoint)
    try:
        shop.submit(job(tmp_path, order_id))
        assert shop.poll(order_id) is None
        yield shop
    finally:
        shop.close()


def follow(adapter_: OpcuaAdapter, order_id: int, *, transient_ok: bool = False) -> ProductionResult:
    """Polls as the daemon does until a result; transient errors are retried only when the test expects them."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        try:
            result = adapter_.poll(order_id)
        except MachineUnavailable:
            if not transient_ok:
                raise
            result = None
        if result is not None:
            return result
        time.sleep(0.1)
    raise AssertionError(f"order {order_id}: no result in {DEADLINE_S} s")


def test_job_completes_with_the_machines_measurements_in_the_evidence(fresh: MachineServer, tmp_path: Path) -> None:
    with running(fresh, tmp_path, 7, job_s=4.0) as shop:  # 4 s: seen running on a loaded host too
        shop.submit(job(tmp_path, 7))  # a repeat is a no-op, not a second load
        result = follow(shop, 7)
        assert result.passed
        assert result.measurements == {"bore_d": pytest.approx(10.006), "length": pytest.approx(120.03),
                                       "parts_produced": 3.0}
        assert result.notes == "machine ended job fabmesh-7: 3 of 3 parts"
        (evidence,) = result.evidence
        document = json.loads(evidence.read_text())
        assert document["machine_job"] == "fabmesh-7" and document["state"] == "Ended"
        assert document["runs_completed"] == 3 and document["program"]["name"] == "bracket.nc"
        assert {m["name"]: m["TolerancePlus"] for m in document["measurements"]} == {"bore_d": 0.02, "length": 0.1}
        assert shop.poll(7) == result  # kept: the same answer after the machine moved on
        shop.cleanup(7)
        assert not evidence.exists()
    assert not [t for t in threading.enumerate() if t.name == "opcua-client"]


def test_a_restarted_node_follows_the_job_it_handed_over(fresh: MachineServer, tmp_path: Path) -> None:
    fresh.reset(job_s=3.0)
    first = adapter(tmp_path, fresh.endpoint)
    first.submit(job(tmp_path, 11))
    first.close()  # the node stops mid-job
    assert fresh.sim.job is not None
    started = fresh.sim.job.started_at
    (tmp_path / "state" / "11.json").unlink()  # even had it crashed before keeping the state file
    second = adapter(tmp_path, fresh.endpoint, subscribe=False)  # and reads instead of subscribing
    try:
        second.submit(job(tmp_path, 11))
        assert fresh.sim.job.started_at == started  # the machine's job is followed, never loaded again
        assert follow(second, 11).passed
    finally:
        second.close()


def test_a_program_loaded_but_never_started_is_started(fresh: MachineServer, tmp_path: Path) -> None:
    shop = adapter(tmp_path, fresh.endpoint)
    try:  # the node crashed between LoadProgram and Start
        shop._run(lambda s: s.load("fabmesh-12", "bracket.nc", b"G0 X0\n", 3))
        shop.submit(job(tmp_path, 12))
        assert fresh.sim.job is not None and fresh.sim.job.program == b"G0 X0\n"  # not loaded twice
        assert follow(shop, 12).passed
    finally:
        shop.close()


def test_a_second_order_waits_while_the_machine_runs_the_first(fresh: MachineServer, tmp_path: Path) -> None:
    shop = adapter(tmp_path, fresh.endpoint)
    try:
        shop.submit(job(tmp_path, 1))
        with pytest.raises(MachineUnavailable, match="machine busy with order 1"):
            shop.submit(job(tmp_path, 2))
        follow(shop, 1)
        shop.submit(job(tmp_path, 2))  # the first one's result is read: the machine is ours again
        assert follow(shop, 2).passed
    finally:
        shop.close()


def test_a_machine_alarm_mid_job_fails_it_with_the_machines_words(fresh: MachineServer, tmp_path: Path) -> None:
    with running(fresh, tmp_path, 8, job_s=30.0) as shop:
        fresh.raise_alarm("Spindle overload\non axis Z")
        with pytest.raises(ProductionFailed) as failed:
            follow(shop, 8)
        assert str(failed.value) == "order 8: machine alarm: Spindle overload on axis Z"


def test_a_lost_connection_resumes_the_same_job(fresh: MachineServer, tmp_path: Path) -> None:
    with running(fresh, tmp_path, 9, job_s=4.0) as shop:
        fresh.stop()  # the server goes away; the machine keeps cutting
        with pytest.raises(MachineUnavailable):
            deadline = time.monotonic() + DEADLINE_S
            while time.monotonic() < deadline:
                shop.poll(9)
                time.sleep(0.1)
        fresh.start()  # same port
        result = follow(shop, 9, transient_ok=True)
        assert result.passed and result.measurements["parts_produced"] == 3.0
        shop.cleanup(9)
        shop.submit(job(tmp_path, 10))
        fresh.drop_connections()  # sockets cut, the server still listening
        assert follow(shop, 10, transient_ok=True).passed


def test_unreachable_past_the_timeout_is_fatal(tmp_path: Path) -> None:
    with held_port() as port:
        unreachable_fatal(tmp_path, f"opc.tcp://127.0.0.1:{port}/nothing")


def unreachable_fatal(tmp_path: Path, endpoint: str) -> None:
    shop = adapter(tmp_path, endpoint, reconnect_timeout_s=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(MachineUnreachable) as fatal:
            while time.monotonic() - started < DEADLINE_S:
                try:
                    shop.submit(job(tmp_path, 1))
                except MachineUnavailable:
                    time.sleep(0.05)
        message = str(fatal.value)
        assert message.startswith("opc.tcp://127.0.0.1:") and "unreachable for" in message
        assert "connection refused" in message and "\n" not in message
    finally:
        shop.close()


@pytest.mark.parametrize(("settings", "expected"), [
    ({"namespace_uri": "urn:someone-else"}, "has no namespace 'urn:someone-else'"),
    ({"machine": "Lathe7"}, "finding machine 'Lathe7' on opc.tcp://127.0.0.1:"),
    ({"username": "intruder"}, "the machine answered BadUserAccessDenied"),
])
def test_settings_that_do_not_fit_the_machine_are_one_line_fatal(machine: MachineServer, tmp_path: Path,
                                                                  settings: dict, expected: str) -> None:
    shop = adapter(tmp_path, machine.endpoint, **settings)
    try:
        with pytest.raises(MachineConfigError) as fatal:
            shop.submit(job(tmp_path, 1))
        assert expected in str(fatal.value) and "\n" not in str(fatal.value)
    finally:
        shop.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("pki")
    return {"machine": self_signed(root, "machine", "urn:freeopcua:python:server"),
            "node": self_signed(root, "node", "urn:freeopcua:client")}


@pytest.fixture(scope="module")
def secure_machine(pki: dict[str, tuple[Path, Path]]) -> Iterator[MachineServer]:
    with MachineServer(job_s=0.5, certificate=pki["machine"]) as server:
        yield server


def test_basic256sha256_with_certificate_files(secure_machine: MachineServer, pki: dict, tmp_path: Path) -> None:
    cert, key = pki["node"]
    shop = OpcuaAdapter(OpcuaSettings(endpoint=secure_machine.endpoint, security_policy="Basic256Sha256",
                                      certificate_file=cert, private_key_file=key,
                                      server_certificate_file=pki["machine"][0]), state_dir=tmp_path / "state")
    try:
        shop.submit(job(tmp_path, 3))
        assert follow(shop, 3).passed
    finally:
        shop.close()


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, "offers no None endpoint (it offers Basic256Sha256/Sign, Basic256Sha256/SignAndEncrypt): check "
         "security_policy and security_mode"),
    ({"security_policy": "Basic256Sha256", "certificate_file": "missing.der", "private_key_file": "node.pem"},
     "production: certificate file missing.der not found"),
])
def test_security_that_does_not_fit_is_one_line_fatal(secure_machine: MachineServer, tmp_path: Path,
                                                      settings: dict, expected: str) -> None:
    shop = OpcuaAdapter(OpcuaSettings(endpoint=secure_machine.endpoint, **settings), state_dir=tmp_path / "state")
    try:
        with pytest.raises(MachineConfigError) as fatal:
            shop.submit(job(tmp_path, 4))
        assert str(fatal.value).endswith(expected) and "\n" not in str(fatal.value)
    finally:
        shop.close()
