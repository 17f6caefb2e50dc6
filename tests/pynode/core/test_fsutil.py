"""The one atomic write: all or nothing, no temporary file left behind, modes and no-overwrite honoured."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pynode.core.fsutil import FileExists, atomic_file, write_atomic, write_json_atomic


def test_a_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "f.json"
    write_json_atomic(target, {"b": 1, "a": [2]})
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.json"]
    write_json_atomic(target, {"b": 1, "a": [2]})
    assert json.loads(target.read_text()) == {"a": [2], "b": 1} and target.read_text().startswith('{\n "a"')


def test_a_failure_inside_the_block_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError), atomic_file(target) as out:
        out.write(b"half of the new")
        raise RuntimeError("crash while writing")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_modes_and_no_overwrite(tmp_path: Path) -> None:
    private, public = tmp_path / "keys" / "k.json", tmp_path / "r.json"
    write_atomic(private, "secret", overwrite=False, dir_mode=0o700)
    write_atomic(public, "record", mode=0o644)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    with pytest.raises(FileExists, match="already exists"):
        write_atomic(private, "another", overwrite=False)
    assert private.read_text() == "secret" and [p.name for p in private.parent.iterdir()] == ["k.json"]
