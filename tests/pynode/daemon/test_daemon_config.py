"""NodeConfig: TOML + environment precedence, one-line errors naming the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynode.core.errors import InputError
from pynode.daemon.adapters import HotfolderSettings, SimulatedSettings
from pynode.daemon.config import NodeConfig, WatchConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "pynode" / "daemon" / "node.example.toml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("FABMESH_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text)
    return path


def test_the_example_is_valid_and_documents_every_key(tmp_path: Path) -> None:
    config = NodeConfig.load(EXAMPLE)
    assert config.account == "shop-1" and config.confirmations == 2 and config.metrics_port == 9464
    assert config.protocol == 2
    assert config.work_dir == EXAMPLE.parent / "node-state"  # relative to the file
    assert isinstance(config.production, SimulatedSettings) and config.production.duration_s == 30
    text = EXAMPLE.read_text()
    for key in NodeConfig.model_fields:
        assert key in text, key
    for key in type(config.policy).model_fields:
        assert key in text, key


def test_defaults(tmp_path: Path) -> None:
    config = NodeConfig.load(write(tmp_path, ""))
    assert (config.confirmations, config.log_batch_size, config.metrics_port, config.start_block) == (2, 2000, 0, None)
    assert config.rpc_urls == ["http://127.0.0.1:8545"] and config.policy.processes == []
    assert config.protocol == 2


@pytest.mark.parametrize("config_type", [NodeConfig, WatchConfig])
def test_protocol_2_is_the_default_and_1_is_chosen_in_the_file(tmp_path: Path,
                                                                config_type: type[NodeConfig | WatchConfig]) -> None:
    assert config_type.load(write(tmp_path, "")).protocol == 2
    assert config_type.load(write(tmp_path, "protocol = 1\n")).protocol == 1


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, """
confirmations = 5
rpc_urls = ["http://file:8545"]
work_dir = "state"
[policy]
processes = ["cnc"]
min_price_wei = 100
[production]
adapter = "hotfolder"
inbox = "in"
outbox = "/abs/out"
""")
    monkeypatch.setenv("FABMESH_CONFIRMATIONS", "7")
    monkeypatch.setenv("FABMESH_POLICY__MIN_PRICE_WEI", "200")  # nested: the rest of [policy] stays
    monkeypatch.setenv("FABMESH_RPC_URLS", '["http://env-a:8545", "http://env-b:8545"]')
    monkeypatch.setenv("FABMESH_PRODUCTION__SETTLE_S", "0.5")
    monkeypatch.setenv("FABMESH_HOME", "/elsewhere")  # the CLI's settings: not ours, ignored
    config = NodeConfig.load(path)
    assert config.confirmations == 7 and config.rpc_urls == ["http://env-a:8545", "http://env-b:8545"]
    assert config.policy.min_price_wei == 200 and config.policy.processes == ["cnc"]
    assert isinstance(config.production, HotfolderSettings)
    assert config.production.inbox == tmp_path / "in" and config.production.outbox == Path("/abs/out")
    assert config.production.settle_s == 0.5
    assert config.work_dir == tmp_path / "state"


def test_addresses_are_checksummed(tmp_path: Path) -> None:
    token = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
    config = NodeConfig.load(write(tmp_path, f'[policy]\ntokens = ["{token}"]\n'))
    assert config.policy.tokens == ["0x5FbDB2315678afecb367f032d93F642f64180aa3"]


@pytest.mark.parametrize(("text", "message"), [
    ("confirmations = -1", "node.toml: confirmations: Input should be greater than or equal to 0"),
    ("confirmations = 'two'", "node.toml: confirmations: Input should be a valid integer"),
    ("rpc_urls = []", "node.toml: rpc_urls: List should have at least 1 item"),
    ("rpc_urls = ['ftp://x']", "node.toml: rpc_urls.0: Value error, 'ftp://x' is not an http(s)"),
    ("metrics_port = 70000", "node.toml: metrics_port: Input should be less than or equal to 65535"),
    ("colour = 'blue'", "node.toml: colour: Extra inputs are not permitted"),
    ("[policy]\nmin_price_wei = -5", "node.toml: policy.min_price_wei: Input should be greater than"),
    ("[policy]\ntokens = ['0x12']", "node.toml: policy.tokens.0: Value error, '0x12' is not a 0x address"),
    ("[policy]\nmax_concurrent_jobs = 0", "node.toml: policy.max_concurrent_jobs"),
    ("[production]\nadapter = 'robot'",
     "node.toml: production: unknown adapter 'robot': choose simulated, hotfolder, opcua or octoprint"),
    ("[production]\nadapter = 'simulated'\ndefect_rate = 1.5", "node.toml: production.defect_rate: Input should be"),
    ("[production]\nadapter = 'hotfolder'\ninbox = 'in'", "node.toml: production.outbox: Field required"),
    ("confirmations = ", "node.toml: invalid TOML"),
])
def test_bad_values_give_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        NodeConfig.load(write(tmp_path, text))
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(tmp_path) in str(info.value)


def test_a_bad_environment_value_is_named_with_its_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FABMESH_POLICY__MAX_CONCURRENT_JOBS", "lots")
    with pytest.raises(InputError, match=r"policy.max_concurrent_jobs \(from \$FABMESH_POLICY__MAX_CONCURRENT_JOBS\)"):
        NodeConfig.load(write(tmp_path, ""))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.toml: config file not found"):
        NodeConfig.load(tmp_path / "nope.toml")


@pytest.mark.parametrize("config_type", [NodeConfig, WatchConfig])
def test_the_protocol_comes_from_the_environment_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     config_type: type[NodeConfig | WatchConfig]) -> None:
    monkeypatch.setenv("FABMESH_PROTOCOL", "1")
    assert config_type.load(write(tmp_path, "protocol = 2\n")).protocol == 1  # the environment wins
    monkeypatch.setenv("FABMESH_PROTOCOL", "3")
    with pytest.raises(InputError, match="FABMESH_PROTOCOL"):
        config_type.load(write(tmp_path, ""))
