"""fabmesh node: chain client, encrypted design vault, manufacturer daemon, CLI wallet and auditor."""

from __future__ import annotations

import os

# eth-hash's keccak (selectors, topics, addresses) from safe-pysha3's C module rather than its first choice,
# pycryptodome, whose cffi binding parses C declarations with pycparser on import: a tenth of a read command's
# start-up. ETH_HASH_BACKEND is eth-hash's own switch; a choice the environment makes wins.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed metadata on first use: importing pynode stays free of it."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fabmesh")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
