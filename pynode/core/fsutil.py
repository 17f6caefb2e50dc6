"""The one atomic write: readers see the old file or the new one, never half of one, even across a crash.

The bytes go to a temporary file beside the target (same filesystem, so the rename is atomic),
are fsynced, then renamed over the target, and the folder is fsynced so the rename itself
survives a power cut. A failure, interrupts included, removes the temporary file. Temporary
files are named ``.<name>.<random>.partial``, which is what the node's start-up cleanup removes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO


class FileExists(FileExistsError):
    """``overwrite=False`` and the target is already there."""


@contextlib.contextmanager
def atomic_file(path: Path, *, mode: int = 0o600, overwrite: bool = True,
                dir_mode: int = 0o777) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through; it becomes ``path`` when the block ends without an error.

    The file has ``mode`` from its creation on (private by default, as ``mkstemp`` makes it; 0o644 for
    files others may read). ``overwrite=False`` links it into place instead of renaming, so an
    existing ``path`` is never replaced (FileExists).
    """
    path.parent.mkdir(mode=dir_mode, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            if mode != 0o600:
                os.fchmod(out.fileno(), mode)
            yield out
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if `path` exists: no silent overwrite
            except FileExistsError:
                raise FileExists(f"{path} already exists") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes | str, *, mode: int = 0o600, overwrite: bool = True,
                 dir_mode: int = 0o777) -> None:
    """``data`` (text as UTF-8) becomes the content of ``path`` atomically; see :func:`atomic_file`."""
    with atomic_file(path, mode=mode, overwrite=overwrite, dir_mode=dir_mode) as out:
        out.write(data.encode() if isinstance(data, str) else data)


def write_json_atomic(path: Path, value: Any) -> None:
    """``value`` as JSON (sorted keys, one-space indent) written atomically."""
    write_atomic(path, json.dumps(value, sort_keys=True, indent=1))


def fsync_dir(path: Path) -> None:
    """Makes the folder's entries (a rename, a new file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
