"""The IPFS client's bounded retry of an unavailable daemon: whole operations only, never a half-read stream."""

from __future__ import annotations

from typing import BinaryIO

import ipfshttpclient.exceptions as ipfs_exc
import pytest

from pynode.core.errors import IpfsUnavailable
from pynode.ipfs.client import IpfsClient


class Flaky:
    """Kubo's client refusing the first ``failures`` calls, as a restarting daemon does."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def _maybe_refuse(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ipfs_exc.ConnectionError(ConnectionRefusedError("Connection refused"))

    def add(self, reader: BinaryIO, **kwargs: object) -> dict:
        self._maybe_refuse()
        return {"Hash": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", "read": reader.read()}

    def close(self) -> None:
        pass


def client_with(inner: Flaky, retry_timeout_s: float) -> IpfsClient:
    client = IpfsClient("http://127.0.0.1:5001", retry_timeout_s=retry_timeout_s)
    client._client = inner
    return client


def test_an_unavailable_daemon_is_retried_within_the_window() -> None:
    inner = Flaky(failures=2)
    assert client_with(inner, retry_timeout_s=10).add_bytes(b"report") and inner.calls == 3


def test_without_a_window_it_fails_at_once_as_transient() -> None:
    inner = Flaky(failures=1)
    with pytest.raises(IpfsUnavailable, match="connection refused"):
        client_with(inner, retry_timeout_s=0).add_bytes(b"report")
    assert inner.calls == 1


def test_bytes_are_re_added_whole_but_a_stream_is_never_replayed() -> None:
    inner = Flaky(failures=1)
    assert client_with(inner, retry_timeout_s=10).add_bytes(b"report") and inner.calls == 2
    inner = Flaky(failures=1)
    with pytest.raises(IpfsUnavailable):
        client_with(inner, retry_timeout_s=10).add_stream(iter([b"part one", b"part two"]))
    assert inner.calls == 1
