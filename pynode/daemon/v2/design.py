"""An awarded v2 design: fetched, decrypted and measured again before anything is produced.

The key envelope is the one the award published (``OrderAwarded.keyEnvelopeCid``, inside the committed
award link); it opens with the node's HPKE key for this order only (chain, book, order id, this partner and
the design's SHA-256 are bound in it). The decrypted file is measured (pynode.designs.geometry) and compared
with the geometry the spec published (``verify_geometry``): a design that does not decrypt, or that is
another part than the one quoted, is a reason to reject the award while the reject window is open.
IPFS and chain trouble is no such reason: it is raised (transient) and the step is tried again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pynode.chain.v2.orders import OrderView
from pynode.core.errors import InputError
from pynode.crypto.envelope import MAX_ENVELOPE_SIZE, OrderContext, open_envelope, parse_envelope
from pynode.crypto.hpke import HpkeKeyPair
from pynode.designs.geometry import measure_file
from pynode.designs.geometry.verify import verify_geometry
from pynode.documents.spec import MAX_SPEC_BYTES, ProductionSpec, read_spec_document
from pynode.ipfs.cid import design_cid, digest_to_cid
from pynode.ipfs.vault import DesignVault

GEOMETRY_TOLERANCE = 0.01  # relative: meshes exported by different tools round vertices differently
MAX_LISTED = 3  # disagreements named in a rejection reason


class Checked(NamedTuple):
    design: Path | None  # the decrypted design (None when it failed)
    reason: str | None  # why the award is to be rejected (None: the design is the part the spec describes)


def geometry_reason(published: Mapping[str, Any] | None, recomputed: Mapping[str, Any],
                    tolerance: float = GEOMETRY_TOLERANCE) -> str | None:
    """Why the published geometry is not the design's (None: it is, or the spec published none)."""
    if not published:
        return None
    found = verify_geometry(published, recomputed, tolerance)
    if not found:
        return None
    listed = "; ".join(str(d) for d in found[:MAX_LISTED])
    more = f" (+{len(found) - MAX_LISTED} more)" if len(found) > MAX_LISTED else ""
    return f"design geometry disagrees with the spec: {listed}{more}"


def spec_document(vault: DesignVault, order: OrderView) -> ProductionSpec:
    """The order's public spec document, by the CID its docs commit to."""
    cid = digest_to_cid(bytes(order.docs.spec_cid))
    return read_spec_document(vault.ipfs.cat_bytes(str(cid), max_size=MAX_SPEC_BYTES))


def published_geometry(document: ProductionSpec) -> dict[str, Any] | None:
    geometry = (document.model_extra or {}).get("geometry")
    return geometry if isinstance(geometry, dict) else None


class DesignCheck:
    """Opens and checks awarded designs for one partner on one book."""

    def __init__(self, vault: DesignVault, chain_id: int, book: str, partner: str,
                 hpke_keys: Mapping[str, HpkeKeyPair], tolerance: float = GEOMETRY_TOLERANCE) -> None:
        self.vault = vault
        self.chain_id = chain_id
        self.book = book
        self.partner = partner
        self.hpke_keys = {k.removeprefix("0x").lower(): v for k, v in hpke_keys.items()}
        self.tolerance = tolerance

    def check(self, order: OrderView, document: ProductionSpec, folder: Path) -> Checked:
        try:
            design = self.open(order, document, folder)
            recomputed = measure_file(design)
        except InputError as exc:  # the design, the envelope or the file itself: the buyer's doing
            return Checked(None, f"design does not decrypt or measure: {exc}")
        return Checked(design, geometry_reason(published_geometry(document), recomputed, self.tolerance))

    def open(self, order: OrderView, document: ProductionSpec, folder: Path) -> Path:
        """Decrypts the design into ``folder`` (atomically: it appears only once it checks out)."""
        if order.key_envelope_cid is None:
            raise InputError(f"order {order.order_id} has no key envelope")
        design_sha256 = bytes(order.docs.design_sha256)
        named = document.model_dump().get("design") or {}
        envelope = self.vault.ipfs.cat_bytes(digest_to_cid(order.key_envelope_cid), max_size=MAX_ENVELOPE_SIZE)
        key_id = parse_envelope(envelope).recipient_key_id.hex()
        keypair = self.hpke_keys.get(key_id)
        if keypair is None:
            raise InputError(f"the key envelope is sealed to HPKE key 0x{key_id}, which this node does not hold")
        context = OrderContext(chain_id=self.chain_id, contract=self.book, order_id=order.order_id,
                               recipient=self.partner, design_sha256=design_sha256)
        content_key = open_envelope(envelope, keypair, context)
        out = folder / "design.bin"  # never the buyer's file name: the content is detected, not named
        out.parent.mkdir(parents=True, exist_ok=True)
        self.vault.open(design_cid(bytes(order.docs.design_cid), named.get("cid")), content_key, out, design_sha256)
        return out
