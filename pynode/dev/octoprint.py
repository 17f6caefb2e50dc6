"""A real headless OctoPrint server with its virtual printer, for tests and the demo (never runtime code).

OctoPrint runs from its own venv (``make`` builds ``.tools/octoprint``: it pins Flask and Tornado of its
own) in a basedir of its own: a config.yaml (written as JSON, which YAML reads) that turns off every
call home (online check, tracking, announcements, software update, plugin manager), enables the virtual
printer and auto-connects to it, so a restarted server finds its printer again (its job is gone: the
virtual printer keeps none). Access goes through an admin user made with ``octoprint user add`` and the
config's API key (``api.key``, which 1.11 still accepts), kept in a key file as the adapter reads it.

OctoPrint cannot bind port 0 and say which port it got (it logs the number it was given), so the OS picks
a free port, the server binds it, and a start that lost the port to another process is tried again.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
from pathlib import Path
from typing import Any

import requests

from pynode.core.errors import FatalError
from pynode.dev.designs import bracket_stl
from pynode.dev.net import LOOPBACK
from pynode.dev.paths import octoprint_bin
from pynode.dev.process import ManagedProcess
from pynode.dev.wait import wait_for

START_S = 120.0  # 1.6 s to an operational printer at load 3 on two cores; far longer under heavy load
PORT_ATTEMPTS = 5
_DISABLED_PLUGINS = ["tracking", "announcements", "softwareupdate", "pluginmanager", "backup", "achievements",
                     "firmware_check", "file_check", "pi_support", "discovery", "errortracking", "eventmanager"]


def gcode(moves: int = 4, *, name: str = "part", feed: int = 3000) -> bytes:
    """A tiny print: heat-free, a few short extruding moves (the virtual printer runs them at ~1/10 speed)."""
    lines = [f"; {name}", "G21", "G90", "M82", "G28", "G92 E0"]
    for i in range(moves):
        lines.append(f"G1 X{10 + 5 * (i % 2)} Y{10 + 5 * ((i // 2) % 2)} E{0.5 * (i + 1):.2f} F{feed}")
    return ("\n".join([*lines, "M84"]) + "\n").encode()


# A PrusaSlicer profile for the virtual printer: heat-free (it would wait for its simulated heaters), a
# 20 mm bed so travel moves stay short, one perimeter and no infill: a tiny part slices to a few dozen moves.
VIRTUAL_PRINTER_PROFILE = """\
bed_shape = 0x0,20x0,20x20,0x20
start_gcode = G28
end_gcode = M84
temperature = 0
first_layer_temperature = 0
bed_temperature = 0
first_layer_bed_temperature = 0
skirts = 0
perimeters = 1
fill_density = 0%
top_solid_layers = 0
bottom_solid_layers = 1
layer_height = 0.3
first_layer_height = 0.3
"""


def write_slicer_profile(path: Path) -> Path:
    path.write_text(VIRTUAL_PRINTER_PROFILE)
    return path


def tiny_stl(path: Path) -> Path:
    """A 4 mm L-bracket two 0.3 mm layers high (binary STL): with the profile above, a few dozen moves."""
    return bracket_stl(path, width=4.0, depth=4.0, thickness=0.3, height=0.6)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class OctoprintServer:
    """One OctoPrint server, its virtual printer connected; ``url`` and ``api_key_file`` are what the adapter
    needs. ``restart`` stops and starts it on the same port (the virtual printer loses its job)."""

    def __init__(self, root: Path, *, name: str = "octoprint") -> None:
        self.root, self.name = Path(root), name
        self.basedir = self.root / "basedir"
        self.api_key = secrets.token_hex(16)
        self.api_key_file = self.root / "api-key"
        self.port = 0
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def __enter__(self) -> OctoprintServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> OctoprintServer:
        if not self.basedir.exists():
            self._configure()
        for attempt in range(PORT_ATTEMPTS):
            self.port = self.port or _free_port()
            process = ManagedProcess(self.name, [octoprint_bin(), "--basedir", self.basedir, "serve", "--host",
                                                 LOOPBACK, "--port", str(self.port),
                                                 "--iknowwhatimdoing"],  # a container's root is no risk here
                                     self.root / "octoprint.log")
            process.start()
            try:
                process.wait_ready(self._answers, START_S)
            except FatalError:
                process.stop()
                if attempt + 1 == PORT_ATTEMPTS or "Address already in use" not in process.log_tail(40):
                    raise
                self.port = 0  # another process took the port between our pick and the bind
                continue
            self._process = process
            break
        wait_for(self._operational, START_S, interval=0.1, what=f"{self.name}'s virtual printer operational")
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    # -- what a test does to the printer ----------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.url + path, headers={"X-Api-Key": self.api_key}, timeout=10, **kwargs)

    def job(self) -> dict[str, Any]:
        return dict(self.request("GET", "/api/job").json())

    def cancel(self) -> None:
        self.request("POST", "/api/job", json={"command": "cancel"}).raise_for_status()

    # -- start-up -------------------------------------------------------------------------------------

    def _configure(self) -> None:
        self.basedir.mkdir(parents=True)
        config = {
            "server": {"onlineCheck": {"enabled": False}, "pluginBlacklist": {"enabled": False},
                       "firstRun": False, "seenWizards": {"corewizard": 4}},
            "plugins": {"_disabled": _DISABLED_PLUGINS, "virtual_printer": {"enabled": True}},
            "api": {"key": self.api_key},
            "serial": {"port": "VIRTUAL", "baudrate": 0, "autoconnect": True},
        }
        (self.basedir / "config.yaml").write_text(json.dumps(config))
        self.api_key_file.write_text(self.api_key + "\n")
        self.api_key_file.chmod(0o600)
        subprocess.run([octoprint_bin(), "--basedir", self.basedir, "user", "add", "fabmesh", "--password",
                        secrets.token_hex(12), "--admin"], check=True, capture_output=True, timeout=START_S,
                       env={**os.environ, "PYTHONWARNINGS": "ignore"})

    def _answers(self) -> bool:
        try:
            return self.request("GET", "/api/version").status_code == 200
        except requests.ConnectionError:
            return False

    def _operational(self) -> bool:
        reply = self.request("GET", "/api/connection")
        state = reply.json().get("current", {}).get("state", "") if reply.ok else ""
        if state in ("Closed", "Offline") or state.startswith("Error"):  # autoconnect gave up: ask once more
            self.request("POST", "/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        return bool(state == "Operational")
