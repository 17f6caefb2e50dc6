"""v2 governance as deployed (contracts/v2/README.md, F10): OpenZeppelin AccessManager role ids and which role
may call each restricted function. One table for every deploy (pynode.deploy.deployer_v2, scripts/deploy_v2.py)
and for the code that schedules governance calls (pynode.chain.v2.manager).
"""

from __future__ import annotations

from typing import Final

# AccessManager's own: ADMIN_ROLE (0) administers every role, PUBLIC_ROLE (2^64 - 1) is everyone.
ADMIN_ROLE: Final = 0
PUBLIC_ROLE: Final = (1 << 64) - 1
GOVERNANCE: Final = 1
GUARDIAN: Final = 2
CERTIFIER: Final = 3
ROLE_LABELS: Final = {GOVERNANCE: "GOVERNANCE", GUARDIAN: "GUARDIAN", CERTIFIER: "CERTIFIER"}

#: least execution delay of every widening change on a live network (issue 14, F10)
GOVERNANCE_DELAY: Final = 2 * 86400

# Which role may call each restricted function, per deployed contract ("book" / "registry" / "panel"). The guardian
# only restricts (pause, de-list, suspend); what widens or reverses is governance's.
ROLE_FUNCTIONS: Final[dict[str, dict[int, tuple[str, ...]]]] = {
    "book": {
        GOVERNANCE: ("allowToken", "setFee", "setParameters", "unpause"),
        GUARDIAN: ("pause", "delistToken"),
    },
    "registry": {
        GOVERNANCE: ("reinstate",),
        GUARDIAN: ("suspend",),
        CERTIFIER: ("vet", "unvet", "certify", "revokeCertification", "accreditInspector", "revokeInspector"),
    },
    "panel": {GOVERNANCE: ("setPanel",)},
}

#: the contract each ROLE_FUNCTIONS key names
TARGETS: Final = {"book": "OrderBookV2", "registry": "PartnerRegistryV2", "panel": "PanelArbitrator"}
