"""fabmesh node: chain client, encrypted design vault, manufacturer daemon, CLI wallet and auditor."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fabmesh")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
