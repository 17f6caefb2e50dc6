from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest

from pynode.cli.main import main


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def fabmesh_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("FABMESH_HOME", str(home))
    monkeypatch.setenv("FABMESH_SCRYPT_N", "1024")  # fast keystores in tests
    monkeypatch.setenv("FABMESH_CONFIRMATIONS", "0")  # automine: no block ever lands on top of the last tx
    for var in ("FABMESH_ACCOUNT", "FABMESH_KEYSTORE", "FABMESH_PASSWORD_FILE", "ETH_RPC_URL", "FABMESH_RPC_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "password"
    path.write_text("correct horse\n")
    return path


@pytest.fixture
def run(fabmesh_home, capsys, monkeypatch):
    """Runs `fabmesh ARGS` in-process exactly as the console script does, exit code included."""

    def invoke(*args: str, input: str = "") -> Result:  # noqa: A002 - the name click's CliRunner.invoke uses
        monkeypatch.setattr("sys.stdin", io.StringIO(input))
        with pytest.raises(SystemExit) as exited:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        return Result(exited.value.code, out, err)

    return invoke
