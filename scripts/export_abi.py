"""Refreshes the ABIs shipped in the package (pynode/chain/abi/<Name>.json) from brownie's build.

    make abi   (after `make compile`; tests/pynode/chain/test_packaged_abi.py fails while they differ)

pynode reads these, so an installed wheel needs no Solidity toolchain and no build/ directory.
"""

import json
from pathlib import Path

from pynode.chain import v2
from pynode.chain.deployment import CONTRACT_NAMES, PACKAGED_ABI

CHECKOUT = Path(__file__).resolve().parents[1]


def abi_text(abi: list) -> str:
    return json.dumps(abi, indent=1, sort_keys=True) + "\n"


def main() -> None:
    for name in CONTRACT_NAMES + v2.CONTRACT_NAMES:
        abi = json.loads((CHECKOUT / "build" / "contracts" / f"{name}.json").read_text())["abi"]
        target = Path(str(PACKAGED_ABI / f"{name}.json"))
        target.write_text(abi_text(abi))
        print(f"wrote {target.relative_to(CHECKOUT)}")


if __name__ == "__main__":
    main()
