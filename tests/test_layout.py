"""The size limits of the code (issue 25's acceptance): no module of ``rfi_spider`` over
about 400 lines, no function over 50.

A module or a function over its limit fails here unless it is on an allowlist below, each
entry with why it is there. An entry that is back within its limit fails too, so that the
lists only shrink: take it off when the code is split.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rfi_spider"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50

# Modules allowed over MAX_MODULE_LINES, by path under the repository.
LONG_MODULES = {
    # Every setting with the comment that documents it: mostly comments, one per knob.
    "rfi_spider/settings.py",
}
# Functions allowed over MAX_FUNCTION_LINES, as "path:qualified name".
LONG_FUNCTIONS: set[str] = set()


def modules() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def name_of(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def function_lengths(path: Path) -> Iterator[tuple[str, int]]:
    """``(qualified name, lines)`` of each function and method of a module, nested ones
    too; a function's lines run from its ``def`` to its last line (decorators left out)."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                assert child.end_lineno is not None
                yield name, child.end_lineno - child.lineno + 1
                yield from walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), "")


def module_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_is_over_the_limit() -> None:
    over = {
        name_of(path): lines
        for path in modules()
        if (lines := module_lines(path)) > MAX_MODULE_LINES
    }
    assert not {name: n for name, n in over.items() if name not in LONG_MODULES}, (
        f"modules over {MAX_MODULE_LINES} lines: split them by job"
    )
    back = sorted(set(LONG_MODULES) - set(over))
    assert not back, f"within {MAX_MODULE_LINES} lines now: take them off LONG_MODULES"


def test_no_function_is_over_the_limit() -> None:
    over = {
        f"{name_of(path)}:{name}": lines
        for path in modules()
        for name, lines in function_lengths(path)
        if lines > MAX_FUNCTION_LINES
    }
    assert not {name: n for name, n in over.items() if name not in LONG_FUNCTIONS}, (
        f"functions over {MAX_FUNCTION_LINES} lines"
    )
    back = sorted(LONG_FUNCTIONS - set(over))
    assert not back, f"within {MAX_FUNCTION_LINES} lines now: take them off LONG_FUNCTIONS"


def test_the_measures_count_what_they_say(tmp_path: Path) -> None:
    """A method's lines are counted under its class's name, a nested function's too."""
    source = tmp_path / "sample.py"
    body = "\n".join(f"        x{n} = {n}" for n in range(3))
    source.write_text(
        f"class A:\n    def f(self):\n{body}\n\n        def g():\n            return 1\n"
    )
    assert dict(function_lengths(source)) == {"A.f": 7, "A.f.g": 2}
    assert module_lines(source) == 8
