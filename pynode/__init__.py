"""fabmesh node: chain client, encrypted design vault, manufacturer daemon, CLI wallet and auditor."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed metadata on first use: importing pynode stays free of it."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fabmesh")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
