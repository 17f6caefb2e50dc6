"""No module in pynode/ over 400 lines, no class over 250, no function over 60 (issue 13).

How a line is counted (static: each file is parsed with ast, never imported):

    module    the file's physical lines, everything included
    class     from the ``class`` line to its last line: methods, docstrings, comments and blank lines
              inside all count; decorators above it do not
    function  the same span from the ``def`` line, minus the spans of the functions and classes defined
              directly in its body: a nested def or class is measured on its own, so every line counts
              towards one function only

Names are dotted from the package: ``pynode.daemon.node`` (a module), ``pynode.daemon.node.Node`` (a
class), ``pynode.daemon.node.Node.run`` (a method), ``pynode.x.outer.inner`` (a nested function).

An exception names what may exceed its limit and why. One that no longer exceeds it fails the test
too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pynode

PACKAGE = Path(pynode.__file__).resolve().parent
LIMITS = {"module": 400, "class": 250, "function": 60}
EXCEPTIONS: dict[str, str] = {}

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _span(node: ast.stmt) -> int:
    assert node.end_lineno is not None
    return node.end_lineno - node.lineno + 1


def _is_overload(node: ast.AST) -> bool:
    """A typing.overload stub only declares a signature: the implementation after it is the function."""
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
        (isinstance(d, ast.Name) and d.id == "overload") or (isinstance(d, ast.Attribute) and d.attr == "overload")
        for d in node.decorator_list)


def _direct_defs(node: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """The defs and classes nested in `node` with no other def or class between them and it."""
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _DEFS):
            if not _is_overload(child):
                found.append(child)
        else:
            found += _direct_defs(child)
    return found


def measure(source: str, module: str) -> dict[str, tuple[str, int]]:
    """{qualified name: (kind, lines)} for the module and every class and function in it."""
    sizes = {module: ("module", len(source.splitlines()))}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in _direct_defs(node):
            name = f"{prefix}.{child.name}"
            inner = _direct_defs(child)
            if isinstance(child, ast.ClassDef):
                lines = ("class", _span(child))
            else:
                lines = ("function", _span(child) - sum(_span(d) for d in inner))
            assert name not in sizes, f"{name} is defined twice: name one of them apart"
            sizes[name] = lines
            visit(child, name)

    visit(ast.parse(source), module)
    return sizes


def package_sizes() -> dict[str, tuple[str, int]]:
    sizes: dict[str, tuple[str, int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        sizes.update(measure(path.read_text(), module))
    return sizes


def _over(sizes: dict[str, tuple[str, int]]) -> dict[str, str]:
    return {name: f"{kind} {name}: {lines} lines (limit {LIMITS[kind]})"
            for name, (kind, lines) in sizes.items() if lines > LIMITS[kind]}


def test_nothing_exceeds_its_limit_but_the_listed_exceptions() -> None:
    over = _over(package_sizes())
    unlisted = [text for name, text in sorted(over.items()) if name not in EXCEPTIONS]
    assert unlisted == [], "split these (or list one in EXCEPTIONS with its reason):\n" + "\n".join(unlisted)


def test_every_exception_still_exceeds_its_limit() -> None:
    sizes = package_sizes()
    over = _over(sizes)
    stale = [f"{name}: " + (f"{sizes[name][1]} lines, within its limit" if name in sizes else "no longer exists")
             for name in sorted(EXCEPTIONS) if name not in over]
    assert stale == [], "remove these from EXCEPTIONS:\n" + "\n".join(stale)
    assert all(reason.strip() for reason in EXCEPTIONS.values()), "every exception says why"


def test_the_measure_counts_as_the_docstring_says() -> None:
    source = '''"""doc"""


@decorator
class Outer:
    """Class docstring."""

    def method(self):
        x = 1

        def helper():
            return x

        return helper


async def top():
    class Local:
        pass
    return Local
'''
    assert measure(source, "m") == {
        "m": ("module", 20),
        "m.Outer": ("class", 10),  # from `class` to `return helper`; the decorator line is not counted
        "m.Outer.method": ("function", 5),  # 7 lines from `def`, less helper's 2
        "m.Outer.method.helper": ("function", 2),
        "m.top": ("function", 2),  # 4 lines, less Local's 2
        "m.top.Local": ("class", 2),
    }
