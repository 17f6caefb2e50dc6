"""OpenZeppelin AccessManager, v2's governance (contracts/v2/README.md, F10): role views and the transactions that
grant roles, wire functions to roles and run a delayed call (schedule, wait out the delay, execute).

A holder whose role carries an execution delay cannot call a restricted function directly: it schedules
``RestrictedCall(target, data)`` through the manager, and after the delay anyone holding that role executes it
through the manager (`execute`). The operation id is keccak256(abi.encode(caller, target, data)).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from pynode.chain.calls import View
from pynode.chain.contracts import _Wrapper
from pynode.core.abi_types import encode
from pynode.core.address import keccak, to_checksum_address

if TYPE_CHECKING:
    from pynode.chain.tx import TxRequest


def function_selectors(abi: Iterable[Mapping[str, Any]], names: Iterable[str]) -> list[bytes]:
    """The 4-byte selectors of the functions `names` of `abi`, every overload of each; a name the ABI lacks is a
    ValueError (a table naming a function the contract does not have would leave it unrestricted)."""
    functions = [item for item in abi if item.get("type") == "function"]
    out = []
    for name in names:
        found = [View.of(item).selector for item in functions if item["name"] == name]
        if not found:
            raise ValueError(f"the ABI has no function {name!r}")
        out += found
    return out


def operation_id(caller: str, target: str, data: bytes) -> bytes:
    """AccessManager.hashOperation: keccak256(abi.encode(caller, target, data))."""
    return keccak(encode(["address", "address", "bytes"], [caller, target, data]))


@dataclass(frozen=True)
class RestrictedCall:
    """A call of a manager-restricted function: what `schedule` and `execute` take."""

    target: str
    data: bytes
    label: str

    @property
    def selector(self) -> bytes:
        return self.data[:4]

    def operation_id(self, caller: str) -> bytes:
        return operation_id(caller, self.target, self.data)


def restricted_call(contract: _Wrapper, function: str, *args: Any) -> RestrictedCall:
    """The call `contract.function(*args)` for the manager to schedule or execute (ABI-encoded as the wrapper's
    own request would be)."""
    request = contract.request(f"{contract.info.name}.{function}", function, *args)
    return RestrictedCall(contract.address, request.data, request.label)


class Membership(NamedTuple):
    is_member: bool
    execution_delay: int  # s; non-zero: restricted calls must be scheduled and wait this long


class Access(NamedTuple):
    since: int  # when the grant takes effect (0: not a member)
    current_delay: int
    pending_delay: int
    effect: int  # when pending_delay replaces current_delay (0: no change pending)


class AccessManager(_Wrapper):
    # views
    def membership(self, role: int, account: str, block: int | str = "latest") -> Membership:
        is_member, delay = self.call("hasRole", role, account, block=block)
        return Membership(bool(is_member), int(delay))

    def access(self, role: int, account: str) -> Access:
        return Access(*(int(v) for v in self.call("getAccess", role, account)))

    def can_call(self, caller: str, target: str, selector: bytes) -> Membership:
        """(immediate, delay): immediate, or after scheduling with `delay` (both false/0: never)."""
        immediate, delay = self.call("canCall", caller, target, selector)
        return Membership(bool(immediate), int(delay))

    def target_function_role(self, target: str, selector: bytes) -> int:
        return int(self.call("getTargetFunctionRole", target, selector))

    def role_grant_delay(self, role: int) -> int:
        return int(self.call("getRoleGrantDelay", role))

    def target_admin_delay(self, target: str) -> int:
        return int(self.call("getTargetAdminDelay", target))

    def schedule_of(self, op_id: bytes) -> int:
        """When the operation becomes executable (unix s); 0: not scheduled, executed, cancelled or expired."""
        return int(self.call("getSchedule", op_id))

    def ready_at(self, caller: str, call: RestrictedCall) -> int:
        return self.schedule_of(call.operation_id(caller))

    def nonce_of(self, op_id: bytes) -> int:
        return int(self.call("getNonce", op_id))

    def hash_operation(self, caller: str, target: str, data: bytes) -> bytes:
        """The manager's own operation id (operation_id computes the same without a call)."""
        return bytes(self.call("hashOperation", caller, target, data))

    def min_setback(self) -> int:
        return int(self.call("minSetback"))

    def expiration(self) -> int:
        """How long a scheduled operation stays executable once ready (s)."""
        return int(self.call("expiration"))

    # writes
    def schedule(self, call: RestrictedCall, when: int = 0) -> TxRequest:
        """Schedules `call` for `when` (0: as soon as the caller's delay allows)."""
        return self.request(f"schedule {call.label}", "schedule", call.target, call.data, when)

    def execute(self, call: RestrictedCall, value: int = 0) -> TxRequest:
        """Runs `call` through the manager: a scheduled call once ready, or one the caller may make at once."""
        return self.request(f"execute {call.label}", "execute", call.target, call.data, value=value)

    def cancel(self, caller: str, call: RestrictedCall) -> TxRequest:
        """Cancels `caller`'s scheduled `call` (the caller itself, or a guardian/admin of the target's role)."""
        return self.request(f"cancel {call.label}", "cancel", caller, call.target, call.data)

    def grant(self, role: int, account: str, execution_delay: int = 0) -> TxRequest:
        return self.request(f"grant role {role} to {account} (delay {execution_delay} s)", "grantRole", role,
                            account, execution_delay)

    def revoke(self, role: int, account: str) -> TxRequest:
        return self.request(f"revoke role {role} from {account}", "revokeRole", role, account)

    def renounce(self, role: int, account: str) -> TxRequest:
        return self.request(f"renounce role {role}", "renounceRole", role, account)

    def set_target_function_role(self, target: str, selectors: Sequence[bytes], role: int,
                                 label: str = "") -> TxRequest:
        return self.request(label or f"restrict {len(selectors)} functions of {target} to role {role}",
                            "setTargetFunctionRole", to_checksum_address(target), list(selectors), role)

    def label_role(self, role: int, label: str) -> TxRequest:
        return self.request(f"label role {role} {label}", "labelRole", role, label)

    def set_grant_delay(self, role: int, delay: int) -> TxRequest:
        return self.request(f"grant delay of role {role}: {delay} s", "setGrantDelay", role, delay)

    def set_target_admin_delay(self, target: str, delay: int) -> TxRequest:
        return self.request(f"admin delay of {target}: {delay} s", "setTargetAdminDelay", target, delay)
