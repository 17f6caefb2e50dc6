"""Must-show 2: 50 orders, the daemon SIGKILLed at random moments (>= 10 kills) and restarted.

Afterwards every order is paid exactly once on chain, the maker's account mined
exactly one transaction per (order, action) -- no duplicate and no reverted
ones -- the actions journal has nothing in flight, every job is done and the
work dir holds no partial file and no decrypted design.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter

import pytest

from harness import BuyerSide, Miner, NodeProcess, Repeating, make_partner, wait_for, write_config
from pynode.chain.orders import OrderTracker, order_hash
from pynode.orders.watch import AwardPolicy, OrderWatcher
from pynode.protocol.types import Status
from support import Stall, events, observed_status, paid_count

# own_chain: whole jobs mined by a Miner thread while the node is killed; the shared chain's snapshot reverts
# would rewrite the history the node and the checks read
pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

ORDERS = 50
MIN_KILLS = 10
STALL_S = 120  # longest wait for the next payment before the node counts as stuck


def maker_transactions(chain, maker: str) -> list[tuple[str, int, int]]:
    """(function, order id, receipt status) of every tx the maker sent to the order book."""
    out = []
    for number in range(chain.from_block, chain.w3.eth.block_number + 1):
        block = chain.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if tx["from"] != maker or tx["to"] != chain.book.address:
                continue
            function, args = chain.book.contract.decode_function_input(tx["input"])
            status = chain.w3.eth.get_transaction_receipt(tx["hash"])["status"]
            out.append((function.fn_name, int(args["orderId"]), status))
    return out


def unpaid_detail(chain, orders: list[int], db_path, watcher: OrderWatcher, retries: dict[int, str]) -> str:
    """Each order the test does not see paid: its status at the head (None: out of sync), what its events
    alone say and whether they hash to the commitment, the node's job and journal for it, and the watcher's view."""
    lines = []
    with sqlite3.connect(db_path) as db:
        for order_id in orders:
            status = observed_status(chain, order_id)
            if status == Status.PAID:
                continue
            head = chain.w3.eth.block_number
            tracker = OrderTracker(order_id)
            for log in chain.book.order_logs(order_id, chain.from_block, head):
                tracker.apply(log.event, log.args)
            synced = order_hash(tracker.order) == chain.book.order_hash(order_id, head)
            job = db.execute("SELECT state, attempts, last_error FROM jobs WHERE order_id = ?", (order_id,)).fetchone()
            actions = db.execute("SELECT kind, status FROM actions WHERE order_id = ? ORDER BY id",
                                 (order_id,)).fetchall()
            known = watcher.orders._orders.get(order_id)
            lines.append(f"order {order_id}: observed {status!r}, events say {tracker.status!r} (hash "
                         f"{'matches' if synced else 'differs'} at {head}), job {job}, actions {actions}, watcher "
                         f"{'unknown' if known is None else known.tracker.status!r} dirty={order_id in watcher._dirty} "
                         f"done={order_id in watcher._done}, last retry {retries.get(order_id)}")
    return "\n".join(lines)


def test_sigkilled_daemon_completes_every_order_exactly_once(chain, anvil, kubo, dev_accounts, deployments_dir,
                                                             tmp_path):
    rng = random.Random(20261122)
    maker = make_partner(chain, dev_accounts["certifier"], dev_accounts["maker"], tmp_path / "maker", "maker",
                         processes=["CNC_MILLING"], materials=["AL_6061"])
    write_config(maker, rpc_urls=[anvil.rpc_url], ipfs_api=kubo.api_url, deployments=deployments_dir,
                 processes=["CNC_MILLING"], materials=["AL_6061"], confirmations=1, duration_s=0.3,
                 poll_interval_s=0.2)
    buyer = BuyerSide(chain, kubo.api_url, dev_accounts["buyer"], tmp_path / "buyer")
    orders = [buyer.post(i).order_id for i in range(ORDERS)]

    retries: dict[int, str] = {}  # the watcher's last retried error per order, for a stall's message

    def note(event: str, *, order_id: int = 0, error: str = "", **_: object) -> None:
        if event == "watch_retry":
            retries[order_id] = error

    watcher = OrderWatcher(buyer.buyer, buyer.keypair, AwardPolicy(auto_award=True, auto_confirm=True), log=note)
    node = NodeProcess(maker)
    kills = 0
    with Miner(anvil.rpc, 0.3), Repeating(watcher.cycle, 0.2, "buyer") as watching:
        try:
            node.start().wait_connected()

            stall = Stall(STALL_S, f"orders paid of {ORDERS}")  # some order must get paid every STALL_S seconds
            while kills < MIN_KILLS or (done := paid_count(chain, orders)) < ORDERS:
                time.sleep(rng.uniform(0.05, 2.0) if kills < MIN_KILLS else 1.0)
                if kills < MIN_KILLS:
                    node.kill()  # at a random moment of its work: it is connected and busy
                    kills += 1
                    node.start().wait_connected()
                    continue
                if not node.running():
                    pytest.fail(f"node exited: {node.log_tail()}")
                stall.check(done, lambda: f"{watching.failures()}\n"
                                          f"{unpaid_detail(chain, orders, maker.db_path, watcher, retries)}\n"
                                          f"{node.log_tail()}")

            def all_done() -> bool:
                with sqlite3.connect(maker.db_path) as db:
                    states = Counter(s for (s,) in db.execute("SELECT state FROM jobs"))
                return states == Counter({"done": ORDERS})

            wait_for(all_done, timeout=30, what="every job done")
            assert node.terminate() == 0, node.log_tail()
        finally:
            node.kill()

    assert kills >= MIN_KILLS and node.starts == kills + 1
    txs = maker_transactions(chain, maker.account.address)
    per_action = Counter((fn, order_id) for fn, order_id, _ in txs)
    duplicates = {key: n for key, n in per_action.items() if n > 1}
    assert not duplicates, duplicates
    assert all(status == 1 for _, _, status in txs), [t for t in txs if t[2] != 1]
    for order_id in orders:
        assert {fn for fn, oid, _ in txs if oid == order_id} == {"claim", "startProduction", "attest", "ship",
                                                                  "withdrawPayment"}
    paid_events = chain.book.logs(("PaymentWithdrawn",), from_block=chain.from_block)
    assert sorted(int(e.args["orderId"]) for e in paid_events) == sorted(orders)
    # a job is stored COMPLETED before its withdrawal is planned, so whichever run saw it paid moved it on from
    # there (a kill may lose a log line, never change the order of the commits)
    done = [e for e in events(node, "job_state") if e["state"] == "done"]
    assert done and {e["previous"] for e in done} == {"completed"}, done

    with sqlite3.connect(maker.db_path) as db:
        assert db.execute("SELECT count(*) FROM actions WHERE status IN ('planned', 'sent')").fetchone()[0] == 0
    leftovers = [p for p in maker.work_dir.rglob("*")
                 if p.name.startswith(".") or p.suffix == ".partial" or p.parent.name == "design"]
    assert not leftovers, leftovers
    assert not list((maker.work_dir / "adapter").glob("*.json"))
