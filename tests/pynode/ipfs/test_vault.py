"""The design vault end to end through a real Kubo daemon."""

from __future__ import annotations

import hashlib
import os

import pytest

from pynode.core.errors import IpfsUnavailable
from pynode.crypto.envelope import OrderContext
from pynode.crypto.errors import ContextMismatch, PlaintextHashMismatch, TamperedCiphertext, WrongRecipient
from pynode.crypto.hpke import generate_keypair
from pynode.ipfs.client import IpfsClient, IpfsRequestRejected
from pynode.ipfs.vault import DesignVault

pytestmark = pytest.mark.integration

SEGMENT = 4096
MAKER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.fixture
def vault(kubo):
    with IpfsClient(kubo.api_url, timeout=10) as client:
        yield DesignVault(client, segment_size=SEGMENT)


@pytest.fixture
def design(tmp_path):
    path = tmp_path / "bracket.stl"
    path.write_bytes(os.urandom(5 * SEGMENT + 17))
    return path


def context(sha: bytes, recipient: str = MAKER, order_id: int = 7) -> OrderContext:
    return OrderContext(chain_id=31337, contract="0x5FbDB2315678afecb367f032d93F642f64180aa3",
                        order_id=order_id, recipient=recipient, design_sha256=sha)


def test_seal_pins_ciphertext_only_and_opens(vault, design, tmp_path):
    seen = []
    sealed = vault.seal(design, progress=seen.append)

    assert sum(seen) == design.stat().st_size
    assert sealed.plaintext_sha256 == hashlib.sha256(design.read_bytes()).digest()
    stored = b"".join(vault.ipfs.cat_stream(sealed.cid))
    assert len(stored) == sealed.ciphertext_size and design.read_bytes()[:64] not in stored
    assert vault.ipfs.is_pinned(sealed.cid)

    out = tmp_path / "out" / "design.stl"
    out.parent.mkdir()
    vault.open(sealed.cid, sealed.content_key, out, sealed.plaintext_sha256)
    assert out.read_bytes() == design.read_bytes()


def test_envelope_roundtrip_only_for_its_partner_and_order(vault, design, tmp_path):
    sealed = vault.seal(design)
    maker_key, other_key = generate_keypair(), generate_keypair(pq=True)
    cid = vault.publish_envelope(sealed.content_key, maker_key.public_key, context(sealed.plaintext_sha256))

    assert vault.content_key_from_envelope(cid, maker_key, context(sealed.plaintext_sha256)) == sealed.content_key
    with pytest.raises(WrongRecipient):
        vault.content_key_from_envelope(cid, other_key, context(sealed.plaintext_sha256, recipient=OTHER))
    with pytest.raises(ContextMismatch, match="order_id"):
        vault.content_key_from_envelope(cid, maker_key, context(sealed.plaintext_sha256, order_id=8))


def test_a_sealed_envelope_is_stored_only_when_published_under_the_cid_it_was_hashed_to(vault, design):
    sealed = vault.seal(design)
    maker_key = generate_keypair()
    envelope = vault.seal_envelope(sealed.content_key, maker_key.public_key, context(sealed.plaintext_sha256))
    assert not vault.ipfs.is_pinned(envelope.cid)  # hashed only: an award the book refuses gives the key to no one
    vault.publish(envelope)
    assert vault.ipfs.is_pinned(envelope.cid)
    assert vault.content_key_from_envelope(envelope.cid, maker_key, context(sealed.plaintext_sha256)) == \
        sealed.content_key


def test_tampered_ciphertext_on_ipfs_leaves_no_plaintext(vault, design, tmp_path):
    sealed = vault.seal(design)
    blob = bytearray(b"".join(vault.ipfs.cat_stream(sealed.cid)))
    blob[200] ^= 1
    forged_cid = vault.ipfs.add_bytes(bytes(blob))
    out_dir = tmp_path / "job"
    out_dir.mkdir()

    with pytest.raises(TamperedCiphertext):
        vault.open(forged_cid, sealed.content_key, out_dir / "design.stl", sealed.plaintext_sha256)
    assert list(out_dir.iterdir()) == []


def test_design_not_matching_the_order_commitment(vault, design, tmp_path):
    sealed = vault.seal(design)
    with pytest.raises(PlaintextHashMismatch):
        vault.open(sealed.cid, sealed.content_key, tmp_path / "design.stl", b"\x00" * 32)
    assert not (tmp_path / "design.stl").exists()


def test_a_failed_download_reaches_the_caller_and_leaves_nothing(vault, design, tmp_path):
    """The download runs in a second thread: its typed error is what the caller gets."""
    sealed = vault.seal(design)
    out_dir = tmp_path / "job"
    out_dir.mkdir()
    with pytest.raises(IpfsRequestRejected, match="IPFS cat refused"):
        vault.open("not-a-cid", sealed.content_key, out_dir / "design.stl", sealed.plaintext_sha256)
    missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"  # no peer has it
    vault.ipfs.timeout = 1
    with pytest.raises(IpfsUnavailable, match="timed out"):
        vault.open(missing, sealed.content_key, out_dir / "design.stl", sealed.plaintext_sha256)
    assert list(out_dir.iterdir()) == []


def test_a_design_larger_than_the_pipe_buffers_roundtrips(kubo, tmp_path):
    """Several 1 MiB segments and pipe buffers in flight each way, at the default segment size."""
    path = tmp_path / "large.step"
    path.write_bytes(os.urandom(5 * (1 << 20) + 12345))
    with IpfsClient(kubo.api_url, timeout=10) as client:
        vault = DesignVault(client)
        sealed = vault.seal(path)
        vault.open(sealed.cid, sealed.content_key, tmp_path / "opened.step", sealed.plaintext_sha256)
    assert (tmp_path / "opened.step").read_bytes() == path.read_bytes()
    assert sealed.plaintext_size == path.stat().st_size
