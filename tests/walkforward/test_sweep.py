"""Grids, metrics, the selection rule and its ties, grid files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.walkforward.sweep import Utility, expand_grid, resolve_metric, select

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "walkforward.toml"


def test_expand_grid_order_last_name_fastest() -> None:
    pts = expand_grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert pts == (
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
        {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"},
    )  # fmt: skip
    assert expand_grid([{"a": [1]}, {"b": [2, 3]}]) == ({"a": 1}, {"b": 2}, {"b": 3})
    for bad in [{"a": []}, {"a": 3}, {"a": "abc"}, []]:
        with pytest.raises(ConfigError, match="grid"):
            expand_grid(bad)  # type: ignore[arg-type]


def test_select_best_ties_and_failures() -> None:
    s = select(np.array([0.5, np.nan, 1.2, 0.9]))
    assert (s.index, s.score, s.tied, s.n_ok, s.n_failed) == (2, 1.2, (2,), 3, 1)
    # exact and near ties (within tie_tol * max(1, |best|)): the first in grid order wins
    s = select(np.array([0.1, 2.0, 2.0 - 1e-13, 2.0, 1.0]))
    assert s.index == 1 and s.tied == (1, 2, 3)
    s = select(np.array([0.1, 2.0, 2.0 - 1e-6]), tie_tol=1e-6)
    assert s.tied == (1, 2)
    s = select(np.array([np.nan, np.nan]))
    assert s.index is None and s.n_failed == 2


def test_metrics_against_hand_formulas() -> None:
    rng = np.random.default_rng(1)
    r = rng.normal(0.001, 0.02, 400)
    name, fn = resolve_metric("utility", utility_lam=3.0)
    assert name == "utility(lam=3)"
    mean, var = r.sum() / r.size, ((r - r.mean()) ** 2).sum() / (r.size - 1)
    np.testing.assert_allclose(fn(r, 365), 365 * mean - 3.0 * 365 * var, rtol=1e-12)
    _, sharpe = resolve_metric("sharpe")
    np.testing.assert_allclose(sharpe(r, 252), mean / np.sqrt(var) * np.sqrt(252), rtol=1e-12)
    _, calmar = resolve_metric("calmar")
    v = np.cumprod(1 + r)
    total = v[-1] - 1
    cagr = (1 + total) ** (365 / r.size) - 1
    mdd = np.min(np.concatenate([[1.0], v]) / np.maximum.accumulate(np.concatenate([[1.0], v])) - 1)
    np.testing.assert_allclose(calmar(r, 365), cagr / abs(mdd), rtol=1e-12)

    def mine(x: np.ndarray, ppy: int) -> float:
        return float(x[-1])

    assert resolve_metric(mine) == ("mine", mine)
    assert Utility(0.0)(r, 1) == pytest.approx(r.mean())
    with pytest.raises(ConfigError, match="metric"):
        resolve_metric("omega")
