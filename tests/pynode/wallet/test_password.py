from __future__ import annotations

import pytest

from pynode.core.errors import InputError
from pynode.wallet.password import read_password


def test_password_file_strips_only_the_trailing_newline(tmp_path):
    path = tmp_path / "pw"
    path.write_text("  secret with spaces \n")
    assert read_password(path) == "  secret with spaces "


def test_missing_password_file(tmp_path):
    with pytest.raises(InputError, match="cannot read password file"):
        read_password(tmp_path / "absent")


def test_empty_password_is_refused(tmp_path):
    path = tmp_path / "pw"
    path.write_text("\n")
    with pytest.raises(InputError, match="empty password"):
        read_password(path)


def test_no_terminal_and_no_file(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(InputError, match="no password"):
        read_password(None)
