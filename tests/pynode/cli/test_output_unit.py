"""write_output: the one way the CLI writes a file the user named."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pynode.cli.output import write_output
from pynode.core.errors import InputError


def test_a_new_file_is_written_with_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "key.json"
    write_output(out, "secret", mode=0o600)
    assert out.read_text() == "secret"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.json"]  # no partial file left beside it


def test_an_existing_file_is_kept_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_bytes(b"mine")
    with pytest.raises(InputError, match=r"report\.json already exists$"):
        write_output(out, b"theirs")
    assert out.read_bytes() == b"mine"
    write_output(out, b"new", overwrite=True)
    assert out.read_bytes() == b"new"


def test_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match=r"^cannot write .*file/out\.html: ") as raised:
        write_output(tmp_path / "file" / "out.html", "<html>")
    assert "\n" not in str(raised.value)
