"""The measuring libraries log what they skip (trimesh even with a traceback) through Python's last-resort
handler onto the user's stderr; a failed read is our one-line GeometryError instead."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was
