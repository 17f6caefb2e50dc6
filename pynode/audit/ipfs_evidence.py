"""Evidence documents fetched from IPFS by the CIDs the chain commits to, once per run.

The chain holds digests; the caller rebuilds each CID with its codec (pynode.ipfs.cid says where each
codec is recorded), so documents are asked for by full CID.

A CID is a content address: Kubo checks every block it returns against it, so a
document fetched by the CID the chain names *is* the committed document. The
auditor still recomputes the SHA-256 the chain records beside some CIDs
(quality reports) because that is a second, independent commitment.

Designs can be many GiB: only the first bytes are read (the ciphertext header).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pynode.core.errors import FabmeshError
from pynode.ipfs.client import IpfsClient


class EvidenceUnavailable(FabmeshError):
    """A committed document could not be fetched (missing, too large, IPFS down)."""


class EvidenceSource(Protocol):
    def document(self, cid: str, max_size: int) -> bytes: ...

    def prefix(self, cid: str, length: int) -> bytes: ...


@dataclass
class IpfsEvidence:
    """Fetch-once cache over a Kubo API; failures are cached too (one timeout per CID per run)."""

    ipfs: IpfsClient
    timeout: float = 30.0
    fetches: int = 0
    _docs: dict = field(default_factory=dict)

    def _get(self, key: tuple, fetch) -> bytes:
        if key not in self._docs:
            self.fetches += 1
            try:
                self._docs[key] = fetch()
            except FabmeshError as exc:
                self._docs[key] = EvidenceUnavailable(f"{key[1]}: {exc}")
        value = self._docs[key]
        if isinstance(value, Exception):
            raise value
        return value

    def _fetcher(self, key: tuple, client: IpfsClient):
        kind, cid, size = key
        if kind == "doc":
            return lambda: client.cat_bytes(cid, max_size=size, timeout=self.timeout)
        # the first `size` bytes only (Kubo's cat offset/length), for designs of any size
        return lambda: client.cat_head(cid, size, timeout=self.timeout)

    def document(self, cid: str, max_size: int) -> bytes:
        key = ("doc", cid, max_size)
        return self._get(key, self._fetcher(key, self.ipfs))

    def prefix(self, cid: str, length: int) -> bytes:
        key = ("prefix", cid, length)
        return self._get(key, self._fetcher(key, self.ipfs))

    def prefetch(self, keys, workers: int = 4) -> None:
        """Fetches many ("doc" | "prefix", cid, size) keys concurrently, one Kubo client per worker."""
        import threading
        from concurrent.futures import ThreadPoolExecutor

        todo = [k for k in dict.fromkeys(keys) if k not in self._docs]
        if len(todo) < 2 * workers:
            return  # not worth the threads: fetched on demand
        local = threading.local()
        clients: list[IpfsClient] = []
        lock = threading.Lock()

        def fetch(key: tuple):
            if not hasattr(local, "client"):
                local.client = IpfsClient(self.ipfs.api, timeout=self.ipfs.timeout)
                with lock:
                    clients.append(local.client)
            try:
                return key, self._fetcher(key, local.client)()
            except FabmeshError as exc:
                return key, EvidenceUnavailable(f"{key[1]}: {exc}")

        try:
            with ThreadPoolExecutor(workers) as pool:
                for key, value in pool.map(fetch, todo):
                    self.fetches += 1
                    self._docs[key] = value
        finally:
            for client in clients:
                client.close()
