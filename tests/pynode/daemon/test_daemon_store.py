"""Store: WAL, schema versions, checkpoints and block hashes, jobs, the actions journal, SIGKILL safety."""

from __future__ import annotations

import select
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from pynode.core.errors import FatalError, InputError
from pynode.daemon.store import SCHEMA_VERSION, ActionStatus, JobState, Store, database
from pynode.daemon.store.schema import MIGRATIONS, statements


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "node.sqlite") as opened:
        yield opened


def test_wal_mode_and_schema_version(store: Store) -> None:
    assert store.journal_mode == "wal"
    assert store.schema_version == SCHEMA_VERSION
    assert store.last_seen() is None and store.last_processed() is None


def test_a_future_schema_version_is_refused(tmp_path: Path) -> None:
    Store(tmp_path / "db").close()
    with sqlite3.connect(tmp_path / "db") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(FatalError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        Store(tmp_path / "db")


def v1_database(path: Path) -> None:
    """A node database as fabmesh with schema version 1 left it: a shipped job (maybe completed on chain) and a
    claimed one, neither flagged."""
    with closing(sqlite3.connect(path)) as db, db:
        for statement in statements(MIGRATIONS[0]):
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        for order_id, state in ((3, "shipped"), (4, "claimed")):
            db.execute("INSERT INTO jobs (order_id, state, order_json, created_at, updated_at, updated_block) "
                       "VALUES (?, ?, '{\"ship_tx\":\"0x01\"}', 1.0, 2.0, 40)", (order_id, state))


def test_a_v1_database_upgrades_and_its_shipped_jobs_are_read_again(tmp_path: Path) -> None:
    v1_database(tmp_path / "db")
    with Store(tmp_path / "db") as store:
        assert store.schema_version == SCHEMA_VERSION >= 2
        shipped, claimed = store.get_job(3), store.get_job(4)
        assert shipped is not None and claimed is not None
        assert (shipped.state, shipped.order, shipped.updated_block) == (JobState.SHIPPED, {"ship_tx": "0x01"}, 40)
        assert [j.order_id for j in store.jobs_needing_refresh()] == [3]  # v1 stored a completed order as shipped
        store.upsert_job(3, JobState.COMPLETED)  # what the first cycle does if the chain says completed
        assert store.jobs_needing_refresh() == [] and [j.order_id for j in store.active_jobs()] == [3, 4]
    with Store(tmp_path / "db") as store:  # the migration ran once: reopening flags nothing again
        assert store.schema_version == SCHEMA_VERSION and store.jobs_needing_refresh() == []


def test_an_older_fabmesh_refuses_a_v2_database_and_leaves_it_alone(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(tmp_path / "db") as store:
        store.upsert_job(3, JobState.COMPLETED, {"n": 1})
    monkeypatch.setattr(database, "MIGRATIONS", MIGRATIONS[:1])  # what a v1 fabmesh knows
    monkeypatch.setattr(database, "SCHEMA_VERSION", 1)
    newer = rf"schema version {SCHEMA_VERSION}, newer than this fabmesh understands \(1\): upgrade fabmesh"
    with pytest.raises(FatalError, match=newer) as refused:
        Store(tmp_path / "db")
    assert "\n" not in str(refused.value)
    monkeypatch.undo()
    with Store(tmp_path / "db") as store:
        job = store.get_job(3)
        assert store.schema_version == SCHEMA_VERSION and job is not None and job.state is JobState.COMPLETED


def test_foreign_sqlite_and_garbage_files_are_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "other") as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(FatalError, match="not a fabmesh node database"):
        Store(tmp_path / "other")
    (tmp_path / "garbage").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FatalError, match="cannot open"):
        Store(tmp_path / "garbage")


def test_reopening_keeps_everything(tmp_path: Path) -> None:
    with Store(tmp_path / "db") as first, first.transaction():
        first.upsert_job(7, JobState.SEEN, {"price": 10**30, "cid": b"\x01\x02"}, block=5)
        first.advance(5, {5: "0xaa"})
    with Store(tmp_path / "db") as second:
        assert second.last_processed() == 5 and second.known_blocks() == {5: "0xaa"}
        job = second.get_job(7)
        assert job is not None and job.order == {"price": 10**30, "cid": "0x0102"} and job.updated_block == 5


def test_advance_keeps_the_newest_hashes_and_never_goes_back(tmp_path: Path) -> None:
    with Store(tmp_path / "db", keep_blocks=4) as store:
        store.advance(3, {1: "0x01", 3: "0x03"})
        store.advance(9, {n: f"0x{n:02x}" for n in range(5, 10)})
        assert store.known_blocks() == {6: "0x06", 7: "0x07", 8: "0x08", 9: "0x09"}
        assert store.last_processed() == 9 and store.last_seen() == 9
        with pytest.raises(FatalError, match="rewind"):
            store.advance(8)
        with pytest.raises(FatalError, match="above the checkpoint"):
            store.advance(10, {11: "0x11"})
        store.note_seen(20)
        store.note_seen(15)  # never lowers
        assert store.last_seen() == 20 and store.last_processed() == 9


def test_rewind_drops_hashes_lowers_checkpoints_and_flags_jobs(store: Store) -> None:
    store.upsert_job(1, JobState.CLAIMED, {"n": 1}, block=4)
    store.upsert_job(2, JobState.CLAIMED, {"n": 2}, block=8)
    store.upsert_job(3, JobState.SEEN, {"n": 3})
    store.advance(10, {4: "0x04", 8: "0x08", 10: "0x10"})
    store.note_seen(12)
    assert store.rewind(5) == [2]
    assert store.known_blocks() == {4: "0x04"}
    assert store.last_processed() == 5 and store.last_seen() == 5
    assert [j.order_id for j in store.jobs_needing_refresh()] == [2]
    store.upsert_job(2, JobState.LOST, block=6)  # re-derived from the chain
    assert store.jobs_needing_refresh() == []


def test_a_failed_transaction_changes_nothing(store: Store) -> None:
    store.upsert_job(1, JobState.SEEN, {"n": 0})
    store.advance(1)
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_job(1, JobState.CLAIMING, {"n": 1}, block=2)
        with store.transaction():  # nested joins the outer one
            store.advance(2, {2: "0x02"})
        raise RuntimeError("crash while applying")
    job = store.get_job(1)
    assert job is not None and job.state is JobState.SEEN and job.order == {"n": 0}
    assert store.last_processed() == 1 and store.known_blocks() == {}


def test_jobs_states_errors_and_counts(store: Store) -> None:
    with pytest.raises(InputError, match="terms are needed"):
        store.upsert_job(5, JobState.SEEN)
    with pytest.raises(ValueError):
        store.upsert_job(5, "nonsense", {})
    with pytest.raises(InputError):
        store.upsert_job(-1, JobState.SEEN, {})
    store.upsert_job(5, JobState.PRODUCING, {"a": 1})
    store.upsert_job(6, JobState.SKIPPED, {"a": 2})
    store.upsert_job(7, JobState.COMPLETED, {"a": 3})  # completed on chain: still ours to withdraw
    job = store.record_job_error(5, "adapter exploded", retry_at=123.0)
    assert (job.attempts, job.last_error, job.next_attempt_at) == (1, "adapter exploded", 123.0)
    assert store.record_job_error(5, "again").attempts == 2
    job = store.upsert_job(5, JobState.REPORTING)
    assert (job.attempts, job.last_error, job.order) == (0, None, {"a": 1})
    assert [j.order_id for j in store.active_jobs()] == [5, 7]
    assert [j.order_id for j in store.jobs([JobState.SKIPPED])] == [6]
    counts = store.count_by_state()
    assert counts["reporting"] == 1 and counts["skipped"] == 1 and counts["completed"] == 1 and counts["done"] == 0
    assert counts["shipped"] == 0


def test_an_upsert_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    ticks = iter(range(100))
    with Store(tmp_path / "db", clock=lambda: float(next(ticks))) as store:
        first = store.upsert_job(5, JobState.SHIPPED, {"a": 1, "cid": b"\x01"})
        written = store._db.total_changes
        for again in (store.upsert_job(5, JobState.SHIPPED, {"cid": b"\x01", "a": 1}),  # same JSON, keys reordered
                      store.upsert_job(5, JobState.SHIPPED)):
            assert again == first and store._db.total_changes == written
        assert store.upsert_job(5, JobState.SHIPPED, {"a": 2}).updated_at > first.updated_at  # a new order
        assert store.upsert_job(5, JobState.SHIPPED, block=9).updated_block == 9  # a block to rewind by
        assert store.upsert_job(5, JobState.DONE).state is JobState.DONE
        store.rewind(8)  # flags the job: the next upsert, unchanged or not, clears the flag
        assert store.jobs_needing_refresh() != [] and store.upsert_job(5, JobState.DONE).needs_refresh is False
        assert store.jobs_needing_refresh() == []


def test_jobs_are_counted_by_state_and_a_number_in_their_order(store: Store) -> None:
    for key, (state, order) in enumerate([(JobState.SEEN, {"q": {"e": 5}}), (JobState.SEEN, {"q": {"e": 9}}),
                                          (JobState.SEEN, {"q": None}), (JobState.SEEN, {}),
                                          (JobState.AWARDED, {"q": {"e": 9}}), (JobState.DONE, {})]):
        store.upsert_job(key, state, order)
    assert store.count([JobState.SEEN]) == 4 and store.count([JobState.SEEN, JobState.AWARDED]) == 5
    assert [store.count([JobState.SEEN], at_least=("$.q.e", n)) for n in (4, 5, 6, 9, 10)] == [2, 2, 1, 1, 0]
    assert store.count([]) == 0


def test_actions_journal_survives_a_restart_and_is_never_doubled(tmp_path: Path) -> None:
    with Store(tmp_path / "db") as store:
        planned = store.plan_action(9, "claim", nonce=4)
        assert planned.status is ActionStatus.PLANNED and planned.nonce == 4
        assert store.plan_action(9, "claim").id == planned.id  # in flight: the same row
        store.mark_sent(planned.id, "0xABC", raw_tx="0xf86b")
    with Store(tmp_path / "db") as store:  # "restart": find the sent tx instead of re-sending
        (pending,) = store.actions(pending=True)
        assert (pending.status, pending.tx_hash, pending.raw_tx, pending.nonce) == ("sent", "0xABC", "0xf86b", 4)
        assert store.action_by_tx("0xabc").id == pending.id
        mined = store.mark_mined(pending.id, 77, tx_hash="0xdef")  # a fee-bumped replacement got in
        assert (mined.status, mined.block_number, mined.tx_hash) == ("mined", 77, "0xdef")
        with pytest.raises(InputError, match="cannot become"):
            store.mark_failed(pending.id, "late")
        assert store.actions(pending=True) == []
        second = store.plan_action(9, "claim")  # done with the first: a new one may be planned
        assert second.id != pending.id
        store.mark_failed(second.id, "reverted: OrderNotOpen")
        assert [a.status for a in store.actions(9)] == ["mined", "failed"]
        with pytest.raises(InputError):
            store.mark_sent(12345, "0x1")


def test_one_in_flight_action_per_order_and_kind_is_enforced_by_the_schema(store: Store) -> None:
    store.plan_action(1, "ship")
    with pytest.raises(sqlite3.IntegrityError):
        store._db.execute("INSERT INTO actions (order_id, kind, status, created_at, updated_at) "
                          "VALUES (1, 'ship', 'planned', 0, 0)")


# --- SIGKILL at any moment -------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from pynode.daemon.store import JobState, Store
store = Store(Path(sys.argv[1]))
mode = sys.argv[2]
i = store.last_processed() or 0
if mode == "hang":
    with store.transaction():
        store.upsert_job(1, JobState.PRODUCING, {"i": i + 1}, block=i + 1)
        print("inside", flush=True)
        time.sleep(60)
        store.advance(i + 1, {i + 1: hex(i + 1)})
first = True
while True:
    i += 1
    with store.transaction():
        store.upsert_job(1, JobState.SEEN if i % 2 else JobState.CLAIMED, {"i": i, "pad": "x" * 2000}, block=i)
        store.plan_action(1, f"k{i}")
        store.advance(i, {i: hex(i)})
    if first:
        print("started", flush=True)
        first = False
"""


def consistent_state(path: Path) -> int:
    with Store(path) as store:
        done = store.last_processed()
        job = store.get_job(1)
        if done is None:
            assert job is None
            return 0
        assert job is not None and job.order["i"] == done and job.updated_block == done
        assert job.state == (JobState.SEEN if done % 2 else JobState.CLAIMED)
        assert max(store.known_blocks()) == done
        assert len(store.actions()) == done
        return done


def spawn(path: Path, mode: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), mode], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], 30)
    if not ready:
        child.kill()
        child.wait()
        pytest.fail("the writer process did not start")
    child.stdout.readline()
    return child


def test_sigkill_inside_a_transaction_leaves_neither_update(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite"
    with Store(path) as store:
        store.upsert_job(1, JobState.CLAIMED, {"i": 0}, block=0)
        store.advance(0, {0: "0x0"})
    child = spawn(path, "hang")  # returns once the job row is written but not committed
    child.send_signal(signal.SIGKILL)
    child.wait()
    with Store(path) as store:
        job = store.get_job(1)
        assert store.last_processed() == 0 and job is not None and job.order == {"i": 0} and job.state == "claimed"
    assert consistent_state(path) == 0


def test_sigkill_at_random_moments_keeps_jobs_and_checkpoint_together(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite"
    progress = []
    for delay in (0.05, 0.17, 0.31, 0.02, 0.23):
        child = spawn(path, "loop")
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        progress.append(consistent_state(path))
    assert progress == sorted(progress) and progress[-1] > 5
