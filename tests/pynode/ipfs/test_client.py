"""The Kubo client against a real daemon: streaming add, capped reads, typed failures."""

from __future__ import annotations

import hashlib
import os

import pytest

from pynode.dev.kubo import KuboNode
from pynode.ipfs.client import DocumentTooLarge, IpfsClient, IpfsRequestRejected, IpfsUnavailable, api_multiaddr

pytestmark = pytest.mark.integration


@pytest.fixture
def ipfs(kubo: KuboNode):
    with IpfsClient(kubo.api_url, timeout=10) as client:
        yield client


def test_streamed_add_matches_kubo_cli_and_is_pinned(ipfs, kubo, tmp_path):
    chunks = [os.urandom(300_001) for _ in range(5)]  # odd sizes: not aligned to anything
    cid = ipfs.add_stream(iter(chunks))

    whole = tmp_path / "whole.bin"
    whole.write_bytes(b"".join(chunks))
    expected = kubo.ipfs("add", "--only-hash", "-Q", "--cid-version=1", "--raw-leaves=false", str(whole))
    assert expected.decode().strip() == cid
    assert ipfs.is_pinned(cid)
    assert hashlib.sha256(b"".join(ipfs.cat_stream(cid))).digest() == hashlib.sha256(whole.read_bytes()).digest()


def test_cat_bytes_refuses_oversized_documents(ipfs):
    cid = ipfs.add_bytes(b"x" * 5000)
    assert ipfs.cat_bytes(cid, max_size=5000) == b"x" * 5000
    with pytest.raises(DocumentTooLarge, match="larger than the 4999 bytes"):
        ipfs.cat_bytes(cid, max_size=4999)


def test_invalid_cid_is_rejected(ipfs):
    with pytest.raises(IpfsRequestRejected):
        ipfs.cat_bytes("not-a-cid", max_size=100)


def test_unknown_content_times_out_as_transient(ipfs):
    missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"  # no peer has it
    with pytest.raises(IpfsUnavailable):
        ipfs.cat_bytes(missing, max_size=100, timeout=1)


def test_the_version_is_the_one_ipfshttpclient_reads(ipfs):
    """Asked over the standard library's HTTP client (`fabmesh check`), answered as Kubo's own client reads it."""
    assert ipfs.version() == ipfs._client.version()["Version"]


def test_unreachable_api_is_transient(held_port):
    with IpfsClient(f"http://127.0.0.1:{held_port}", timeout=2) as client, \
            pytest.raises(IpfsUnavailable, match="did not answer"):
        client.version()


class Collected:
    """A download sink that keeps what it gets, as the vault's pipe would pass it on."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def fill_from(self, readinto) -> None:
        buffer = memoryview(bytearray(100_000))  # smaller than the content: several reads
        while count := readinto(buffer):
            self.data += buffer[:count]


@pytest.mark.parametrize("api", ["url", "multiaddr"])
def test_cat_into_streams_a_large_file_straight_into_the_sink(ipfs, kubo, api):
    content = os.urandom(3_000_017)
    cid = ipfs.add_bytes(content)
    with IpfsClient(kubo.api_url if api == "url" else kubo.api_multiaddr, timeout=10) as client:
        sink = Collected()
        client.cat_into(cid, sink)
    assert bytes(sink.data) == content


def test_cat_into_failures_are_typed(ipfs, held_port):
    with pytest.raises(IpfsRequestRejected, match=r"IPFS cat refused: .*not-a-cid"):
        ipfs.cat_into("not-a-cid", Collected())
    missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"  # no peer has it
    with pytest.raises(IpfsUnavailable, match=r"did not answer \(cat\): timed out"):
        ipfs.cat_into(missing, Collected(), timeout=1)
    with IpfsClient(f"http://127.0.0.1:{held_port}", timeout=2) as client, \
            pytest.raises(IpfsUnavailable, match=r"did not answer \(cat\)"):
        client.cat_into(missing, Collected())


@pytest.mark.parametrize("given, expected", [
    ("http://127.0.0.1:5001", "/ip4/127.0.0.1/tcp/5001/http"),
    ("localhost:5001", "/dns/localhost/tcp/5001/http"),
    ("/ip4/127.0.0.1/tcp/5001", "/ip4/127.0.0.1/tcp/5001/http"),
])
def test_api_address_forms(given, expected):
    assert api_multiaddr(given) == expected


def test_every_added_document_maps_to_a_bytes32_and_back(ipfs, kubo):
    from pynode.ipfs.cid import cid_to_digest, digest_to_cid

    for payload in (b"", b"tiny envelope", os.urandom(600_000)):
        cid = ipfs.add_bytes(payload)
        assert digest_to_cid(cid_to_digest(cid)) == cid
        v0 = kubo.ipfs("cid", "format", "-v", "0", cid).decode().strip()
        assert cid_to_digest(v0) == cid_to_digest(cid)
