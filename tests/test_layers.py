"""The package's import graph follows the documented layers and has no cycle.

Layers, bottom to top (ARCHITECTURE.md):

    exceptions -> utils, outputs -> universe -> rwafolio/__init__ -> loaders -> optimize -> strategies -> backtest -> risk
    -> tasks -> config -> studies, walkforward -> reports -> pipeline -> live, cli_safety -> cli_parser -> cli

A module may import from its own subpackage or from a lower layer, never from a higher one nor
from another package of its own layer. Every import counts, including imports inside functions
(a lazy import still couples the code); only ``if TYPE_CHECKING:`` blocks are left out.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "rwafolio"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("exceptions",),
    ("utils", "outputs"),  # small helpers; outputs: checked, atomic writes
    ("universe",),
    ("",),  # the root package rwafolio/__init__.py (version, errors, Asset)
    ("loaders",),
    ("optimize",),
    ("strategies",),
    ("backtest",),
    ("risk",),
    ("tasks",),
    ("config",),
    ("studies", "walkforward"),
    ("reports",),
    ("pipeline",),
    ("live", "cli_safety"),  # live: the `live` command's runner and state; cli_safety: its errors
    ("cli_parser",),  # the argument parser; cli hands it the command functions
    ("cli", "__main__"),
)
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}
#: Same-layer imports still waiting for a move, each with its reason (keep this empty).
PENDING: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = ["rwafolio", *path.relative_to(SRC).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """rwafolio modules imported by ``path`` (``from pkg import sub`` resolves to ``pkg.sub``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rwafolio"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("rwafolio"):
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in SRC.rglob("*.py")}
    return {m: imports_of(p, set(files)) - {m} for m, p in files.items()}


def top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list of modules, first == last), or None."""
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on stack, 2 done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state[n] == 1:
                return [*stack[stack.index(n) :], n]
            if state[n] == 0 and (c := visit(n)) is not None:
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if state[m] == 0 and (c := visit(m)) is not None:
            return c
    return None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for mod, targets in sorted(graph.items()):
        a = top(mod)
        for target in sorted(targets):
            b = top(target)
            if a == b or (a, b) in PENDING:
                continue
            if a not in RANK or b not in RANK:
                bad.append(
                    f"{mod} -> {target}: {a if a not in RANK else b!r} has no layer in LAYERS"
                )
            elif RANK[b] >= RANK[a]:
                bad.append(f"{mod} -> {target} (layer {RANK[a]} imports layer {RANK[b]})")
    return bad


def test_every_package_has_a_layer() -> None:
    tops = {top(m) for m in import_graph()}
    assert tops <= set(RANK), f"add to LAYERS: {sorted(tops - set(RANK))}"


def test_imports_follow_the_layers() -> None:
    assert layer_violations(import_graph()) == []


def test_no_import_cycle() -> None:
    # A package's __init__ imports its modules; a module importing its own package's __init__
    # back is a cycle too.
    assert find_cycle(import_graph()) is None


def test_pending_exceptions_are_still_needed() -> None:
    graph = import_graph()
    used = {(top(m), top(t)) for m, ts in graph.items() for t in ts}
    stale = sorted(set(PENDING) - used)
    assert not stale, f"remove from PENDING: {stale}"


# --- the checker itself must be able to fail ------------------------------------------------
def test_checker_sees_an_upward_import_and_a_cycle() -> None:
    graph = {"rwafolio.loaders.a": {"rwafolio.reports.b"}, "rwafolio.reports.b": set()}
    assert layer_violations(graph) == [
        "rwafolio.loaders.a -> rwafolio.reports.b (layer 4 imports layer 12)"
    ]
    cyc = {"rwafolio.x.a": {"rwafolio.x.b"}, "rwafolio.x.b": {"rwafolio.x.c"},
           "rwafolio.x.c": {"rwafolio.x.a"}}  # fmt: skip
    assert find_cycle(cyc) == ["rwafolio.x.a", "rwafolio.x.b", "rwafolio.x.c", "rwafolio.x.a"]
    assert find_cycle({"rwafolio.x.a": {"rwafolio.x.b"}, "rwafolio.x.b": set()}) is None


def test_checker_reads_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from rwafolio.cli import main\n"
        "def g():\n    from rwafolio.reports import render\n    import rwafolio.risk.forecast\n",
        encoding="utf-8",
    )
    found = imports_of(f, {"rwafolio.reports.render"})
    assert found == {"rwafolio.reports.render", "rwafolio.risk.forecast"}


@pytest.mark.parametrize("package", ["studies", "pipeline", "utils", "risk", "reports"])
def test_package_homes_exist(package: str) -> None:
    assert (SRC / package / "__init__.py").is_file()
