"""Plain-Python acceptors of the documents' pydantic models, so the audit reads a valid document without pydantic.

An acceptor returns the value as its model holds it (an int in a float field as a float) or raises
:class:`Refused`, without saying why: the reader that uses one hands a refused document to the model, which
words the refusal, so every message is the model's own. Each acceptor takes only values of the exact JSON
types its model's rule names (a lax model's ``"5"`` for an int is refused here and accepted by the model), so
whatever an acceptor accepts its model accepts too (tests/pynode/documents/test_plain_readers.py runs both).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Acceptor = Callable[[Any], Any]


class Refused(Exception):
    """The value is not one the acceptor vouches for; the model decides."""


def _require(ok: bool) -> None:
    if not ok:
        raise Refused


def text(*, min_length: int = 0, max_length: int | None = None, pattern: str | None = None) -> Acceptor:
    """A str; ``pattern`` must match all of it (as pydantic's regex engine, whose ``$`` is the end of the text)."""
    compiled = re.compile(pattern) if pattern is not None else None

    def accept(value: Any) -> str:
        _require(type(value) is str and len(value) >= min_length
                 and (max_length is None or len(value) <= max_length)
                 and (compiled is None or compiled.fullmatch(value) is not None))
        return value
    return accept


def integer(*, ge: int | None = None, le: int | None = None) -> Acceptor:
    def accept(value: Any) -> int:
        _require(type(value) is int and (ge is None or value >= ge) and (le is None or value <= le))
        return value
    return accept


def number(*, ge: float | None = None, gt: float | None = None) -> Acceptor:
    """An int or a float, finite, as a float."""
    def accept(value: Any) -> float:
        _require(type(value) in (int, float))
        try:
            as_float = float(value)
        except OverflowError:  # an int past the double range
            raise Refused from None
        _require(math.isfinite(as_float) and (ge is None or as_float >= ge) and (gt is None or as_float > gt))
        return as_float
    return accept


def boolean(value: Any) -> bool:
    _require(type(value) is bool)
    return bool(value)


def one_of(*allowed: str) -> Acceptor:
    """A Literal of strings."""
    def accept(value: Any) -> str:
        _require(type(value) is str and value in allowed)
        return value
    return accept


def optional(acceptor: Acceptor) -> Acceptor:
    """``X | None``."""
    return lambda value: None if value is None else acceptor(value)


def items(acceptor: Acceptor, *, min_length: int = 0, max_length: int | None = None) -> Acceptor:
    def accept(value: Any) -> list[Any]:
        _require(type(value) is list and len(value) >= min_length and (max_length is None or len(value) <= max_length))
        return [acceptor(item) for item in value]
    return accept


def values(acceptor: Acceptor, *, max_length: int | None = None) -> Acceptor:
    """A dict of str keys (as JSON objects have) and values ``acceptor`` takes."""
    def accept(value: Any) -> dict[str, Any]:
        _require(type(value) is dict and (max_length is None or len(value) <= max_length))
        return {key: acceptor(item) for key, item in value.items()}
    return accept


def where(acceptor: Acceptor, check: Callable[[Any], bool]) -> Acceptor:
    """``acceptor``, then a model's own validator (``check`` says whether it passes)."""
    def accept(value: Any) -> Any:
        accepted = acceptor(value)
        _require(check(accepted))
        return accepted
    return accept


@dataclass(frozen=True)
class Obj:
    """A model: its ``required`` and ``defaulted`` fields by JSON key, and whether other keys are kept."""

    required: Mapping[str, Acceptor]
    defaulted: Mapping[str, Acceptor] = field(default_factory=dict)
    extra: bool = False

    def __call__(self, value: Any) -> dict[str, Any]:
        _require(type(value) is dict and all(key in value for key in self.required))
        known = {**self.required, **self.defaulted}
        _require(self.extra or all(key in known for key in value))
        return {key: known[key](item) if key in known else item for key, item in value.items()}


def tagged(key: str, cases: Mapping[str, Acceptor]) -> Acceptor:
    """A union discriminated by the string at ``key``."""
    def accept(value: Any) -> Any:
        _require(type(value) is dict and type(value.get(key)) is str and value[key] in cases)
        return cases[value[key]](value)
    return accept


def accepts(acceptor: Acceptor, value: Any) -> bool:
    try:
        acceptor(value)
    except Refused:
        return False
    return True
