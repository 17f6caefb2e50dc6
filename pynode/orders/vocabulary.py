"""Process and material names as configs and spec documents write them ("cnc-milling", "AL_6061"), to the
contracts' bits (the vocabularies themselves: pynode/chain/orders.py PROCESS, MATERIAL)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pynode.core.errors import InputError


def vocabulary_bits(names: Iterable[str], vocabulary: Mapping[str, int], what: str) -> int:
    """Process/material names ("cnc-milling", "CNC_MILLING", "al_6061") to their bitmask."""
    bits = 0
    for name in names:
        key = re.sub(r"[\s\-]+", "_", name.strip()).upper()
        if key not in vocabulary:
            raise InputError(f"unknown {what} {name!r}; known: {', '.join(sorted(vocabulary))}")
        bits |= vocabulary[key]
    return bits
