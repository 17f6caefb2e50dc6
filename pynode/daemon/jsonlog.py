"""Structured logs for the daemon: one JSON object per line (ts, level, event, and fields like order_id, tx)."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class JsonLogger:
    def __init__(self, stream: TextIO | None = None, *, level: str = "info", **context: Any) -> None:
        self.stream = stream
        self.level = LEVELS[level]
        self.context = context
        self._lock = threading.RLock()  # re-entrant: a signal handler may log while its thread holds the lock

    def bind(self, **context: Any) -> JsonLogger:
        child = JsonLogger(self.stream, **{**self.context, **context})
        child.level, child._lock = self.level, self._lock
        return child

    def log(self, level: str, event: str, **fields: Any) -> None:
        if LEVELS[level] < self.level:
            return
        record = {"ts": round(time.time(), 3), "level": level, "event": event, **self.context,
                  **{k: v for k, v in fields.items() if v is not None}}
        line = json.dumps(record, default=str, separators=(",", ":"))
        stream = self.stream or sys.stderr
        with self._lock:
            stream.write(line + "\n")
            stream.flush()

    def debug(self, event: str, **fields: Any) -> None:
        self.log("debug", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self.log("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.log("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.log("error", event, **fields)
