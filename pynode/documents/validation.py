"""How documents from outside are refused in one line: a pydantic ValidationError as its first offending key (then
the rest counted), and the header every fabmesh JSON document opens with (type, version, its exact field set)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynode.core.errors import InputError
from pynode.core.strict_json import brief, strict_json_loads

if TYPE_CHECKING:  # only named in annotations: the documents without a pydantic model load without pydantic
    from pydantic import ValidationError


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


def exact_fields(obj: dict[str, Any], expected: set[str], where: str) -> None:
    """InputError naming the first missing field, else the first unexpected one, unless ``obj`` has exactly
    ``expected``."""
    missing, extra = sorted(expected - set(obj)), sorted(set(obj) - expected)
    if missing or extra:
        raise InputError(f"{where}: " + (f"missing field {missing[0]!r}" if missing else
                                          f"unexpected field {brief(extra[0])}"))


def document_fields(data: bytes | str, *, what: str, document_type: str, version: int, fields: set[str],
                    max_bytes: int) -> dict[str, Any]:
    """The JSON object of a ``document_type`` document at ``version`` with exactly ``fields``, parsed strictly
    (size cap, no duplicate keys); InputError (one line, naming ``what``) otherwise."""
    document = strict_json_loads(data, what, max_bytes)
    if not isinstance(document, dict) or document.get("type") != document_type:
        raise InputError(f"not a {document_type} document")
    if type(document.get("version")) is not int or document["version"] != version:
        raise InputError(f"{what}: unsupported version {brief(document.get('version'))}")
    exact_fields(document, fields, what)
    return document
