"""`fabmesh governance`: v2's delayed changes through OpenZeppelin's AccessManager (contracts/v2/README.md,
"Privileged functions"): schedule a restricted call, wait out the caller's execution delay, execute it; cancel
it; and see the roles, delays and scheduled operations.

A call is named as TARGET FUNCTION [ARGS]...: TARGET is book, registry, panel or manager, FUNCTION one of its
restricted functions, each ARG read by the function's ABI type (an address, a number or a duration like 2d,
true/false, 0x-hex bytes, a comma-separated list for an array).

Where the roles are held by a Safe (every real deployment), `--via-safe` turns schedule, execute and cancel into a
proposal file its owners sign and relay with `governance safe` (pynode/cli/v2/safe.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pynode.cli.context import CliContext, pass_ctx
from pynode.cli.parsing import ADDRESS, TIME, parse_address, parse_duration
from pynode.cli.v2.safe import governing_safe, propose, safe_group, via_safe_options
from pynode.core.errors import InputError
from pynode.core.units import format_duration, format_time
from pynode.protocol.v2.governance import ROLE_FUNCTIONS, ROLE_LABELS

if TYPE_CHECKING:
    from pynode.chain.contracts import _Wrapper
    from pynode.chain.v2.client import ChainV2
    from pynode.chain.v2.manager import RestrictedCall

#: the manager's own functions its ADMIN calls through schedule/execute
MANAGER_FUNCTIONS = ("grantRole", "revokeRole", "labelRole", "setRoleAdmin", "setRoleGuardian", "setGrantDelay",
                     "setTargetAdminDelay", "setTargetClosed", "setTargetFunctionRole", "updateAuthority")
TARGET_NAMES = ("book", "registry", "panel", "manager")
_UINT = re.compile(r"^u?int[0-9]*$")
_BYTES = re.compile(r"^bytes([0-9]+)$")


def _contract(chain: ChainV2, target: str) -> _Wrapper:
    return {"book": chain.book, "registry": chain.registry, "manager": chain.manager}.get(target) or chain.panel


def functions_of(target: str) -> tuple[str, ...]:
    if target == "manager":
        return MANAGER_FUNCTIONS
    return tuple(name for names in ROLE_FUNCTIONS[target].values() for name in names)


def parse_arg(kind: str, text: str) -> Any:
    """One argument of an ABI type from the command line; click.BadParameter (exit 2) when it is not one."""
    if kind.endswith("[]"):
        return [parse_arg(kind[:-2], item) for item in text.split(",") if item.strip()]
    if kind == "address":
        return parse_address(text)
    if kind == "bool":
        if text.lower() not in ("true", "false", "1", "0"):
            raise click.BadParameter(f"{text!r} is not true or false")
        return text.lower() in ("true", "1")
    if _UINT.match(kind):
        if text.isdigit():
            return int(text)
        return parse_duration(text)  # a delay or window: 2d, 90m (its error names both forms)
    if kind == "string":
        return text
    size = _BYTES.match(kind)
    if kind == "bytes" or size:
        raw = text[2:] if text.startswith("0x") else ""
        want = int(size[1]) if size else None
        if not re.fullmatch(r"([0-9a-fA-F]{2})*", raw) or not text.startswith("0x") or \
                (want is not None and len(raw) != 2 * want):
            raise click.BadParameter(f"{text!r} is not 0x-hex" + (f" of {want} bytes" if want else ""))
        return bytes.fromhex(raw)
    raise click.BadParameter(f"arguments of type {kind} are not supported here")


def restricted(chain: ChainV2, target: str, function: str, args: tuple[str, ...]) -> RestrictedCall:
    """TARGET FUNCTION ARGS as the call the manager schedules and executes."""
    from pynode.chain.v2.manager import restricted_call

    if function not in functions_of(target):
        raise click.BadParameter(f"{target} has no restricted function {function!r}; its functions: "
                                 f"{', '.join(functions_of(target))}", param_hint="FUNCTION")
    contract = _contract(chain, target)
    kinds = contract._views[function].inputs
    if len(args) != len(kinds):
        raise click.BadParameter(f"{function} takes {len(kinds)} arguments ({', '.join(kinds) or 'none'}), "
                                 f"got {len(args)}", param_hint="ARGS")
    values = [parse_arg(kind, text) for kind, text in zip(kinds, args, strict=True)]
    return restricted_call(contract, function, *values)


def _delay(chain: ChainV2, caller: str, call: RestrictedCall) -> int:
    """The caller's execution delay for the call; InputError if it may not make it at all."""
    immediate, delay = chain.manager.can_call(caller, call.target, call.selector)
    if not immediate and delay == 0:
        role = chain.manager.target_function_role(call.target, call.selector)
        raise InputError(f"{caller} may not call {call.label}: it needs role {ROLE_LABELS.get(role, role)}")
    return delay


@click.group()
def governance() -> None:
    """(protocol 2) Schedule, execute, cancel and inspect delayed AccessManager operations."""


_call_arguments = [click.argument("target", type=click.Choice(TARGET_NAMES)), click.argument("function"),
                   click.argument("args", nargs=-1)]


def _with_call(command):
    for decorator in reversed(_call_arguments):
        command = decorator(command)
    return command


@governance.command()
@_with_call
@click.option("--at", "when", type=TIME, help="Not before this time [default: as soon as the delay allows]")
@via_safe_options
@pass_ctx
def schedule(ctx: CliContext, target: str, function: str, args: tuple[str, ...], when: int | None,
             via_safe: str | None, out: Path | None) -> None:
    """Schedule TARGET FUNCTION ARGS: it becomes executable after the caller's execution delay (the --account's,
    or with --via-safe the Safe's: a proposal file for its owners to sign)."""
    chain = ctx.v2
    call = restricted(chain, target, function, args)
    via = governing_safe(ctx, via_safe, out)
    caller = ctx.account.address if via is None else via.safe.address
    delay = _delay(chain, caller, call)
    if delay == 0:
        raise InputError(f"{caller} may call {call.label} at once: `fabmesh governance execute` runs it now")
    request = chain.manager.schedule(call, when or 0)
    op_id = call.operation_id(caller)
    data = {"operation_id": "0x" + op_id.hex(), "caller": caller, "target": call.target, "call": call.label,
            "data": "0x" + call.data.hex(), "delay": delay}
    if via is not None:
        return propose(ctx, via, request, data,
                       f"; once executed it waits {format_duration(delay)}")
    sent = ctx.send(request, chain)
    ready = chain.manager.schedule_of(op_id)
    ctx.emit({**data, "ready_at": ready, "tx": sent.tx_hash},
             f"scheduled {call.label} (operation 0x{op_id.hex()}): delay {format_duration(delay)}, "
             f"executable from {format_time(ready)}")


def check_ready(chain: ChainV2, what: str, by: str, ready: int, *, unscheduled: str, early: bool = False) -> str:
    """InputError unless the delayed call `what` by `by`, executable from `ready` (the manager's record, 0 when
    not scheduled), may run now: `unscheduled` ends the error when it is not scheduled; `early` lets it wait (a
    Safe proposal may be signed meanwhile) and returns the note of when it becomes executable ('' once it is)."""
    if ready == 0:
        raise InputError(f"{what} by {by} is not scheduled (or was executed, cancelled or expired){unscheduled}")
    now = chain.now()
    if now >= ready:
        return ""
    when = f"{format_time(ready)} (in {format_duration(ready - now)})"
    if not early:
        raise InputError(f"{what} becomes executable at {when}; nothing sent")
    return f"; executable from {when}"


@governance.command()
@_with_call
@via_safe_options
@pass_ctx
def execute(ctx: CliContext, target: str, function: str, args: tuple[str, ...], via_safe: str | None,
            out: Path | None) -> None:
    """Execute TARGET FUNCTION ARGS: a scheduled call once its delay has passed, or one without a delay (with
    --via-safe: the Safe's proposal to execute it, which may be signed before the delay is over)."""
    chain = ctx.v2
    call = restricted(chain, target, function, args)
    via = governing_safe(ctx, via_safe, out)
    caller = ctx.account.address if via is None else via.safe.address
    note = ""
    if _delay(chain, caller, call):
        note = check_ready(chain, call.label, caller, chain.manager.ready_at(caller, call),
                           unscheduled=": `fabmesh governance schedule` it first", early=via is not None)
    request = chain.manager.execute(call)
    if via is not None:
        return propose(ctx, via, request, {"call": call.label, "target": call.target}, note)
    sent = ctx.send(request, chain)
    ctx.emit({"call": call.label, "target": call.target, "tx": sent.tx_hash}, f"executed {call.label}")


@governance.command()
@_with_call
@click.option("--caller", type=ADDRESS, help="Who scheduled it [default: the --account, or the --via-safe Safe]")
@via_safe_options
@pass_ctx
def cancel(ctx: CliContext, target: str, function: str, args: tuple[str, ...], caller: str | None,
           via_safe: str | None, out: Path | None) -> None:
    """Cancel a scheduled TARGET FUNCTION ARGS (its scheduler, the admin or the role's guardian)."""
    chain = ctx.v2
    call = restricted(chain, target, function, args)
    via = governing_safe(ctx, via_safe, out)
    scheduler = caller or (ctx.account.address if via is None else via.safe.address)
    if chain.manager.ready_at(scheduler, call) == 0:
        raise InputError(f"{call.label} by {scheduler} is not scheduled; nothing to cancel")
    request = chain.manager.cancel(scheduler, call)
    if via is not None:
        return propose(ctx, via, request, {"call": call.label, "caller": scheduler})
    sent = ctx.send(request, chain)
    ctx.emit({"call": call.label, "caller": scheduler, "tx": sent.tx_hash}, f"cancelled {call.label}")


@governance.command()
@click.option("--caller", type=ADDRESS, help="Show this account's delay for each function")
@pass_ctx
def status(ctx: CliContext, caller: str | None) -> None:
    """The book's parameters, who may call each restricted function and after what delay, and every scheduled
    operation with when it becomes executable."""
    from pynode.cli.v2.operations import operations, parameters, render_status, role_table

    chain = ctx.v2
    data = {"manager": chain.manager.address, "expiration": chain.manager.expiration(),
            "parameters": parameters(chain), "functions": role_table(chain, caller),
            "operations": operations(chain)}
    ctx.emit(data, lambda console: render_status(console, data))


governance.add_command(safe_group)
