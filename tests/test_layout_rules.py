"""Layout rules of the style guide: no source file over 600 lines, no function over 80 code lines.

A function's size is its *code lines*: the non-blank, non-comment lines of its body after the
docstring (decorators and signature excluded; a nested function also counts in its parent).
Numba kernels are functions like any other.

``FILE_DEBT`` and ``FUNCTION_DEBT`` are debt, not exemptions: they list the offenders that exist
today in modules other developers are rewriting now (issue 11). Each entry is to be cleared by
splitting the file or function and then deleting the entry. Never add an entry for code you own
to make this test pass; split the code instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import rwafolio

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
SRC = Path(rwafolio.__file__).parent

#: Files allowed over MAX_FILE_LINES for now (path relative to the package). Debt: clear it.
FILE_DEBT: set[str] = set()

#: Functions allowed over MAX_FUNCTION_LINES for now, as (file, qualified name). Debt: clear it.
FUNCTION_DEBT: set[tuple[str, str]] = set()


def code_lines(source: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Non-blank, non-comment lines of ``node``'s body after its docstring."""
    body = node.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):
            body = body[1:]
    if not body:
        return 0
    lines = source.splitlines()[body[0].lineno - 1 : node.end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def functions(source: str) -> Iterator[tuple[str, int]]:
    """``(qualified name, code lines)`` of every function and method in ``source``."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield prefix + child.name, code_lines(source, child)
                yield from walk(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, prefix + child.name + ".")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(source), "")


def sources() -> Iterator[tuple[str, str]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), path.read_text(encoding="utf-8")


def test_code_lines_counts_body_lines_without_docstring_blanks_or_comments() -> None:
    source = (
        "def f(x):\n"  # signature: not counted
        '    """Doc\n'
        '    string."""\n'  # docstring: not counted
        "    # a comment\n"  # comment: not counted
        "    y = x\n"  # 1
        "\n"  # blank: not counted
        "    def g():\n"  # 2
        "        return 1\n"  # 3
        "    return (y,\n"  # 4
        "            g())\n"  # 5
        "class K:\n"
        "    async def m(self):\n"
        "        pass\n"  # 1
    )
    assert dict(functions(source)) == {"f": 5, "f.g": 1, "K.m": 1}


def test_no_source_file_over_the_limit() -> None:
    too_long = {
        rel: n
        for rel, text in sources()
        if (n := len(text.splitlines())) > MAX_FILE_LINES and rel not in FILE_DEBT
    }
    assert not too_long, f"files over {MAX_FILE_LINES} lines (split them): {too_long}"


def test_no_function_over_the_limit() -> None:
    too_long = {
        f"{rel}::{name}": n
        for rel, text in sources()
        for name, n in functions(text)
        if n > MAX_FUNCTION_LINES and (rel, name) not in FUNCTION_DEBT
    }
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} code lines: {too_long}"
