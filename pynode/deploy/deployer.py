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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import requests
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_typing import ABIConstructor
from eth_utils import is_address, to_checksum_address
from eth_utils.abi import get_abi_input_types
from web3 import Web3
from web3.exceptions import Web3RPCError

from pynode.chain.contracts import OrderBook, PartnerRegistry
from pynode.chain.deployment import ContractInfo
from pynode.chain.orders import create_address
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import SentTx, TxRequest, TxSender
from pynode.core.errors import FabmeshError, FatalError, InputError
from pynode.deploy.compiler import Compiled

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
            object.__setattr__(self, name, tuple(_address(a, name[:-1]) for a in getattr(self, name)))
        if self.admin is not None:
            object.__setattr__(self, "admin", _address(self.admin, "admin"))
        for name in ("min_bond", "unbonding_delay", "dispute_timeout"):
            if not 0 <= getattr(self, name) < 1 << 256:
                raise InputError(f"{name} must be an integer in [0, 2**256)")


def _address(value: str, what: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise InputError(f"{what} {value!r} is not an address")
    return to_checksum_address(value)


@dataclass(frozen=True)
class Deployed:
    name: str
    address: str
    tx_hash: str
    block: int
    constructor_args: dict  # by parameter name, as sent
    constructor_args_encoded: bytes  # ABI-encoded, appended to the init code (what explorers ask for)


@dataclass
class DeployResult:
    chain_id: int
    deployer: str
    admin: str
    contracts: dict[str, Deployed]
    roles: dict[str, list[str]]
    tokens: list[str]
    params: dict[str, int]
    transactions: list[dict] = field(default_factory=list)  # every tx sent, in order: label, hash, block


def _constructor_args(compiled: Compiled, values: tuple) -> tuple[dict, bytes]:
    constructor = cast(ABIConstructor, next(item for item in compiled.abi if item["type"] == "constructor"))
    names = [p["name"] for p in constructor["inputs"]]
    return dict(zip(names, values)), encode(get_abi_input_types(constructor), list(values))


class Deployer:
    def __init__(self, w3: Web3, account: LocalAccount, compiled: dict[str, Compiled], *, confirmations: int,
                 progress: Callable[[str], None] = lambda line: None, give_up_after_s: float = 600.0) -> None:
        self.w3 = w3
        self.compiled = compiled
        self.progress = progress
        decoder = RevertDecoder(*(c.abi for c in compiled.values()))
        self.confirmations = confirmations
        self._mined = TxSender(w3, account, decoder, confirmations=0, give_up_after_s=give_up_after_s)
        self._confirmed = TxSender(w3, account, decoder, confirmations=confirmations, give_up_after_s=give_up_after_s,
                                   on_progress=lambda p: progress(p.line()))
        self.transactions: list[dict] = []

    @property
    def deployer(self) -> str:
        return self._mined.address

    def _send(self, request: TxRequest, *, last: bool = False) -> SentTx:
        sender = self._confirmed if last else self._mined
        self.progress(f"{request.label}: sending" + (f", then waiting for {self.confirmations} confirmations"
                                                     if last and self.confirmations else ""))
        try:
            sent = sender.send(request)
        except Web3RPCError as exc:  # the node refused it (funds, fee cap, nonce): its own words say why
            error = (exc.rpc_response or {}).get("error") if isinstance(exc.rpc_response, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            raise FatalError(f"{request.label}: the node refused the transaction: {message or 'no reason given'}") \
                from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise FatalError(f"{request.label}: RPC endpoint unreachable ({type(exc).__name__})") from exc
        self.transactions.append({"label": request.label, "hash": sent.tx_hash, "block": sent.block_number})
        self.progress(f"{request.label}: mined in block {sent.block_number} ({sent.tx_hash})")
        return sent

    def _create(self, name: str, args: tuple) -> Deployed:
        compiled = self.compiled[name]
        named, encoded = _constructor_args(compiled, args)
        sent = self._send(TxRequest(None, compiled.bytecode + encoded, f"deploy {name}"))
        address = sent.receipt.get("contractAddress")
        if not address:
            raise FatalError(f"deploy {name}: the receipt of {sent.tx_hash} names no contract address")
        return Deployed(name, to_checksum_address(address), sent.tx_hash, sent.block_number, named, encoded)

    def deploy(self, plan: DeployPlan) -> DeployResult:
        me = self.deployer
        admin = plan.admin or me
        nonce = self.w3.eth.get_transaction_count(to_checksum_address(me), "pending")
        book_address = create_address(me, nonce + 1)
        registry = self._create("PartnerRegistry", (me, book_address, plan.min_bond, plan.unbonding_delay))
        if registry.address != create_address(me, nonce):
            raise FatalError(f"PartnerRegistry landed at {registry.address}, not at nonce {nonce}'s address: "
                             "another transaction from the deployer got in between; deploy again")
        book = self._create("OrderBook", (me, registry.address, plan.dispute_timeout))
        if book.address != book_address:
            raise FatalError(f"OrderBook landed at {book.address}, but PartnerRegistry {registry.address} expects "
                             f"{book_address}: deploy again")
        contracts = {"PartnerRegistry": registry, "OrderBook": book}
        try:
            roles = self._configure(plan, admin, contracts)
        except FabmeshError as exc:
            raise FatalError(f"{exc} (PartnerRegistry {registry.address} and OrderBook {book.address} are deployed "
                             "but not fully configured; no record written)") from exc
        params = {"minBond": plan.min_bond, "unbondingDelay": plan.unbonding_delay,
                  "disputeTimeout": plan.dispute_timeout}
        return DeployResult(self.w3.eth.chain_id, me, admin, contracts, roles, list(plan.tokens), params,
                            self.transactions)

    def _wrappers(self, contracts: dict[str, Deployed]) -> tuple[PartnerRegistry, OrderBook]:
        def info(name: str) -> ContractInfo:
            return ContractInfo(name, contracts[name].address, self.compiled[name].abi)

        return PartnerRegistry(self.w3, info("PartnerRegistry")), OrderBook(self.w3, info("OrderBook"))

    def _configure(self, plan: DeployPlan, admin: str, contracts: dict[str, Deployed]) -> dict[str, list[str]]:
        registry, book = self._wrappers(contracts)
        roles = {"governors": list(plan.governors or (admin,)), "certifiers": list(plan.certifiers),
                 "inspectors": list(plan.inspectors), "arbitrators": list(plan.arbitrators)}
        steps = self._steps(plan, admin, roles, registry, book)
        for request in steps[:-1]:
            self._send(request)
        self._send(steps[-1], last=True)
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
            steps += [_labelled(contract.grant_role(role, holder), f"grant {role} on {_name(contract)} to {holder}")
                      for holder in holders]
        # Allow-listing tokens and naming the fee recipient take GOVERNANCE_ROLE on the book, held only meanwhile.
        borrowed = (bool(plan.tokens) or admin != me) and me not in roles["governors"]
        if borrowed:
            steps.append(_labelled(book.grant_role("GOVERNANCE_ROLE", me),
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


def _labelled(request: TxRequest, label: str) -> TxRequest:
    return TxRequest(request.to, request.data, label, request.value)
