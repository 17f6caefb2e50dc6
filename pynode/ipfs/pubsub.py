"""libp2p pubsub through Kubo's HTTP RPC (``/api/v0/pubsub/pub`` and ``/sub``), behind one small interface.

Kubo has marked its HTTP pubsub API deprecated since 0.19 and still ships it, opt-in (``Pubsub.Enabled``).
Everything Kubo-specific about pubsub lives in this module; the quote channel sees only :class:`Pubsub`,
so another transport replaces one class. ipfshttpclient 0.7.0 predates the multibase encoding Kubo uses
for topics and message data (base64url with the ``u`` prefix), so the RPC is called directly.

Errors follow :mod:`pynode.ipfs.client`: a daemon that does not answer, or a subscription cut when it
stops, is :class:`IpfsUnavailable` (transient: resubscribe later); a request Kubo refuses (pubsub not
enabled, a bad topic) is :class:`IpfsRequestRejected`.

Kubo runs libp2p's seqno validator on local publishes too: of two publishes racing from one daemon, the one
whose seqno is committed second is dropped and answered ``validation ignored`` (HTTP 500), though nothing is
wrong with it, and receivers drop an older seqno arriving after a newer one the same way. So one process
publishes to one Kubo one message at a time (a lock per API URL); a publish that still loses the race (another
process on the same Kubo) is published again with a fresh seqno a few times, then called
:class:`IpfsUnavailable`: transient, never a refusal that fails a job.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import http.client
import re
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import requests

from pynode.core.errors import InputError, IpfsUnavailable
from pynode.core.strict_json import brief, strict_json_loads
from pynode.ipfs.client import IpfsRequestRejected

_BASE64URL = re.compile(r"^u[A-Za-z0-9_-]*$")
#: a line of the sub stream: a message (libp2p caps one at 1 MiB, the quote documents are KiB) and its fields
MAX_LINE = 2 << 20
#: Kubo's answer to a publish its seqno validator dropped (go-libp2p-pubsub's ValidationIgnore)
SEQNO_RACE = "validation ignored"
PUBLISH_ATTEMPTS = 5
_PUBLISH_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)  # per Kubo API URL


class PubsubMessage:
    """One message as Kubo delivered it: the sending peer (libp2p id), the bytes, its sequence number."""

    __slots__ = ("data", "sender", "seqno")

    def __init__(self, sender: str, data: bytes, seqno: bytes) -> None:
        self.sender, self.data, self.seqno = sender, data, seqno


class Subscription(Protocol):
    def __iter__(self) -> Iterator[PubsubMessage]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Subscription: ...
    def __exit__(self, *exc: object) -> None: ...


class Pubsub(Protocol):
    """What the quote channel needs from a transport: publish bytes on a topic, subscribe to one."""

    def publish(self, topic: str, data: bytes) -> None: ...
    def subscribe(self, topic: str) -> Subscription: ...


def multibase_encode(data: bytes) -> str:
    """Base64url without padding, prefixed ``u``: how Kubo's RPC takes topics and returns data."""
    return "u" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def multibase_decode(text: object) -> bytes:
    """The bytes of a ``u``-prefixed base64url string (the one base Kubo writes); InputError otherwise."""
    if not isinstance(text, str) or not _BASE64URL.match(text) or len(text) % 4 == 2:
        raise InputError(f"pubsub message: {brief(text)} is not multibase base64url")
    body = text[1:]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except binascii.Error:
        raise InputError(f"pubsub message: {brief(text)} is not multibase base64url") from None


def parse_message(line: bytes) -> PubsubMessage:
    """One line of Kubo's sub stream: ``{"from": peer, "data": "u…", "seqno": "u…", "topicIDs": ["u…"]}``."""
    fields = strict_json_loads(line, "pubsub message", MAX_LINE)
    if not isinstance(fields, dict) or not isinstance(fields.get("from"), str):
        raise InputError("pubsub message: not an object with a sender")
    return PubsubMessage(fields["from"], multibase_decode(fields.get("data")), multibase_decode(fields.get("seqno")))


def multipart_file(data: bytes) -> tuple[bytes, str]:
    """A one-file ``multipart/form-data`` body, as Kubo's RPC takes a publish's data, and its content type."""
    boundary = secrets.token_hex(16)
    while boundary.encode() in data:  # never, in practice: a boundary must not occur in the part
        boundary = secrets.token_hex(16)
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="data"\r\n' \
           'Content-Type: application/octet-stream\r\n\r\n'
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def refusal(command: str, status: int, body: bytes) -> IpfsUnavailable | IpfsRequestRejected:
    """What a non-200 answer of ``/api/v0/pubsub/<command>`` means: a publish Kubo's seqno validator dropped
    (published again), else a refusal with Kubo's message."""
    try:
        message = strict_json_loads(body, "Kubo's answer", 64 << 10).get("Message")
        reason = brief(message, 120)
    except (InputError, AttributeError):
        message, reason = None, f"HTTP {status}"
    if command == "pub" and message == SEQNO_RACE:
        return _SeqnoRace(f"IPFS pubsub pub dropped by Kubo's seqno validator ({SEQNO_RACE})")
    return IpfsRequestRejected(f"IPFS pubsub {command} refused: {reason}")


class KuboSubscription:
    """One open ``/api/v0/pubsub/sub`` stream; iterating yields its messages until Kubo cuts it.

    :meth:`close` may be called from another thread: it shuts the socket down, which ends a blocked read.
    """

    def __init__(self, api: str, response: requests.Response) -> None:
        self.api = api
        self._response = response
        self.closed = False

    def __iter__(self) -> Iterator[PubsubMessage]:
        try:
            for line in self._response.iter_lines(chunk_size=None):  # as each chunk arrives, not 512 B at a time
                if line:
                    yield parse_message(line)
        except requests.RequestException as exc:
            if not self.closed:
                raise IpfsUnavailable(f"IPFS API at {self.api} cut the pubsub subscription") from exc
        if not self.closed:  # Kubo ends the stream when it shuts down
            raise IpfsUnavailable(f"IPFS API at {self.api} ended the pubsub subscription")

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(ValueError):  # urllib3: no socket left to shut down (the stream already ended)
            self._response.raw.shutdown()
        self._response.close()

    def __enter__(self) -> KuboSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _SeqnoRace(IpfsUnavailable):
    """A publish that lost Kubo's seqno race (see the module notes): published again, else transient."""


class KuboPubsub:
    """Kubo's pubsub RPC at ``api`` (``http://host:port``). ``timeout`` bounds connecting and a publish;
    a subscription waits for messages as long as it stays open."""

    def __init__(self, api: str, *, timeout: float = 10.0) -> None:
        self.api = api.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()  # keep-alive: a publish is one request on an open connection
        url = urlsplit(self.api)
        # publishes go over the standard library's client on one kept connection (used under the publish lock):
        # through requests, a quoting daemon spent about a fifth of its CPU in them
        self._publisher = (http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection)(
            url.hostname or "", url.port, timeout=timeout)
        self._prefix = url.path  # an API behind a path (a proxy's) keeps it, as requests' URLs do

    def _post(self, command: str, topic: str, *, stream: bool = False, **kwargs: object) -> requests.Response:
        # a stream holds its connection for as long as it is open: one of its own, outside the shared session
        post = requests.post if stream else self._session.post
        try:
            response = post(f"{self.api}/api/v0/pubsub/{command}",
                                          params={"arg": multibase_encode(topic.encode())}, stream=stream, **kwargs)  # type: ignore[arg-type]  # requests' kwargs are untyped unions
        except requests.RequestException as exc:
            raise IpfsUnavailable(f"IPFS API at {self.api} did not answer (pubsub {command}): "
                                  f"{type(exc).__name__}") from exc
        if response.status_code != 200:
            body = response.content[:64 << 10]
            response.close()
            raise refusal(command, response.status_code, body)
        return response

    def _pub(self, topic: str, data: bytes) -> None:
        """One publish on the kept connection; one Kubo closed since (a restart, an idle timeout) is opened again
        once (a publish sent twice is harmless: receivers drop the copy)."""
        body, content_type = multipart_file(data)
        path = f"{self._prefix}/api/v0/pubsub/pub?{urlencode({'arg': multibase_encode(topic.encode())})}"
        for last in (self._publisher.sock is None, True):
            try:
                self._publisher.request("POST", path, body=body, headers={"Content-Type": content_type})
                response = self._publisher.getresponse()
                answer = response.read(64 << 10)
                if not response.isclosed():  # more than any answer of Kubo's: not read on, not reused
                    self._publisher.close()
                break
            except (OSError, http.client.HTTPException) as exc:
                self._publisher.close()  # the next request connects again
                # a closed kept connection is worth one new one; a Kubo that did not answer in time is not (the
                # publish lock would be held for a second timeout)
                if last or isinstance(exc, TimeoutError):
                    raise IpfsUnavailable(f"IPFS API at {self.api} did not answer (pubsub pub): "
                                          f"{type(exc).__name__}") from exc
        if response.status != 200:
            raise refusal("pub", response.status, answer)

    def publish(self, topic: str, data: bytes) -> None:
        with _PUBLISH_LOCKS[self.api]:
            for attempt in range(PUBLISH_ATTEMPTS):
                try:
                    self._pub(topic, data)
                    return
                except _SeqnoRace:
                    if attempt == PUBLISH_ATTEMPTS - 1:
                        raise

    def subscribe(self, topic: str) -> KuboSubscription:
        """Returns once Kubo has subscribed (it answers the request's headers after joining the topic)."""
        return KuboSubscription(self.api, self._post("sub", topic, stream=True, timeout=(self.timeout, None)))

    def peers(self, topic: str) -> list[str]:
        """The peers Kubo knows to be subscribed to ``topic``."""
        with self._post("peers", topic, timeout=self.timeout) as response:
            return list(response.json().get("Strings") or [])

    def close(self) -> None:
        self._session.close()
        with _PUBLISH_LOCKS[self.api]:
            self._publisher.close()
