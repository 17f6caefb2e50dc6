"""Every import in pynode/ points down the layers, and nothing shipped imports test scaffolding or dev-only packages.

The layer order (lowest first); a module may import its own layer and any layer before it:

    core       errors, backoff, stop, strict JSON, atomic writes, settings
    protocol   what the contracts define, once: statuses, record kinds, flags, EIP-712 types
    documents  outside documents (order spec, quality report, signed attestation) and their one-line errors
    crypto     segmented AES-GCM, HPKE, envelopes, key files
    chain      RPC, contracts, order codec, events, transactions
    ipfs       Kubo client, CIDs, the design vault
    designs    what a design file shows before it is encrypted: its public geometry
    wallet     keystores, HPKE keys, passwords
    orders     buyer and partner workflows, the order watcher
    daemon     the manufacturer node
    audit      provenance verification, EPCIS, HTML reports
    deploy     compile and deploy the contracts
    dev        local networks of real processes, the demo
    cli        the `fabmesh` command

Static: each module's source is parsed (ast), never imported, so the test opens no sockets and
sees imports inside functions and ``TYPE_CHECKING`` blocks too.
"""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pynode

LAYERS = ("core", "protocol", "documents", "crypto", "chain", "ipfs", "designs", "wallet", "orders", "daemon", "audit",
          "deploy", "dev", "cli")
PACKAGE = Path(pynode.__file__).resolve().parent
PYPROJECT = PACKAGE.parent / "pyproject.toml"
#: scaffolding that lives beside the package and never ships in it
SCAFFOLDING = {"tests", "bench", "conftest", "support", "harness"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            out.append((node.lineno, target))
    return out


def layer(module: str) -> int | None:
    """The index of a pynode module's layer; -1 for the package root; None outside pynode."""
    parts = module.split(".")
    if parts[0] != "pynode":
        return None
    if len(parts) == 1:
        return -1
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else len(LAYERS)  # unknown: above everything


def dev_only_modules() -> set[str]:
    """Top-level import names of the packages only the dev extras install (not the runtime dependencies)."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}

    dev = names(project["optional-dependencies"]["dev"]) - names(project["dependencies"])
    by_dist: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            by_dist.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    return set().union(*(by_dist.get(dist, {dist.replace("-", "_")}) for dist in dev))


def test_the_layers_name_every_subpackage() -> None:
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert subpackages <= set(LAYERS), f"add {sorted(subpackages - set(LAYERS))} to LAYERS in its place"
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules at the package root belong to a layer: {loose}"


def test_every_import_points_down() -> None:
    upward = []
    for name, path in modules().items():
        mine = layer(name)
        for line, target in imports(name, path):
            theirs = layer(target)
            if theirs is not None and mine is not None and theirs > mine:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {LAYERS[mine]} imports {target}")
    assert upward == [], "imports pointing up the layers:\n" + "\n".join(upward)


def test_the_package_imports_no_scaffolding_or_dev_only_package() -> None:
    dev_only = dev_only_modules()
    assert {"brownie", "pytest", "psutil", "hypothesis"} <= dev_only  # the extras are read, not guessed
    found = []
    for name, path in modules().items():
        for line, target in imports(name, path):
            top = target.split(".")[0]
            if top in dev_only or top in SCAFFOLDING:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target}")
    assert found == [], "the installed package must not import these:\n" + "\n".join(found)


def test_no_scaffolding_module_ships() -> None:
    """The node harness, soak drivers and test factories live in tests/ and bench/, not in the package."""
    shipped = sorted(name for name in modules() if name.rsplit(".", 1)[-1] in SCAFFOLDING | {"soak", "factories"})
    assert shipped == []


def test_the_checks_see_an_upward_import(tmp_path: Path) -> None:
    """The walker itself: a relative import from chain/ up into daemon/ is resolved and placed above chain."""
    source = tmp_path / "x.py"
    source.write_text("from ..daemon import node\nimport psutil\n")
    found = imports("pynode.chain.x", source)
    assert found == [(1, "pynode.daemon"), (2, "psutil")]
    assert layer(found[0][1]) > layer("pynode.chain.x")
    assert layer("pynode.cli.main") > layer("pynode.core.errors") == 0
