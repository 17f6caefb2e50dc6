"""A child process that is started, awaited until ready and always stopped."""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pynode.core.errors import FatalError
from pynode.dev.wait import wait_for

_PR_SET_PDEATHSIG = 1

T = TypeVar("T")


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM to the child if the parent dies, even by SIGKILL.

    The kernel ties this to the parent *thread*: a process started from a thread that
    later ends gets the signal then. Start long-lived processes from the main thread.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: stop() and atexit still apply
        pass


def signal_group(pgid: int, sig: int) -> bool:
    """Signals a process group; False if it no longer exists."""
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False


def stop_group(pgid: int, timeout: float = 10.0) -> None:
    """SIGTERM a process group that is not our child (started by an earlier command), then SIGKILL."""
    if not signal_group(pgid, signal.SIGTERM):
        return
    try:
        wait_for(lambda: not signal_group(pgid, 0), timeout, interval=0.05, what=f"process group {pgid} gone")
    except TimeoutError:
        signal_group(pgid, signal.SIGKILL)


class ManagedProcess:
    """Runs `argv` in its own session, logging to `log_path`.

    The session lets stop() signal the whole process group, so helpers a tool
    spawns go with it; the parent-death signal covers a test runner that is
    itself killed.
    """

    def __init__(self, name: str, argv: Sequence[str | os.PathLike], log_path: Path,
                 env: dict[str, str] | None = None, *, detached: bool = False) -> None:
        self.name = name
        self.detached = detached  # outlives this Python process (`fabmesh dev up`)
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._log_start = log.tell()  # a log appended to by an earlier run: read only this run's part
            self._proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True,
                preexec_fn=None if self.detached else _die_with_parent,  # noqa: PLW1509 - only a prctl, see above
            )

    def wait_ready(self, probe: Callable[[], T], timeout: float) -> T:
        """Polls `probe` until it returns a true value, and returns that; fails early if the process exits."""
        def ready() -> T | None:
            if not self.running():
                raise FatalError(f"{self.name} exited during start-up: {self.log_tail()}")
            try:
                return probe()
            except OSError:  # not listening yet
                return None

        try:
            return wait_for(ready, timeout, interval=0.05, what=f"{self.name} ready")
        except TimeoutError:
            self.stop()
            raise FatalError(f"{self.name} not ready after {timeout:.0f}s: {self.log_tail()}") from None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it if it has not exited in `timeout`."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
        # Reap anything the tool left in its group (it was our child's session).
        self._signal_group(proc, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL at once, as a crash would (the crash tests use this)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._signal_group(proc, signal.SIGKILL)
            proc.wait()

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
        signal_group(proc.pid, sig)

    def logged_port(self, pattern: re.Pattern[str]) -> int | None:
        """The port this run logged in `pattern`'s `port` group (a tool told to bind port 0 names the one it got)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_start)
                text = log.read().decode(errors="replace")
        except OSError:
            return None
        found = pattern.search(text)
        return int(found["port"]) if found else None

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"
