"""Orders whose design and reports carry Kubo's raw-leaves CIDs: recorded, read back from chain, audited.

The codec is recorded, not probed: the spec document names the design's full CID and a raw report
CID's digest is the report's SHA-256 beside it on chain (pynode/ipfs/cid.py).
"""

from __future__ import annotations

import pytest

from audit_helpers import Report, names
from pynode.documents.quality_report import report_hashes
from pynode.ipfs.cid import DAG_PB, RAW, cid_to_digest, design_cid, parse_cid, report_cid
from pynode.orders.partner import Partner, fetch_spec_document

pytestmark = pytest.mark.integration


def kubo_report(market, kubo, oid: int, name: str) -> Report:
    """The order's quality report added by Kubo's own CLI, `ipfs add --cid-version 1` (raw leaves)."""
    data = market.report(oid).data
    path = market.tmp / name
    path.write_bytes(data)
    cid = kubo.ipfs("add", "-Q", "--cid-version", "1", str(path)).decode().strip()
    return Report(data, cid, cid_to_digest(cid), bytes.fromhex(report_hashes(data)["sha256"][2:]))


@pytest.mark.parametrize("design_size, root_codec", [(1_200, RAW), (700_000, DAG_PB)], ids=["one-block", "multi-block"])
def test_raw_leaves_design_and_reports_round_trip_and_audit(market, auditor, kubo, ipfs, tmp_path, design_size,
                                                            root_codec):
    market.vault.raw_leaves = True  # the buyer adds its design the way `ipfs add --cid-version 1` does
    design = tmp_path / "part.step"
    design.write_bytes(b"ISO-10303-21; a bracket\n" * (design_size // 24))
    oid = market.post(design=design)
    posted = market.tracker(oid)
    spec_named = fetch_spec_document(ipfs, posted).model_dump()["design"]["cid"]
    assert parse_cid(spec_named).codec == root_codec and spec_named.startswith(
        "bafkrei" if root_codec == RAW else "bafybei")

    # an auditor with chain + IPFS only gets the exact CID back, and Kubo serves it
    rebuilt = design_cid(bytes(posted.docs.design_cid), spec_named)
    assert rebuilt == spec_named
    ciphertext = tmp_path / "ciphertext"
    ciphertext.write_bytes(b"".join(ipfs.cat_stream(rebuilt)))
    assert kubo.ipfs("add", "-Q", "--only-hash", "--cid-version", "1", str(ciphertext)).decode().strip() == rebuilt

    market.claim_award(oid)
    maker = Partner(market.chain, market.vault, market.maker, [market.maker_keys])
    assert maker.fetch_design(oid, tmp_path / "received").read_bytes() == design.read_bytes()

    attested = market.attest(oid, report=kubo_report(market, kubo, oid, "qa.json"))
    shipped = market.ship(oid, report=kubo_report(market, kubo, oid, "ship.json"))
    for report in (attested, shipped):
        assert report.cid.startswith("bafkrei")
    logs = market.chain.book.logs(("QualityAttested", "OrderShipped"), "0x" + oid.to_bytes(32, "big").hex(),
                                  from_block=market.chain.from_block)
    from_chain = [report_cid(bytes(log.args["reportCid"]), bytes(log.args["reportHash"])) for log in logs]
    assert from_chain == [attested.cid, shipped.cid]
    assert [ipfs.cat_bytes(cid, max_size=1 << 20) for cid in from_chain] == [attested.data, shipped.data]
    market.finish(oid)

    result = auditor.audit(order_ids=[oid])
    assert result.ok, result.failures()
    assert {"evidence.spec", "evidence.design", "evidence.quality_report"} <= names(result.all_checks, ok=True)
    (order,) = result.orders
    documents = {d["cid"] for d in order.documents}
    assert {spec_named, attested.cid, shipped.cid} <= documents

