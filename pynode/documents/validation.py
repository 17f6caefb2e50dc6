"""The one way a pydantic ValidationError becomes a one-line message: the first offending key, then the rest counted."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pynode.core.strict_json import brief


def dotted(loc: tuple[int | str, ...] | list[str]) -> str:
    """A key path for a one-line message; keys from documents may hold newlines or be long, so those are quoted."""
    return ".".join(str(part) if str(part).isprintable() and len(str(part)) <= 40 else brief(str(part))
                    for part in loc)


def first_error(exc: ValidationError) -> tuple[Any, str]:
    """The first error pydantic reports, and ' (+N more)' when there are others ('' otherwise)."""
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return exc.errors()[0], more


def one_line(exc: ValidationError, what: str, *, empty: str = "(document)") -> str:
    """'what: key.path: message (+N more)', naming ``empty`` when the document itself is the problem."""
    first, more = first_error(exc)
    return f"{what}: {dotted(first['loc']) or empty}: {first['msg']}{more}"
