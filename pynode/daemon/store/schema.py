"""The node database's tables and the migrations that build them, one per schema version.

The version lives in ``PRAGMA user_version``. ``MIGRATIONS[n]`` takes a version-``n`` database
to ``n + 1``, so a new version is one appended script and an old database upgrades on open.
"""

from __future__ import annotations

_V1 = """
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

# v2: a completed order has a job state of its own ('completed'; v1 stored it as 'shipped'). A v1 shipped job
# may be a completed one: the node re-reads it from the chain on its first cycle and stores it as it is.
_V2 = """
UPDATE jobs SET needs_refresh = 1 WHERE state = 'shipped';
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> list[str]:
    """A script's statements, to run one by one: ``executescript`` would COMMIT the open transaction first."""
    return [statement for statement in script.split(";") if statement.strip()]
