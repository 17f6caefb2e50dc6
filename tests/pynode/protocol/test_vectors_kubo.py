"""The vectors' CIDs are the ones a real Kubo gives the same bytes (pynode's add: CIDv1, raw leaves or not)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pynode.ipfs.client import IpfsClient

pytestmark = pytest.mark.integration
VECTORS = Path(__file__).resolve().parents[3] / "docs" / "vectors"


def vectored() -> list[tuple[str, bytes, dict[str, str]]]:
    design = json.loads((VECTORS / "segmented.json").read_text())
    envelope = json.loads((VECTORS / "envelope.json").read_text())
    documents = json.loads((VECTORS / "documents.json").read_text())
    items = [(f"design-{c['name']}", bytes.fromhex(c["ciphertext"][2:]), c) for c in design["cases"]]
    items += [(f"envelope-{c['suite']}", c["envelope"].encode(), c) for c in envelope["cases"]]
    items += [("key-backup", envelope["key_backup"]["envelope"].encode(), envelope["key_backup"])]
    box = documents["spec_geometry"]["design"]
    items += [("design-box-stl", bytes.fromhex(box["ciphertext"][2:]), box)]
    return items + [(name, documents[name]["document"].encode(), documents[name])
                    for name in ("spec", "spec_geometry", "quality_report")]


def test_kubo_gives_the_vector_cids(kubo) -> None:
    with IpfsClient(kubo.api_url, timeout=30) as ipfs:
        for what, data, vector in vectored():
            assert ipfs.add_bytes(data, pin=False) == vector["cid_dag_pb"], what
            assert ipfs.add_bytes(data, pin=False, raw_leaves=True) == vector["cid_raw"], what
            assert ipfs.cat_bytes(vector["cid_raw"], max_size=1 << 20) == data, what
