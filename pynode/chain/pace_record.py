"""The chain's block time as the last command learned it, and the node's suggested tip as it last asked it, kept in
the home dir.

A one-shot command starts with a block clock that knows no pace, so it polls a transaction it waits on
every ``unknown_s`` (on a 1 s chain: two requests a block). The pace the last command learned starts the
next one's clock instead, and its polls land when the next block is due. Only a cache: a wrong or stale
pace costs a poll or a short delay (the clock goes on learning from the heads it reads), never
correctness. Kept only where blocks come by time (confirmations > 0): a chain that mines on demand is
read at once after a send, and a learned pace would only delay that.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pynode.core.fsutil import write_atomic

MAX_BLOCK_S = 600.0  # a larger figure is no block time worth starting from


class PaceRecord:
    def __init__(self, home: Path, chain_id: int) -> None:
        self.path = home / "chains" / f"{chain_id}-pace.json"

    def load(self) -> float | None:
        try:
            block_s = json.loads(self.path.read_text()).get("block_s")
        except (OSError, ValueError, AttributeError):
            return None  # none yet, or torn: learned again by this command
        ok = isinstance(block_s, (int, float)) and math.isfinite(block_s) and 0 < block_s <= MAX_BLOCK_S
        return float(block_s) if ok else None

    def load_tip(self) -> tuple[float, int] | None:
        """The node's suggested tip as the last command asked it: (unix time asked, tip); its sender uses it only
        while it is as fresh as one of its own (chain/tx.py TxSender.seed_tip)."""
        try:
            data = json.loads(self.path.read_text())
            asked_at, tip = data["tip_at"], data["tip"]
        except (OSError, ValueError, TypeError, KeyError):
            return None
        ok = isinstance(asked_at, (int, float)) and math.isfinite(asked_at) and isinstance(tip, int) and tip >= 0
        return (float(asked_at), tip) if ok and not isinstance(tip, bool) else None

    def save(self, block_s: float | None, tip: tuple[float, int] | None = None) -> None:
        data: dict[str, float | int] = {}
        if block_s is not None and 0 < block_s <= MAX_BLOCK_S:
            data["block_s"] = round(block_s, 3)
        if tip is not None:
            data["tip_at"], data["tip"] = round(tip[0], 3), tip[1]
        if data:
            write_atomic(self.path, json.dumps(data), mode=0o644)
