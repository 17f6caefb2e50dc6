"""The jobs table: one row per order the node cares about, in the node's own state of it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pynode.core.errors import InputError
from pynode.daemon.store.database import Database, checked_order_id


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
    SHIPPED = "shipped"  # shipped or disputed on chain, waiting for the buyer / window / arbitrator
    COMPLETED = "completed"  # completed on chain: the payment is ours to withdraw
    DONE = "done"  # paid / finalized
    FAILED = "failed"  # gave up (see last_error)
    CLOSED = "closed"  # cancelled / refunded / resolved without us


TERMINAL_STATES = frozenset({JobState.SKIPPED, JobState.LOST, JobState.DONE, JobState.FAILED, JobState.CLOSED})


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


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a job's order JSON")


def to_json(value: Any) -> str:
    """Order/terms JSON as stored: bytes become 0x-hex, keys sorted (stable, diffable)."""
    return json.dumps(value, default=_json_default, sort_keys=True, separators=(",", ":"))


class JobTable(Database):
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
        A state change clears ``needs_refresh``, attempts and the last error. An upsert that changes nothing
        (same state and order, no block, not flagged) writes nothing: a daemon records a job's unchanged state
        on many steps, and every commit is a sync to disk.
        """
        state = JobState(state)
        order_id = checked_order_id(order_id)
        now = self._now()
        with self.transaction():
            existing = self.get_job(order_id)
            if existing is not None and state == existing.state and block is None and not existing.needs_refresh \
                    and (order is None or to_json(order) == to_json(existing.order)):
                return existing
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
        row = self._db.execute("SELECT * FROM jobs WHERE order_id = ?", (checked_order_id(order_id),)).fetchone()
        return None if row is None else self._job(row)

    def jobs(self, states: Iterable[JobState | str] | None = None) -> list[Job]:
        if states is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY order_id")
        else:
            wanted = [JobState(s).value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self._db.execute(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY order_id", wanted)
        return [self._job(row) for row in rows]

    def count(self, states: Iterable[JobState | str], *, at_least: tuple[str, int] | None = None) -> int:
        """How many jobs are in ``states``; with ``at_least`` (a JSON path into the order, a number) only those
        whose order holds a number there that is at least it. Counted by SQLite, no job's JSON decoded here."""
        wanted: list[str | int] = [JobState(s).value for s in states]
        sql = f"SELECT count(*) FROM jobs WHERE state IN ({','.join('?' * len(wanted))})"
        if at_least is not None:
            sql += " AND json_extract(order_json, ?) >= ?"
            wanted += at_least
        return int(self._db.execute(sql, wanted).fetchone()[0])

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
                "WHERE order_id = ?", (error[:2000], self._now(), retry_at or 0, checked_order_id(order_id)))
            job = self.get_job(order_id)
            if job is None:
                raise InputError(f"job {order_id} does not exist")
            return job

    def count_by_state(self) -> dict[str, int]:
        counts = {state.value: 0 for state in JobState}
        for row in self._db.execute("SELECT state, count(*) FROM jobs GROUP BY state"):
            counts[row[0]] = row[1]
        return counts

    def _flag_changed_above(self, block: int) -> list[int]:
        """Marks the jobs a block above ``block`` changed ``needs_refresh`` (the jobs part of a rewind)."""
        touched = [row[0] for row in self._db.execute(
            "SELECT order_id FROM jobs WHERE updated_block > ? ORDER BY order_id", (block,))]
        self._db.execute("UPDATE jobs SET needs_refresh = 1, updated_at = ? WHERE updated_block > ?",
                         (self._now(), block))
        return touched
