"""The v2 policy tables: node.toml's [quote] and watch.toml's [award] load, are documented key by key in the
examples, take FABMESH_* overrides, and refuse bad values with one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynode.chain.orders import ZERO_ADDRESS
from pynode.core.errors import InputError
from pynode.daemon.config import NodeConfig, WatchConfig
from pynode.orders.award_policy import AwardSettings
from pynode.orders.quote_settings import ProcessRate, QuantityBreak, QuoteSettings, TokenPrices

DAEMON = Path(__file__).resolve().parents[3] / "pynode" / "daemon"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("FABMESH_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str, name: str = "node.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_examples_load_and_document_every_policy_key() -> None:
    quote = NodeConfig.load(DAEMON / "node.example.toml").quote
    assert quote.margin_bps == 2500 and quote.discount_bps(100) == 1000 and quote.payee is None
    assert quote.process_rate(1 << 5) == ProcessRate(setup_s=1800, part_s=600, mm3_per_hour=60_000, subtractive=True,
                                                     handling_s=300)  # cnc-milling
    assert not quote.tokens[ZERO_ADDRESS].lists(1 << 9)  # peek
    assert quote.tokens[ZERO_ADDRESS].material_cost(1 << 7) is None  # ss-316: priced per cm² of a DXF's extents
    award = WatchConfig.load(DAEMON / "watch.example.toml").award
    assert award == AwardSettings()  # the example spells out the defaults
    for example, models in (("node.example.toml", (QuoteSettings, ProcessRate, TokenPrices, QuantityBreak)),
                            ("watch.example.toml", (AwardSettings,))):
        text = (DAEMON / example).read_text()
        for model in models:
            for key in model.model_fields:
                assert key in text, f"{example} does not document {model.__name__}.{key}"


def test_no_table_means_the_defaults(tmp_path: Path) -> None:
    assert NodeConfig.load(write(tmp_path, "")).quote == QuoteSettings()
    assert WatchConfig.load(write(tmp_path, "", "watch.toml")).award == AwardSettings()
    assert QuoteSettings().tokens == {}  # no token priced: a node quotes nothing until told its prices


def test_the_environment_overrides_a_policy_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FABMESH_AWARD__MAX_PRICE", "1000")
    monkeypatch.setenv("FABMESH_AWARD__DENY", '["0x' + "ab" * 20 + '"]')
    award = WatchConfig.load(write(tmp_path, "[award]\nmax_price = 5\n", "watch.toml")).award
    assert award.max_price == 1000 and [a.lower() for a in award.deny] == ["0x" + "ab" * 20]  # env beats the file
    monkeypatch.setenv("FABMESH_QUOTE__MARGIN_BPS", "700")
    assert NodeConfig.load(write(tmp_path, "")).quote.margin_bps == 700


@pytest.mark.parametrize(("name", "text", "line"), [
    ("node.toml", "[quote]\nmargin_bps = 12.5\n",
     "quote.margin_bps: Value error, must be an integer (base units of the token, or seconds), not float 12.5"),
    ("node.toml", '[quote.tokens."0x0000000000000000000000000000000000000000"]\nmachine_rate_per_hour = 1.0\n',
     # (a key past 40 characters is shortened: documents/validation.dotted)
     "quote.tokens.'0x0000000000000000000000000000000000....machine_rate_per_hour: Value error, must be an integer"),
    ("node.toml", "[quote.processes.welding]\npart_s = 60\n", "quote.processes: Value error, unknown process "
                                                             "'welding'"),
    ("node.toml", "[quote]\nvalidity_s = 0\n", "quote.validity_s: Input should be greater than or equal to 1"),
    ("node.toml", "[quote]\nbreaks = [{ min_quantity = 5, discount_bps = 1 }, { min_quantity = 2, "
                  "discount_bps = 2 }]\n", "quote.breaks: Value error, min_quantity must be strictly ascending"),
    ("watch.toml", '[award]\nmode = "cheapest"\n', "award.mode: Input should be 'best' or 'first'"),
    ("watch.toml", "[award]\nmax_failed_qa_bps = 10001\n",
     "award.max_failed_qa_bps: Input should be less than or equal to 10000"),
    ("watch.toml", '[award]\nallow = ["0x' + "ab" * 20 + '"]\ndeny = ["0x' + "AB" * 20 + '"]\n',
     "award: Value error, 0x" + "ab" * 20),
    ("watch.toml", "[award]\nwait = 5\n", "award.wait: Extra inputs are not permitted"),
])
def test_bad_policy_values_are_one_line_naming_the_key(tmp_path: Path, name: str, text: str, line: str) -> None:
    config = NodeConfig if name == "node.toml" else WatchConfig
    path = write(tmp_path, text, name)
    with pytest.raises(InputError) as raised:
        config.load(path)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert line.lower() in message.lower(), message
