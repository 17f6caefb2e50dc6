"""The demo's governance change: the book's fee set by the 2-of-3 Safe through the AccessManager's delay.

Each owner signs the proposal file (pynode.chain.v2.safe_tx.SafeProposal, EIP-712 under the Safe's domain) as its
own step, as `fabmesh governance safe sign FILE` does, and a relayer (the chain operator, who only pays the gas)
executes it (`governance safe execute FILE`). The early execute is sent for real and refused by the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from rich.console import Console

from pynode.chain.deployment import load_abi
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import SentTx, TxReverted, TxSender
from pynode.chain.v2.client import ChainV2
from pynode.chain.v2.manager import restricted_call
from pynode.chain.v2.safe import Safe, load_safe
from pynode.chain.v2.safe_tx import SafeProposal, parse_safe_proposal
from pynode.dev.anvil import Anvil
from pynode.dev.organizations import DemoFailed

NEW_FEE_BPS = 100  # 1 %


@dataclass
class FeeChange:
    """What the change did, for the test and the summary."""
    fee_before: int
    fee_after: int
    ready_at: int
    early_refusal: str
    executed_at: int


def _signed(safe: Safe, proposal: SafeProposal, owners: list[LocalAccount], path: Path,
            console: Console) -> SafeProposal:
    """Each owner reads the file, signs and writes it back, as separate people would."""
    path.write_bytes(proposal.to_json())
    for owner in owners:
        signed = safe.add_signature(parse_safe_proposal(path.read_bytes()), owner, proposal.chain_id)
        path.write_bytes(signed.to_json())
        console.print(f"[dim]    Safe owner {owner.address[:10]}… signs {path.name}[/dim]", highlight=False)
    return parse_safe_proposal(path.read_bytes())


def change_fee(chain: ChainV2, anvil: Anvil, deployments: Path, owners: list[LocalAccount], relayer: LocalAccount,
               out: Path, console: Console) -> FeeChange:
    safe = load_safe(chain.rpc, anvil.chain_id, deployments)
    decoder = RevertDecoder(load_abi(None, "Safe"), *(info.abi for info in chain.deployment.contracts.values()))
    sender = TxSender(chain.w3, relayer, decoder, confirmations=chain.confirmations)
    call = restricted_call(chain.book, "setFee", NEW_FEE_BPS, safe.address)
    before = chain.book.fee_bps()
    console.print(f"book fee now {before / 100:g} %; the Safe {safe.address} ({safe.threshold()} of "
                  f"{len(safe.owners())} owners) proposes setFee({NEW_FEE_BPS}) = {NEW_FEE_BPS / 100:g} %",
                  highlight=False)
    schedule = _signed(safe, safe.propose(anvil.chain_id, chain.manager.schedule(call)), [owners[0], owners[2]],
                       out / "safe-schedule.json", console)
    _execute(safe, sender, schedule, anvil.chain_id)
    ready_at = chain.manager.ready_at(safe.address, call)
    console.print(f"scheduled through the AccessManager: executable at chain time {ready_at} "
                  f"({ready_at - chain.now()} s from now)", highlight=False)
    execute = _signed(safe, safe.propose(anvil.chain_id, chain.manager.execute(call)), [owners[1], owners[2]],
                      out / "safe-execute.json", console)
    try:
        _execute(safe, sender, execute, anvil.chain_id)
    except TxReverted as exc:
        refusal = str(exc)
    else:
        raise DemoFailed("the Safe executed the fee change before its delay")
    console.print(f"early execute refused by the chain: {refusal}", highlight=False)
    if chain.book.fee_bps() != before:
        raise DemoFailed("the fee changed on a refused execute")
    wait = ready_at - chain.now() + 1
    console.print(f"[yellow]dev anvil: advancing the chain's clock {wait} s (evm_increaseTime + evm_mine) "
                  f"instead of waiting the delay out[/yellow]", highlight=False)
    anvil.rpc("evm_increaseTime", wait)
    anvil.rpc("evm_mine")
    sent = _execute(safe, sender, execute, anvil.chain_id)
    after = chain.book.fee_bps()
    console.print(f"the Safe executed setFee after the delay: book fee {before / 100:g} % -> {after / 100:g} %",
                  highlight=False)
    return FeeChange(before, after, ready_at, refusal, chain.w3.eth.get_block(sent.block_number)["timestamp"])


def _execute(safe: Safe, sender: TxSender, proposal: SafeProposal, chain_id: int) -> SentTx:
    safe.check(proposal, chain_id)  # this Safe, its next nonce, enough owners' signatures: before any gas is spent
    return sender.send(safe.exec_transaction(proposal))
