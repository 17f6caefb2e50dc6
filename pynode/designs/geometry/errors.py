"""The one error of geometry measurement."""

from __future__ import annotations

from pynode.core.errors import InputError


class GeometryError(InputError):
    """The design's geometry could not be measured (unknown format, corrupt file, nothing to measure)."""
