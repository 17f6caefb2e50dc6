"""README's "Connecting a shop floor": every node.toml snippet loads through the node's config parser, and the
worked quote examples are what the quote policy computes from those tables."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import pytest

from pynode.chain.orders import MATERIAL, PROCESS, ZERO_ADDRESS
from pynode.daemon.adapters.octoprint.settings import OctoprintSettings
from pynode.daemon.adapters.opcua.settings import OpcuaSettings
from pynode.daemon.config import NodeConfig
from pynode.orders.quote_geometry import Measures
from pynode.orders.quote_policy import Job, price_of
from pynode.orders.vocabulary import vocabulary_bits

README = Path(__file__).resolve().parents[3] / "README.md"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def section() -> str:
    text = README.read_text()
    start = text.index("## Connecting a shop floor\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def snippets() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", section(), re.DOTALL)


def load(tmp_path: Path, snippet: str) -> NodeConfig:
    path = tmp_path / "node.toml"
    path.write_text(snippet)
    return NodeConfig.load(path)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("FABMESH_"):
            monkeypatch.delenv(name)


def test_every_snippet_parses_into_the_settings_it_shows(tmp_path: Path) -> None:
    farm, machine, secured, fdm, cnc = (load(tmp_path, text) for text in snippets())
    assert isinstance(farm.production, OctoprintSettings) and farm.protocol == 2
    assert [p.name for p in farm.production.printers] == ["mk4-1", "mk4-2"]
    assert farm.production.printers[0].api_key_file == tmp_path / "secrets" / "mk4-1.key"  # relative to node.toml
    assert farm.production.slicer is not None and farm.production.slicer.profile == tmp_path / "profiles/mk4-pla.ini"
    assert farm.policy.max_concurrent_jobs <= len(farm.production.printers)
    assert isinstance(machine.production, OpcuaSettings) and machine.production.security_policy == "None"
    assert isinstance(secured.production, OpcuaSettings) and secured.production.security_policy == "Basic256Sha256"
    assert secured.production.password_file == tmp_path / "secrets" / "machine-password.txt"
    assert fdm.quote.tokens[ZERO_ADDRESS].machine_rate_per_hour == 2 * 10**15
    assert cnc.quote.tokens[USDC].setup_fee == 40 * 10**6


def quoted(config: NodeConfig, token: str, process: str, material: str, measures: Measures,
           quantity: int) -> tuple[int, int]:
    """(price, cost) of the README's worked example, by the quote policy's own rules."""
    settings = config.quote
    rate = settings.process_rate(vocabulary_bits([process], PROCESS, "process"))
    assert rate is not None
    prices = settings.tokens[token]
    part_s = rate.part_time(measures)
    material_cost = prices.material_cost(vocabulary_bits([material], MATERIAL, "material"), measures,
                                         subtractive=rate.subtractive)
    assert part_s is not None and material_cost is not None
    return price_of(settings, Job(prices, rate.setup_s + math.ceil(part_s * quantity), material_cost, quantity))


def test_the_worked_quotes_are_what_the_policy_prices(tmp_path: Path) -> None:
    fdm, cnc = (load(tmp_path, text) for text in snippets()[3:])
    text = section()
    price, cost = quoted(fdm, ZERO_ADDRESS, "fdm", "pla", Measures(part_mm3=Fraction(12_000)), 10)
    assert round(cost / 10**18, 6) == 0.012267
    assert f"= {price:,} wei" in text
    box = Fraction(40 * 30 * 20)
    price, cost = quoted(cnc, USDC, "cnc-milling", "al-6061", Measures(part_mm3=Fraction(9_000), stock_mm3=box), 1)
    assert round(cost / 10**6, 2) == 111.31
    assert f"price {price / 10**6:,.2f} USDC" in text
