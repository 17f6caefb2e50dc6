"""Where heads are pushed from (no sockets): the node's ``ws_url`` key, ``FABMESH_WS_URL``/``ETH_WS_URL``, and
``watch-orders --ws-url``; a value that is no ws(s):// URL (nor "rpc") is one line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynode.core.errors import InputError
from pynode.core.settings import Settings
from pynode.daemon.config import NodeConfig


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("FABMESH_") or name.upper() == "ETH_WS_URL":
            monkeypatch.delenv(name)


def _config(tmp_path: Path, text: str) -> NodeConfig:
    path = tmp_path / "node.toml"
    path.write_text(text)
    return NodeConfig.load(path)


def test_no_ws_url_is_polling_only_and_either_form_is_kept(tmp_path: Path) -> None:
    assert _config(tmp_path, "").ws_url is None
    assert _config(tmp_path, "ws_url = 'wss://eth.example/ws/key'").ws_url == "wss://eth.example/ws/key"
    assert _config(tmp_path, "ws_url = 'rpc'").ws_url == "rpc"


def test_the_environment_sets_it_for_the_node_and_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FABMESH_WS_URL", "ws://127.0.0.1:8546")
    assert _config(tmp_path, "ws_url = 'rpc'").ws_url == "ws://127.0.0.1:8546"
    assert Settings().ws_url == "ws://127.0.0.1:8546"
    monkeypatch.delenv("FABMESH_WS_URL")
    monkeypatch.setenv("ETH_WS_URL", "wss://eth.example/ws")
    assert Settings().ws_url == "wss://eth.example/ws"


def test_a_url_that_is_not_websocket_is_one_line_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        _config(tmp_path, "ws_url = 'http://127.0.0.1:8545'")
    assert str(info.value) == (f"{tmp_path / 'node.toml'}: ws_url: Value error, 'http://127.0.0.1:8545' is not a "
                               "ws:// or wss:// URL (or \"rpc\": the RPC URL's own port)")


def test_watch_orders_refuses_a_bad_ws_url_as_a_usage_error(fabmesh_main) -> None:
    result = fabmesh_main("node", "watch-orders", "--ws-url", "http://127.0.0.1:8545")
    assert result.exit_code == 2
    assert "is not a ws:// or wss:// URL" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
