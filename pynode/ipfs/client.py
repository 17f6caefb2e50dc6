"""A typed wrapper around ipfshttpclient for the Kubo RPC API.

ipfshttpclient 0.7.0's `connect()` refuses Kubo versions newer than 0.8, so
the client is constructed directly, as its documentation allows. Every call
maps the library's exceptions onto pynode's: an unreachable or slow daemon is
transient (retry later), a refused request is bad input. Reads (designs of GiBs,
documents, Kubo's version) go through the standard library's HTTP client instead, with the same
classification: a read command's start-up goes without ipfshttpclient and
requests (a tenth of it, bench/cli_bench.py), imported for the rest only.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import warnings
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import SplitResult, urlencode, urlsplit

from pynode.core.backoff import retry
from pynode.core.errors import FabmeshError, InputError, IpfsUnavailable

if TYPE_CHECKING:
    import ipfshttpclient

# ipfshttpclient passes urllib3 a `strict` argument that it now ignores, with a warning.
warnings.filterwarnings("ignore", message="The 'strict' parameter", category=FutureWarning)

T = TypeVar("T")
# Multipart upload chunks. ipfshttpclient's 8 KiB default costs a Python round per 8 KiB; above about
# 100 KiB every chunk urllib3 copies to frame it is a fresh mmap'd buffer (a page fault per 4 KiB),
# while 64 KiB ones reuse warm heap memory.
STREAM_CHUNK = 64 << 10


class Reads(Protocol):
    """A binary stream ipfshttpclient can upload (a file, a pipe)."""

    def read(self, size: int, /) -> bytes: ...


class Sink(Protocol):
    """Where a download goes: chunks written, or a stream read straight into its buffers (a pipe)."""

    def write(self, data: bytes, /) -> object: ...

    def fill_from(self, readinto: Callable[[memoryview], int | None], /) -> object: ...


class IpfsRequestRejected(InputError):
    """Kubo answered with an error: bad CID, unknown content, wrong type."""


class DocumentTooLarge(InputError):
    """A document fetched by CID is larger than the caller allows."""


def api_multiaddr(api: str) -> str:
    """Accepts `http://host:port` or a multiaddr; returns the multiaddr ipfshttpclient wants."""
    if api.startswith("/"):
        return api if api.endswith(("/http", "/https")) else f"{api}/http"
    parts = urlsplit(api if "://" in api else f"http://{api}")
    if not parts.hostname or not parts.port:
        raise InputError(f"IPFS API address needs host and port: {api!r}")
    proto = "ip6" if ":" in parts.hostname else "ip4" if parts.hostname[0].isdigit() else "dns"
    return f"/{proto}/{parts.hostname}/tcp/{parts.port}/{parts.scheme or 'http'}"


def _kubo_message(body: bytes) -> str:
    """The message of a Kubo error reply (JSON with a ``Message``)."""
    try:
        message = json.loads(body).get("Message")
    except (ValueError, AttributeError):
        message = None
    return message if isinstance(message, str) else "no error message"


def _multiaddr_url(multiaddr: str) -> SplitResult:
    """The HTTP URL of a TCP multiaddr API (ipfshttpclient's own reading of it)."""
    from ipfshttpclient.http_common import multiaddr_to_url_data

    base_url, _, _, _ = multiaddr_to_url_data(multiaddr, "/api/v0")
    return urlsplit(base_url)


class _IteratorReader(io.RawIOBase):
    """Lets ipfshttpclient stream an iterator of chunks as if it were a file."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # RawIOBase takes any buffer; we get memoryviews
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class IpfsClient:
    """``retry_timeout_s``: how long a call retries an unavailable daemon (the CLI's bounded window;
    0 for the node, whose cycle retries). Retrying is safe: adds are content-addressed, reads idempotent."""

    def __init__(self, api: str, timeout: float = 120.0, *, retry_timeout_s: float = 0.0) -> None:
        self.api = api
        self.timeout = timeout
        self.retry_timeout_s = retry_timeout_s
        self._multiaddr = api_multiaddr(api)

    @cached_property
    def _client(self) -> ipfshttpclient.Client:
        import ipfshttpclient

        return ipfshttpclient.Client(self._multiaddr, chunk_size=STREAM_CHUNK, timeout=self.timeout)

    def _retrying(self, fn: Callable[[], T]) -> T:
        """``fn`` (a whole operation: a stream cannot be replayed half-read) while the window allows."""
        return retry(fn, timeout_s=self.retry_timeout_s, transient=lambda exc: isinstance(exc, IpfsUnavailable))

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        with self._mapped_errors(what):
            return fn()

    @contextlib.contextmanager
    def _mapped_errors(self, what: str) -> Iterator[None]:
        import ipfshttpclient.exceptions as ipfs_exc

        try:
            yield
        except (ipfs_exc.ConnectionError, ipfs_exc.TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, ipfs_exc.TimeoutError) else "connection refused" \
                if "refused" in str(exc).lower() else type(exc).__name__
            raise self._unavailable(what, reason) from exc
        except ipfs_exc.ErrorResponse as exc:
            raise IpfsRequestRejected(f"IPFS {what} refused: {exc}") from exc
        except ipfs_exc.Error as exc:
            raise FabmeshError(f"IPFS {what} failed: {exc}") from exc

    @contextlib.contextmanager
    def _mapped_http_errors(self, what: str) -> Iterator[None]:
        """The same classification for the standard library's HTTP client (``cat_into``)."""
        try:
            yield
        except TimeoutError as exc:
            raise self._unavailable(what, "timed out") from exc
        except ConnectionRefusedError as exc:
            raise self._unavailable(what, "connection refused") from exc
        except (OSError, http.client.HTTPException) as exc:  # reset, cut off mid-body: the daemon went away
            raise self._unavailable(what, type(exc).__name__) from exc

    def _unavailable(self, what: str, reason: str) -> IpfsUnavailable:
        return IpfsUnavailable(f"IPFS API at {self.api} did not answer ({what}): {reason}")

    def version(self) -> str:
        """Kubo's version, asked over the standard library's HTTP client (`fabmesh check` goes without
        ipfshttpclient and requests: a quarter of its start-up); through ipfshttpclient on a Unix socket API."""
        def ask() -> str:
            with self._api_response("version", {}, None) as response:
                if response is None:
                    return str(self._call("version", lambda: self._client.version()["Version"]))
                with self._mapped_http_errors("version"):
                    body = response.read(64 << 10)
            try:
                version = json.loads(body)["Version"]
            except (ValueError, TypeError, KeyError):
                version = None
            if not isinstance(version, str):
                raise FabmeshError(f"IPFS version failed: Kubo's answer names no version ({body[:60]!r})")
            return version

        return self._retrying(ask)

    def add_stream(self, chunks: Reads | Iterable[bytes], *, pin: bool = True, raw_leaves: bool = False,
                   only_hash: bool = False) -> str:
        """Adds a readable binary stream, or an iterable of chunks, as one UnixFS file and returns its CIDv1
        (``only_hash``: the CID it would have, nothing stored or announced).

        A dag-pb root even for one-block files, unless `raw_leaves` (Kubo's own
        `ipfs add --cid-version 1`: a one-block file is then a raw block). Only
        designs and quality reports may be raw: theirs is the codec the protocol
        records (see cid.py); every other document must be dag-pb.
        """
        reader = chunks if hasattr(chunks, "read") else io.BufferedReader(_IteratorReader(chunks),
                                                                          buffer_size=STREAM_CHUNK)
        added = self._call("add", lambda: self._client.add(reader, pin=pin and not only_hash, cid_version=1,
                                                           raw_leaves=raw_leaves, only_hash=only_hash))
        return added["Hash"]

    def add_bytes(self, data: bytes, *, pin: bool = True, raw_leaves: bool = False, only_hash: bool = False) -> str:
        return self._retrying(lambda: self.add_stream([data], pin=pin, raw_leaves=raw_leaves, only_hash=only_hash))

    def cat_stream(self, cid: str, timeout: float | None = None) -> Iterator[bytes]:
        """Yields the content of `cid` chunk by chunk; a stalled fetch raises IpfsUnavailable."""
        with self._mapped_errors("cat"):  # one block around the whole stream: a Kubo chunk is only 4 KiB
            yield from self._client.cat(cid, stream=True, timeout=timeout or self.timeout)

    def cat_into(self, cid: str, sink: Sink, timeout: float | None = None) -> None:
        """Streams the content of `cid` (a design: GiBs) into ``sink``; a stalled fetch raises IpfsUnavailable.

        ipfshttpclient hands a body over in Kubo's 4 KiB chunks, each through a stack of generators
        into a fresh bytes object, which costs about what decrypting it does; the standard library's
        client reads the same response straight into the sink's buffers.
        """
        with self._api_response("cat", {"arg": cid}, timeout) as response:
            if response is None:  # a Unix socket API: http.client speaks TCP only
                for chunk in self.cat_stream(cid, timeout):
                    sink.write(chunk)
                return
            with self._mapped_http_errors("cat"):
                sink.fill_from(response.readinto)

    def cat_bytes(self, cid: str, *, max_size: int, timeout: float | None = None) -> bytes:
        """The whole content of a small document, refusing anything over `max_size` bytes."""
        def read() -> bytes:
            with self._api_response("cat", {"arg": cid}, timeout) as response:
                if response is None:
                    out = bytearray()
                    for chunk in self.cat_stream(cid, timeout):
                        out += chunk
                        if len(out) > max_size:
                            break
                else:
                    with self._mapped_http_errors("cat"):
                        out = bytearray(response.read(max_size + 1))
            if len(out) > max_size:
                raise DocumentTooLarge(f"{cid} is larger than the {max_size} bytes allowed for this document")
            return bytes(out)

        return self._retrying(read)

    def cat_head(self, cid: str, length: int, timeout: float | None = None) -> bytes:
        """The first ``length`` bytes of ``cid`` (Kubo's cat offset/length: a design's header, of any size)."""
        with self._api_response("cat", {"arg": cid, "offset": "0", "length": str(length)}, timeout) as response:
            if response is None:
                return bytes(self._call("cat", lambda: self._client.cat(cid, offset=0, length=length,
                                                                        timeout=timeout or self.timeout)))
            with self._mapped_http_errors("cat"):
                return response.read(length)

    @contextlib.contextmanager
    def _api_response(self, command: str, params: dict[str, str],
                      timeout: float | None) -> Iterator[http.client.HTTPResponse | None]:
        """Kubo's answer to ``/api/v0/<command>`` (200 OK, else IpfsRequestRejected with Kubo's message), read by
        the standard library's HTTP client; None for a Unix socket API (ipfshttpclient's business)."""
        if self._multiaddr.startswith("/unix/"):
            yield None
            return
        url = urlsplit(self.api if "://" in self.api else f"http://{self.api}") if not self.api.startswith("/") \
            else _multiaddr_url(self._multiaddr)
        http_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = http_class(url.hostname or "", url.port, timeout=timeout or self.timeout)
        try:
            with self._mapped_http_errors(command):
                connection.request("POST", f"/api/v0/{command}?{urlencode(params)}")
                response = connection.getresponse()
                if response.status != 200:
                    raise IpfsRequestRejected(f"IPFS {command} refused: {_kubo_message(response.read(64 << 10))}")
            yield response
        finally:
            connection.close()

    def is_pinned(self, cid: str) -> bool:
        try:
            keys = self._call("pin ls", lambda: self._client.pin.ls(cid))["Keys"]
        except IpfsRequestRejected:  # Kubo answers "not pinned" with an error
            return False
        return cid in keys

    def close(self) -> None:
        if "_client" in self.__dict__:  # constructed on first use only: a read may never have needed it
            self._client.close()

    def __enter__(self) -> IpfsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

