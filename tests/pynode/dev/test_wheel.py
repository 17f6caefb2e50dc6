"""The built wheel runs without the Solidity toolchain, from outside the checkout.

The wheel is built from a copy of the package sources (`pip wheel`), installed
with `pip install --no-index` into a fresh venv whose dependencies are the
distributions of this test's own venv, copied file by file from their RECORDs:
exactly the closure of the wheel's declared requirements, nothing else (no
brownie, no checkout on sys.path), so a dependency the wheel forgot to declare
fails the install or the commands, and nothing is downloaded but the build
backend pip's build isolation fetches. Then, in a directory holding only a
deployments file and node config, with a PATH that has no solc, anvil or node,
`fabmesh check`, `node run --once`, `partner list`, `order list` and
`audit all` run against the real anvil + Kubo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import tomli_w
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness import PASSWORD, SCRYPT_N, make_partner
from pynode.chain import v2
from pynode.wallet.keystore import Keystore

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

CHECKOUT = Path(__file__).resolve().parents[3]
MAX_WHEEL_BYTES = 2 << 20  # the package and its ABIs; far more means build/ or node_modules got in


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("wheel-src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(CHECKOUT / name, src / name)
    shutil.copytree(CHECKOUT / "pynode", src / "pynode", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
                    "-w", str(out), str(src)], check=True, capture_output=True, timeout=300)
    (built,) = out.glob("fabmesh-*.whl")
    return built


def _requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode()
    return [Requirement(line.split(":", 1)[1]) for line in text.splitlines() if line.startswith("Requires-Dist:")]


def _closure(requirements: list[Requirement]) -> dict[str, metadata.Distribution]:
    """The installed distributions the requirements need, transitively (markers evaluated, extras followed)."""
    found: dict[str, metadata.Distribution] = {}
    done: set[tuple[str, str]] = set()
    pending = [(r, "") for r in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        dist = found.setdefault(name, metadata.distribution(requirement.name))
        for wanted in {""} | requirement.extras:
            if (name, wanted) not in done:
                done.add((name, wanted))
                pending += [(Requirement(r), wanted) for r in dist.requires or ()]
    return found


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    site = Path(subprocess.run([str(root / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path"
                                "('purelib'))"], check=True, capture_output=True, text=True).stdout.strip())
    here = Path(sysconfig.get_path("purelib")).resolve()
    for dist in _closure(_requirements(wheel)).values():
        for file in dist.files or ():
            source = Path(dist.locate_file(file)).resolve()
            if here not in source.parents or "__pycache__" in source.parts or not source.is_file():
                continue  # console scripts of dependencies (../../bin) are not needed
            target = site / source.relative_to(here)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "--no-index", "--disable-pip-version-check",
                    "-q", str(wheel)], check=True, capture_output=True, timeout=300)
    return root


def test_wheel_holds_the_package_and_its_abis_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "pynode/chain/abi/OrderBook.json" in names and "pynode/chain/abi/PartnerRegistry.json" in names
    assert {f"pynode/chain/abi/{name}.json" for name in v2.CONTRACT_NAMES} <= set(names)
    assert "pynode/daemon/node.example.toml" in names
    assert not [n for n in names if n.startswith(("tests/", "scripts/", "build/", "node_modules/", "contracts/"))]
    assert wheel.stat().st_size < MAX_WHEEL_BYTES


def test_installed_wheel_imports_from_its_venv_without_the_toolchain(venv):
    probe = ("import importlib.util, pynode.chain.deployment as d;"
             "print(d.__file__); print(importlib.util.find_spec('brownie'))")
    result = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                            cwd="/", env=_env(venv), timeout=60)
    assert result.returncode == 0, result.stderr
    module_file, brownie = result.stdout.split()
    assert Path(module_file).is_relative_to(venv) and brownie == "None"
    check = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check", "--disable-pip-version-check"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr


def _env(venv: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("FABMESH_", "ETH_", "PYTHON", "VIRTUAL_ENV", "SOLCX"))}
    return {**clean, "PATH": f"{venv / 'bin'}:/usr/bin:/bin", **extra}  # no solc, anvil, node, brownie


def test_fabmesh_from_the_wheel_runs_against_anvil_and_kubo(venv, anvil, kubo, deployments_dir, chain,
                                                           dev_accounts, tmp_path):
    run = tmp_path / "operator"  # outside the checkout: only a deployments file and a node config
    (run / "deployments").mkdir(parents=True)
    shutil.copy2(deployments_dir / f"{anvil.chain_id}.json", run / "deployments")
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], run / "shop", "shop",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    Keystore(maker.root / "wallet" / "keystores", SCRYPT_N).create("buyer", PASSWORD,
                                                                  private_key=bytes(dev_accounts["buyer"].key))
    design = run / "bracket.stl"
    design.write_bytes(b"solid bracket\n" + os.urandom(50_000) + b"endsolid bracket\n")
    (maker.root / "node.toml").write_text(tomli_w.dumps({
        "protocol": 1, "account": "shop", "password_file": "password.txt", "home": "wallet",
        "rpc_urls": [anvil.rpc_url],
        "ipfs_api": kubo.api_url, "confirmations": 0, "deployments": "../deployments", "work_dir": "work",
        "metrics_port": 0, "policy": {"processes": ["CNC_MILLING"], "materials": ["AL_6061"]},
        "production": {"adapter": "simulated", "duration_s": 0}}))
    env = _env(venv, FABMESH_HOME=str(maker.root / "wallet"), ETH_RPC_URL=anvil.rpc_url,
               FABMESH_IPFS_API=kubo.api_url, FABMESH_DEPLOYMENTS=str(run / "deployments"),
               FABMESH_CONFIRMATIONS="0",  # anvil mines on demand: no block lands on top of the last one
               FABMESH_PROTOCOL="1")  # the v1 record is the one copied

    def fabmesh(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([str(venv / "bin" / "fabmesh"), *args], cwd=run, env=env, capture_output=True,
                                text=True, timeout=180)
        assert result.returncode == 0, f"fabmesh {' '.join(args)}: {result.stdout}{result.stderr}"
        return result

    as_ = ("--password-file", str(maker.root / "password.txt"), "--json", "--account")
    checks = json.loads(fabmesh(*as_, "shop", "check").stdout)["checks"]
    assert all(c["ok"] for c in checks), checks
    fabmesh("--password-file", str(maker.root / "password.txt"), "wallet", "hpke-new", "buyer")
    posted = json.loads(fabmesh(*as_, "buyer", "-y", "order", "post", "--design", str(design), "--process",
                                "CNC_MILLING", "--material", "AL_6061", "--qty", "2", "--price", "0.05",
                                "--claim-by", "+2d", "--deliver-by", "+9d").stdout)
    order_id = posted["order_id"]
    assert [p["address"] for p in json.loads(fabmesh("--json", "partner", "list").stdout)] == [maker.account.address]
    assert order_id in [o["order_id"] for o in json.loads(fabmesh("--json", "order", "list").stdout)]
    node = fabmesh("node", "run", "-c", str(maker.root / "node.toml"), "--once")
    assert f'"event":"claimed","order_id":{order_id:d}' in node.stdout + node.stderr  # the daemon acted
    (order,) = [o for o in json.loads(fabmesh("--json", "order", "list").stdout) if o["order_id"] == order_id]
    assert order["status"] == "CLAIMED" and order["partner"] == maker.account.address
    audit = json.loads(fabmesh("--json", "audit", "all").stdout)
    assert audit["ok"] and audit["summary"]["orders"] >= 1, audit
