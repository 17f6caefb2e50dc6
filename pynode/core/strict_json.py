"""Strict JSON for documents from outside: key envelopes, quality reports, order specs, deployments, keyfiles.

Every problem is one line starting with what the document is, raised as the
caller's ``InputError`` subclass: a size cap checked before parsing, UTF-8
only, no duplicate keys, no NaN/Infinity and no numbers that overflow a
double, no integers longer than ``MAX_INT_DIGITS`` digits (Python would refuse
past 4,300 digits with a bare ``ValueError``), no nesting deeper than
``MAX_DEPTH``. ``document_text`` alone (size cap, UTF-8) serves
other formats, such as the node's TOML file.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pynode.core.errors import InputError

MAX_INT_DIGITS = 100  # uint256 has 78 digits
# Refused before parsing: the decoder recurses once a level, and near the interpreter's limit a garbage collection
# that runs a finalizer fails in it too and prints to stderr (seen in CI: one line of ours and a traceback).
MAX_DEPTH = 200  # no document of the protocol nests past 10
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _depth(text: str) -> int:
    """How deep ``text``'s arrays and objects nest (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def document_text(data: bytes | str, what: str, max_bytes: int, *, error: type[InputError] = InputError,
                  too_large: type[InputError] | None = None) -> str:
    """``data`` as text, if it is at most ``max_bytes`` bytes of UTF-8; ``error`` (or ``too_large``) otherwise."""
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > max_bytes:
        raise (too_large or error)(f"{what}: {size} bytes, larger than the {max_bytes}-byte limit")
    try:
        return data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what}: not UTF-8 (byte {exc.start})") from None


def strict_json_loads(data: bytes | str, what: str, max_bytes: int, *, error: type[InputError] = InputError,
                      too_large: type[InputError] | None = None) -> Any:
    """Parses ``data`` or raises ``error`` (``too_large`` for the size cap, default ``error``) naming ``what``."""
    text = document_text(data, what, max_bytes, error=error, too_large=too_large)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise error(f"{what}: duplicate key {brief(key)}")
            out[key] = value
        return out

    def no_constants(name: str) -> Any:
        raise error(f"{what}: {name} is not a number JSON allows")

    def finite_float(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise error(f"{what}: number {brief(text)} does not fit a double")
        return value

    def short_int(text: str) -> int:
        if len(text.lstrip("-")) > MAX_INT_DIGITS:
            raise error(f"{what}: integer of {len(text.lstrip('-'))} digits, more than {MAX_INT_DIGITS}")
        return int(text)

    # the count of opening brackets bounds the depth: only a document with more than MAX_DEPTH of them is scanned
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise error(f"{what}: nested too deeply")
    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants,
                          parse_float=finite_float, parse_int=short_int)
    except json.JSONDecodeError as exc:
        raise error(f"{what}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise error(f"{what}: nested too deeply") from None


def brief(value: object, limit: int = 40) -> str:
    """A value from a document for an error message: one line, at most ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
