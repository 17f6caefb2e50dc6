from __future__ import annotations

import pytest


@pytest.fixture
def fabmesh_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("FABMESH_HOME", str(home))
    monkeypatch.setenv("FABMESH_SCRYPT_N", "1024")  # fast keystores in tests
    monkeypatch.setenv("FABMESH_CONFIRMATIONS", "0")  # automine: no block ever lands on top of the last tx
    for var in ("FABMESH_ACCOUNT", "FABMESH_KEYSTORE", "FABMESH_PASSWORD_FILE", "ETH_RPC_URL", "FABMESH_RPC_URL",
                "FABMESH_PROTOCOL"):  # a test names protocol 1 (or 2) itself; else the default, 2
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "password"
    path.write_text("correct horse\n")
    return path


@pytest.fixture
def run(fabmesh_home, fabmesh_main):
    """`fabmesh ARGS` in-process (tests/pynode/conftest.py's fabmesh_main) with this folder's home."""
    return fabmesh_main
