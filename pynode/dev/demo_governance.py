"""The demo's governance change: the book's fee set by the 2-of-3 Safe through the AccessManager's delay.

Every step is a `fabmesh` command run by an organization: a Safe owner writes the schedule proposal (`governance
schedule ... --via-safe --out FILE`, signed by them) and another owner at another organization signs the same file
(`governance safe sign`); the execute is proposed by two owners side by side, each writing and signing the same
transaction (`governance execute ... --via-safe`), and the relayer merges their files. The auditor relays
(`governance safe execute`), paying only the gas. The early execute is refused twice: by the command (nothing
sent), then, sent anyway through the library, by the chain itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pynode.chain.deployment import load_abi
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxReverted, TxSender
from pynode.chain.v2.safe import load_safe
from pynode.chain.v2.safe_tx import parse_safe_proposal
from pynode.dev.organizations import Command, CommandFailed, DemoFailed

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from pynode.dev.organizations import Organizations

NEW_FEE_BPS = 100  # 1 %
RELAYER = ("auditor", "auditor")  # (organization, account): any account relays a Safe transaction
#: (organization, owner account): who proposes the schedule and who countersigns it; who propose the execute
SCHEDULERS = (("buyer", "owner1"), ("auditor", "owner3"))
EXECUTORS = (("inspector", "owner2"), ("auditor", "owner3"))


@dataclass
class FeeChange:
    """What the change did, for the test and the summary."""
    fee_before: int
    fee_after: int
    ready_at: int
    early_refusal: str  # the command's, nothing sent
    chain_refusal: str  # the chain's, when the early execute is sent anyway
    executed_at: int


def _proposal(verb: str, recipient: str, path: Path, org: str, owner: str) -> Command:
    """`owner` at `org` writes (and signs) the Safe's proposal of `governance VERB book setFee ...` to `path`."""
    return Command(org, ("governance", verb, "book", "setFee", NEW_FEE_BPS, recipient, "--via-safe", "--out", path),
                   owner)


def change_fee(orgs: Organizations, relayer: LocalAccount) -> FeeChange:
    chain, anvil = orgs.chain, orgs.network.anvil
    safe = load_safe(chain.rpc, anvil.chain_id, orgs.out / "network" / "deployments")
    before = chain.book.fee_bps()
    orgs.console.print(f"book fee now {before / 100:g} %; the Safe {safe.address} ({safe.threshold()} of "
                       f"{len(safe.owners())} owners) proposes setFee({NEW_FEE_BPS}) = {NEW_FEE_BPS / 100:g} %",
                       highlight=False)
    schedule = orgs.out / "safe-schedule.json"
    (org, owner), (other_org, other) = SCHEDULERS
    orgs.fabmesh_all([_proposal("schedule", safe.address, schedule, org, owner)])
    orgs.fabmesh(other_org, "governance", "safe", "sign", schedule, account=other)
    scheduled = orgs.fabmesh(RELAYER[0], "governance", "safe", "execute", schedule, account=RELAYER[1])
    ready_at = int(scheduled["events"][0]["ready_at"])
    orgs.console.print(f"scheduled through the AccessManager: executable at chain time {ready_at} "
                       f"({ready_at - chain.now()} s from now)", highlight=False)
    copies = [orgs.out / f"safe-execute-{owner}.json" for _, owner in EXECUTORS]
    orgs.fabmesh_all([_proposal("execute", safe.address, path, org, owner)
                      for path, (org, owner) in zip(copies, EXECUTORS, strict=True)])
    try:
        orgs.fabmesh(RELAYER[0], "governance", "safe", "execute", *copies, account=RELAYER[1])
    except CommandFailed as exc:
        early = exc.error
    else:
        raise DemoFailed("the Safe executed the fee change before its delay")
    orgs.console.print(f"early execute refused by fabmesh: {early}", highlight=False)
    decoder = RevertDecoder(load_abi(None, "Safe"), *(info.abi for info in chain.deployment.contracts.values()))
    sender = TxSender(chain.w3, relayer, decoder, confirmations=chain.confirmations)
    try:  # what fabmesh refused to send, sent anyway: the manager refuses it too
        first, second = (parse_safe_proposal(path.read_bytes()) for path in copies)
        sender.send(safe.exec_transaction(replace(first, signatures=first.signatures | second.signatures)))
    except TxReverted as exc:
        refusal = str(exc)
    else:
        raise DemoFailed("the chain executed the fee change before its delay")
    orgs.console.print(f"and sent anyway, refused by the chain: {refusal}", highlight=False)
    if chain.book.fee_bps() != before:
        raise DemoFailed("the fee changed on a refused execute")
    wait = ready_at - chain.now() + 1
    orgs.console.print(f"[yellow]dev anvil: advancing the chain's clock {wait} s (evm_increaseTime + evm_mine) "
                       f"instead of waiting the delay out[/yellow]", highlight=False)
    anvil.rpc("evm_increaseTime", wait)
    anvil.rpc("evm_mine")
    executed = orgs.fabmesh(RELAYER[0], "governance", "safe", "execute", *copies, account=RELAYER[1])
    after = chain.book.fee_bps()
    orgs.console.print(f"the Safe executed setFee after the delay: book fee {before / 100:g} % -> {after / 100:g} %",
                       highlight=False)
    receipt = chain.w3.eth.get_transaction_receipt(executed["tx"])
    return FeeChange(before, after, ready_at, early, refusal,
                     chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
