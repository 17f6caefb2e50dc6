"""A Safe multisig (npm @safe-global/safe-smart-account 1.5) as protocol v2's governance admin: its owners, threshold
and nonce, its own safeTxHash of a proposal, the check that a proposal may run, and execTransaction.

The Safe holds the AccessManager's ADMIN and GOVERNANCE roles with the governance delay, so a governance change is
two Safe transactions: one calling manager.schedule, and after the delay one calling manager.execute.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pynode.chain.contracts import _Wrapper
from pynode.chain.deployment import ContractInfo, deployment_file, load_abi
from pynode.chain.v2.safe_tx import ZERO, SafeProposal
from pynode.core.address import is_address, to_checksum_address
from pynode.core.errors import InputError
from pynode.core.strict_json import strict_json_loads

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

    from pynode.chain.jsonrpc import RpcClient
    from pynode.chain.tx import TxRequest

MAX_RECORD_FILE = 1 << 20


class Safe(_Wrapper):
    # views
    def owners(self) -> list[str]:
        return [to_checksum_address(o) for o in self.call("getOwners")]

    def threshold(self) -> int:
        return int(self.call("getThreshold"))

    def nonce(self) -> int:
        return int(self.call("nonce"))

    def version(self) -> str:
        return str(self.call("VERSION"))

    def domain_separator(self) -> bytes:
        return bytes(self.call("domainSeparator"))

    def transaction_hash(self, proposal: SafeProposal) -> bytes:
        """The Safe's own safeTxHash of `proposal` (SafeProposal.hash computes the same without a call)."""
        m = proposal.message()
        return bytes(self.call("getTransactionHash", m["to"], m["value"], m["data"], m["operation"], m["safeTxGas"],
                               m["baseGas"], m["gasPrice"], m["gasToken"], m["refundReceiver"], m["nonce"]))

    def propose(self, chain_id: int, request: TxRequest, nonce: int | None = None) -> SafeProposal:
        """A proposal of the Safe sending `request`, as its next transaction unless `nonce` is given."""
        return SafeProposal.of_request(self.address, chain_id, request, self.nonce() if nonce is None else nonce)

    def check_chain(self, proposal: SafeProposal, chain_id: int) -> None:
        """InputError unless `proposal` is this Safe's on chain `chain_id` (the caller's chain)."""
        if (proposal.safe, proposal.chain_id) != (self.address, chain_id):
            raise InputError(f"the proposal is for Safe {proposal.safe} on chain {proposal.chain_id}, not "
                             f"{self.address} on chain {chain_id}")

    def check(self, proposal: SafeProposal, chain_id: int, *, to_execute: bool = True) -> list[str]:
        """Whether `proposal` is this Safe's on chain `chain_id` (the caller's chain), hashed as this Safe hashes
        it, with a nonce not used yet and signed only by owners; `to_execute`: also the next nonce and enough
        signatures to run now (an InputError says why not). Returns the owners it read, for a caller's own check."""
        self.check_chain(proposal, chain_id)
        nonce = self.nonce()
        if proposal.nonce < nonce or (to_execute and proposal.nonce != nonce):
            state = "was used already" if proposal.nonce < nonce else "is not the next one"
            raise InputError(f"the proposal's nonce {proposal.nonce} {state} (the Safe's nonce is {nonce})")
        if self.transaction_hash(proposal) != proposal.hash():
            raise InputError(f"Safe {self.address} hashes the proposal to another safeTxHash (not a Safe 1.5?)")
        proposal.check_signatures()
        owners = self.owners()
        strangers = sorted(set(proposal.signatures) - set(owners))
        if strangers:
            raise InputError(f"{', '.join(strangers)} signed but not an owner of the Safe")
        if to_execute:
            threshold = self.threshold()
            if len(proposal.signatures) < threshold:
                raise InputError(f"{len(proposal.signatures)} of the {threshold} owner signatures the Safe needs")
        return owners

    def add_signature(self, proposal: SafeProposal, owner: LocalAccount, chain_id: int) -> SafeProposal:
        """`proposal` (checked as `check(to_execute=False)` does) with `owner`'s signature added: one that is an
        owner of this Safe and has not signed it yet (InputError otherwise)."""
        owners = self.check(proposal, chain_id, to_execute=False)
        if owner.address in proposal.signatures:
            raise InputError(f"{owner.address} signed this proposal already")
        if owner.address not in owners:
            raise InputError(f"{owner.address} is not an owner of Safe {self.address}")
        return proposal.signed_by(owner)

    # writes
    def exec_transaction(self, proposal: SafeProposal) -> TxRequest:
        """Runs `proposal` with its signatures; any account may relay it (the signatures authorize it)."""
        label = f"Safe {self.address} nonce {proposal.nonce}: {proposal.label or 'transaction'}"
        return self.request(label, "execTransaction", proposal.to, proposal.value, proposal.data,
                            proposal.operation, 0, 0, 0, ZERO, ZERO, proposal.packed_signatures())


def load_safe(w3: Web3 | RpcClient, chain_id: int, deployments: Path | None) -> Safe:
    """The governance Safe named by the chain's v2 record (its ``safe`` entry, written by a deploy that created
    the Safe), with the packaged Safe ABI."""
    path = deployment_file(chain_id, deployments, protocol=2)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    record = strict_json_loads(text, str(path), MAX_RECORD_FILE)
    entry = record.get("safe") if isinstance(record, dict) else None
    if entry is None:
        raise InputError(f"{path} names no governance Safe (the v2 deploy handed the manager to no Safe it created)")
    address = entry.get("address") if isinstance(entry, dict) else None
    if not isinstance(address, str) or not is_address(address):
        raise InputError(f"{path}: safe.address is missing or not an address")
    return safe_at(w3, address)


def safe_at(w3: Web3 | RpcClient, address: str) -> Safe:
    """The Safe at `address`, with the packaged Safe ABI."""
    return Safe(w3, ContractInfo("Safe", to_checksum_address(address), load_abi(None, "Safe")))
