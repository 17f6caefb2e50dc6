"""Test-only stand-ins for the package's outside sources, built from data the test holds."""

from __future__ import annotations

from dataclasses import dataclass

from pynode.audit.ipfs_evidence import EvidenceUnavailable
from pynode.ipfs.cid import cid_to_digest


@dataclass
class DictEvidence:
    """In-memory evidence by digest (as a blockstore, keyed by multihash): the audit checks' EvidenceSource."""

    docs: dict[bytes, bytes]

    def document(self, cid: str, max_size: int) -> bytes:
        try:
            data = self.docs[cid_to_digest(cid)]
        except KeyError:
            raise EvidenceUnavailable(f"{cid}: not found") from None
        if len(data) > max_size:
            raise EvidenceUnavailable(f"{cid}: larger than {max_size} bytes")
        return data

    def prefix(self, cid: str, length: int) -> bytes:
        return self.document(cid, 1 << 62)[:length]
