"""What `fabmesh governance status` reads: the book's current parameters, the role and delay of each restricted
function, and the manager's scheduled operations (OperationScheduled/Executed/Canceled) with their state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynode.core.units import format_duration, format_time
from pynode.protocol.v2.governance import ROLE_LABELS

if TYPE_CHECKING:
    from pynode.chain.v2.client import ChainV2

_EVENTS = ("OperationScheduled", "OperationExecuted", "OperationCanceled")


def parameters(chain: ChainV2) -> dict[str, Any]:
    book = chain.book
    return {"fee_bps": book.fee_bps(), "fee_recipient": book.fee_recipient(), "reject_window": book.reject_window(),
            "dispute_timeout": book.dispute_timeout(), "paused": book.paused()}


def role_table(chain: ChainV2, caller: str | None) -> list[dict[str, Any]]:
    """Each restricted function: its role, and (``caller`` given) that caller's execution delay (None: may not)."""
    from pynode.cli.v2.governance import TARGET_NAMES, _contract, functions_of

    rows = []
    for target in TARGET_NAMES:
        if target == "panel" and chain.panel_ is None:
            continue
        contract = _contract(chain, target)
        for function in functions_of(target):
            selector = contract._views[function].selector
            role = chain.manager.target_function_role(contract.address, selector)
            row: dict[str, Any] = {"target": target, "function": function, "role": ROLE_LABELS.get(role, str(role))}
            if caller is not None:
                immediate, delay = chain.manager.can_call(caller, contract.address, selector)
                row["caller_delay"] = delay if (immediate or delay) else None
            rows.append(row)
    return rows


def _function_name(chain: ChainV2, target: str, data: bytes) -> str:
    """The function a scheduled call's data selects, by the target's ABI (its selector when unknown)."""
    for contract in (chain.book, chain.registry, chain.manager, chain.panel_):
        if contract is not None and int(contract.address, 16) == int(target, 16):
            found = next((v.name for v in contract._views.values() if v.selector == data[:4]), None)
            if found:
                return f"{contract.info.name}.{found}"
    return f"{target}:0x{data[:4].hex()}"


def operations(chain: ChainV2) -> list[dict[str, Any]]:
    """Every operation scheduled since the deployment, with its state now: pending (until ready_at), ready,
    executed, cancelled or expired (the manager's expiration after ready_at)."""
    logs = chain.manager.logs(_EVENTS, from_block=chain.from_block)
    now, expiration = chain.now(), chain.manager.expiration()
    ended = {(bytes(log.args["operationId"]), int(log.args["nonce"])): log.event for log in logs
             if log.event != "OperationScheduled"}
    rows = []
    for log in logs:
        if log.event != "OperationScheduled":
            continue
        args = log.args
        key = (bytes(args["operationId"]), int(args["nonce"]))
        ready = int(args["schedule"])
        state = {"OperationExecuted": "executed", "OperationCanceled": "cancelled"}.get(ended.get(key, ""))
        if state is None:
            state = "pending" if now < ready else "ready" if now < ready + expiration else "expired"
        rows.append({"operation_id": "0x" + key[0].hex(), "nonce": key[1], "caller": args["caller"],
                     "target": args["target"], "call": _function_name(chain, args["target"], bytes(args["data"])),
                     "data": "0x" + bytes(args["data"]).hex(), "ready_at": ready, "state": state,
                     "executable_in": max(0, ready - now) if state == "pending" else 0})
    return rows


def render_status(console: Any, data: dict[str, Any]) -> None:
    from rich.table import Table  # only a human table: --json stays free of rich

    p = data["parameters"]
    console.print(f"manager {data['manager']}; a ready operation expires after {format_duration(data['expiration'])}\n"
                  f"fee {p['fee_bps']} bps to {p['fee_recipient']}, reject window {format_duration(p['reject_window'])}"
                  f", dispute timeout {format_duration(p['dispute_timeout'])}, "
                  f"{'PAUSED' if p['paused'] else 'not paused'}", highlight=False, markup=False)
    functions = Table("target", "function", "role", *(["your delay"] if any(
        "caller_delay" in r for r in data["functions"]) else []))
    for r in data["functions"]:
        extra = []
        if "caller_delay" in r:
            delay = r["caller_delay"]
            extra = ["may not" if delay is None else format_duration(delay) if delay else "none"]
        functions.add_row(r["target"], r["function"], r["role"], *extra)
    console.print(functions)
    ops = Table("operation", "call", "caller", "executable from (UTC)", "state", title="scheduled operations")
    for o in data["operations"]:
        state = o["state"] + (f" (in {format_duration(o['executable_in'])})" if o["state"] == "pending" else "")
        ops.add_row(o["operation_id"][:18] + "…", o["call"], o["caller"], format_time(o["ready_at"]), state)
    console.print(ops)
