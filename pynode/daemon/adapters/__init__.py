"""Production adapters: how a job reaches the shop floor and how its result comes back.

``make_adapter(name, settings, state_dir=...)`` builds one by name; see
``base.ProductionAdapter`` for the contract every adapter keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pynode.core.errors import InputError
from pynode.daemon.adapters.base import (
    ProductionAdapter,
    ProductionFailed,
    ProductionJob,
    ProductionResult,
    UnknownJob,
)
from pynode.daemon.adapters.hotfolder import HotfolderAdapter, HotfolderSettings
from pynode.daemon.adapters.octoprint import OctoprintSettings, make_octoprint_adapter
from pynode.daemon.adapters.opcua import OpcuaSettings, make_opcua_adapter
from pynode.daemon.adapters.simulated import SimulatedAdapter, SimulatedSettings
from pynode.documents.validation import one_line

__all__ = [
    "ADAPTERS",
    "HotfolderAdapter",
    "HotfolderSettings",
    "OctoprintSettings",
    "OpcuaSettings",
    "ProductionAdapter",
    "ProductionFailed",
    "ProductionJob",
    "ProductionResult",
    "SimulatedAdapter",
    "SimulatedSettings",
    "UnknownJob",
    "make_adapter",
]

# name -> (settings model, constructor)
ADAPTERS: dict[str, tuple[type[BaseModel], Callable[..., ProductionAdapter]]] = {
    "simulated": (SimulatedSettings, SimulatedAdapter),
    "hotfolder": (HotfolderSettings, HotfolderAdapter),
    "opcua": (OpcuaSettings, make_opcua_adapter),  # imports asyncua only when a node uses it
    "octoprint": (OctoprintSettings, make_octoprint_adapter),  # imports requests only when a node uses it
}


def make_adapter(name: str, settings: BaseModel | Mapping[str, Any], *, state_dir: Path) -> ProductionAdapter:
    """The adapter called ``name``, configured by ``settings`` (its model or a plain mapping).

    ``state_dir`` is where the adapter keeps its per-order state (inside the node's work dir).
    """
    if name not in ADAPTERS:
        raise InputError(f"unknown production adapter {name!r}: choose one of {', '.join(sorted(ADAPTERS))}")
    model, constructor = ADAPTERS[name]
    if not isinstance(settings, model):
        values = settings.model_dump() if isinstance(settings, BaseModel) else dict(settings)
        values.setdefault("adapter", name)
        try:
            settings = model.model_validate(values)
        except ValidationError as exc:
            raise InputError(one_line(exc, f"production ({name})")) from None
    return constructor(settings, state_dir=state_dir)
