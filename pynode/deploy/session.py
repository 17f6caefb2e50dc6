"""What every deploy shares: one account's transactions sent in order (simulated, EIP-1559, the last one
confirmed), contract creations with their constructor arguments, and the result a deployment record is written from.

The deployers (pynode.deploy.deployer for v1, pynode.deploy.deployer_v2) subclass DeploySession.
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

from pynode.chain.orders import create_address
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import SentTx, TxRequest, TxSender
from pynode.core.errors import FabmeshError, FatalError, InputError
from pynode.deploy.compiler import Compiled


def checked_address(value: str, what: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise InputError(f"{what} {value!r} is not an address")
    return to_checksum_address(value)


def labelled(request: TxRequest, label: str) -> TxRequest:
    return TxRequest(request.to, request.data, label, request.value)


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
    protocol: int = 2  # 1: written beside v2's record (pynode.deploy.record.record_path)
    extra: dict = field(default_factory=dict)  # further top-level record fields (v2: governance)


def _constructor_args(compiled: Compiled, values: tuple) -> tuple[dict, bytes]:
    found = next((item for item in compiled.abi if item["type"] == "constructor"), None)
    if found is None:  # no constructor in the source (SafeProxyFactory): no arguments
        return {}, encode([], list(values))
    constructor = cast(ABIConstructor, found)
    names = [p["name"] for p in constructor["inputs"]]
    return dict(zip(names, values)), encode(get_abi_input_types(constructor), list(values))


class DeploySession:
    """Sends one deployer account's transactions, each once the one before it is mined."""

    def __init__(self, w3: Web3, account: LocalAccount, compiled: dict[str, Compiled], *, confirmations: int,
                 progress: Callable[[str], None] = lambda line: None, give_up_after_s: float = 600.0) -> None:
        self.w3 = w3
        self.compiled = compiled
        self.progress = progress
        decoder = RevertDecoder(*(c.abi for c in compiled.values()))
        self.confirmations = confirmations
        self._mined = TxSender(w3, account, decoder, confirmations=0, give_up_after_s=give_up_after_s)
        self._confirmed = TxSender(w3, account, decoder, confirmations=confirmations, give_up_after_s=give_up_after_s,
                                   on_progress=lambda p: progress(p.line()), nonces=self._mined.nonces)
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

    def _next_creates(self, count: int) -> list[str]:
        """The addresses of the deployer's next `count` contract creations (one contract is told another's
        address before it exists)."""
        nonce = self.w3.eth.get_transaction_count(to_checksum_address(self.deployer), "pending")
        return [create_address(self.deployer, nonce + i) for i in range(count)]

    @staticmethod
    def _unconfigured(exc: FabmeshError, contracts: dict[str, Deployed]) -> FatalError:
        """A configuration step failed after the contracts were created: say what is on chain."""
        where = ", ".join(f"{d.name} {d.address}" for d in contracts.values())
        return FatalError(f"{exc} ({where} are deployed but not fully configured; no record written)")

    def _create_at(self, name: str, args: tuple, expected: str, why: str) -> Deployed:
        """Creates `name`, which must land at `expected`: `why` says who counts on that address."""
        deployed = self._create(name, args)
        if deployed.address != expected:
            raise FatalError(f"{name} landed at {deployed.address}, not at {expected} ({why}): another transaction "
                             "from the deployer got in between; deploy again")
        return deployed

    def _send_all(self, steps: list[TxRequest]) -> None:
        """Sends `steps` in order; the last one waits for the confirmations (and so confirms all of them)."""
        for request in steps[:-1]:
            self._send(request)
        if steps:
            self._send(steps[-1], last=True)
