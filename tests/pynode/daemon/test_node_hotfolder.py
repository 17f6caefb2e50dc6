"""The real integration point: the node drops the decrypted design into a hot folder and waits for the
shop's result.json; the report it attests carries the shop's measurements and evidence hashes."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from harness import BuyerSide, Miner, NodeProcess, make_partner, write_config
from pynode.documents.quality_report import parse_report
from pynode.ipfs.cid import RAW, design_cid, parse_cid, report_cid
from pynode.ipfs.client import IpfsClient
from pynode.orders.watch import AwardPolicy, OrderWatcher
from support import TO_PAID, steps_to_paid, wait_progressing

# own_chain: a whole job mined by a Miner thread; the shared chain's snapshot reverts would rewrite its history
pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

STALL_S = 90  # longest wait for the order's next step before the node counts as stuck


def shop(inbox: Path, outbox: Path, designs: dict, stop: threading.Event) -> None:
    """A shop's software: for each job folder, check the design, measure, write result.json atomically."""
    while not stop.wait(0.1):
        for job_file in inbox.glob("*/job.json"):
            if job_file.parent.name.startswith("."):  # a job folder still being built (see the adapter's protocol)
                continue
            order_id = int(job_file.parent.name)
            out = outbox / str(order_id)
            if (out / "result.json").exists():
                continue
            job = json.loads(job_file.read_text())
            designs[order_id] = (job_file.parent / job["design"]).read_bytes()
            out.mkdir(parents=True, exist_ok=True)
            (out / "cmm.csv").write_text("bore_d,10.01\n")
            tmp = out / ".result.tmp"
            tmp.write_text(json.dumps({"order_id": order_id, "passed": True, "measurements": {"bore_d": 10.01},
                                       "evidence": ["cmm.csv"], "notes": "CMM run 42"}))
            tmp.rename(out / "result.json")


def test_hotfolder_adapter_round_trip(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    """Also with raw-leaves CIDs on both sides (`ipfs add --cid-version 1`): the node finds the buyer's raw
    design through the spec document and pins raw reports, which read back from the chain by their hash."""
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    outbox.mkdir()
    write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"],
                 production=f'adapter = "hotfolder"\ninbox = "{inbox}"\noutbox = "{outbox}"\nsettle_s = 0.2',
                 extra="ipfs_raw_leaves = true")
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    buyer.vault.raw_leaves = True
    posted = buyer.post(1)
    assert parse_cid(posted.design.cid).codec == RAW
    docs = chain.book.load_order(posted.order_id, chain.from_block).docs
    assert design_cid(bytes(docs.design_cid), posted.design.cid) == posted.design.cid
    watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True))
    designs: dict[int, bytes] = {}
    stop = threading.Event()
    thread = threading.Thread(target=shop, args=(inbox, outbox, designs, stop), daemon=True)
    thread.start()
    node = NodeProcess(maker).start()
    try:
        with Miner(anvil.rpc, 0.3):
            def steps() -> int:
                watcher.cycle()
                assert node.running(), node.log_tail()
                return steps_to_paid(chain, [posted.order_id])

            wait_progressing(steps, len(TO_PAID) - 1, stall_s=STALL_S, what="steps to paid", detail=node.log_tail)
        assert node.terminate() == 0
    finally:
        stop.set()
        node.kill()
    # the shop got exactly the buyer's design, decrypted
    assert hashlib.sha256(designs[posted.order_id]).digest() == posted.design.plaintext_sha256
    # the attested report is the shop's result, with the evidence hashed
    shipped = chain.book.logs(("OrderShipped",), from_block=chain.from_block)[0]
    cid = report_cid(bytes(shipped.args["reportCid"]), bytes(shipped.args["reportHash"]))
    assert parse_cid(cid).codec == RAW
    data = IpfsClient(kubo.api_url).cat_bytes(cid, max_size=1 << 20)
    assert hashlib.sha256(data).digest() == bytes(shipped.args["reportHash"])
    report = parse_report(data)
    assert report.passed and report.checks[0].measured == 10.01 and report.notes == "CMM run 42"
    assert report.evidence[0].name == "cmm.csv"
    assert report.evidence[0].sha256 == hashlib.sha256(b"bore_d,10.01\n").hexdigest()
    # the hot folders are cleaned up once shipped
    assert not (inbox / str(posted.order_id)).exists() and not (outbox / str(posted.order_id)).exists()
