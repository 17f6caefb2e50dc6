"""One OctoPrint server's REST API (requests): state, upload, start, the file's print history.

The one place that looks at requests' exceptions and OctoPrint's HTTP statuses (by type and code, never
by text): no connection, a timeout, a 5xx or a reply that is not JSON is :class:`PrinterUnavailable`
(transient: a server restarting); 401/403 (a wrong API key) or 404 on the API itself is
:class:`PrinterConfigError` (fatal: one line); 409 (the printer not operational, busy) is
:class:`PrinterRefused`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from pynode.core.errors import FatalError, InputError, TransientError
from pynode.daemon.adapters.octoprint.settings import PrinterSettings


class PrinterUnavailable(TransientError):
    """The server did not answer usefully (refused, timed out, restarting)."""


class PrinterConfigError(FatalError):
    """The settings do not fit the server (wrong API key, not an OctoPrint API, unreadable key file)."""


class PrinterRefused(InputError):
    """The server said no to a request about one job (409: not operational, already printing)."""


class PrinterClient:
    def __init__(self, printer: PrinterSettings, timeout_s: float) -> None:
        self.printer, self.timeout_s = printer, timeout_s
        self.base = printer.url.rstrip("/")
        self._session = requests.Session()
        self._session.headers["X-Api-Key"] = read_api_key(printer.api_key_file, printer.name)

    def _call(self, method: str, path: str, what: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        where = f"printer {self.printer.name} ({self.base}): {what}"
        try:
            reply = self._session.request(method, self.base + path, timeout=self.timeout_s, **kwargs)
        except requests.Timeout:
            raise PrinterUnavailable(f"{where}: no answer in time") from None
        except requests.ConnectionError:
            raise PrinterUnavailable(f"{where}: no connection") from None
        if reply.status_code in (401, 403):
            raise PrinterConfigError(f"{where}: OctoPrint refused the API key (HTTP {reply.status_code}): check "
                                     f"{self.printer.api_key_file}")
        if reply.status_code == 404 and missing_ok:
            return None
        if reply.status_code == 404:
            raise PrinterConfigError(f"{where}: HTTP 404: is {self.base} an OctoPrint server?")
        if reply.status_code == 409:
            raise PrinterRefused(f"{where}: the printer refused (HTTP 409: not operational or busy)")
        if reply.status_code >= 500:
            raise PrinterUnavailable(f"{where}: HTTP {reply.status_code}")
        if reply.status_code >= 400:
            raise PrinterRefused(f"{where}: HTTP {reply.status_code}")
        if reply.status_code == 204 or not reply.content:
            return {}
        try:
            return reply.json()
        except ValueError:
            raise PrinterUnavailable(f"{where}: the reply is not JSON") from None

    def version(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/version", "asking its version"))

    def printer_state(self) -> dict[str, Any] | None:
        """GET /api/printer; None when the printer is not connected (OctoPrint's 409)."""
        try:
            return dict(self._call("GET", "/api/printer?exclude=temperature,sd", "reading the printer"))
        except PrinterRefused:
            return None

    def job(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/job", "reading the job"))

    def file(self, name: str) -> dict[str, Any] | None:
        found = self._call("GET", f"/api/files/local/{name}", f"reading file {name}", missing_ok=True)
        return None if found is None else dict(found)

    def upload_and_print(self, name: str, content: bytes) -> None:
        self._call("POST", "/api/files/local", f"uploading {name}",
                   files={"file": (name, content, "application/octet-stream")},
                   data={"select": "true", "print": "true"})

    def delete(self, name: str) -> None:
        self._call("DELETE", f"/api/files/local/{name}", f"deleting file {name}", missing_ok=True)

    def close(self) -> None:
        self._session.close()


def read_api_key(path: Path, printer: str) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PrinterConfigError(f"production: printer {printer}: cannot read api_key_file {path}: "
                                 f"{exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise PrinterConfigError(f"production: printer {printer}: api_key_file {path} is not UTF-8 text") from None
    if not key or any(c.isspace() for c in key):
        raise PrinterConfigError(f"production: printer {printer}: api_key_file {path} holds no single key")
    return key
