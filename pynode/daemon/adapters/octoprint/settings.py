"""``[production] adapter = "octoprint"``: the farm's printers (URL + API key file each), how long to wait, and
the slicer that turns an STL/3MF design into G-code (``[production.slicer]``, optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
URL_PATTERN = r"^https?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?(/[^\s]*)?$"


class PrinterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="the printer's name in state and evidence files")
    url: str = Field(pattern=URL_PATTERN, description="http(s)://host[:port] of its OctoPrint server")
    api_key_file: Path = Field(description="its API key, read from this file (never argv or env)")


class SlicerSettings(BaseModel):
    """``[production.slicer]``: PrusaSlicer's command line slices a mesh design with the shop's profile."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    binary: str = Field(default="prusa-slicer", min_length=1, max_length=4096, pattern=r"^[^\s-]",
                        description="a name on PATH or an absolute path")
    profile: Path = Field(description="a PrusaSlicer config (.ini: printer, filament and print settings)")
    timeout_s: float = Field(default=600.0, gt=0, le=86400, description="one design's slicing")


class OctoprintSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    adapter: Literal["octoprint"] = "octoprint"
    printers: list[PrinterSettings] = Field(min_length=1, max_length=1000)
    request_timeout_s: float = Field(default=10.0, gt=0, le=600, description="one request's answer")
    reconnect_timeout_s: float = Field(
        default=600.0, gt=0, le=7 * 86400, description="server unreachable (or printer disconnected) this long: "
                                                       "its job fails")
    start_grace_s: float = Field(default=30.0, gt=0, le=3600,
                                 description="a started job may take this long to show as printing")
    job_timeout_s: float | None = Field(default=None, gt=0, description="fail a job not ended by then")
    max_gcode_bytes: int = Field(default=256 << 20, gt=0, le=4 << 30)
    slicer: SlicerSettings | None = Field(default=None, description="None: only G-code designs are printed")

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [printer.name for printer in self.printers]
        if len(set(names)) != len(names):
            raise ValueError("printer names must be unique")
        urls = [printer.url.rstrip("/") for printer in self.printers]
        if len(set(urls)) != len(urls):
            raise ValueError("two printers with the same url")
        return self
