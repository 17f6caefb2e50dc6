"""Published geometry against geometry recomputed from the decrypted design: the named disagreements.

A node that decrypts a design measures it again (pynode/designs/geometry) and compares: a buyer who published
a smaller part than the file holds is caught before anything is produced (protocol v2 rejects the award).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple


class Disagreement(NamedTuple):
    name: str  # dotted path: "volume_mm3", "extents_mm.max.z"
    published: Any
    recomputed: Any

    def __str__(self) -> str:
        return f"{self.name}: published {self.published}, recomputed {self.recomputed}"


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}{key}.").items()}
    if isinstance(value, list | tuple):
        names = "xyz" if len(value) <= 3 else [str(i) for i in range(len(value))]
        return {k: v for name, item in zip(names, value, strict=False)
                for k, v in _flat(item, f"{prefix}{name}.").items()}
    return {prefix[:-1]: value}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _agrees(published: Any, recomputed: Any, tolerance: float) -> bool:
    """Counts and flags exactly; measurements within ``tolerance`` of the larger magnitude (at least 1 unit)."""
    if (isinstance(published, int) and isinstance(recomputed, int)) or not (_number(published) and _number(recomputed)):
        return published == recomputed and type(published) is type(recomputed)
    scale = max(abs(published), abs(recomputed), 1.0)
    return math.isfinite(published) and abs(published - recomputed) <= tolerance * scale


def verify_geometry(published: Mapping[str, Any], recomputed: Mapping[str, Any],
                    tolerance: float) -> list[Disagreement]:
    """Every metric that differs (a missing one on either side too), in the recomputed document's key order.

    ``tolerance`` is relative (0.01 = 1 %): meshes exported by different tools round vertices differently.
    """
    ours, theirs = _flat(recomputed), _flat(published)
    names = list(ours) + [name for name in theirs if name not in ours]
    return [Disagreement(name, theirs.get(name), ours.get(name)) for name in names
            if name not in theirs or name not in ours or not _agrees(theirs[name], ours[name], tolerance)]
