"""Edited copies of JSON documents for tests that feed a reader malformed input."""

from __future__ import annotations

import copy
from typing import Any


class _Gone:
    def __repr__(self) -> str:  # a stable test id
        return "GONE"


GONE = _Gone()  # as a change's value: delete the key


def mutated(document: dict[str, Any], *changes: tuple[tuple[Any, ...], Any]) -> dict[str, Any]:
    """A deep copy of ``document`` with each (path, value) change applied; ``GONE`` deletes the path's key."""
    out = copy.deepcopy(document)
    for path, value in changes:
        parent = out
        for key in path[:-1]:
            parent = parent[key]
        if value is GONE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return out
