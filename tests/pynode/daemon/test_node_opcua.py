"""`fabmesh node run` with the opcua adapter, end to end: a real chain, Kubo and an asyncua machine server.

The first order's program is cut short by a machine alarm: the job fails with the machine's words and the
node goes on. The operator clears the alarm; the second order is machined, and the report the node
attests carries the machine's measurements, its part counter and machine.json among the evidence.
"""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from harness import BuyerSide, Miner, NodeProcess, make_partner, write_config
from pynode.dev.net import held_port
from pynode.dev.opcua_machine import MachineServer, nc_program
from pynode.orders.buyer import PostedOrder
from pynode.orders.watch import AwardPolicy, OrderWatcher
from support import fatal_line, post_design, run_node_once, shipped_report, wait_job_failed, wait_paid, wait_watching

pytestmark = pytest.mark.integration

STALL_S = 90
TOLERANCES = {"bore_d": {"nominal": 10.0, "plus": 0.05, "minus": 0.05, "unit": "mm"}}


def post_program(buyer: BuyerSide, index: int) -> PostedOrder:
    design = buyer.root / f"bracket-{index}.nc"
    design.write_bytes(nc_program(TOLERANCES, name=f"bracket {index}") + b"(" + os.urandom(8).hex().encode() + b")\n")
    return post_design(buyer, design, process="CNC_MILLING", material="AL_6061", quantity=2, tolerances=TOLERANCES)


@pytest.mark.own_chain  # a whole job mined by a Miner thread
def test_node_machines_orders_on_an_opcua_machine(chain, anvil, kubo, dev_accounts, deployments_dir, tmp_path):
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    (maker.root / "machine-password.txt").write_text("op-secret\n")
    with MachineServer(job_s=60.0, credentials=("fabmesh", "op-secret")) as machine:
        write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                     processes=["CNC_MILLING"], materials=["AL_6061"], max_concurrent_jobs=1,
                     production=f'adapter = "opcua"\nendpoint = "{machine.endpoint}"\nusername = "fabmesh"\n'
                                'password_file = "machine-password.txt"')
        buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
        watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True))
        node = NodeProcess(maker).start()
        try:
            with Miner(anvil.rpc, 0.3):
                first = post_program(buyer, 1)
                wait_watching(lambda: machine.sim.job is not None and machine.sim.job.started_at is not None,
                              "the first program running on the machine", node, watcher, STALL_S)
                assert machine.sim.job is not None and machine.sim.job.identifier == f"fabmesh-{first.order_id}"
                machine.raise_alarm("Spindle overload on axis Z")
                error = wait_job_failed(node, watcher, first.order_id, STALL_S)
                assert error.endswith(f"order {first.order_id}: machine alarm: Spindle overload on axis Z")
                machine.reset(job_s=1.0)  # the operator clears the alarm
                second = post_program(buyer, 2)
                wait_paid(chain, node, watcher, second.order_id, STALL_S)
            assert node.terminate() == 0
        finally:
            node.kill()
        program = machine.sim.job.program if machine.sim.job else b""
    assert hashlib.sha256(program).digest() == second.design.plaintext_sha256  # the buyer's program, decrypted
    report = shipped_report(chain, kubo.api_url, second.order_id)
    assert report.passed and report.checks[0].name == "bore_d"
    assert report.checks[0].measured == pytest.approx(10.015) and report.checks[0].within
    assert report.other_measurements == {"parts_produced": 2.0}
    assert report.notes == f"machine ended job fabmesh-{second.order_id}: 2 of 2 parts"
    assert [e.name for e in report.evidence] == ["machine.json"]
    assert "Traceback" not in node.log_path.read_text()


def test_a_login_the_machine_refuses_stops_the_node_at_start_in_one_line(chain, anvil, kubo, dev_accounts,
                                                                          deployments_dir, tmp_path) -> None:
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    (maker.root / "machine-password.txt").write_text("not the password\n")

    def run_once(endpoint: str) -> subprocess.CompletedProcess:
        return run_node_once(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                             processes=["CNC_MILLING"], materials=["AL_6061"],
                             production=f'adapter = "opcua"\nendpoint = "{endpoint}"\nusername = "fabmesh"\n'
                                        'password_file = "machine-password.txt"')

    with MachineServer(credentials=("fabmesh", "op-secret")) as machine:
        last = fatal_line(run_once(machine.endpoint))
    assert last.startswith("error: ") and last.endswith("the machine answered BadUserAccessDenied"), last
    with held_port() as port:  # a machine that is off is no reason not to start: it is needed at the first job
        result = run_once(f"opc.tcp://127.0.0.1:{port}/machine")
    assert result.returncode == 0, result.stderr
