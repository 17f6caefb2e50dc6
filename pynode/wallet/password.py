"""Where a keystore password comes from: a file, or a hidden prompt. Never argv."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from pynode.core.errors import InputError


def read_password(password_file: Path | None, *, prompt: str = "Password: ", confirm: bool = False) -> str:
    if password_file is not None:
        try:
            text = Path(password_file).read_text()
        except OSError as exc:
            raise InputError(f"cannot read password file {password_file}: {exc.strerror}") from exc
        password = text.rstrip("\r\n")  # a trailing newline from `echo` is not part of it
    elif sys.stdin.isatty():
        password = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat password: ") != password:
            raise InputError("passwords do not match")
    else:
        raise InputError("no password: pass --password-file or set FABMESH_PASSWORD_FILE (stdin is not a terminal)")
    if not password:
        raise InputError("empty password")
    return password
