"""Deploys PartnerRegistry + OrderBook and hands them to their admin, with pynode's own sender.

The registry is told the order book's address before it exists (the deployer's
next CREATE address), so the two deploys must be the deployer's next two
transactions: nothing else may send from that account meanwhile. Every
transaction is simulated, then sent with EIP-1559 fees once the one before it is
mined; the last one waits for the requested confirmations, and as one account's
nonces are mined in order that confirms all of them. With a separate admin (a
Safe, a timelock) the deployer configures roles and tokens first, then grants
DEFAULT_ADMIN_ROLE to the admin and renounces every role it gave itself, and the
final state is read back.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynode.chain.contracts import OrderBook, PartnerRegistry
from pynode.chain.deployment import ContractInfo
from pynode.chain.tx import TxRequest
from pynode.core.errors import FabmeshError, FatalError, InputError
from pynode.deploy.session import Deployed, DeployResult, DeploySession, checked_address, labelled

MIN_BOND = 10**17  # 0.1 ETH
UNBONDING_DELAY = 7 * 86400
DISPUTE_TIMEOUT = 14 * 86400
DEFAULT_ADMIN_ROLE = b"\x00" * 32


@dataclass(frozen=True)
class DeployPlan:
    """What to deploy and who holds which role. `admin` None: the deployer stays admin."""

    admin: str | None = None
    governors: tuple[str, ...] = ()  # empty: the admin
    certifiers: tuple[str, ...] = ()
    inspectors: tuple[str, ...] = ()
    arbitrators: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    min_bond: int = MIN_BOND
    unbonding_delay: int = UNBONDING_DELAY
    dispute_timeout: int = DISPUTE_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("governors", "certifiers", "inspectors", "arbitrators", "tokens"):
            object.__setattr__(self, name, tuple(checked_address(a, name[:-1]) for a in getattr(self, name)))
        if self.admin is not None:
            object.__setattr__(self, "admin", checked_address(self.admin, "admin"))
        for name in ("min_bond", "unbonding_delay", "dispute_timeout"):
            if not 0 <= getattr(self, name) < 1 << 256:
                raise InputError(f"{name} must be an integer in [0, 2**256)")


class Deployer(DeploySession):
    def deploy(self, plan: DeployPlan) -> DeployResult:
        me = self.deployer
        admin = plan.admin or me
        registry_at, book_at = self._next_creates(2)
        registry = self._create_at("PartnerRegistry", (me, book_at, plan.min_bond, plan.unbonding_delay),
                                   registry_at, "the deployer's next CREATE")
        book = self._create_at("OrderBook", (me, registry.address, plan.dispute_timeout), book_at,
                               f"the address PartnerRegistry {registry.address} was told")
        contracts = {"PartnerRegistry": registry, "OrderBook": book}
        try:
            roles = self._configure(plan, admin, contracts)
        except FabmeshError as exc:
            raise self._unconfigured(exc, contracts) from exc
        params = {"minBond": plan.min_bond, "unbondingDelay": plan.unbonding_delay,
                  "disputeTimeout": plan.dispute_timeout}
        return DeployResult(self.w3.eth.chain_id, me, admin, contracts, roles, list(plan.tokens), params,
                            self.transactions, protocol=1)

    def _wrappers(self, contracts: dict[str, Deployed]) -> tuple[PartnerRegistry, OrderBook]:
        def info(name: str) -> ContractInfo:
            return ContractInfo(name, contracts[name].address, self.compiled[name].abi)

        return PartnerRegistry(self.w3, info("PartnerRegistry")), OrderBook(self.w3, info("OrderBook"))

    def _configure(self, plan: DeployPlan, admin: str, contracts: dict[str, Deployed]) -> dict[str, list[str]]:
        registry, book = self._wrappers(contracts)
        roles = {"governors": list(plan.governors or (admin,)), "certifiers": list(plan.certifiers),
                 "inspectors": list(plan.inspectors), "arbitrators": list(plan.arbitrators)}
        steps = self._steps(plan, admin, roles, registry, book)
        self._send_all(steps)
        self._check_roles(registry, book, admin, roles)
        return roles

    def _steps(self, plan: DeployPlan, admin: str, roles: dict[str, list[str]], registry: PartnerRegistry,
               book: OrderBook) -> list[TxRequest]:
        """The configuration transactions in order (at least the governors' grants)."""
        me = self.deployer
        steps = []
        grants: list[tuple[PartnerRegistry | OrderBook, str, list[str]]] = [
            (registry, "GOVERNANCE_ROLE", roles["governors"]), (book, "GOVERNANCE_ROLE", roles["governors"]),
            (registry, "CERTIFIER_ROLE", roles["certifiers"]), (book, "INSPECTOR_ROLE", roles["inspectors"]),
            (book, "ARBITRATOR_ROLE", roles["arbitrators"])]
        for contract, role, holders in grants:
            steps += [labelled(contract.grant_role(role, holder), f"grant {role} on {_name(contract)} to {holder}")
                      for holder in holders]
        # Allow-listing tokens and naming the fee recipient take GOVERNANCE_ROLE on the book, held only meanwhile.
        borrowed = (bool(plan.tokens) or admin != me) and me not in roles["governors"]
        if borrowed:
            steps.append(labelled(book.grant_role("GOVERNANCE_ROLE", me),
                                   "grant GOVERNANCE_ROLE on OrderBook to the deployer, meanwhile"))
        steps += [book.set_token_allowed(token, True) for token in plan.tokens]
        if admin != me:  # the constructor made the deployer the fee recipient (at fee 0)
            steps.append(book.request(f"fee recipient {admin}", "setFee", book.fee_bps(), admin))
        if borrowed:
            steps.append(book.request("renounce GOVERNANCE_ROLE on OrderBook", "renounceRole",
                                      book.role("GOVERNANCE_ROLE"), me))
        if admin != me:
            for contract in (registry, book):
                steps.append(contract.request(f"grant DEFAULT_ADMIN_ROLE on {_name(contract)} to {admin}",
                                              "grantRole", DEFAULT_ADMIN_ROLE, admin))
                steps.append(contract.request(f"renounce DEFAULT_ADMIN_ROLE on {_name(contract)}", "renounceRole",
                                              DEFAULT_ADMIN_ROLE, me))
        return steps

    def _check_roles(self, registry: PartnerRegistry, book: OrderBook, admin: str, roles: dict) -> None:
        """Reads back what was granted and renounced: the record says what the chain says."""
        me = self.deployer
        expected = [(c, "DEFAULT_ADMIN_ROLE", admin, True) for c in (registry, book)]
        expected += [(c, "GOVERNANCE_ROLE", g, True) for c in (registry, book) for g in roles["governors"]]
        if admin != me:
            expected += [(c, "DEFAULT_ADMIN_ROLE", me, False) for c in (registry, book)]
            if me not in roles["governors"]:
                expected += [(book, "GOVERNANCE_ROLE", me, False)]
        for contract, role, holder, held in expected:
            role_id = DEFAULT_ADMIN_ROLE if role == "DEFAULT_ADMIN_ROLE" else contract.role(role)
            if contract.call("hasRole", role_id, holder) != held:
                raise FatalError(f"{_name(contract)}: {holder} {'lacks' if held else 'still holds'} {role}")
        if admin != me and book.call("feeRecipient") != admin:
            raise FatalError(f"OrderBook: the fee recipient is not {admin}")


def _name(contract: PartnerRegistry | OrderBook) -> str:
    return contract.info.name
