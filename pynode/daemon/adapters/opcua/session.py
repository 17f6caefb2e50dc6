"""One OPC UA session with the machine (asyncua, async): connect, follow the job, load and start, read results.

Every failure leaves here typed, and this is the one place that looks at asyncua's exceptions (by type
and status code, never by text): a refused or lost connection, a timeout or a server restarting is
:class:`MachineUnavailable` (transient: reconnect); a wrong endpoint, namespace, model, password or
certificate is :class:`MachineConfigError` (fatal: one line, retrying cannot fix it); a machine that
says no to a program (busy, bad program) is :class:`MachineRefused`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from asyncua import Client, Node, ua
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua import uaerrors

from pynode.core.errors import FatalError, InputError, TransientError
from pynode.daemon.adapters.opcua import model
from pynode.daemon.adapters.opcua.settings import OpcuaSettings

T = TypeVar("T")

# asyncua logs tracebacks of lost connections; the adapter reports them as typed one-liners instead
_ASYNCUA_LOG = logging.getLogger("asyncua")
_ASYNCUA_LOG.addHandler(logging.NullHandler())
_ASYNCUA_LOG.propagate = False


class MachineUnavailable(TransientError):
    """The machine did not answer (refused, lost, timed out, restarting)."""


class MachineConfigError(FatalError):
    """The settings do not fit the machine (endpoint, security, credentials, namespace, node model)."""


class MachineRefused(InputError):
    """The machine rejected a request about one job (a program it will not load, a start in the wrong state)."""


_CONFIG_CODES = {getattr(ua.StatusCodes, name) for name in (
    "BadUserAccessDenied", "BadIdentityTokenInvalid", "BadIdentityTokenRejected", "BadUserSignatureInvalid",
    "BadSecurityPolicyRejected", "BadSecurityModeRejected", "BadSecurityChecksFailed", "BadCertificateInvalid",
    "BadCertificateUntrusted", "BadCertificateTimeInvalid", "BadCertificateUriInvalid", "BadNoValidCertificates",
    "BadCertificateHostNameInvalid", "BadTcpEndpointUrlInvalid", "BadNoMatch", "BadNodeIdUnknown",
    "BadBrowseNameInvalid", "BadMethodInvalid", "BadArgumentsMissing", "BadTooManyArguments", "BadTypeMismatch")}
_REFUSED_CODES = {getattr(ua.StatusCodes, name) for name in (
    "BadInvalidState", "BadInvalidArgument", "BadOutOfRange", "BadResourceUnavailable")}


def classify(exc: BaseException, where: str) -> Exception:
    """asyncua's (and the socket's) exception as ours, with a one-line message naming ``where``."""
    if isinstance(exc, uaerrors.UaStatusCodeError):
        name = ua.StatusCode(exc.code).name
        if exc.code in _CONFIG_CODES:
            return MachineConfigError(f"{where}: the machine answered {name}")
        if exc.code in _REFUSED_CODES:
            return MachineRefused(f"{where}: the machine answered {name}")
        return MachineUnavailable(f"{where}: the machine answered {name}")
    if isinstance(exc, TimeoutError):  # asyncio's is the same class since 3.11
        return MachineUnavailable(f"{where}: no answer in time")
    if isinstance(exc, ConnectionRefusedError):
        return MachineUnavailable(f"{where}: connection refused")
    if isinstance(exc, OSError | ua.UaError | asyncio.IncompleteReadError):
        return MachineUnavailable(f"{where}: connection lost ({type(exc).__name__})")
    raise exc  # anything else is a bug: let it surface as is


class MachineSession:
    """A connected client with the model's nodes resolved; ``values`` is the subscription's latest view."""

    def __init__(self, settings: OpcuaSettings) -> None:
        self.settings = settings
        self.client = Client(settings.endpoint, timeout=settings.request_timeout_s)
        self.values: dict[str, Any] = {}
        self.subscribed = False
        self.lost = False
        self.client.connection_lost_callback = self._on_lost  # asyncua's watchdog: a dead link is noticed
        self._nodes: dict[str, Node] = {}
        self._production: Node | None = None
        self._measurements: Node | None = None

    async def open(self) -> None:
        """Connects, logs in, finds the machine's nodes and (when asked) subscribes to the job's variables."""
        settings = self.settings
        await self._configure()
        await _typed(self.client.connect(), f"connecting to {settings.endpoint}")
        try:
            try:
                ns = await self.client.get_namespace_index(settings.namespace_uri)
            except ValueError:
                raise MachineConfigError(f"{settings.endpoint} has no namespace {settings.namespace_uri!r}") \
                    from None
            machine = await _typed(self.client.nodes.objects.get_child(f"{ns}:{settings.machine}"),
                                   f"finding machine {settings.machine!r} on {settings.endpoint}")
            where = f"the node model of {settings.machine!r}"
            for key, path in model.JOB_PATHS.items():
                self._nodes[key] = await _typed(machine.get_child([f"{ns}:{part}" for part in path]), where)
            self._production = await _typed(machine.get_child(f"{ns}:{model.PRODUCTION}"), where)
            self._measurements = await _typed(machine.get_child(
                [f"{ns}:{model.PRODUCTION}", f"{ns}:{model.ACTIVE_JOB}", f"{ns}:{model.MEASUREMENTS}"]), where)
            self._ns = ns
            if settings.subscribe:
                await self._subscribe()
        except BaseException:
            await self.close()
            raise

    async def _check_endpoint(self) -> None:
        """The machine must offer the security the settings ask for: otherwise it would only hang up on us."""
        settings = self.settings
        endpoints = await _typed(self.client.connect_and_get_server_endpoints(),
                                 f"asking {settings.endpoint} for its endpoints")
        policy = ua.SecurityPolicyType.NoSecurity if settings.security_policy == "None" else None
        uri = SecurityPolicyBasic256Sha256.URI if policy is None else "http://opcfoundation.org/UA/SecurityPolicy#None"
        mode = ua.MessageSecurityMode.None_ if policy is not None else getattr(ua.MessageSecurityMode,
                                                                                settings.security_mode)
        if not any(e.SecurityPolicyUri == uri and e.SecurityMode == mode for e in endpoints):
            offered = sorted({f"{e.SecurityPolicyUri.rpartition('#')[2]}/{e.SecurityMode.name.rstrip('_')}"
                              for e in endpoints})
            wanted = "None" if policy is not None else f"{settings.security_policy}/{settings.security_mode}"
            raise MachineConfigError(f"{settings.endpoint} offers no {wanted} endpoint (it offers "
                                     f"{', '.join(offered) or 'none'}): check security_policy and security_mode")

    async def _configure(self) -> None:
        """Login and security from the settings' files (checked before any socket), then the machine's offer."""
        settings = self.settings
        if settings.username is not None and settings.password_file is not None:
            self.client.set_user(settings.username)
            self.client.set_password(_read_secret(settings.password_file))
        for path in (settings.certificate_file, settings.private_key_file, settings.server_certificate_file):
            if path is not None and not path.is_file():
                raise MachineConfigError(f"production: certificate file {path} not found")
        await self._check_endpoint()
        if settings.security_policy == "Basic256Sha256":
            assert settings.certificate_file is not None and settings.private_key_file is not None
            try:
                await self.client.set_security(
                    SecurityPolicyBasic256Sha256, str(settings.certificate_file), str(settings.private_key_file),
                    server_certificate=None if settings.server_certificate_file is None
                    else str(settings.server_certificate_file),
                    mode=getattr(ua.MessageSecurityMode, settings.security_mode))
            except (ValueError, TypeError) as exc:  # not a certificate or key asyncua can read
                raise MachineConfigError(f"production: certificate or key unusable ({type(exc).__name__})") \
                    from None
            except Exception as exc:  # noqa: BLE001 - asyncua asks the machine here too: typed by classify
                raise classify(exc, f"securing the connection to {settings.endpoint}") from None

    async def _subscribe(self) -> None:
        keys = {node.nodeid: key for key, node in self._nodes.items() if key != "runs_completed"}

        session = self

        class Handler:
            def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
                session.values[keys[node.nodeid]] = val

            def status_change_notification(self, status: Any) -> None:
                session.subscribed = False  # the server ended it: read directly from now on

        try:
            subscription = await self.client.create_subscription(self.settings.publishing_interval_ms, Handler())
            await subscription.subscribe_data_change([self._nodes[key] for key in keys.values()])
        except uaerrors.UaStatusCodeError:
            return  # a server without subscriptions: poll() reads the values each time
        self.subscribed = True

    async def _on_lost(self, exc: Exception) -> None:
        self.lost, self.subscribed = True, False

    async def snapshot(self, *, fresh: bool = False) -> model.Snapshot:
        """The job and alarm as the subscription last saw them, or read now (``fresh``, or no subscription)."""
        if self.lost:  # the cached view is stale from here on
            raise MachineUnavailable(f"{self.settings.endpoint}: connection lost")
        wanted = list(model.JOB_PATHS)
        if fresh or not self.subscribed or any(key not in self.values for key in wanted if key != "runs_completed"):
            nodes = [self._nodes[key] for key in wanted]
            values = await _typed(self.client.read_values(nodes), "reading the job's state")
            return model.Snapshot.from_values(dict(zip(wanted, values, strict=True)))
        return model.Snapshot.from_values(self.values)

    async def load(self, job: str, name: str, program: bytes, planned: int) -> None:
        assert self._production is not None
        await _typed(self._production.call_method(
            f"{self._ns}:{model.LOAD_PROGRAM}", ua.Variant(job, ua.VariantType.String),
            ua.Variant(name, ua.VariantType.String), ua.Variant(program, ua.VariantType.ByteString),
            ua.Variant(planned, ua.VariantType.UInt32)), f"loading program {name!r} as job {job}")

    async def start(self, job: str) -> None:
        assert self._production is not None
        await _typed(self._production.call_method(f"{self._ns}:{model.START}", ua.Variant(job, ua.VariantType.String)),
                     f"starting job {job}")

    async def measurements(self) -> list[model.Measurement]:
        """Every variable in the Measurements folder, with its tolerance and unit properties when it has them."""
        assert self._measurements is not None
        where = "reading the measurements"
        found = []
        for variable in await _typed(self._measurements.get_children(), where):
            name = str((await _typed(variable.read_browse_name(), where)).Name)
            value = await _typed(variable.read_value(), where)
            properties = {}
            for prop in await _typed(variable.get_properties(), where):
                prop_name = str((await _typed(prop.read_browse_name(), where)).Name)
                if prop_name in model.MEASUREMENT_PROPERTIES:
                    properties[prop_name] = await _typed(prop.read_value(), where)
            found.append(model.Measurement(name=name, value=value, properties=properties))
        return found

    async def close(self) -> None:
        """Ends the session; a connection already gone is closed quietly."""
        self.subscribed = False
        with contextlib.suppress(Exception):  # the peer may be gone: nothing to tell it
            await asyncio.wait_for(self.client.disconnect(), self.settings.request_timeout_s)
        with contextlib.suppress(Exception):
            self.client.disconnect_socket()


async def _typed(awaitable: Awaitable[T], where: str) -> T:
    try:
        return await awaitable
    except (MachineUnavailable, MachineConfigError, MachineRefused):
        raise
    except Exception as exc:  # noqa: BLE001 - classify sorts by type and re-raises what it does not know
        raise classify(exc, where) from None


def _read_secret(path: Any) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().rstrip("\r\n")
    except OSError as exc:
        raise MachineConfigError(f"production: cannot read password_file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise MachineConfigError(f"production: password_file {path} is not UTF-8 text") from None
