"""Governance through the Safe that holds the AccessManager's ADMIN and GOVERNANCE roles (every real v2 deployment):
`fabmesh governance schedule|execute|cancel ... --via-safe [SAFE] --out FILE` writes the Safe's transaction to the
manager as a proposal file (fabmesh/safe-proposal, docs/protocol.md §8.3), signed by the --account when it is an
owner; `governance safe sign FILE` adds another owner's signature, `governance safe show FILE` says what it would
do and `governance safe execute FILE...` runs it once enough owners signed (any account relays it).

Every file is checked before anything is signed or sent: this chain, this Safe, its safeTxHash as the Safe computes
it, a nonce the Safe has not used, signatures only by owners (execute: the Safe's next nonce and its threshold).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.output import write_output
from pynode.cli.parsing import parse_address
from pynode.core.address import to_checksum_address
from pynode.core.errors import InputError
from pynode.core.units import format_duration, format_time

if TYPE_CHECKING:
    from pynode.chain.contracts import _Wrapper
    from pynode.chain.tx import TxRequest
    from pynode.chain.v2.client import ChainV2
    from pynode.chain.v2.safe import Safe
    from pynode.chain.v2.safe_tx import SafeProposal

_EVENTS = ("OperationScheduled", "OperationExecuted", "OperationCanceled")
_VERBS = ("schedule", "execute", "cancel")  # the manager's calls that carry a restricted call
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT = click.Path(dir_okay=False, path_type=Path)


def via_safe_options(command: Any) -> Any:
    """--via-safe [SAFE] and --out FILE, for the governance commands a Safe owner proposes."""
    command = click.option("--out", type=_OUT, help="(with --via-safe) Where to write the proposal")(command)
    return click.option("--via-safe", "via_safe", is_flag=False, flag_value="", default=None, metavar="[SAFE]",
                        help="Write a proposal for the Safe (default: the deployment record's) instead of sending; "
                             "put it after the ARGS")(command)


class ViaSafe(NamedTuple):
    """Where a governance command's proposal goes: the Safe that will send it, and the file."""

    safe: Safe
    out: Path


def governing_safe(ctx: CliContext, via_safe: str | None, out: Path | None) -> ViaSafe | None:
    """The Safe --via-safe names and the --out file (None without --via-safe); a usage error when --out is
    missing or given without --via-safe."""
    if via_safe is None:
        if out is not None:
            raise click.UsageError("--out is for a proposal: pass --via-safe too")
        return None
    if out is None:
        raise click.UsageError("--via-safe writes a proposal: pass --out FILE")
    if out.exists():
        raise InputError(f"{out} already exists")
    from pynode.chain.v2.safe import load_safe, safe_at

    chain = ctx.v2
    if via_safe == "":
        return ViaSafe(load_safe(chain.rpc, chain.chain_id, ctx.settings.deployments), out)
    try:
        return ViaSafe(safe_at(chain.rpc, parse_address(via_safe)), out)
    except click.BadParameter as exc:
        raise click.BadParameter(f"{exc.message} (--via-safe takes a Safe's address, or nothing: the record's "
                                 "Safe)", param_hint="--via-safe") from None


def _has_signer(ctx: CliContext) -> bool:
    return ctx.settings.keystore is not None or bool(ctx.settings.account)


def propose(ctx: CliContext, via: ViaSafe, request: TxRequest, data: dict[str, Any], note: str = "") -> None:
    """Writes `request` as the Safe's next transaction to the file, signed by the --account (which must be an
    owner) when one is given, unsigned otherwise."""
    chain, (safe, out) = ctx.v2, via
    proposal = safe.propose(chain.chain_id, request)
    if _has_signer(ctx):
        proposal = safe.add_signature(proposal, ctx.account, chain.chain_id)
    write_output(out, proposal.to_json())
    threshold = safe.threshold()
    ctx.emit({**data, **_summary(proposal, threshold), "proposal": str(out)},
             f"{request.label}: proposed to Safe {safe.address} as its nonce {proposal.nonce} in {out} "
             f"(safeTxHash 0x{proposal.hash().hex()}), {_progress(proposal, threshold, out)}{note}")


def _summary(proposal: SafeProposal, threshold: int) -> dict[str, Any]:
    return {"safe": proposal.safe, "chain_id": proposal.chain_id, "nonce": proposal.nonce,
            "safe_tx_hash": "0x" + proposal.hash().hex(), "signers": sorted(proposal.signatures),
            "threshold": threshold}


def _progress(proposal: SafeProposal, threshold: int, path: Path) -> str:
    count = len(proposal.signatures)
    if count >= threshold:
        return f"{count} of {threshold} owner signatures: `fabmesh governance safe execute {path}` sends it"
    return f"{count} of {threshold} owner signatures: another owner runs `fabmesh governance safe sign {path}`"


def _read(path: Path) -> SafeProposal:
    from pynode.chain.v2.safe_tx import parse_safe_proposal
    from pynode.cli.v2.common import read_document

    return read_document(path, parse_safe_proposal)


def _contracts(chain: ChainV2) -> list[_Wrapper]:
    return [c for c in (chain.manager, chain.book, chain.registry, chain.panel_) if c is not None]


def decode_call(chain: ChainV2, target: str, data: bytes) -> dict[str, Any]:
    """What `data` calls on `target`: the deployment's contract and function by its ABI with named arguments
    (bytes as 0x-hex), and for the manager's schedule/execute/cancel the restricted call inside as ``inner``;
    a target or selector the deployment does not know is shown raw."""
    from eth_abi import decode
    from eth_abi.exceptions import DecodingError

    from pynode.chain.calls import View

    for contract in _contracts(chain):
        if int(contract.address, 16) != int(target, 16):
            continue
        for item in contract.info.abi:
            if item.get("type") != "function" or View.of(item).selector != data[:4]:
                continue
            try:
                values = decode(list(View.of(item).inputs), data[4:])
            except DecodingError:
                break
            kinds = View.of(item).inputs
            args = {inp["name"] or f"arg{i}": _plain(kind, v)
                    for i, (inp, kind, v) in enumerate(zip(item["inputs"], kinds, values, strict=True))}
            call: dict[str, Any] = {"target": contract.address, "contract": contract.info.name,
                                    "function": item["name"], "args": args}
            if contract is chain.manager and item["name"] in _VERBS:
                call["inner"] = decode_call(chain, args["target"], bytes.fromhex(args["data"][2:]))
            return call
    return {"target": target, "contract": None, "function": None, "data": "0x" + data.hex()}


def _plain(kind: str, value: Any) -> Any:
    """An argument as JSON shows it: addresses EIP-55, bytes 0x-hex, arrays as lists."""
    if kind.endswith("]"):
        return [_plain(kind[:kind.rindex("[")], v) for v in value]
    if kind == "address":
        return to_checksum_address(value)
    return "0x" + value.hex() if isinstance(value, bytes) else value


def describe(call: dict[str, Any]) -> str:
    """One line: `schedule OrderBookV2.setFee(feeBps=100, recipient=0x…)`, or the raw call."""
    if call["function"] is None:
        return f"a call of {call['target']} with {call['data'][:74]}{'…' if len(call['data']) > 74 else ''}"
    if "inner" in call:
        args = call["args"]
        extra = {"schedule": f" not before {format_time(args['when'])}" if args.get("when") else "",
                 "cancel": f" scheduled by {args.get('caller')}"}.get(call["function"], "")
        return f"{call['function']} {describe(call['inner'])} through the AccessManager{extra}"
    shown = ", ".join(f"{k}={v}" for k, v in call["args"].items())
    return f"{call['contract']}.{call['function']}({shown})"


def _operation(chain: ChainV2, safe: Safe, call: dict[str, Any]) -> tuple[bytes, int] | None:
    """(operation id, when executable) of the Safe's scheduled restricted call a manager call names."""
    from pynode.chain.v2.manager import operation_id

    if "inner" not in call:
        return None
    args = call["args"]
    caller = args["caller"] if call["function"] == "cancel" else safe.address
    op_id = operation_id(caller, args["target"], bytes.fromhex(args["data"][2:]))
    return op_id, chain.manager.schedule_of(op_id)


def _delayed(chain: ChainV2, safe: Safe, args: dict[str, Any]) -> bool:
    """Whether the Safe must schedule the restricted call `args` names (not call it at once)."""
    immediate, _ = chain.manager.can_call(safe.address, args["target"], bytes.fromhex(args["data"][2:10]))
    return not immediate


@click.group("safe")
def safe_group() -> None:
    """Sign, inspect and execute the governance Safe's proposal files (`governance ... --via-safe`)."""


@safe_group.command()
@click.argument("file", type=_FILE)
@click.option("--out", type=_OUT, help="Write the signed copy here [default: FILE itself]")
@pass_ctx
def sign(ctx: CliContext, file: Path, out: Path | None) -> None:
    """Add the --account's owner signature to the proposal FILE (nothing is sent)."""
    from pynode.chain.v2.safe import safe_at

    chain = ctx.v2
    proposal = _read(file)
    safe = safe_at(chain.rpc, proposal.safe)
    safe.check_chain(proposal, chain.chain_id)  # before the password is asked
    signed = safe.add_signature(proposal, ctx.account, chain.chain_id)
    target = out or file
    write_output(target, signed.to_json(), overwrite=out is None)
    threshold = safe.threshold()
    ctx.emit({**_summary(signed, threshold), "proposal": str(target), "signer": ctx.account.address},
             f"{ctx.account.address} signed {target}: {_progress(signed, threshold, target)}")


def _merged(paths: tuple[Path, ...]) -> SafeProposal:
    """One proposal with the signatures of every file (owners may sign copies side by side)."""
    proposals = [_read(path) for path in paths]
    first = proposals[0]
    signatures = dict(first.signatures)
    for path, proposal in zip(paths[1:], proposals[1:]):
        if proposal.hash() != first.hash():
            raise InputError(f"{path.name} is another transaction than {paths[0].name} (safeTxHash "
                             f"0x{proposal.hash().hex()[:12]}…, not 0x{first.hash().hex()[:12]}…)")
        signatures |= proposal.signatures
    return replace(first, signatures=signatures)


@safe_group.command("execute")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@pass_ctx
def execute_proposal(ctx: CliContext, files: tuple[Path, ...]) -> None:
    """Send the Safe's execTransaction of the proposal in FILES (copies signed apart are merged) once enough
    owners signed; any --account relays it and pays the gas."""
    from pynode.chain.v2.safe import safe_at
    from pynode.cli.v2.governance import check_ready  # governance imports this module

    chain = ctx.v2
    proposal = _merged(files)
    safe = safe_at(chain.rpc, proposal.safe)
    safe.check(proposal, chain.chain_id)
    call = decode_call(chain, proposal.to, proposal.data)
    operation = _operation(chain, safe, call)
    if call["function"] == "execute" and operation is not None and _delayed(chain, safe, call["args"]):
        check_ready(chain, describe(call["inner"]), "the Safe", operation[1], unscheduled="; nothing sent")
    sent = ctx.send(safe.exec_transaction(replace(proposal, label=describe(call))), chain)
    events = [log for log in chain.manager.logs(_EVENTS, from_block=sent.block_number, to_block=sent.block_number)
              if log.tx_hash == sent.tx_hash]
    done = [{"event": log.event, "operation_id": "0x" + bytes(log.args["operationId"]).hex(),
             **({"ready_at": int(log.args["schedule"])} if log.event == "OperationScheduled" else {})}
            for log in events]
    ctx.emit({**_summary(proposal, safe.threshold()), "call": call, "tx": sent.tx_hash, "events": done},
             _outcome(chain, call, done))


def _outcome(chain: ChainV2, call: dict[str, Any], done: list[dict[str, Any]]) -> str:
    what = describe(call["inner"]) if "inner" in call else describe(call)
    lines = []
    for event in done:
        if event["event"] == "OperationScheduled":
            ready = event["ready_at"]
            lines.append(f"scheduled {what} (operation {event['operation_id']}): executable from "
                         f"{format_time(ready)} (in {format_duration(max(0, ready - chain.now()))})")
        else:
            lines.append(f"{'executed' if event['event'] == 'OperationExecuted' else 'cancelled'} {what}")
    return "\n".join(lines) or f"the Safe executed {what}"


@safe_group.command()
@click.argument("file", type=_FILE)
@pass_ctx
def show(ctx: CliContext, file: Path) -> None:
    """What the proposal FILE would do: the call decoded, signatures present and needed, whether its nonce is
    the Safe's next one, and the scheduled operation it names."""
    from pynode.chain.v2.safe import safe_at

    chain = ctx.v2
    proposal = _read(file)
    safe = safe_at(chain.rpc, proposal.safe)
    safe.check_chain(proposal, chain.chain_id)
    nonce, owners, threshold = safe.nonce(), safe.owners(), safe.threshold()
    state = "current" if proposal.nonce == nonce else "stale" if proposal.nonce < nonce else "queued"
    call = decode_call(chain, proposal.to, proposal.data)
    operation = _operation(chain, safe, call)
    data = {**_summary(proposal, threshold), "call": call, "nonce_state": state, "safe_nonce": nonce,
            "owners": owners, "strangers": sorted(set(proposal.signatures) - set(owners)),
            "operation": None if operation is None else {"operation_id": "0x" + operation[0].hex(),
                                                         "ready_at": operation[1]}}
    ctx.emit(data, _shown(chain, data, proposal))


def _shown(chain: ChainV2, data: dict[str, Any], proposal: SafeProposal) -> str:
    nonce = {"current": "the Safe's next", "stale": f"stale: the Safe is at nonce {data['safe_nonce']}, "
             "this one cannot run", "queued": f"queued: the Safe is at nonce {data['safe_nonce']}"}[data["nonce_state"]]
    signed = len(set(proposal.signatures) & set(data["owners"]))
    lines = [f"Safe {proposal.safe} on chain {proposal.chain_id}, nonce {proposal.nonce} ({nonce})",
             f"would {describe(data['call'])}",
             f"signatures: {signed} of {data['threshold']} needed"
             + (f" ({', '.join(data['signers'])})" if data["signers"] else ""),
             f"safeTxHash {data['safe_tx_hash']}"]
    if data["strangers"]:
        lines.append(f"signed by non-owners: {', '.join(data['strangers'])}")
    operation = data["operation"]
    if operation is not None and data["call"]["function"] != "schedule":
        ready = operation["ready_at"]
        lines.append("the operation is not scheduled" if ready == 0 else
                     f"the operation is executable from {format_time(ready)}"
                     + (f" (in {format_duration(ready - chain.now())})" if ready > chain.now() else " (now)"))
    return "\n".join(lines)
