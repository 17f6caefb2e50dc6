"""Which contracts to talk to: deployments/<chain-id>.json plus the compiled ABIs.

`scripts/deploy.py` writes the deployments file (addresses, deploy block,
roles); the ABIs come from brownie's artifacts (build/contracts/<Name>.json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_utils import is_address, to_checksum_address

from pynode.core.errors import FatalError, InputError
from pynode.strict_json import strict_json_loads

CONTRACT_NAMES = ("PartnerRegistry", "OrderBook")
# A source checkout (editable install) has both next to the package.
_CHECKOUT = Path(__file__).resolve().parents[2]
MAX_DEPLOYMENT_FILE = 1 << 20
MAX_CHAIN_ID = (1 << 64) - 1
MAX_BLOCK = (1 << 63) - 1


@dataclass(frozen=True)
class ContractInfo:
    name: str
    address: str
    abi: list[dict]


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


def deployment_file(chain_id: int, given: Path | None) -> Path:
    """`given` may be the JSON file itself or the directory holding <chain-id>.json."""
    if given is not None:
        return given if given.suffix == ".json" else given / f"{chain_id}.json"
    found = _first_existing(Path("deployments") / f"{chain_id}.json", _CHECKOUT / "deployments" / f"{chain_id}.json")
    if found is None:
        raise FatalError(f"no deployment for chain {chain_id}: pass --deployments or set FABMESH_DEPLOYMENTS")
    return found


def artifacts_dir(given: Path | None) -> Path:
    if given is not None:
        if not given.is_dir():
            raise FatalError(f"artifacts directory {given} does not exist")
        return given
    found = _first_existing(Path("build/contracts"), _CHECKOUT / "build" / "contracts")
    if found is None:
        raise FatalError("no compiled contract artifacts: run `make compile` or set FABMESH_ARTIFACTS")
    return found


def load_abi(artifacts: Path, name: str) -> list[dict]:
    path = artifacts / f"{name}.json"
    try:
        abi = json.loads(path.read_text())["abi"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FatalError(f"cannot read the ABI of {name} from {path}: {exc}") from exc
    if not isinstance(abi, list):
        raise FatalError(f"{path}: `abi` is not a list")
    return abi


def parse_deployment(text: bytes | str, source: Path, artifacts: Path) -> Deployment:
    """Validates a deployments document; every problem is a one-line InputError naming the field."""
    data = strict_json_loads(text, str(source), MAX_DEPLOYMENT_FILE)
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a JSON object")
    chain_id, deploy_block = data.get("chainId"), data.get("deployBlock")
    if type(chain_id) is not int or not 0 < chain_id <= MAX_CHAIN_ID:
        raise InputError(f"{source}: chainId must be an integer in [1, 2**64 - 1]")
    if type(deploy_block) is not int or not 0 <= deploy_block <= MAX_BLOCK:
        raise InputError(f"{source}: deployBlock must be an integer in [0, 2**63 - 1]")
    entries = data.get("contracts")
    if not isinstance(entries, dict):
        raise InputError(f"{source}: contracts must be an object")
    contracts = {}
    for name in CONTRACT_NAMES:
        entry = entries.get(name)
        address = entry.get("address") if isinstance(entry, dict) else None
        if not isinstance(address, str) or not is_address(address):
            raise InputError(f"{source}: contracts.{name}.address is missing or not an address")
        contracts[name] = ContractInfo(name, to_checksum_address(address), load_abi(artifacts, name))
    return Deployment(chain_id, deploy_block, contracts, source)


def load_deployment(chain_id: int, deployments: Path | None, artifacts: Path | None) -> Deployment:
    path = deployment_file(chain_id, deployments)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise FatalError(f"cannot read deployment {path}: {exc.strerror}") from exc
    deployment = parse_deployment(text, path, artifacts_dir(artifacts))
    if deployment.chain_id != chain_id:
        raise FatalError(f"{path} is for chain {deployment.chain_id}, the RPC endpoint is chain {chain_id}")
    return deployment
