"""The ABIs shipped in the package are the compiled contracts' ABIs (`make abi` refreshes them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pynode.chain import v2
from pynode.chain.deployment import CONTRACT_NAMES, PACKAGED_ABI, artifacts_dir, load_abi

BUILD = Path(__file__).resolve().parents[3] / "build" / "contracts"


@pytest.mark.parametrize("name", CONTRACT_NAMES + v2.CONTRACT_NAMES)
def test_packaged_abi_matches_the_compiled_contract(name: str) -> None:
    built = BUILD / f"{name}.json"
    assert built.is_file(), f"{built} missing: run `make compile` (make test does)"
    shipped = json.loads((PACKAGED_ABI / f"{name}.json").read_text())
    assert shipped == json.loads(built.read_text())["abi"], f"pynode/chain/abi/{name}.json is stale: run `make abi`"


def test_abis_load_from_the_package_by_default_and_from_an_override(tmp_path: Path) -> None:
    assert artifacts_dir(None) is None
    assert any(item.get("name") == "post" for item in load_abi(None, "OrderBook"))
    (tmp_path / "OrderBook.json").write_text(json.dumps({"abi": [{"type": "function", "name": "dev"}]}))
    assert load_abi(artifacts_dir(tmp_path), "OrderBook") == [{"type": "function", "name": "dev"}]
