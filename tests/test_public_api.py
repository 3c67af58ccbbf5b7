"""Each subpackage's ``__all__`` lists what users call: every name exists, twins and internals
are not exported, and the package root stays cheap to import."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = [
    "rwafolio", "rwafolio.loaders", "rwafolio.optimize", "rwafolio.strategies",
    "rwafolio.backtest", "rwafolio.risk", "rwafolio.studies", "rwafolio.walkforward",
    "rwafolio.reports", "rwafolio.pipeline", "rwafolio.utils", "rwafolio.tasks",
]  # fmt: skip
#: Test twins and walk-forward internals: importable from their modules, never exported.
INTERNAL = {"solve_py", "Hold", "run_continuing", "stitch", "Selection", "select", "expand_grid",
            "resolve_metric", "finite_or_nan", "outcome_table", "asset_returns_np"}  # fmt: skip


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist_and_are_public(name: str) -> None:
    mod = importlib.import_module(name)
    exported = list(mod.__all__)
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    for item in exported:
        assert hasattr(mod, item), f"{name}.__all__ lists missing {item!r}"
        assert not item.startswith("_") or item == "__version__"
    assert not INTERNAL & set(exported)


def test_dead_code_is_gone() -> None:
    from rwafolio.universe import Universe

    assert not hasattr(Universe, "with_costs")
    import rwafolio.optimize.sensitivity as sens
    import rwafolio.risk._kernels as rk

    assert not hasattr(sens, "InputKind") and not hasattr(rk, "asset_returns_np")


def test_import_rwafolio_does_not_import_the_heavy_stack() -> None:
    code = (
        "import sys, rwafolio; "
        "print(sorted(m for m in ('vectorbt', 'cvxpy', 'plotly', 'numba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
