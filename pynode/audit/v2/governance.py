"""The v2 auditor's governance checks (contracts/v2/README.md, F10): AccessManager role grants and their delays,
scheduled operations executed only after their delay (or cancelled), and every parameter change at the book,
registry and panel made through a delayed operation or by a role the manager lets call it at once.

Pure: :class:`GovernanceFacts` holds the logs and what the manager answered at each block (verify.py asks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pynode.audit.model import Check, hex_of, short, where
from pynode.chain.events.decoder import DecodedLog
from pynode.core.units import format_duration, format_time
from pynode.protocol.v2.governance import ROLE_LABELS

#: the events of a governed change, per contract (each is emitted by a restricted function)
PARAMETER_EVENTS = {"OrderBookV2": ("FeeSet", "ParametersSet", "TokenAllowed", "TokenDelisted", "PausedSet"),
                    "PartnerRegistryV2": ("PartnerSuspended", "PartnerReinstated"),
                    "PanelArbitrator": ("PanelSet",)}
#: GovernanceFacts.direct's delay of a change made by the contract's constructor (its initial value)
AT_DEPLOYMENT = -2
MANAGER_EVENTS = ("RoleGranted", "RoleRevoked", "RoleGrantDelayChanged", "OperationScheduled", "OperationExecuted",
                  "OperationCanceled", "TargetFunctionRoleUpdated", "TargetAdminDelayUpdated")


@dataclass
class GovernanceFacts:
    logs: list[DecodedLog]  # the manager's and the parameter events, in (block, log index) order
    times: dict[str, int]  # block hash -> timestamp
    #: per OperationScheduled (tx hash, log index): the caller's execution delay for that call at that block
    delays: dict[tuple[str, int], int] = field(default_factory=dict)
    #: per parameter change made without an operation (tx hash): the sender and its delay (0: may call at once,
    #: -1: may not, AT_DEPLOYMENT: the contract's creation)
    direct: dict[str, tuple[str, int]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # address -> contract name
    functions: dict[bytes, str] = field(default_factory=dict)  # selector -> function name, of the governed ABIs


def _role(role: int) -> str:
    return ROLE_LABELS.get(int(role), "ADMIN" if int(role) == 0 else str(role))


def check_grants(facts: GovernanceFacts) -> list[Check]:
    """Each grant takes effect no earlier than the role's grant delay after it."""
    checks, grant_delay = [], {}
    for log in facts.logs:
        args = log.args
        if log.event == "RoleGrantDelayChanged":
            grant_delay[int(args["roleId"])] = int(args["delay"])
        elif log.event == "RoleGranted":
            role, time = int(args["roleId"]), facts.times[log.block_hash]
            since, wait = int(args["since"]), grant_delay.get(int(args["roleId"]), 0)
            ok = not args["newMember"] or since >= time + wait
            checks.append(Check(None, "governance.grant", ok, f"{where(log)}: role {_role(role)} to {args['account']}, "
                                f"execution delay {format_duration(int(args['delay']))}, effective {format_time(since)}"
                                + ("" if ok else f", before the grant delay {format_duration(wait)} passed")))
    return checks


def check_operations(facts: GovernanceFacts) -> list[Check]:
    """Each scheduled operation: executed after its schedule, the schedule at least the caller's delay after
    scheduling; or cancelled; or still pending."""
    done: dict[tuple[bytes, int], DecodedLog] = {}
    for log in facts.logs:
        if log.event in ("OperationExecuted", "OperationCanceled"):
            done[(bytes(log.args["operationId"]), int(log.args["nonce"]))] = log
    checks = []
    for log in facts.logs:
        if log.event != "OperationScheduled":
            continue
        args, at = log.args, facts.times[log.block_hash]
        op, ready = bytes(args["operationId"]), int(args["schedule"])
        delay = facts.delays.get((log.tx_hash, log.log_index))
        target = facts.labels.get(str(args["target"]), str(args["target"]))
        selector = bytes(args["data"])[:4]
        what = f"operation {short(op)} ({target}.{facts.functions.get(selector, hex_of(selector))}) by {args['caller']}"
        if delay is None or ready - at < delay:
            checks.append(Check(None, "governance.operation", False, f"{where(log)}: {what} scheduled for "
                                f"{format_duration(max(ready - at, 0))} ahead, the caller's delay is "
                                + ("unknown" if delay is None else format_duration(delay))))
            continue
        end = done.get((op, int(args["nonce"])))
        if end is None:
            checks.append(Check(None, "governance.operation", True, f"{what} pending, executable from "
                                f"{format_time(ready)} (delay {format_duration(delay)})"))
        elif end.event == "OperationCanceled":
            checks.append(Check(None, "governance.operation", True, f"{what} cancelled {where(end)}"))
        else:
            ran = facts.times[end.block_hash]
            ok = ran >= ready
            checks.append(Check(None, "governance.operation", ok, f"{what} scheduled {format_time(at)}, executed "
                                f"{format_time(ran)} after waiting {format_duration(max(ran - at, 0))} (delay "
                                f"{format_duration(delay)})" + ("" if ok else ": executed before its delay")))
    return checks


def check_parameters(facts: GovernanceFacts) -> list[Check]:
    """Each parameter change: in the transaction of an executed operation, or sent directly by an account the
    manager lets call that function without delay."""
    executed = {log.tx_hash for log in facts.logs if log.event == "OperationExecuted"}
    events = {e for names in PARAMETER_EVENTS.values() for e in names}
    checks = []
    for log in facts.logs:
        if log.event not in events:
            continue
        values = ", ".join(f"{k} {v}" for k, v in log.args.items())
        what = f"{facts.labels.get(log.address, log.address)} {log.event}({values})"
        if log.tx_hash in executed:
            checks.append(Check(None, "governance.parameter", True, f"{what} at block {log.block_number}: through a "
                                "scheduled operation executed by the manager"))
            continue
        sender, delay = facts.direct.get(log.tx_hash, ("unknown", -1))
        if delay == AT_DEPLOYMENT:
            checks.append(Check(None, "governance.parameter", True, f"{what} at block {log.block_number}: the "
                                f"initial value, set by its constructor (deployed by {sender})"))
            continue
        ok = delay == 0
        checks.append(Check(None, "governance.parameter", ok, f"{what} at block {log.block_number}: sent by "
                            f"{sender} " + ("which may call it without delay" if ok else
                                            "outside a delayed operation, though its role needs one")))
    return checks


def audit_governance(facts: GovernanceFacts) -> list[Check]:
    return [*check_grants(facts), *check_operations(facts), *check_parameters(facts)]
