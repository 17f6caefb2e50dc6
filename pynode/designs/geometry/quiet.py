"""The measuring libraries log what they skip (trimesh even with a traceback) and, with no handler configured,
Python's last-resort handler prints it on the user's stderr; a failed read is our one-line GeometryError instead."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet(name: str) -> Iterator[None]:
    """Records of ``name`` and its children ("trimesh.util") stop at a null handler while the block runs."""
    logger = logging.getLogger(name)
    handler = logging.NullHandler()
    propagated = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = propagated
        logger.removeHandler(handler)
