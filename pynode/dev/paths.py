"""Where a source checkout keeps the tools `make` installs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pynode.core.errors import FatalError

CHECKOUT = Path(__file__).resolve().parents[2]
KUBO_NODE_CONFIG = CHECKOUT / "ipfs" / "node-config.json"


def _tool(env_var: str, name: str, *candidates: Path) -> Path:
    """An explicit env override, then the checkout's pinned copy, then PATH."""
    if override := os.environ.get(env_var):
        return Path(override)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    if found := shutil.which(name):
        return Path(found)
    raise FatalError(f"{name} not found: run `make bootstrap` or set {env_var}")


def anvil_bin() -> Path:
    return _tool("FABMESH_ANVIL_BIN", "anvil", CHECKOUT / "node_modules" / ".bin" / "anvil")


def cast_bin() -> Path:
    return _tool("FABMESH_CAST_BIN", "cast", CHECKOUT / "node_modules" / ".bin" / "cast")


def ipfs_bin() -> Path:
    return _tool("FABMESH_IPFS_BIN", "ipfs", CHECKOUT / ".tools" / "bin" / "ipfs")


def geth_bin() -> Path:
    return _tool("FABMESH_GETH_BIN", "geth", CHECKOUT / ".tools" / "bin" / "geth")


def octoprint_bin() -> Path:
    """OctoPrint from its own venv (``make`` installs it: it pins Flask and Tornado of its own)."""
    return _tool("FABMESH_OCTOPRINT_BIN", "octoprint", CHECKOUT / ".tools" / "octoprint" / "bin" / "octoprint")
