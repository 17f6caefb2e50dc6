"""The SQLite connection under the node's store: WAL, durable commits, migrations, transactions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from pynode.core.errors import FatalError, InputError
from pynode.daemon.store.schema import MIGRATIONS, SCHEMA_VERSION, statements

MAX_SQLITE_INT = (1 << 63) - 1


def checked_order_id(value: int) -> int:
    """An order id as SQLite stores it (a signed 64-bit integer), or a one-line InputError."""
    if not isinstance(value, int) or not 0 <= value <= MAX_SQLITE_INT:
        raise InputError(f"order id {value!r} is not an integer in [0, 2**63)")
    return value


class Database:
    """One connection, used from the thread that opened it; the tables' parts build on it."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
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

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self.transaction():
            version = self.schema_version
            if version > SCHEMA_VERSION:
                raise FatalError(f"{self.path} has schema version {version}, newer than this fabmesh "
                                 f"understands ({SCHEMA_VERSION}): upgrade fabmesh or use another work dir")
            tables = self._db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if version == 0 and tables:
                raise FatalError(f"{self.path} is an SQLite file that is not a fabmesh node database")
            for script in MIGRATIONS[version:]:
                for statement in statements(script):
                    self._db.execute(statement)
            if version < SCHEMA_VERSION:
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @property
    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[Self]:
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
