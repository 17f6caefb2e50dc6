"""A simulated CNC machine behind a real asyncua OPC UA server, for tests and the demo (never runtime code).

It serves the node model of ``pynode.daemon.adapters.opcua.model`` on 127.0.0.1 (port 0 unless
told: :attr:`MachineServer.port` is the bound one). A loaded program "runs" for ``job_s`` seconds:
CurrentState goes Running -> Ended, RunsCompleted counts up to RunsPlanned, and at the end each
``(MEASURE <name> <nominal> <plus> <minus> [unit])`` line of the program becomes a measurement
inside its band (or beyond it, for names in :attr:`out_of_tolerance`). On command it raises an alarm
(the job goes Aborted), drops every client connection, or stops and starts again on the same port
while the job's clock keeps running, as a real machine does while its network is away.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncua import Node, Server, ua
from asyncua.common.methods import uamethod
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager
from cryptography.x509.oid import ExtendedKeyUsageOID

from pynode.core.aioloop import LoopThread
from pynode.daemon.adapters.opcua import model

TICK_S = 0.05
START_S = 120.0  # asyncua builds the standard address space in ~1 s idle, ~10 s on a loaded machine
MEASURE = re.compile(r"\(\s*MEASURE\s+(\S+)\s+(\S+)\s+\+?(\S+)\s+-?(\S+)(?:\s+(\S+))?\s*\)", re.IGNORECASE)


async def _certificate(directory: Path, name: str, uri: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.der", directory / f"{name}.pem"
    await setup_self_signed_certificate(key, cert, uri, "127.0.0.1",
                                        [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH],
                                        {"commonName": name, "organizationName": "fabmesh dev"})
    return cert, key


def self_signed(directory: Path, name: str, uri: str) -> tuple[Path, Path]:
    """(certificate DER, private key PEM) of a new self-signed OPC UA application certificate for ``uri``."""
    directory.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_certificate(directory, name, uri))


def nc_program(tolerances: dict[str, dict[str, Any]], *, name: str = "part") -> bytes:
    """A small NC program whose probing lines ask the machine to measure each toleranced dimension."""
    # the program number as a comment and M3 before its S word: every line a G/M/T command or a comment, so
    # pynode.designs.geometry tells it as G-code (a v2 node measures the design before it makes it)
    lines = ["%", f"(O1000 {name})", "G21 G90 G17", "T1 M6", "M3 S8000", "G0 X0 Y0 Z5",
             "G1 Z-1 F200", "G1 X20 Y0", "G1 X20 Y20", "G1 X0 Y20", "G1 X0 Y0", "G0 Z5"]
    for dim, tol in sorted(tolerances.items()):
        lines.append(f"(MEASURE {dim} {tol['nominal']} +{tol['plus']} -{tol['minus']} {tol.get('unit', 'mm')})")
    return ("\n".join([*lines, "M30", "%"]) + "\n").encode()


@dataclass
class Job:
    identifier: str
    name: str
    program: bytes
    planned: int
    started_at: float | None = None
    aborted: bool = False


@dataclass
class Simulation:
    """The machine's own state: it outlives the OPC UA server in front of it (restarts keep the job)."""

    job_s: float
    job: Job | None = None
    alarm: str = ""
    out_of_tolerance: set[str] = field(default_factory=set)

    def state(self, now: float) -> model.JobState:
        job = self.job
        if job is None or job.started_at is None:
            return model.JobState.INITIALIZING
        if job.aborted:
            return model.JobState.ABORTED
        return model.JobState.ENDED if now - job.started_at >= self.job_s else model.JobState.RUNNING

    def runs_completed(self, now: float) -> int:
        job = self.job
        if job is None or job.started_at is None:
            return 0
        if self.state(now) is model.JobState.ENDED:
            return job.planned
        return min(job.planned, int(job.planned * (now - job.started_at) / max(self.job_s, 1e-9)))

    def measurements(self) -> dict[str, tuple[float, dict[str, Any]]]:
        """{name: (measured, properties)} from the program's MEASURE lines."""
        assert self.job is not None
        found = {}
        for match in MEASURE.finditer(self.job.program.decode("utf-8", "replace")):
            name, nominal, plus, minus = match.group(1), *map(float, match.group(2, 3, 4))
            measured = nominal + 2 * plus if name in self.out_of_tolerance else nominal + 0.3 * plus
            found[name] = (measured, {"Nominal": nominal, "TolerancePlus": plus, "ToleranceMinus": minus,
                                      "Unit": match.group(5) or "mm"})
        return found


class _Users(UserManager):
    """Only this user may log in (no anonymous sessions) when the machine is given credentials."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def get_user(self, iserver: Any, username: str | None = None, password: str | None = None,
                 certificate: Any = None) -> User | None:
        if username == self.username and password == self.password:
            return User(role=UserRole.User)
        return None


class MachineServer:
    def __init__(self, *, job_s: float = 2.0, namespace_uri: str = model.DEFAULT_NAMESPACE,
                 machine: str = model.DEFAULT_MACHINE, credentials: tuple[str, str] | None = None,
                 certificate: tuple[Path, Path] | None = None, port: int = 0) -> None:
        self.sim = Simulation(job_s=job_s)
        self.namespace_uri, self.machine, self.credentials = namespace_uri, machine, credentials
        self.certificate = certificate  # (certificate, private key): Basic256Sha256 only, no plain sessions
        self.port = port
        self._loop = LoopThread("opcua-machine")
        self._server: Server | None = None
        self._nodes: dict[str, Node] = {}
        self._measurements: Node | None = None
        self._measured: set[str] = set()
        self._ticker: asyncio.Task | None = None
        self._listening = False
        self._publishing = asyncio.Lock()

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/fabmesh/machine"

    def __enter__(self) -> MachineServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> MachineServer:
        self._loop.run(self._start(), START_S)
        return self

    def stop(self) -> None:
        """The server goes away (clients see a lost connection); the machine's job keeps running."""
        if self._listening:
            self._loop.run(self._stop(), 30.0)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._loop.close()

    def raise_alarm(self, message: str) -> None:
        """A machine alarm: the active job is aborted and the alarm stays active with ``message``."""
        self.sim.alarm = message
        if self.sim.job is not None:
            self.sim.job.aborted = True

    def reset(self, *, job_s: float | None = None) -> None:
        """An idle machine again: no job, no alarm, every measurement in tolerance."""
        async def reset() -> None:
            self.sim.job, self.sim.alarm, self.sim.out_of_tolerance = None, "", set()
            self.sim.job_s = self.sim.job_s if job_s is None else job_s
            await self._publish(time.monotonic())
        self._loop.run(reset(), 10.0)

    def drop_connections(self) -> None:
        """Closes every client's socket; the server keeps listening."""
        async def drop() -> None:
            assert self._server is not None
            for transport in list(self._server.iserver.asyncio_transports):
                transport.abort()
        self._loop.run(drop(), 10.0)

    # -- inside the loop -------------------------------------------------------------------

    async def _start(self) -> None:
        server = self._server
        if server is None:  # the address space is built once; a restart only listens again
            server = Server(user_manager=_Users(*self.credentials) if self.credentials else None)
            await server.init()
            server.set_server_name("fabmesh simulated machine tool")
            if self.certificate is None:
                server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
            else:
                server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                                            ua.SecurityPolicyType.Basic256Sha256_Sign])
                await server.load_certificate(self.certificate[0])
                await server.load_private_key(self.certificate[1])
            if self.credentials:
                server.set_identity_tokens([ua.UserNameIdentityToken])
            await self._build(server, await server.register_namespace(self.namespace_uri))
            self._server = server
        server.set_endpoint(self.endpoint)
        await self._publish(time.monotonic())  # a client that reconnects sees the job at once, never a blank
        await server.start()
        assert server.bserver is not None and server.bserver.port is not None
        self.port = server.bserver.port  # the bound one when asked for port 0
        self._listening = True
        self._ticker = asyncio.create_task(self._tick())

    async def _stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
        if self._server is not None and self._listening:
            self._listening = False
            await self._server.stop()

    async def _build(self, server: Server, ns: int) -> None:
        machine = await server.nodes.objects.add_object(ns, self.machine)
        production = await machine.add_object(ns, model.PRODUCTION)
        active = await production.add_object(ns, model.ACTIVE_JOB)
        notification = await machine.add_object(ns, model.NOTIFICATION)
        alarm = await notification.add_object(ns, model.ALARM)
        initial: dict[str, tuple[Node, Any, ua.VariantType]] = {
            "identifier": (active, "", ua.VariantType.String),
            "program_name": (active, "", ua.VariantType.String),
            "state": (active, ua.LocalizedText(model.JobState.INITIALIZING.value), ua.VariantType.LocalizedText),
            "runs_completed": (active, 0, ua.VariantType.UInt32),
            "runs_planned": (active, 0, ua.VariantType.UInt32),
            "alarm_active": (alarm, False, ua.VariantType.Boolean),
            "alarm_message": (alarm, "", ua.VariantType.String),
        }
        for key, (parent, value, kind) in initial.items():
            name = model.JOB_PATHS[key][-1]
            self._nodes[key] = await parent.add_variable(ns, name, ua.Variant(value, kind))
        self._measurements = await active.add_folder(ns, model.MEASUREMENTS)
        string, uint = ua.VariantType.String, ua.VariantType.UInt32
        await production.add_method(ns, model.LOAD_PROGRAM, self._load,
                                    [string, string, ua.VariantType.ByteString, uint], [])
        await production.add_method(ns, model.START, self._start_job, [string], [])
        self._ns = ns

    @uamethod
    async def _load(self, parent: Any, identifier: str, name: str, program: bytes, planned: int) -> None:
        if self.sim.state(time.monotonic()) is model.JobState.RUNNING or self.sim.alarm:
            raise ua.UaStatusCodeError(ua.StatusCodes.BadInvalidState)
        if not program or planned < 1:
            raise ua.UaStatusCodeError(ua.StatusCodes.BadInvalidArgument)
        self.sim.job = Job(identifier=identifier, name=name, program=bytes(program), planned=planned)
        await self._clear_measurements()
        await self._publish(time.monotonic())  # a real control shows the new job before the call returns

    @uamethod
    async def _start_job(self, parent: Any, identifier: str) -> None:
        job = self.sim.job
        if job is None or job.identifier != identifier or job.started_at is not None:
            raise ua.UaStatusCodeError(ua.StatusCodes.BadInvalidState)
        job.started_at = time.monotonic()
        await self._publish(time.monotonic())

    async def _clear_measurements(self) -> None:
        assert self._measurements is not None and self._server is not None
        for child in await self._measurements.get_children():
            await self._server.delete_nodes([child], recursive=True)
        self._measured = set()

    async def _tick(self) -> None:
        """Mirrors the simulation into the address space (values only change when they differ)."""
        while True:
            await self._publish(time.monotonic())
            await asyncio.sleep(TICK_S)

    async def _publish(self, now: float) -> None:
        async with self._publishing:  # one mirror at a time: a slow tick never writes over a newer state
            await self._mirror(now)

    async def _mirror(self, now: float) -> None:
        sim, job = self.sim, self.sim.job
        state = sim.state(now)
        values = {
            "identifier": job.identifier if job else "", "program_name": job.name if job else "",
            "state": ua.LocalizedText(state.value), "runs_completed": sim.runs_completed(now),
            "runs_planned": job.planned if job else 0, "alarm_active": bool(sim.alarm), "alarm_message": sim.alarm,
        }
        if job is not None and state is model.JobState.ENDED and not self._measured:
            await self._write_measurements()  # before the state says Ended: a client reads them at once
        kinds = {"runs_completed": ua.VariantType.UInt32, "runs_planned": ua.VariantType.UInt32}
        for key, value in values.items():
            node = self._nodes[key]
            if await node.read_value() != value:
                await node.write_value(ua.Variant(value, kinds[key]) if key in kinds else value)

    async def _write_measurements(self) -> None:
        assert self._measurements is not None
        for name, (value, properties) in self.sim.measurements().items():
            variable = await self._measurements.add_variable(self._ns, name, float(value))
            for prop, prop_value in properties.items():
                await variable.add_property(self._ns, prop, prop_value)
            self._measured.add(name)
        self._measured.add("")  # written, even when the program asks for no measurement
