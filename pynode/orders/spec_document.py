"""An order's spec document, fetched from IPFS by the CID its docs commit to (read commands and the partner)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynode.documents.spec import MAX_SPEC_BYTES, ProductionSpec, read_spec_document
from pynode.ipfs.cid import digest_to_cid

if TYPE_CHECKING:
    from pynode.chain.orders import OrderTracker
    from pynode.ipfs.client import IpfsClient


def fetch_spec_document(ipfs: IpfsClient, tracker: OrderTracker) -> ProductionSpec:
    """The order's spec document, by the CID its docs commit to."""
    cid = digest_to_cid(bytes(tracker.docs.spec_cid))
    return read_spec_document(ipfs.cat_bytes(str(cid), max_size=MAX_SPEC_BYTES))
