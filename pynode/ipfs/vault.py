"""The encrypted design vault: designs and key envelopes on IPFS.

A design is encrypted with a fresh content key while it streams into Kubo
(constant memory, one pass over the file), so the plaintext never touches IPFS
and its SHA-256, the on-chain commitment, comes out of the same pass. Encryption
runs in a second thread while the upload sends, and the download in one while
decryption writes the file, so the cipher's work overlaps Kubo's. The
content key reaches the awarded partner only inside an HPKE key envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pynode.core.errors import FabmeshError
from pynode.core.pipe import ProducerPipe
from pynode.crypto.envelope import MAX_ENVELOPE_SIZE, OrderContext, build_envelope, open_envelope
from pynode.crypto.hpke import HpkeKeyPair
from pynode.crypto.segmented import (
    DEFAULT_SEGMENT_SIZE,
    ReadsInto,
    StreamResult,
    decrypt_to_file,
    generate_content_key,
    iter_encrypt,
)
from pynode.ipfs.client import IpfsClient

PIPE_BUFFER = 1 << 20  # between the encrypting (or downloading) thread and the other side: three in flight


@dataclass(frozen=True, repr=False)
class SealedDesign:
    cid: str
    content_key: bytes
    plaintext_sha256: bytes
    plaintext_size: int
    ciphertext_size: int

    def __repr__(self) -> str:  # never print the key
        return f"SealedDesign(cid={self.cid}, sha256=0x{self.plaintext_sha256.hex()}, size={self.plaintext_size})"


@dataclass(frozen=True)
class KeyEnvelope:
    """A content key sealed to one recipient (the document) and the CID it is stored under once published."""

    document: bytes
    cid: str


class _Progress:
    """A file read through ``readinto`` that reports each read's size."""

    def __init__(self, src: ReadsInto, progress: Callable[[int], None]) -> None:
        self._src = src
        self._progress = progress

    def readinto(self, buffer: memoryview) -> int:
        count = self._src.readinto(buffer) or 0
        self._progress(count)
        return count


class DesignVault:
    def __init__(self, ipfs: IpfsClient, segment_size: int = DEFAULT_SEGMENT_SIZE, *, raw_leaves: bool = False) -> None:
        self.ipfs = ipfs
        self.segment_size = segment_size
        self.raw_leaves = raw_leaves  # designs may be added as Kubo's `--cid-version 1` does: the spec names the CID

    def seal(self, design: Path, progress: Callable[[int], None] | None = None) -> SealedDesign:
        """Encrypts `design` under a new content key and pins the ciphertext."""
        key = generate_content_key()
        with open(design, "rb", buffering=0) as file:
            src: ReadsInto = _Progress(file, progress) if progress else file
            with ProducerPipe(lambda sink: iter_encrypt(src, key, segment_size=self.segment_size).write_to(sink),
                              buffer_size=PIPE_BUFFER) as ciphertext:
                cid = self.ipfs.add_stream(ciphertext, raw_leaves=self.raw_leaves)
        result = ciphertext.result
        return SealedDesign(cid, key, result.plaintext_sha256, result.plaintext_size, result.ciphertext_size)

    def open(self, cid: str, content_key: bytes, out: Path, expected_sha256: bytes) -> StreamResult:
        """Fetches, decrypts and verifies a design; `out` appears only if all of it checks out."""
        with ProducerPipe(lambda sink: self.ipfs.cat_into(cid, sink), buffer_size=PIPE_BUFFER) as ciphertext:
            return decrypt_to_file(ciphertext, out, content_key, expected_sha256)

    def publish_envelope(self, content_key: bytes, recipient_public_key: bytes, context: OrderContext) -> str:
        return self.ipfs.add_bytes(build_envelope(content_key, recipient_public_key, context))

    def seal_envelope(self, content_key: bytes, recipient_public_key: bytes, context: OrderContext) -> KeyEnvelope:
        """The envelope and the CID :meth:`publish` will give it, nothing stored or announced yet: a transaction
        naming the CID is simulated before the key leaves this machine."""
        document = build_envelope(content_key, recipient_public_key, context)
        return KeyEnvelope(document, self.ipfs.add_bytes(document, only_hash=True))

    def publish(self, envelope: KeyEnvelope) -> None:
        cid = self.ipfs.add_bytes(envelope.document)
        if cid != envelope.cid:
            raise FabmeshError(f"IPFS stored the key envelope as {cid}, not as {envelope.cid} it was hashed to")

    def content_key_from_envelope(self, cid: str, keypair: HpkeKeyPair, context: OrderContext) -> bytes:
        document = self.ipfs.cat_bytes(cid, max_size=MAX_ENVELOPE_SIZE)
        return open_envelope(document, keypair, context)
