"""Immutable results of a walk-forward run: one :class:`FoldResult` per fold and the whole run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd

from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError
from rwafolio.risk.montecarlo import check_setting
from rwafolio.utils.validation import check_int
from rwafolio.walkforward.splits import SplitPlan

FoldStatus = Literal["ok", "fallback", "empty"]


@dataclass(frozen=True)
class VarSettings:
    """Rolling VaR forecasts along the stitched out-of-sample portfolio.

    Attributes
    ----------
    horizon : int
        H periods ahead.
    every : int
        Forecast at every k-th estimate date.
    n_scenarios : int
    levels : tuple of float
    distribution : {"fhs", "normal"}
        The innovations of the top-down forecast of the stitched portfolio's net P&L (filtered
        historical simulation, the default, or normal; :func:`rwafolio.risk.topdown.simulate_pnl`).
        The other Monte Carlo distributions draw asset returns for a held book, which is not what
        the walk-forward forecasts, and are refused.

    Raises
    ------
    ConfigError
        Naming the setting: the Monte Carlo ones are checked by
        :func:`rwafolio.risk.montecarlo.check_setting`, so a bad value fails here, before the
        walk-forward runs its grid.
    """

    horizon: int = 10
    every: int = 5
    n_scenarios: int = 2000
    levels: tuple[float, ...] = (0.95, 0.99)
    distribution: str = "fhs"

    def __post_init__(self) -> None:
        for name in ("horizon", "n_scenarios", "levels", "distribution"):
            value = check_setting(getattr(self, name), name, field=name)
            object.__setattr__(self, name, value)
        if self.distribution not in ("fhs", "normal"):
            raise ConfigError(
                "`distribution` of the walk-forward's VaR must be 'fhs' or 'normal' (innovations "
                f"of the top-down P&L forecast), got {self.distribution!r}"
            )
        object.__setattr__(self, "every", check_int(self.every, "every", minimum=1))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str) -> VarSettings:
        """Settings from a config table (``where`` names it in errors, e.g.
        ``"config [walkforward].var"``); unknown keys are refused."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {known}")
        checked: dict[str, Any] = {}
        for k, v in values.items():
            if k == "every":
                checked[k] = check_int(v, f"{where}.every", minimum=1)
            else:
                checked[k] = check_setting(v, f"{where}.{k}", field=k)
        return cls(**checked)


@dataclass(frozen=True)
class FoldResult:
    """What happened in one fold.

    Attributes
    ----------
    index : int
    train_start, train_end, test_start, test_end : Timestamp or None
        First and last data dates of each window (inclusive).
    status : {"ok", "fallback", "empty"}
        ``fallback``: no grid point could be chosen (too little data, every point failing, or
        the chosen point failing out of sample); ``reason`` says which and what was used
        instead. ``empty``: the test window holds no date.
    reason : str
    point : int or None
        Grid index of the chosen point (None for a fallback).
    params : mapping
        Parameters applied out of sample (``{}`` = the prototype's own; ``{"hold": True}`` = no
        trading, the drifted book was held).
    score : float
        In-sample score of the chosen point (selection metric).
    tied : tuple of int
        Grid indices tied with the best (ties go to the first in grid order).
    n_points, n_ok, n_failed : int
        Grid size; points with a finite score; points that raised or scored NaN.
    in_sample, out_of_sample : mapping str -> float
        Metrics of the chosen point on the training window (from cash) and of the stitched
        portfolio on the test window (from the carried book): ``total_return``, ``cagr``,
        ``volatility``, ``sharpe``, ``sortino``, ``max_drawdown``, ``calmar``, ``turnover``,
        ``costs_paid``, ``score``.
    boundary_turnover, boundary_cost : float
        Turnover and fees (fractions of value) of the trade at the fold's first test date, from
        the book carried over from the previous fold.
    var : mapping
        Rolling VaR on the test window: ``n_forecasts``, ``n_complete`` and per level L
        (``"95"``): ``breaches_L``, ``expected_L`` (= n_complete * (1 - L)). Overlapping
        H-period windows when ``every < horizon``.
    """

    index: int
    train_start: pd.Timestamp | None
    train_end: pd.Timestamp | None
    test_start: pd.Timestamp | None
    test_end: pd.Timestamp | None
    status: FoldStatus
    reason: str
    point: int | None
    params: Mapping[str, Any]
    score: float
    tied: tuple[int, ...]
    n_points: int
    n_ok: int
    n_failed: int
    in_sample: Mapping[str, float]
    out_of_sample: Mapping[str, float]
    boundary_turnover: float = 0.0
    boundary_cost: float = 0.0
    var: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WalkForwardResult:
    """A whole walk-forward run.

    Attributes
    ----------
    plan : SplitPlan
    grid : tuple of dict
        The grid points, in grid order.
    metric : str
        Selection metric name.
    folds : tuple of FoldResult
    stitched : BacktestResult
        The continuous out-of-sample portfolio (``portfolio`` is None: not run by vectorbt);
        ``stitched.stats()`` gives its statistics.
    stitched_stats : Series
    hindsight_point : int or None
        The grid point that scores best over the whole out-of-sample period (hindsight).
    hindsight : BacktestResult or None
        That point run once over the out-of-sample period, from cash.
    comparison : DataFrame
        Rows are stat names; columns ``walk_forward``, ``hindsight_best`` and ``gap``
        (walk_forward - hindsight_best): the cost of not knowing the future.
    scores : DataFrame of shape (n_folds, n_points)
        In-sample score of every point in every fold (NaN = failed or not run).
    failures : DataFrame
        Tasks that failed after their retry: ``key``, ``fold``, ``point``, ``attempts``,
        ``error``.
    forecasts : RollingForecasts or None
        Rolling VaR forecasts along ``stitched``.
    var_note : str
        Why forecasts are missing, or how they were made.
    seed : int
        Base seed; task and forecast seeds derive from it.
    executor : str
    n_tasks, cache_hits : int
    seconds : float
        Wall time of the run.
    """

    plan: SplitPlan
    grid: tuple[dict[str, Any], ...]
    metric: str
    folds: tuple[FoldResult, ...]
    stitched: BacktestResult
    stitched_stats: pd.Series
    hindsight_point: int | None
    hindsight: BacktestResult | None
    comparison: pd.DataFrame
    scores: pd.DataFrame
    failures: pd.DataFrame
    forecasts: Any
    var_note: str
    seed: int
    executor: str
    n_tasks: int
    cache_hits: int
    seconds: float
    settings: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """One row per fold: dates, status, chosen point and parameters, in- and out-of-sample
        score, Sharpe and return, boundary cost and VaR breaches."""
        rows = []
        for f in self.folds:
            row: dict[str, Any] = {
                "fold": f.index,
                "train_start": f.train_start,
                "train_end": f.train_end,
                "test_start": f.test_start,
                "test_end": f.test_end,
                "status": f.status,
                "point": f.point,
                "params": dict(f.params),
                "n_tied": len(f.tied),
                "n_failed": f.n_failed,
                "is_score": f.in_sample.get("score", np.nan),
                "oos_score": f.out_of_sample.get("score", np.nan),
                "is_sharpe": f.in_sample.get("sharpe", np.nan),
                "oos_sharpe": f.out_of_sample.get("sharpe", np.nan),
                "oos_return": f.out_of_sample.get("total_return", np.nan),
                "boundary_cost": f.boundary_cost,
                "reason": f.reason,
            }
            row.update({k: v for k, v in f.var.items() if k.startswith(("breaches", "expected"))})
            rows.append(row)
        return pd.DataFrame(rows).set_index("fold")

    def params_over_time(self) -> pd.DataFrame:
        """Chosen parameter values per fold, indexed by the test window's first date."""
        names = sorted({k for p in self.grid for k in p})
        rows = [{n: f.params.get(n, np.nan) for n in names} for f in self.folds]
        idx = pd.DatetimeIndex([f.test_start for f in self.folds], name="test_start")
        return pd.DataFrame(rows, index=idx, columns=names)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (for reports and saved runs)."""
        from rwafolio.tasks.cache import canonical

        return canonical(
            {
                "plan": self.plan.to_frame().reset_index().astype(str).to_dict("records"),
                "metric": self.metric,
                "seed": self.seed,
                "executor": self.executor,
                "settings": dict(self.settings),
                "folds": [
                    {
                        k: (str(v) if isinstance(v, pd.Timestamp) else v)
                        for k, v in f.__dict__.items()
                    }
                    for f in self.folds
                ],
                "comparison": self.comparison.to_dict(),
                "hindsight_point": self.hindsight_point,
                "hindsight_params": None
                if self.hindsight_point is None
                else self.grid[self.hindsight_point],
                "failures": self.failures.to_dict("records"),
                "var_note": self.var_note,
            }
        )
