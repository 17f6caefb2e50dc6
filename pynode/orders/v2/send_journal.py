"""The v2 watcher's journal of its transactions: what it sent for which order, so a restart picks them up again.

One row per action (an award, a confirmation, a refund, a cancellation of one order), written *before* the
signed bytes are broadcast: the nonce, the newest hash, the signed bytes and the transaction's fields (for a
fee replacement). A watcher killed anywhere after that finds the row ``sent`` on its next start and looks it
up instead of deciding the order again: no second envelope is sealed for an order whose award may be in a
pool. The orders layer cannot use the daemon's store (pynode/daemon/store): this is the buyer's own, one
sqlite file (``None``: kept in memory, for a watcher that is never restarted, e.g. inside a test or a soak).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pynode.core.errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    order_id TEXT NOT NULL,
    action TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    hashes TEXT NOT NULL,
    raw_tx TEXT NOT NULL,
    tx TEXT NOT NULL,
    detail TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'sent',
    outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sends_open ON sends (status);
"""


@dataclass(frozen=True)
class SentRow:
    id: int
    order_id: int
    action: str
    nonce: int
    hashes: tuple[str, ...]  # every version broadcast, oldest first
    raw_tx: bytes  # the newest version's signed bytes
    tx: dict[str, Any]  # its fields (data as 0x hex), for a replacement
    detail: dict[str, Any]  # what the watcher logs when it lands


def _tx_json(tx: dict[str, Any]) -> str:
    return json.dumps({k: "0x" + bytes(v).hex() if isinstance(v, (bytes, bytearray)) else v for k, v in tx.items()})


def _tx_fields(text: str) -> dict[str, Any]:
    tx = json.loads(text)
    if isinstance(tx.get("data"), str):
        tx["data"] = bytes.fromhex(tx["data"][2:])
    return tx


class SendJournal:
    def __init__(self, path: Path | None = None) -> None:
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            # the watcher's cycle may run on another thread than the one that opened it (one at a time: the lock)
            self._db = sqlite3.connect(":memory:" if path is None else str(path), check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a killed process loses nothing committed; power loss aside
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise InputError(f"cannot open the watcher's send journal {path}: {exc}") from None
        self._lock = threading.Lock()

    def sent(self, order_id: int, action: str, nonce: int, tx_hash: str, raw_tx: bytes, tx: dict[str, Any],
             detail: dict[str, Any]) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO sends (order_id, action, nonce, tx_hash, hashes, raw_tx, tx, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (str(order_id), action, nonce, tx_hash, json.dumps([tx_hash]), "0x" + raw_tx.hex(), _tx_json(tx),
                 json.dumps(detail)))
            return int(cursor.lastrowid or 0)

    def replaced(self, row: int, hashes: list[str], raw_tx: bytes, tx: dict[str, Any]) -> None:
        """A fee replacement (same nonce) about to be broadcast: its hash joins the row's."""
        with self._lock:
            self._db.execute("UPDATE sends SET tx_hash = ?, hashes = ?, raw_tx = ?, tx = ? WHERE id = ?",
                             (hashes[-1], json.dumps(hashes), "0x" + raw_tx.hex(), _tx_json(tx), row))

    def finish(self, row: int, status: str, outcome: str = "") -> None:
        """``mined`` (``outcome``: the hash), ``reverted`` / ``refused`` / ``lost`` (``outcome``: why)."""
        with self._lock:
            self._db.execute("UPDATE sends SET status = ?, outcome = ? WHERE id = ?", (status, outcome, row))

    def open_rows(self) -> list[SentRow]:
        """The rows still ``sent``: transactions that may be pending or mined unseen."""
        with self._lock:
            rows = self._db.execute("SELECT id, order_id, action, nonce, hashes, raw_tx, tx, detail FROM sends "
                                    "WHERE status = 'sent' ORDER BY id").fetchall()
        return [SentRow(int(r[0]), int(r[1]), r[2], int(r[3]), tuple(json.loads(r[4])), bytes.fromhex(r[5][2:]),
                        _tx_fields(r[6]), json.loads(r[7])) for r in rows]

    def counts(self) -> dict[str, int]:
        """Rows by (action, status), e.g. ``award mined``: what a soak reports."""
        with self._lock:
            rows = self._db.execute("SELECT action, status, COUNT(*) FROM sends GROUP BY action, status").fetchall()
        return {f"{action} {status}": int(n) for action, status, n in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()
