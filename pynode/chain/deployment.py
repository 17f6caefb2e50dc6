"""Which contracts to talk to: deployments/<chain-id>.json plus the contracts' ABIs.

`scripts/deploy.py` writes the deployments file (addresses, deploy block,
roles). The ABIs ship inside the package (pynode/chain/abi/<Name>.json, kept
equal to the compiled contracts by a test; `make abi` refreshes them), so an
installed wheel needs no Solidity toolchain; a directory of brownie artifacts
(FABMESH_ARTIFACTS, e.g. build/contracts) overrides them for a dev build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from pynode.core.address import is_address, to_checksum_address
from pynode.core.errors import FatalError, InputError
from pynode.core.strict_json import strict_json_loads

CONTRACT_NAMES = ("PartnerRegistry", "OrderBook")
#: a protocol-v2 record (<chain-id>.v2.json, "protocol": 2) names these, and PanelArbitrator if one was deployed
V2_CONTRACT_NAMES = ("AccessManager", "PartnerRegistryV2", "OrderBookV2")
V2_OPTIONAL_NAMES = ("PanelArbitrator",)
PACKAGED_ABI = files("pynode.chain") / "abi"
# A source checkout (editable install) has both next to the package.
_CHECKOUT = Path(__file__).resolve().parents[2]
MAX_DEPLOYMENT_FILE = 1 << 20
MAX_CHAIN_ID = (1 << 64) - 1
MAX_BLOCK = (1 << 63) - 1


@dataclass(frozen=True)
class ContractInfo:
    name: str
    address: str
    abi: list[dict[str, Any]]


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    deploy_block: int
    contracts: dict[str, ContractInfo]
    source: Path

    def __getitem__(self, name: str) -> ContractInfo:
        return self.contracts[name]


def _first_existing(*candidates: Path) -> Path | None:
    return next((c for c in candidates if c.exists()), None)


def record_name(chain_id: int, protocol: int = 2) -> str:
    """The record's file name: protocol v2's <chain-id>.v2.json, v1's <chain-id>.json beside it."""
    return f"{chain_id}.json" if protocol == 1 else f"{chain_id}.v{protocol}.json"


def _v1_hint(protocol: int) -> str:
    """What a missing v2 record tells its reader: v2 is only the default, a v1 deployment is one flag away."""
    return "" if protocol == 1 else \
        " (protocol 2 is the default: for a v1 deployment pass --protocol 1, or set protocol = 1 in node.toml or " \
        "watch.toml)"


def deployment_file(chain_id: int, given: Path | None, protocol: int = 2) -> Path:
    """`given` may be the JSON file itself or the directory holding the record (record_name)."""
    name = record_name(chain_id, protocol)
    if given is not None:
        return given if given.suffix == ".json" else given / name
    found = _first_existing(Path("deployments") / name, _CHECKOUT / "deployments" / name)
    if found is None:
        raise FatalError(f"no deployment for chain {chain_id}: pass --deployments or set FABMESH_DEPLOYMENTS"
                         + _v1_hint(protocol))
    return found


def artifacts_dir(given: Path | None) -> Path | None:
    """The override directory of brownie artifacts, checked; None: the ABIs shipped in the package."""
    if given is not None and not given.is_dir():
        raise FatalError(f"artifacts directory {given} does not exist")
    return given


def load_abi(artifacts: Path | None, name: str) -> list[dict[str, Any]]:
    source = PACKAGED_ABI / f"{name}.json" if artifacts is None else artifacts / f"{name}.json"
    try:
        data = json.loads(source.read_text())
        abi = data if artifacts is None else data["abi"]  # packaged: the ABI alone; brownie's: under "abi"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FatalError(f"cannot read the ABI of {name} from {source}: {type(exc).__name__}") from exc
    if not isinstance(abi, list):
        raise FatalError(f"{source}: the ABI is not a list")
    return abi


def parse_deployment(text: bytes | str, source: Path, artifacts: Path | None, protocol: int = 2) -> Deployment:
    """Validates a deployments document of `protocol`; every problem is a one-line InputError naming the field."""
    data = strict_json_loads(text, str(source), MAX_DEPLOYMENT_FILE)
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a JSON object")
    found = data.get("protocol", 1)
    if type(found) is not int or found != protocol:
        raise InputError(f"{source}: a protocol {found!r} record, expected protocol {protocol}"
                         + (_v1_hint(protocol) if type(found) is int and found == 1 else ""))
    chain_id, deploy_block = data.get("chainId"), data.get("deployBlock")
    if type(chain_id) is not int or not 0 < chain_id <= MAX_CHAIN_ID:
        raise InputError(f"{source}: chainId must be an integer in [1, 2**64 - 1]")
    if type(deploy_block) is not int or not 0 <= deploy_block <= MAX_BLOCK:
        raise InputError(f"{source}: deployBlock must be an integer in [0, 2**63 - 1]")
    entries = data.get("contracts")
    if not isinstance(entries, dict):
        raise InputError(f"{source}: contracts must be an object")
    contracts = {}
    required, optional = (CONTRACT_NAMES, ()) if protocol == 1 else (V2_CONTRACT_NAMES, V2_OPTIONAL_NAMES)
    for name in required + tuple(n for n in optional if n in entries):
        entry = entries.get(name)
        address = entry.get("address") if isinstance(entry, dict) else None
        if not isinstance(address, str) or not is_address(address):
            raise InputError(f"{source}: contracts.{name}.address is missing or not an address")
        contracts[name] = ContractInfo(name, to_checksum_address(address), load_abi(artifacts, name))
    return Deployment(chain_id, deploy_block, contracts, source)


def load_deployment(chain_id: int, deployments: Path | None, artifacts: Path | None,
                    protocol: int = 2) -> Deployment:
    """The record of `protocol` (2: <chain-id>.v2.json, 1: <chain-id>.json) for the chain `chain_id`."""
    path = deployment_file(chain_id, deployments, protocol)
    try:
        text = path.read_bytes()
    except OSError as exc:
        missing = _v1_hint(protocol) if isinstance(exc, FileNotFoundError) else ""
        raise FatalError(f"cannot read deployment {path}: {exc.strerror}{missing}") from exc
    deployment = parse_deployment(text, path, artifacts_dir(artifacts), protocol)
    if deployment.chain_id != chain_id:
        raise FatalError(f"{path} is for chain {deployment.chain_id}, the RPC endpoint is chain {chain_id}")
    return deployment
