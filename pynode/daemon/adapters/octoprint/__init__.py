"""The ``octoprint`` production adapter: a print farm of OctoPrint servers (see ``adapter``).

The settings import nothing heavy; :func:`make_octoprint_adapter` imports the adapter (and requests) only
when a node is configured for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pynode.daemon.adapters.octoprint.settings import OctoprintSettings, PrinterSettings

if TYPE_CHECKING:
    from pynode.daemon.adapters.octoprint.adapter import OctoprintAdapter

__all__ = ["OctoprintSettings", "PrinterSettings", "make_octoprint_adapter"]


def make_octoprint_adapter(settings: OctoprintSettings, *, state_dir: Path, **options: Any) -> OctoprintAdapter:
    from pynode.daemon.adapters.octoprint.adapter import OctoprintAdapter

    return OctoprintAdapter(settings, state_dir=state_dir, **options)
