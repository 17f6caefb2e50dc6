"""The node's durable state: one SQLite file in WAL mode, safe to SIGKILL at any moment.

Why SQLite: a transaction is atomic across tables, so "apply the events of
blocks a..b" and "last_processed = b" commit together or not at all; a node
killed mid-way restarts from the old checkpoint and re-applies the same
blocks (applying is idempotent: it is keyed by order id). WAL lets the metrics
thread read while the loop writes, and ``synchronous=FULL`` makes a commit
durable before we act on it (the actions journal is written *before* a tx is
sent, so it must survive a power cut too).

Tables (schema version in ``PRAGMA user_version``):

* ``checkpoints``: ``last_seen`` (highest block fetched/observed) and
  ``last_processed`` (highest block whose events are fully applied).
* ``blocks``: number -> hash of recently processed blocks (the newest
  ``keep_blocks``) for reorg detection.
* ``jobs``: one row per order the node cares about.
* ``actions``: idempotency journal of on-chain actions (planned -> sent -> mined | failed).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pynode.core.errors import FatalError, InputError

SCHEMA_VERSION = 1
KEEP_BLOCKS = 256
MAX_SQLITE_INT = (1 << 63) - 1

_SCHEMA = """
CREATE TABLE checkpoints (
    name       TEXT PRIMARY KEY CHECK (name IN ('last_seen', 'last_processed')),
    block      INTEGER NOT NULL CHECK (block >= -1),
    updated_at REAL NOT NULL
);
CREATE TABLE blocks (
    number INTEGER PRIMARY KEY,
    hash   TEXT NOT NULL
);
CREATE TABLE jobs (
    order_id        INTEGER PRIMARY KEY,
    state           TEXT NOT NULL,
    order_json      TEXT NOT NULL,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    updated_block   INTEGER,
    needs_refresh   INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_updated_block ON jobs (updated_block);
CREATE TABLE actions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id     INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('planned', 'sent', 'mined', 'failed')),
    nonce        INTEGER,
    tx_hash      TEXT,
    raw_tx       TEXT,
    block_number INTEGER,
    error        TEXT,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
-- at most one action in flight per (order, kind): a restart finds it instead of planning a second one
CREATE UNIQUE INDEX actions_in_flight ON actions (order_id, kind) WHERE status IN ('planned', 'sent');
CREATE INDEX actions_tx_hash ON actions (tx_hash);
"""


class JobState(StrEnum):
    """The node's view of an order (not the contract's OrderStatus: ours includes local work)."""

    SEEN = "seen"  # posted, not yet evaluated against policy
    SKIPPED = "skipped"  # policy says no
    CLAIMING = "claiming"  # claim tx planned/sent
    CLAIMED = "claimed"  # our claim is on chain, waiting for the award
    LOST = "lost"  # someone else claimed or was awarded
    AWARDED = "awarded"  # ours: fetch the design
    PRODUCING = "producing"  # handed to the production adapter
    REPORTING = "reporting"  # result in, attestation/shipping txs going out
    SHIPPED = "shipped"  # shipped on chain, waiting for the buyer / window
    DONE = "done"  # paid / finalized
    FAILED = "failed"  # gave up (see last_error)
    CLOSED = "closed"  # cancelled / refunded / resolved without us


TERMINAL_STATES = frozenset({JobState.SKIPPED, JobState.LOST, JobState.DONE, JobState.FAILED, JobState.CLOSED})


class ActionStatus(StrEnum):
    PLANNED = "planned"
    SENT = "sent"
    MINED = "mined"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Job:
    order_id: int
    state: JobState
    order: dict[str, Any]
    created_at: float
    updated_at: float
    updated_block: int | None
    needs_refresh: bool
    attempts: int
    last_error: str | None
    next_attempt_at: float


@dataclass(frozen=True, slots=True)
class Action:
    id: int
    order_id: int
    kind: str
    status: ActionStatus
    nonce: int | None
    tx_hash: str | None
    raw_tx: str | None
    block_number: int | None
    error: str | None
    created_at: float
    updated_at: float


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a job's order JSON")


def to_json(value: Any) -> str:
    """Order/terms JSON as stored: bytes become 0x-hex, keys sorted (stable, diffable)."""
    return json.dumps(value, default=_json_default, sort_keys=True, separators=(",", ":"))


def _order_id(value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= MAX_SQLITE_INT:
        raise InputError(f"order id {value!r} is not an integer in [0, 2**63)")
    return value


class Store:
    """The node's SQLite state: one connection, used from the thread that opened it.

    Every method is atomic on its own; several calls inside ``with store.transaction():``
    commit together (or roll back together if the block raises or the process dies).
    """

    def __init__(self, path: Path, *, keep_blocks: int = KEEP_BLOCKS, clock=time.time) -> None:
        self.path = Path(path)
        self.keep_blocks = keep_blocks
        self._clock = clock
        self._depth = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, Python adds nothing implicit
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA busy_timeout = 30000")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise FatalError(f"{self.path}: SQLite refused WAL mode (got {mode}); is it on a network filesystem?")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise FatalError(f"{self.path}: cannot open the node database: {exc}") from exc

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self.transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise FatalError(f"{self.path} has schema version {version}, newer than this fabmesh "
                                 f"understands ({SCHEMA_VERSION}): upgrade fabmesh or use another work dir")
            if version == 0:
                if self._db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]:
                    raise FatalError(f"{self.path} is an SQLite file that is not a fabmesh node database")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            # future: `if version == 1: ...migrate to 2...`

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    @property
    def journal_mode(self) -> str:
        return self._db.execute("PRAGMA journal_mode").fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All writes inside commit together. Nested use joins the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        # IMMEDIATE: take the write lock now, so a concurrent writer fails here, not at COMMIT
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        self._depth = 0
        self._db.execute("COMMIT")

    def _now(self) -> float:
        return float(self._clock())

    # -- checkpoints --------------------------------------------------------

    def _checkpoint(self, name: str) -> int | None:
        row = self._db.execute("SELECT block FROM checkpoints WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def _set_checkpoint(self, name: str, block: int) -> None:
        self._db.execute(
            "INSERT INTO checkpoints (name, block, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET block = excluded.block, updated_at = excluded.updated_at",
            (name, block, self._now()))

    def last_seen(self) -> int | None:
        """Highest block fetched or observed (may be ahead of last_processed)."""
        return self._checkpoint("last_seen")

    def last_processed(self) -> int | None:
        """Highest block whose events are fully applied: resume from the next one."""
        return self._checkpoint("last_processed")

    def note_seen(self, block: int) -> None:
        """Raises last_seen to ``block`` (never lowers it; ``rewind`` does that)."""
        with self.transaction():
            current = self.last_seen()
            if current is None or block > current:
                self._set_checkpoint("last_seen", block)

    def advance(self, to_block: int, block_hashes: Mapping[int, str] = {}) -> None:  # the {} default is only read
        """Marks blocks up to ``to_block`` as applied and remembers their hashes.

        Call it inside the same ``transaction()`` as the job updates of those
        blocks. Refuses to go backwards (that is ``rewind``'s job).
        """
        with self.transaction():
            current = self.last_processed()
            if current is not None and to_block < current:
                raise FatalError(f"checkpoint would go back from {current} to {to_block}: use rewind()")
            if any(number > to_block for number in block_hashes):
                raise FatalError(f"block hashes above the checkpoint {to_block} would be recorded")
            self._db.executemany("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)",
                                 sorted(block_hashes.items()))
            self._set_checkpoint("last_processed", to_block)
            seen = self.last_seen()
            if seen is None or to_block > seen:
                self._set_checkpoint("last_seen", to_block)
            self._db.execute(
                "DELETE FROM blocks WHERE number NOT IN (SELECT number FROM blocks ORDER BY number DESC LIMIT ?)",
                (self.keep_blocks,))

    def known_blocks(self) -> dict[int, str]:
        """Stored (number -> hash) of recently processed blocks, for ``logs.find_fork``."""
        return {row[0]: row[1] for row in self._db.execute("SELECT number, hash FROM blocks ORDER BY number")}

    def rewind(self, to_block: int) -> list[int]:
        """Forgets everything above ``to_block`` after a reorg.

        Deletes stored hashes above it, lowers both checkpoints to it, and marks
        the jobs changed by a block above it ``needs_refresh`` (the daemon
        re-reads their state from the chain). Returns those order ids.
        """
        with self.transaction():
            self._db.execute("DELETE FROM blocks WHERE number > ?", (to_block,))
            for name in ("last_seen", "last_processed"):
                current = self._checkpoint(name)
                if current is not None and current > to_block:
                    self._set_checkpoint(name, to_block)
            touched = [row[0] for row in self._db.execute(
                "SELECT order_id FROM jobs WHERE updated_block > ? ORDER BY order_id", (to_block,))]
            self._db.execute("UPDATE jobs SET needs_refresh = 1, updated_at = ? WHERE updated_block > ?",
                             (self._now(), to_block))
            return touched

    # -- jobs ---------------------------------------------------------------

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        return Job(order_id=row["order_id"], state=JobState(row["state"]), order=json.loads(row["order_json"]),
                   created_at=row["created_at"], updated_at=row["updated_at"], updated_block=row["updated_block"],
                   needs_refresh=bool(row["needs_refresh"]), attempts=row["attempts"],
                   last_error=row["last_error"], next_attempt_at=row["next_attempt_at"])

    def upsert_job(self, order_id: int, state: JobState | str, order: Mapping[str, Any] | None = None, *,
                   block: int | None = None) -> Job:
        """Creates the job or moves it to ``state`` (replacing the order JSON if given).

        ``block`` is the block whose event caused the change (for reorg rewinds).
        A state change clears ``needs_refresh``, attempts and the last error.
        """
        state = JobState(state)
        order_id = _order_id(order_id)
        now = self._now()
        with self.transaction():
            existing = self.get_job(order_id)
            if existing is None:
                if order is None:
                    raise InputError(f"job {order_id} does not exist: its order terms are needed to create it")
                self._db.execute(
                    "INSERT INTO jobs (order_id, state, order_json, created_at, updated_at, updated_block) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (order_id, state.value, to_json(order), now, now, block))
            else:
                changed = state != existing.state
                self._db.execute(
                    "UPDATE jobs SET state = ?, order_json = ?, updated_at = ?, "
                    "updated_block = coalesce(?, updated_block), needs_refresh = 0, "
                    "attempts = CASE WHEN ? THEN 0 ELSE attempts END, "
                    "last_error = CASE WHEN ? THEN NULL ELSE last_error END, "
                    "next_attempt_at = CASE WHEN ? THEN 0 ELSE next_attempt_at END WHERE order_id = ?",
                    (state.value, to_json(order) if order is not None else to_json(existing.order), now, block,
                     changed, changed, changed, order_id))
            job = self.get_job(order_id)
            assert job is not None
            return job

    def get_job(self, order_id: int) -> Job | None:
        row = self._db.execute("SELECT * FROM jobs WHERE order_id = ?", (_order_id(order_id),)).fetchone()
        return None if row is None else self._job(row)

    def jobs(self, states: Iterable[JobState | str] | None = None) -> list[Job]:
        if states is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY order_id")
        else:
            wanted = [JobState(s).value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self._db.execute(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY order_id", wanted)
        return [self._job(row) for row in rows]

    def active_jobs(self) -> list[Job]:
        """Jobs not in a terminal state."""
        return self.jobs(s for s in JobState if s not in TERMINAL_STATES)

    def jobs_needing_refresh(self) -> list[Job]:
        return [self._job(r) for r in self._db.execute("SELECT * FROM jobs WHERE needs_refresh ORDER BY order_id")]

    def record_job_error(self, order_id: int, error: str, *, retry_at: float | None = None) -> Job:
        """Counts a failed attempt (state unchanged); ``retry_at`` defers the next one."""
        with self.transaction():
            self._db.execute(
                "UPDATE jobs SET attempts = attempts + 1, last_error = ?, updated_at = ?, next_attempt_at = ? "
                "WHERE order_id = ?", (error[:2000], self._now(), retry_at or 0, _order_id(order_id)))
            job = self.get_job(order_id)
            if job is None:
                raise InputError(f"job {order_id} does not exist")
            return job

    def count_by_state(self) -> dict[str, int]:
        counts = {state.value: 0 for state in JobState}
        for row in self._db.execute("SELECT state, count(*) FROM jobs GROUP BY state"):
            counts[row[0]] = row[1]
        return counts

    # -- actions journal ----------------------------------------------------

    @staticmethod
    def _action(row: sqlite3.Row) -> Action:
        return Action(id=row["id"], order_id=row["order_id"], kind=row["kind"], status=ActionStatus(row["status"]),
                      nonce=row["nonce"], tx_hash=row["tx_hash"], raw_tx=row["raw_tx"],
                      block_number=row["block_number"], error=row["error"], created_at=row["created_at"],
                      updated_at=row["updated_at"])

    def plan_action(self, order_id: int, kind: str, *, nonce: int | None = None) -> Action:
        """Journals an intended tx BEFORE it is signed/sent.

        If one for (order, kind) is already planned or sent, returns that one
        instead: the caller then resends or looks the tx up, never doubles it.
        """
        with self.transaction():
            existing = self.in_flight(order_id, kind)
            if existing is not None:
                return existing
            now = self._now()
            cursor = self._db.execute(
                "INSERT INTO actions (order_id, kind, status, nonce, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (_order_id(order_id), kind, ActionStatus.PLANNED.value, nonce, now, now))
            # after an INSERT lastrowid is set and names the row just written
            return self.get_action(cursor.lastrowid)  # type: ignore[arg-type, return-value]

    def mark_sent(self, action_id: int, tx_hash: str, *, nonce: int | None = None, raw_tx: str | None = None) -> Action:
        """Records the tx hash (and signed raw tx, to rebroadcast verbatim) once signed, before/at sending."""
        return self._update_action(action_id, {ActionStatus.PLANNED, ActionStatus.SENT}, ActionStatus.SENT,
                                   tx_hash=tx_hash, nonce=nonce, raw_tx=raw_tx)

    def mark_mined(self, action_id: int, block_number: int, *, tx_hash: str | None = None) -> Action:
        """The tx (or its replacement ``tx_hash``) is in a block."""
        return self._update_action(action_id, {ActionStatus.PLANNED, ActionStatus.SENT}, ActionStatus.MINED,
                                   block_number=block_number, tx_hash=tx_hash)

    def mark_failed(self, action_id: int, error: str) -> Action:
        return self._update_action(action_id, {ActionStatus.PLANNED, ActionStatus.SENT}, ActionStatus.FAILED,
                                   error=error[:2000])

    def _update_action(self, action_id: int, allowed_from: set[ActionStatus], status: ActionStatus,
                       **fields: Any) -> Action:
        with self.transaction():
            action = self.get_action(action_id)
            if action is None:
                raise InputError(f"action {action_id} does not exist")
            if action.status not in allowed_from:
                raise InputError(f"action {action_id} is {action.status}, cannot become {status}")
            sets = {k: v for k, v in fields.items() if v is not None}
            sets.update(status=status.value, updated_at=self._now())
            assignments = ", ".join(f"{name} = ?" for name in sets)
            self._db.execute(f"UPDATE actions SET {assignments} WHERE id = ?", (*sets.values(), action_id))
            return self.get_action(action_id)  # type: ignore[return-value]  # the row read above, updated

    def get_action(self, action_id: int) -> Action | None:
        row = self._db.execute("SELECT * FROM actions WHERE id = ?", (action_id,)).fetchone()
        return None if row is None else self._action(row)

    def in_flight(self, order_id: int, kind: str) -> Action | None:
        row = self._db.execute("SELECT * FROM actions WHERE order_id = ? AND kind = ? AND status IN "
                               "('planned', 'sent')", (_order_id(order_id), kind)).fetchone()
        return None if row is None else self._action(row)

    def actions(self, order_id: int | None = None, *, pending: bool = False) -> list[Action]:
        """Journal rows, oldest first; ``pending=True`` keeps planned/sent ones (to resolve at startup)."""
        sql, params = "SELECT * FROM actions WHERE 1", []
        if order_id is not None:
            sql += " AND order_id = ?"
            params.append(_order_id(order_id))
        if pending:
            sql += " AND status IN ('planned', 'sent')"
        return [self._action(row) for row in self._db.execute(sql + " ORDER BY id", params)]

    def action_by_tx(self, tx_hash: str) -> Action | None:
        row = self._db.execute("SELECT * FROM actions WHERE lower(tx_hash) = lower(?)", (tx_hash,)).fetchone()
        return None if row is None else self._action(row)
