"""The ``opcua`` production adapter: CNC machines behind an OPC UA server (see ``adapter``).

asyncua takes about a second to import, so only a node configured for this adapter loads it:
:func:`make_opcua_adapter` imports the adapter when it builds one; the settings import nothing of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pynode.daemon.adapters.opcua.settings import OpcuaSettings

if TYPE_CHECKING:
    from pynode.daemon.adapters.opcua.adapter import OpcuaAdapter

__all__ = ["OpcuaSettings", "make_opcua_adapter"]


def make_opcua_adapter(settings: OpcuaSettings, *, state_dir: Path, **options: Any) -> OpcuaAdapter:
    from pynode.daemon.adapters.opcua.adapter import OpcuaAdapter

    return OpcuaAdapter(settings, state_dir=state_dir, **options)
