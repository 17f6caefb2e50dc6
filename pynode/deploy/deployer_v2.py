"""Deploys protocol v2 (contracts/v2): AccessManager, PartnerRegistryV2, OrderBookV2 and optionally a
PanelArbitrator, wires every restricted function to its role and grants the roles, with pynode's own sender.

As scripts/deploy_v2.py (the brownie deploy the contract tests use), from the same role table
(pynode.protocol.v2.governance): the manager is the deployer's next CREATE, the registry the one after it,
bound immutably to the book's precomputed address (the CREATE after that), so nothing else may send from the
deployer meanwhile. Governance holders get `governance_delay` as their execution delay (≥ 2 days unless the plan
is a dev plan); guardians and certifiers act at once. Tokens are listed while the deployer borrows GOVERNANCE
with no delay. With a separate admin (a Safe) the manager is handed over last: the admin gets ADMIN_ROLE with
the governance delay, every role's grant delay and every target's admin delay become that delay, and the
deployer renounces its admin. The final state is read back before the record is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynode.chain.contracts import _Wrapper
from pynode.chain.deployment import ContractInfo
from pynode.chain.tx import TxRequest
from pynode.chain.v2.manager import AccessManager, function_selectors
from pynode.core.errors import FabmeshError, FatalError, InputError
from pynode.deploy.deployer import MIN_BOND, UNBONDING_DELAY
from pynode.deploy.session import Deployed, DeployResult, DeploySession, checked_address, labelled
from pynode.protocol.v2.governance import (
    ADMIN_ROLE,
    CERTIFIER,
    GOVERNANCE,
    GOVERNANCE_DELAY,
    GUARDIAN,
    ROLE_FUNCTIONS,
    ROLE_LABELS,
    TARGETS,
)

#: where each v2 contract's source unit is (compiler.standard_input's `source`)
SOURCES = {
    "AccessManager": "node_modules/@openzeppelin/contracts/access/manager/AccessManager.sol",
    "PartnerRegistryV2": "contracts/v2/PartnerRegistryV2.sol",
    "OrderBookV2": "contracts/v2/OrderBookV2.sol",
    "PanelArbitrator": "contracts/v2/PanelArbitrator.sol",
}
PANEL_MAX_MEMBERS = 15  # PanelArbitrator.MAX_MEMBERS
UINT32, UINT96 = (1 << 32) - 1, (1 << 96) - 1


@dataclass(frozen=True)
class PanelPlan:
    """A PanelArbitrator for orders to name: k-of-n members (costs in wei, periods in s)."""

    members: tuple[str, ...]
    quorum: int
    arbitration_cost: int
    appeal_cost: int
    appeal_window: int = 2 * 86400
    voting_period: int = 5 * 86400

    def __post_init__(self) -> None:
        members = tuple(checked_address(a, "panel member") for a in self.members)
        object.__setattr__(self, "members", members)
        if not 0 < len(members) <= PANEL_MAX_MEMBERS or len(set(members)) != len(members):
            raise InputError(f"the panel needs 1 to {PANEL_MAX_MEMBERS} distinct members, got {len(members)}")
        if not 0 < self.quorum <= len(members):
            raise InputError(f"panel quorum must be in [1, {len(members)}], got {self.quorum}")
        _bounded(self, ("arbitration_cost", "appeal_cost"), 0, UINT96)
        _bounded(self, ("appeal_window", "voting_period"), 1, UINT32)


@dataclass(frozen=True)
class DeployPlanV2:
    """What to deploy and who holds which role.

    admin: the manager's admin after the deploy (a Safe); None: the deployer stays admin (no delay).
    governors: GOVERNANCE holders (empty: the admin), each with `governance_delay` as execution delay.
    fee_recipient: the book's fee recipient (None: the admin). dev: a local chain's plan, whose governance delay
    may be short enough for a demo to wait out (live plans: at least GOVERNANCE_DELAY).
    """

    admin: str | None = None
    governors: tuple[str, ...] = ()
    guardians: tuple[str, ...] = ()
    certifiers: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    fee_recipient: str | None = None
    panel: PanelPlan | None = None
    min_bond: int = MIN_BOND
    unbonding_delay: int = UNBONDING_DELAY
    governance_delay: int = GOVERNANCE_DELAY
    dev: bool = False

    def __post_init__(self) -> None:
        for name in ("governors", "guardians", "certifiers", "tokens"):
            object.__setattr__(self, name, tuple(checked_address(a, name[:-1]) for a in getattr(self, name)))
        for name in ("admin", "fee_recipient"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, checked_address(getattr(self, name), name.replace("_", " ")))
        _bounded(self, ("min_bond", "unbonding_delay"), 0, (1 << 256) - 1)
        _bounded(self, ("governance_delay",), 0, UINT32)
        if self.governance_delay < GOVERNANCE_DELAY and not self.dev:
            raise InputError(f"governance_delay {self.governance_delay} s is under {GOVERNANCE_DELAY} s "
                             "(only a dev plan on a local chain may be shorter)")


def _bounded(plan: object, names: tuple[str, ...], low: int, high: int) -> None:
    for name in names:
        value = getattr(plan, name)
        if type(value) is not int or not low <= value <= high:
            raise InputError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


class DeployerV2(DeploySession):
    def deploy(self, plan: DeployPlanV2) -> DeployResult:
        me = self.deployer
        admin = plan.admin or me
        manager_at, registry_at, book_at = self._next_creates(3)
        manager = self._create_at("AccessManager", (me,), manager_at, "the deployer's next CREATE")
        registry = self._create_at("PartnerRegistryV2", (manager.address, book_at, plan.min_bond,
                                                         plan.unbonding_delay), registry_at,
                                   "the CREATE after the manager's")
        book = self._create_at("OrderBookV2", (manager.address, registry.address, plan.fee_recipient or admin),
                               book_at, f"the address PartnerRegistryV2 {registry.address} was told")
        contracts = {"AccessManager": manager, "PartnerRegistryV2": registry, "OrderBookV2": book}
        if plan.panel is not None:
            p = plan.panel
            contracts["PanelArbitrator"] = self._create("PanelArbitrator", (
                manager.address, list(p.members), p.quorum, p.arbitration_cost, p.appeal_cost, p.appeal_window,
                p.voting_period))
        try:
            governance = self._configure(plan, admin, contracts)
        except FabmeshError as exc:
            raise self._unconfigured(exc, contracts) from exc
        roles = {label.lower(): [h["account"] for h in holders] for label, holders in governance["holders"].items()}
        params = {"minBond": plan.min_bond, "unbondingDelay": plan.unbonding_delay,
                  "governanceDelay": plan.governance_delay}
        extra = {"governance": governance}
        if plan.panel is not None:
            p = plan.panel
            extra["panel"] = {"members": list(p.members), "quorum": p.quorum, "arbitrationCost": p.arbitration_cost,
                              "appealCost": p.appeal_cost, "appealWindow": p.appeal_window,
                              "votingPeriod": p.voting_period}
        return DeployResult(self.w3.eth.chain_id, me, admin, contracts, roles, list(plan.tokens), params,
                            self.transactions, protocol=2, extra=extra)

    def _manager(self, contracts: dict[str, Deployed]) -> AccessManager:
        return AccessManager(self.w3, ContractInfo("AccessManager", contracts["AccessManager"].address,
                                                   self.compiled["AccessManager"].abi))

    def _holders(self, plan: DeployPlanV2, admin: str) -> dict[int, list[tuple[str, int]]]:
        """Role id -> (account, execution delay) as the deploy leaves them."""
        return {ADMIN_ROLE: [(admin, plan.governance_delay if admin != self.deployer else 0)],
                GOVERNANCE: [(g, plan.governance_delay) for g in plan.governors or (admin,)],
                GUARDIAN: [(g, 0) for g in plan.guardians], CERTIFIER: [(c, 0) for c in plan.certifiers]}

    def _functions(self, contracts: dict[str, Deployed]) -> list[tuple[str, int, tuple[str, ...]]]:
        """(contract name, role, function names) of every restricted function of the deployed contracts."""
        return [(TARGETS[key], role, names) for key, by_role in ROLE_FUNCTIONS.items() if TARGETS[key] in contracts
                for role, names in by_role.items()]

    def _configure(self, plan: DeployPlanV2, admin: str, contracts: dict[str, Deployed]) -> dict:
        manager = self._manager(contracts)
        holders = self._holders(plan, admin)
        functions = self._functions(contracts)
        self._send_all(self._steps(plan, admin, manager, contracts, holders, functions))
        self._check(manager, contracts, holders, functions)
        return {
            "roleIds": {"ADMIN": ADMIN_ROLE, **{label: role for role, label in ROLE_LABELS.items()}},
            "holders": {_label(role): [{"account": a, "executionDelay": d} for a, d in accounts]
                        for role, accounts in holders.items()},
            "functions": {name: {f: _label(role) for n, role, names in functions if n == name for f in names}
                          for name, _, _ in functions},
            "grantDelay": plan.governance_delay if admin != self.deployer else 0,
        }

    def _steps(self, plan: DeployPlanV2, admin: str, manager: AccessManager, contracts: dict[str, Deployed],
               holders: dict[int, list[tuple[str, int]]],
               functions: list[tuple[str, int, tuple[str, ...]]]) -> list[TxRequest]:
        me = self.deployer
        steps = [manager.label_role(role, label) for role, label in ROLE_LABELS.items()]
        for name, role, names in functions:
            selectors = function_selectors(self.compiled[name].abi, names)
            steps.append(manager.set_target_function_role(
                contracts[name].address, selectors, role, f"restrict {', '.join(names)} of {name} to {_label(role)}"))
        if plan.tokens:  # allowToken is GOVERNANCE's: the deployer holds it with no delay meanwhile
            book = _Wrapper(self.w3, ContractInfo("OrderBookV2", contracts["OrderBookV2"].address,
                                                  self.compiled["OrderBookV2"].abi))
            steps.append(labelled(manager.grant(GOVERNANCE, me, 0), "grant GOVERNANCE to the deployer, meanwhile"))
            steps += [book.request(f"allow token {token}", "allowToken", token) for token in plan.tokens]
            if me not in plan.governors:
                steps.append(labelled(manager.renounce(GOVERNANCE, me), "renounce GOVERNANCE, meanwhile's"))
        for role in (GOVERNANCE, GUARDIAN, CERTIFIER):
            steps += [labelled(manager.grant(role, account, delay),
                               f"grant {_label(role)} to {account} (execution delay {delay} s)")
                      for account, delay in holders[role]]
        if admin != me:  # the hand-over, last: grants are instant until the grant delays are set
            delay = plan.governance_delay
            steps.append(labelled(manager.grant(ADMIN_ROLE, admin, delay), f"grant ADMIN to {admin} (delay {delay} s)"))
            steps += [manager.set_grant_delay(role, delay) for role in (ADMIN_ROLE, *ROLE_LABELS)]
            steps += [manager.set_target_admin_delay(d.address, delay) for n, d in contracts.items()
                      if n != "AccessManager"]
            steps.append(labelled(manager.renounce(ADMIN_ROLE, me), "renounce ADMIN (the deployer's)"))
        return steps

    def _check(self, manager: AccessManager, contracts: dict[str, Deployed],
               holders: dict[int, list[tuple[str, int]]], functions: list[tuple[str, int, tuple[str, ...]]]) -> None:
        """Reads back roles and function roles: the record says what the chain says."""
        me = self.deployer
        expected = {(role, account): (True, delay) for role, accounts in holders.items() for account, delay in accounts}
        for role in (ADMIN_ROLE, GOVERNANCE):
            expected.setdefault((role, me), (False, 0))
        for (role, account), want in expected.items():
            got = manager.membership(role, account)
            if (got.is_member, got.execution_delay if got.is_member else 0) != want:
                raise FatalError(f"AccessManager: {account} holds {_label(role)} as {tuple(got)}, expected {want}")
        for name, role, names in functions:
            for selector in function_selectors(self.compiled[name].abi, names):
                if manager.target_function_role(contracts[name].address, selector) != role:
                    raise FatalError(f"AccessManager: {name} selector 0x{selector.hex()} is not {_label(role)}'s")


def _label(role: int) -> str:
    return "ADMIN" if role == ADMIN_ROLE else ROLE_LABELS[role]
