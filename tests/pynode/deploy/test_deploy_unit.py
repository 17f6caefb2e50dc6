"""The deploy's pieces that need no chain: the standard-JSON input, the plan, the record guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils import to_checksum_address

from pynode.core.errors import FatalError, InputError
from pynode.deploy.compiler import collect_sources, load_settings, standard_input
from pynode.deploy.deployer import DeployPlan
from pynode.deploy.record import refuse_overwrite

REMAP = ("@lib/=vendor/lib/",)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_every_import_form_is_followed_and_commented_imports_are_not(tmp_path):
    root = _tree(tmp_path, {
        "contracts/A.sol": '''
            import "./B.sol";
            import {X, Y} from "./sub/C.sol";
            import {
                Z
            } from "@lib/D.sol";
            import * as E from "../contracts/E.sol";
            import "./F.sol" as F;
            // import "./Missing.sol";
            /* import "./AlsoMissing.sol"; */
        ''',
        "contracts/B.sol": "", "contracts/sub/C.sol": 'import "../B.sol";', "vendor/lib/D.sol": 'import "./G.sol";',
        "vendor/lib/G.sol": "", "contracts/E.sol": "", "contracts/F.sol": "",
    })
    assert list(collect_sources("contracts/A.sol", REMAP, root)) == [
        "contracts/A.sol", "contracts/B.sol", "contracts/E.sol", "contracts/F.sol", "contracts/sub/C.sol",
        "vendor/lib/D.sol", "vendor/lib/G.sol"]


def test_a_missing_import_is_one_line(tmp_path):
    root = _tree(tmp_path, {"contracts/A.sol": 'import "./Gone.sol";'})
    with pytest.raises(FatalError, match=r"^cannot read Solidity source contracts/Gone\.sol: ") as info:
        collect_sources("contracts/A.sol", REMAP, root)
    assert "\n" not in str(info.value)


def test_the_real_input_is_self_contained_with_brownies_settings():
    settings = load_settings()
    standard = standard_input("OrderBook", settings)
    sources = standard["sources"]
    assert {"contracts/OrderBook.sol", "contracts/Types.sol", "contracts/interfaces/IOrderBook.sol",
            "node_modules/@openzeppelin/contracts/access/AccessControl.sol",
            "node_modules/@openzeppelin/contracts/utils/Context.sol"} <= sources.keys()
    assert all(name.startswith(("contracts/", "node_modules/@openzeppelin/contracts/")) for name in sources)
    assert all(source["content"] for source in sources.values())
    assert standard["settings"]["optimizer"] == {"enabled": True, "runs": 10000}
    assert standard["settings"]["evmVersion"] == "cancun"
    assert standard["settings"]["remappings"] == [
        "@openzeppelin/contracts=node_modules/@openzeppelin/contracts",
        "@kleros/erc-792=node_modules/@kleros/erc-792",
        "@safe-global/safe-smart-account=node_modules/@safe-global/safe-smart-account",
    ]
    assert settings.version == "0.8.37"


def test_a_broken_config_is_one_line(tmp_path):
    (tmp_path / "brownie-config.yaml").write_text("compiler: [not, a, mapping]\n")
    with pytest.raises(FatalError, match="cannot read the compiler settings"):
        load_settings(tmp_path / "brownie-config.yaml")


def test_plan_checks_and_checksums_addresses():
    plan = DeployPlan(admin="0x" + "ab" * 20, certifiers=("0x" + "cd" * 20,))
    assert plan.admin == to_checksum_address("0x" + "ab" * 20)
    assert plan.certifiers == (to_checksum_address("0x" + "cd" * 20),)
    with pytest.raises(InputError, match="inspector 'nope' is not an address"):
        DeployPlan(inspectors=("nope",))
    with pytest.raises(InputError, match="min_bond"):
        DeployPlan(min_bond=-1)


def test_an_existing_record_is_refused_without_force(tmp_path):
    refuse_overwrite(tmp_path, 5, 1)  # nothing there: fine
    (tmp_path / "5.json").write_text("{}")
    with pytest.raises(InputError, match="--force"):
        refuse_overwrite(tmp_path, 5, 1)
