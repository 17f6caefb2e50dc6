"""`fabmesh node run` with the octoprint adapter, end to end: a real chain, Kubo and a real OctoPrint server.

The first order's print is cancelled on the printer: the job fails and the node goes on. The second order
prints; the report the node attests carries OctoPrint's print time and filament figures and octoprint.json.
The third order's design is an STL: the node slices it with PrusaSlicer and the profile its node.toml names,
then prints it. Every upload is gone from the printer once its job is over.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pytest

from harness import BuyerSide, Miner, NodeProcess, make_partner, write_config
from pynode.dev.net import held_port
from pynode.dev.octoprint import OctoprintServer, gcode, tiny_stl, write_slicer_profile
from pynode.orders.buyer import PostedOrder
from pynode.orders.watch import AwardPolicy, OrderWatcher
from support import fatal_line, post_design, run_node_once, shipped_report, wait_job_failed, wait_paid, wait_watching

pytestmark = pytest.mark.integration

STALL_S = 90


def award_to_print_start(node: NodeProcess, order_id: int) -> float:
    """Seconds from the job log's award seen (job_state awarded) to the print started (production_submitted:
    OctoPrint accepted the upload and the start)."""
    events = [json.loads(line) for line in node.log_path.read_text().splitlines() if line.startswith("{")]
    ours = [e for e in events if e.get("order_id") in (order_id, str(order_id))]
    awarded = next(e["ts"] for e in ours if e["event"] == "job_state" and e["state"] == "awarded")
    started = next(e["ts"] for e in ours if e["event"] == "production_submitted")
    return started - awarded


def post_print(buyer: BuyerSide, index: int, content: bytes) -> PostedOrder:
    design = buyer.root / f"clip-{index}.gcode"
    design.write_bytes(content + b"; " + os.urandom(8).hex().encode() + b"\n")
    return post_design(buyer, design, process="FDM", material="PLA")


@pytest.mark.own_chain  # a whole job mined by a Miner thread
def test_node_prints_orders_on_an_octoprint_farm(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["FDM"], materials=["PLA"])
    slow = b"G28\n" + b"G4 P500\nG1 X10 Y10 F600\n" * 120
    with OctoprintServer(tmp_path / "octoprint") as printer:
        write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                     processes=["FDM"], materials=["PLA"], max_concurrent_jobs=1,
                     production=f'adapter = "octoprint"\nstart_grace_s = 10.0\n[[printers]]\nname = "mk4-1"\n'
                                f'url = "{printer.url}"\napi_key_file = "{printer.api_key_file}"\n'
                                '[slicer]\nprofile = "virtual.ini"\n')  # relative to node.toml
        write_slicer_profile(maker.root / "virtual.ini")
        buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
        watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True))
        node = NodeProcess(maker).start()
        try:
            with Miner(anvil.rpc, 0.3):
                first = post_print(buyer, 1, slow)
                wait_watching(lambda: printer.job()["state"] == "Printing", "the first print running", node, watcher,
                              STALL_S)
                name = f"fabmesh-{first.order_id}.gcode"
                assert printer.job()["job"]["file"]["name"] == name
                uploaded = printer.request("GET", f"/downloads/files/local/{name}").content
                assert hashlib.sha256(uploaded).digest() == first.design.plaintext_sha256  # the buyer's, decrypted
                printer.cancel()
                error = wait_job_failed(node, watcher, first.order_id, STALL_S)
                assert f"order {first.order_id} on printer mk4-1: OctoPrint ended" in error
                second = post_print(buyer, 2, gcode(6, name="clip"))
                wait_paid(chain, node, watcher, second.order_id, STALL_S)
                third = post_design(buyer, tiny_stl(buyer.root / "bracket.stl"), process="FDM", material="PLA")
                wait_paid(chain, node, watcher, third.order_id, STALL_S)
            assert node.terminate() == 0
        finally:
            node.kill()
        left = [printer.request("GET", f"/api/files/local/fabmesh-{order.order_id}.gcode").status_code
                for order in (first, second, third)]
    report = shipped_report(chain, kubo.api_url, second.order_id)
    assert report.passed and report.notes.startswith("printed on mk4-1 in ")
    assert set(report.other_measurements) == {"print_time_s", "filament_length_mm", "filament_volume_cm3"}
    assert report.other_measurements["filament_length_mm"] == pytest.approx(3.0)  # absolute E: 0.5 .. 3.0
    assert [e.name for e in report.evidence] == ["octoprint.json"]
    sliced = shipped_report(chain, kubo.api_url, third.order_id)
    assert sliced.passed and sliced.other_measurements["filament_length_mm"] > 0  # what PrusaSlicer extruded
    assert [e.name for e in sliced.evidence] == ["octoprint.json"]
    assert left == [404, 404, 404]  # a failed and two paid jobs: the node removed every upload from the printer
    assert "Traceback" not in node.log_path.read_text()
    # README's "time from award to print start" (a figure, not a target: the startProduction transaction and its
    # confirmation at anvil's 0.3 s blocks take most of it; the STL adds PrusaSlicer's run)
    for label, order in (("gcode", second), ("stl", third)):
        waited = award_to_print_start(node, order.order_id)
        assert waited > 0
        print(f"award to print start ({label} design): {waited:.3f} s")  # the figure: pytest -rP shows it


def test_an_api_key_octoprint_refuses_stops_the_node_at_start_in_one_line(chain, anvil, kubo, dev_accounts,
                                                                          deployments_dir, tmp_path) -> None:
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["FDM"], materials=["PLA"])
    (maker.root / "wrong.key").write_text("0" * 32 + "\n")

    def run_once(url: str) -> subprocess.CompletedProcess:
        return run_node_once(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                             processes=["FDM"], materials=["PLA"],
                             production=f'adapter = "octoprint"\n[[printers]]\nname = "mk4-1"\nurl = "{url}"\n'
                                        'api_key_file = "wrong.key"\n')

    with OctoprintServer(tmp_path / "octoprint") as printer:
        last = fatal_line(run_once(printer.url))
    assert last == (f"error: printer mk4-1 ({printer.url}): asking its version: OctoPrint refused the API key "
                    f"(HTTP 403): check {maker.root / 'wrong.key'}"), last
    with held_port() as port:  # a printer that is off is no reason not to start: it is simply not idle
        result = run_once(f"http://127.0.0.1:{port}")
    assert result.returncode == 0, result.stderr
