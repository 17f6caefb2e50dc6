"""The actions journal: each on-chain action the node takes, written before its tx is signed.

A row goes planned -> sent -> mined | failed. At most one per (order, kind) is in flight, so a
node restarted mid-send finds its tx and resends or looks it up instead of sending a second one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pynode.core.errors import InputError
from pynode.daemon.store.database import Database, checked_order_id


class ActionStatus(StrEnum):
    PLANNED = "planned"
    SENT = "sent"
    MINED = "mined"
    FAILED = "failed"


_IN_FLIGHT = frozenset({ActionStatus.PLANNED, ActionStatus.SENT})


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


class ActionJournal(Database):
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
                (checked_order_id(order_id), kind, ActionStatus.PLANNED.value, nonce, now, now))
            # after an INSERT lastrowid is set and names the row just written
            return self.get_action(cursor.lastrowid)  # type: ignore[arg-type, return-value]

    def mark_sent(self, action_id: int, tx_hash: str, *, nonce: int | None = None, raw_tx: str | None = None) -> Action:
        """Records the tx hash (and signed raw tx, to rebroadcast verbatim) once signed, before/at sending."""
        return self._update_action(action_id, ActionStatus.SENT, tx_hash=tx_hash, nonce=nonce, raw_tx=raw_tx)

    def mark_mined(self, action_id: int, block_number: int, *, tx_hash: str | None = None) -> Action:
        """The tx (or its replacement ``tx_hash``) is in a block."""
        return self._update_action(action_id, ActionStatus.MINED, block_number=block_number, tx_hash=tx_hash)

    def mark_failed(self, action_id: int, error: str) -> Action:
        return self._update_action(action_id, ActionStatus.FAILED, error=error[:2000])

    def _update_action(self, action_id: int, status: ActionStatus, **fields: Any) -> Action:
        """Moves an in-flight action to ``status``; a mined or failed one stays as it is."""
        with self.transaction():
            action = self.get_action(action_id)
            if action is None:
                raise InputError(f"action {action_id} does not exist")
            if action.status not in _IN_FLIGHT:
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
                               "('planned', 'sent')", (checked_order_id(order_id), kind)).fetchone()
        return None if row is None else self._action(row)

    def actions(self, order_id: int | None = None, *, pending: bool = False) -> list[Action]:
        """Journal rows, oldest first; ``pending=True`` keeps planned/sent ones (to resolve at startup)."""
        sql, params = "SELECT * FROM actions WHERE 1", []
        if order_id is not None:
            sql += " AND order_id = ?"
            params.append(checked_order_id(order_id))
        if pending:
            sql += " AND status IN ('planned', 'sent')"
        return [self._action(row) for row in self._db.execute(sql + " ORDER BY id", params)]

    def action_by_tx(self, tx_hash: str) -> Action | None:
        row = self._db.execute("SELECT * FROM actions WHERE lower(tx_hash) = lower(?)", (tx_hash,)).fetchone()
        return None if row is None else self._action(row)
