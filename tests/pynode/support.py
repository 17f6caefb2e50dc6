"""Helpers shared by pynode integration tests (common fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil
from eth_utils import keccak

from harness import BuyerSide, NodeProcess, node_command, write_config
from pynode.chain.contracts import OrderOutOfSync
from pynode.chain.orders import CERT, MATERIAL, PROCESS, make_docs, make_spec, make_terms
from pynode.dev.paths import CHECKOUT
from pynode.documents.quality_report import QualityReport, parse_report
from pynode.ipfs.cid import report_cid
from pynode.ipfs.client import IpfsClient
from pynode.orders.buyer import OrderRequest, PostedOrder
from pynode.orders.watch import OrderWatcher
from pynode.protocol.types import Status

PRICE = 10**17
BOND = 10**16


def deploy_test_token(chain, admin, holder, contract: str = "TestERC20", amount: int = 10**21):
    """A test ERC-20 of contracts/test/ (TestERC20: 18 decimals, SixDecimalERC20: 6), allow-listed by the
    book's governance, `amount` minted to `holder` (anvil's accounts are unlocked)."""
    artifact = json.loads((CHECKOUT / "build" / "contracts" / f"{contract}.json").read_text())
    factory = chain.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = chain.w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": admin.address}))
    token = chain.w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])
    chain.w3.eth.wait_for_transaction_receipt(token.functions.mint(holder.address, amount).transact(
        {"from": admin.address}))
    chain.send(admin, chain.book.set_token_allowed(token.address, True))
    return token


def observed_status(chain, order_id: int) -> Status | None:
    """The order's status as a test polls it while miners and nodes write; None while the head's logs are
    not indexed yet (anvil under load lags longer than load_order's re-reads): asked again next poll."""
    try:
        return chain.book.load_order(order_id, chain.from_block).status
    except OrderOutOfSync:
        return None


# the statuses an order passes on its way to paid, in order: how far it has come is its index here
TO_PAID = (Status.OPEN, Status.CLAIMED, Status.AWARDED, Status.IN_PRODUCTION, Status.SHIPPED, Status.COMPLETED,
           Status.PAID)


def paid_count(chain, orders: Iterable[int]) -> int:
    return sum(observed_status(chain, i) == Status.PAID for i in orders)


def steps_to_paid(chain, orders: Iterable[int]) -> int:
    """Steps the orders have taken on the way to paid, summed (len(TO_PAID) - 1 each once paid)."""
    return sum(TO_PAID.index(s) for i in orders if (s := observed_status(chain, i)) in TO_PAID)


class Stall:
    """Fails a long wait on a stall, not on a slow machine: a measure of progress must grow within every
    `stall_s` seconds, however long the whole takes (a total budget failed on a busy machine at 49/50 paid)."""

    def __init__(self, stall_s: float, what: str) -> None:
        self.stall_s, self.what = stall_s, what
        self.best: int | None = None
        self.since = time.monotonic()

    def check(self, progress: int, detail: Callable[[], str] = str) -> None:
        """Notes `progress`; AssertionError once it has not grown for `stall_s` seconds (`detail()` is added)."""
        if self.best is None or progress > self.best:
            self.best, self.since = progress, time.monotonic()
        assert time.monotonic() - self.since < self.stall_s, \
            f"{self.what}: stuck at {self.best} for {self.stall_s:g}s; {detail()}"


def wait_progressing(progress: Callable[[], int], target: int, *, stall_s: float, what: str,
                     interval: float = 0.25, detail: Callable[[], str] = str) -> None:
    """Polls `progress()` until it reaches `target`, failing only when it stops growing for `stall_s` seconds."""
    stall = Stall(stall_s, f"{what} ({target} wanted)")
    while (done := progress()) < target:
        stall.check(done, detail)
        time.sleep(interval)


def left_behind(pids: Iterable[int | None], ports: Iterable[int]) -> list[str]:
    """What stopped processes left: a live process of their sessions (each was its session's leader), or a
    socket of this test's process tree still listening on one of `ports`. Another program listening on a
    port number that was ours is no leftover: the OS hands a freed port to anyone who asks, at any time."""
    sessions, wanted = {pid for pid in pids if pid}, set(ports)
    found = []
    for process in psutil.process_iter(["pid", "name", "status"]):
        try:
            if os.getsid(process.pid) in sessions and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(f"process {process.pid} ({process.info['name']}) of session {os.getsid(process.pid)}")
        except (ProcessLookupError, PermissionError):  # gone meanwhile, or not ours to ask
            continue
    ours = {os.getpid(), *(child.pid for child in psutil.Process().children(recursive=True))}
    found += [f"{c.laddr.ip}:{c.laddr.port} listened on by process {c.pid}"
              for c in psutil.net_connections("tcp")
              if c.status == psutil.CONN_LISTEN and c.laddr.port in wanted and c.pid in ours]
    return found


def chain_now(chain) -> int:
    return chain.w3.eth.get_block("latest")["timestamp"]


def ready_maker(chain, dev_accounts):
    """Registers `maker` (X25519 key), has it vetted and ISO 9001 certified; returns its account."""
    maker, certifier = dev_accounts["maker"], dev_accounts["certifier"]
    profile = (PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], b"u33d".ljust(8, b"\0"), 100, keccak(b"profile"))
    chain.send(maker, chain.registry.register(profile, b"\x01" + b"\x11" * 32, chain.registry.min_bond()))
    chain.send(certifier, chain.registry.vet(maker.address, keccak(b"audit")))
    chain.send(certifier, chain.registry.certify(maker.address, CERT["ISO_9001"], chain_now(chain) + 365 * 86400,
                                                 keccak(b"cert")))
    return maker


def post_order(chain, buyer, cert_ids=()):
    """Posts a CNC/AL_6061 order with placeholder documents; returns (order id, SentTx)."""
    docs = make_docs(7)
    spec = make_spec(docs, cert_ids=cert_ids)
    terms = make_terms(buyer.address, spec, price=PRICE, claim_bond=BOND, claim_deadline=chain_now(chain) + 86400,
                       delivery_deadline=chain_now(chain) + 7 * 86400)
    sent = chain.send(buyer, chain.book.post(terms, spec, docs))
    return chain.book.order_count(), sent


def cli_buyer(chain, kubo_api: str, account, tmp_path):
    """A buyer whose wallet the CLI opens (``tmp_path/buyer-home``: keystore and HPKE key "buyer", password "pw"
    in ``tmp_path/pw``), posting through a BuyerSide that shares its HPKE key and design-key store."""
    from pynode.orders.buyer import Buyer
    from pynode.orders.design_keys import DesignKeyStore
    from pynode.wallet.hpke_keys import HpkeKeyStore
    from pynode.wallet.keystore import Keystore

    home = tmp_path / "buyer-home"
    Keystore(home / "keystores", 1024).create("buyer", "pw", private_key=bytes(account.key))
    keypair = HpkeKeyStore(home / "hpke", 1024).create("buyer", "pw", pq=False)
    (tmp_path / "pw").write_text("pw\n")
    side = BuyerSide(chain, kubo_api, account, tmp_path / "buyer")
    side.buyer = Buyer(chain, side.vault, DesignKeyStore(home / "design-keys", side.ipfs), account)
    side.keypair = keypair
    return home, side


# -- a node's JSON log and journal, read back by the daemon tests


def events(node: NodeProcess, name: str) -> list[dict]:
    text = node.log_path.read_text(errors="replace")
    lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]  # the last one may be half written
    return [record for record in map(json.loads, filter(None, lines)) if record["event"] == name]


def claim_rows(node: NodeProcess, order_id: int) -> list[tuple[str, str]]:
    with sqlite3.connect(node.home.db_path) as db:
        return db.execute("SELECT status, tx_hash FROM actions WHERE order_id = ? AND kind = 'claim'",
                          (order_id,)).fetchall()


def post_design(buyer: BuyerSide, design: Path, *, process: str, material: str, quantity: int = 1,
                tolerances: dict | None = None) -> PostedOrder:
    """A buyer's ETH order for `design` on the buyer's chain: a day to claim, a week to deliver."""
    now = buyer.chain.w3.eth.get_block("latest")["timestamp"]
    request = OrderRequest(design=design, process=process, material=material, quantity=quantity, price=10**15,
                           claim_deadline=now + 86400, delivery_deadline=now + 7 * 86400,
                           inspection_window=3 * 86400, claim_bond=10**14, region="u33d", certifications=(),
                           tolerances=tolerances or {})
    return buyer.buyer.post(request, buyer.keypair.public_key)


def wait_watching(check: Callable[[], object], what: str, node: NodeProcess, watcher: OrderWatcher,
                  timeout: float) -> None:
    """Until `check()` holds, the buyer's watcher cycling meanwhile and the node alive."""
    deadline = time.monotonic() + timeout
    while not check():
        watcher.cycle()
        assert node.running(), node.log_tail()
        assert time.monotonic() < deadline, f"{what}: {node.log_tail()}"
        time.sleep(0.2)


def wait_job_failed(node: NodeProcess, watcher: OrderWatcher, order_id: int, timeout: float) -> str:
    """Until the node logs ``job_failed`` for the order (the watcher cycling meanwhile): its one-line error."""
    def failed() -> list[str]:
        return [event["error"] for event in events(node, "job_failed") if event["order_id"] == order_id]

    wait_watching(failed, f"order {order_id}'s job failed", node, watcher, timeout)
    return failed()[0]


def wait_paid(chain, node: NodeProcess, watcher: OrderWatcher, order_id: int, stall_s: float) -> None:
    """Until the order is paid, the watcher cycling, the node alive and no step taking longer than ``stall_s``."""
    def steps() -> int:
        watcher.cycle()
        assert node.running(), node.log_tail()
        return steps_to_paid(chain, [order_id])

    wait_progressing(steps, len(TO_PAID) - 1, stall_s=stall_s, what="steps to paid", detail=node.log_tail)


def shipped_report(chain, kubo_api: str, order_id: int) -> QualityReport:
    """The quality report the order was shipped with, read from Kubo by the CID and hash on chain."""
    shipped = next(log for log in chain.book.logs(("OrderShipped",), from_block=chain.from_block)
                   if log.args["orderId"] == order_id)
    cid = report_cid(bytes(shipped.args["reportCid"]), bytes(shipped.args["reportHash"]))
    return parse_report(IpfsClient(kubo_api).cat_bytes(cid, max_size=1 << 20))


def run_node_once(home, **config) -> subprocess.CompletedProcess:
    """`fabmesh node run --once` from the node's folder (on a node.toml written from ``config`` when given):
    the exit status and the output."""
    if config:
        write_config(home, **config)
    return subprocess.run(node_command(home.config_path, once=True), capture_output=True, text=True, timeout=120,
                          cwd=home.root, env=dict(os.environ))


def fatal_line(result: subprocess.CompletedProcess) -> str:
    """The one line a node stopped by a fatal error ends with: exit 1, no traceback."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]
