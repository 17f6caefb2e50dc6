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

    def check(self, proposal: SafeProposal, chain_id: int) -> None:
        """Whether `proposal` can run now on chain `chain_id` (the caller's chain): this Safe's, the next nonce,
        signed by enough owners (an InputError says why not)."""
        if (proposal.safe, proposal.chain_id) != (self.address, chain_id):
            raise InputError(f"the proposal is for Safe {proposal.safe} on chain {proposal.chain_id}, not "
                             f"{self.address} on chain {chain_id}")
        nonce = self.nonce()
        if proposal.nonce != nonce:
            state = "was used already" if proposal.nonce < nonce else "is not the next one"
            raise InputError(f"the proposal's nonce {proposal.nonce} {state} (the Safe's nonce is {nonce})")
        proposal.check_signatures()
        owners = set(self.owners())
        strangers = sorted(set(proposal.signatures) - owners)
        if strangers:
            raise InputError(f"{', '.join(strangers)} signed but not an owner of the Safe")
        threshold = self.threshold()
        if len(proposal.signatures) < threshold:
            raise InputError(f"{len(proposal.signatures)} of the {threshold} owner signatures the Safe needs")

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
    return Safe(w3, ContractInfo("Safe", to_checksum_address(address), load_abi(None, "Safe")))
