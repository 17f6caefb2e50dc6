"""The buyer's copy of each design's content key, sealed to the buyer's own HPKE key.

The content key exists before the order does (the design is encrypted first),
and the buyer needs it again at award time, possibly on another run or
machine. It is kept as a key envelope addressed to the buyer itself, bound to
the chain, the order book, the buyer and the design hash, with order id 0
(the order id is not known yet). Stored in $FABMESH_HOME/design-keys/ and
pinned on IPFS, so losing the local file loses nothing as long as the buyer
keeps its HPKE key and the CID (which `order post` prints). Files are named by
the design's ciphertext CID digest (`OrderDocs.designCid`).
"""

from __future__ import annotations

from pathlib import Path

from pynode.core.errors import InputError
from pynode.crypto.envelope import MAX_ENVELOPE_SIZE, OrderContext, build_envelope, open_envelope
from pynode.crypto.hpke import HpkeKeyPair
from pynode.ipfs.client import IpfsClient
from pynode.wallet.keystore import write_private

UNBOUND_ORDER = 0


def _context(chain_id: int, book: str, buyer: str, design_sha256: bytes) -> OrderContext:
    return OrderContext(chain_id=chain_id, contract=book, order_id=UNBOUND_ORDER, recipient=buyer,
                        design_sha256=design_sha256)


class DesignKeyStore:
    def __init__(self, directory: Path, ipfs: IpfsClient) -> None:
        self.directory = directory
        self.ipfs = ipfs

    def _path(self, design_cid: bytes) -> Path:
        # By ciphertext CID, not plaintext hash: the same file posted twice is sealed under two keys.
        return self.directory / f"{design_cid.hex()}.json"

    def save(self, content_key: bytes, *, chain_id: int, book: str, buyer: str, buyer_public_key: bytes,
             design_cid: bytes, design_sha256: bytes) -> str:
        """Seals the key to the buyer, keeps it locally and pins it; returns the backup's CID."""
        document = build_envelope(content_key, buyer_public_key, _context(chain_id, book, buyer, design_sha256))
        write_private(self._path(design_cid), document.decode())
        return self.ipfs.add_bytes(document)

    def load(self, keypair: HpkeKeyPair, *, chain_id: int, book: str, buyer: str, design_cid: bytes,
             design_sha256: bytes, backup_cid: str | None = None) -> bytes:
        path = self._path(design_cid)
        if path.exists():
            document = path.read_bytes()
        elif backup_cid:
            document = self.ipfs.cat_bytes(backup_cid, max_size=MAX_ENVELOPE_SIZE)
        else:
            raise InputError(f"no content key for design 0x{design_cid.hex()} in {self.directory}: "
                             "was the order posted from this account's FABMESH_HOME?")
        return open_envelope(document, keypair, _context(chain_id, book, buyer, design_sha256))
