"""Files the user names on the command line (a report, a signed attestation, a keystore export, an audit page)."""

from __future__ import annotations

from pathlib import Path

from pynode.core.errors import InputError
from pynode.core.fsutil import FileExists, write_atomic


def write_output(path: Path, data: bytes | str, *, mode: int = 0o644, overwrite: bool = False) -> None:
    """``data`` becomes ``path`` atomically (never half a file), not over an existing file unless ``overwrite``;
    a one-line InputError when it cannot be written."""
    try:
        write_atomic(path, data, mode=mode, overwrite=overwrite)
    except FileExists:
        raise InputError(f"{path} already exists") from None
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
