"""Parameter grids, selection metrics, the grid-point task, and the selection rule.

A grid maps strategy parameter names to lists of values (``{"lam0": [1, 2, 4], "window": [30,
60]}``); its points are the Cartesian product in insertion order, the LAST name varying fastest
(a list of such mappings concatenates their products). Any constructor parameter of the strategy
can be swept: each point is applied with ``set_params`` on a copy of the prototype.

Selection metrics (higher is better), computed from the per-period net returns of the live
period (fees already subtracted):

- ``"sharpe"``: mean / std(ddof=1) * sqrt(ppy);
- ``"utility"``: the model's realized utility  U = ppy * mean(r) - lam * ppy * var(r, ddof=1),
  with ``lam`` FIXED for every point (default 2.0, the model's lam0; :class:`Utility`). Costs
  enter through the net returns: to first order ppy * mean(r) = annual gross return - annual
  costs, so this is mean - lam * var - costs, annualized. A fixed lam is needed because scoring
  each point with its own lam0 would reward low risk aversion;
- ``"calmar"``: CAGR / |max drawdown|; also ``"sortino"``, ``"cagr"``, ``"total_return"``;
- a callable ``metric(returns: ndarray of shape (n,), periods_per_year: int) -> float``.

A point whose run raises, or whose score is not finite, is a failed point. Ties: every point
whose score is within ``tie_tol * max(1, |best|)`` of the best is tied, and the FIRST of them in
grid order wins; the tied points are reported.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.risk_aversion import DEFAULT_LAM0
from rwafolio.strategies.base import Strategy

MetricFn = Callable[[np.ndarray, int], float]
METRICS: tuple[str, ...] = ("sharpe", "utility", "calmar", "sortino", "cagr", "total_return")


def expand_grid(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
) -> tuple[dict[str, Any], ...]:
    """Every point of a grid, in a deterministic order (see the module docstring).

    Raises
    ------
    ConfigError
        A value list is empty or not a list, or a name is not a string.
    """
    parts = [grid] if isinstance(grid, Mapping) else list(grid)
    points: list[dict[str, Any]] = []
    for part in parts:
        if not isinstance(part, Mapping):
            raise ConfigError(f"`grid` must be a mapping name -> list of values, got {part!r}")
        names = list(part)
        values = []
        for n in names:
            v = part[n]
            if not isinstance(n, str):
                raise ConfigError(f"`grid` names must be strings, got {n!r}")
            if (
                isinstance(v, str | bytes)
                or not isinstance(v, Sequence | np.ndarray)
                or len(v) == 0
            ):
                raise ConfigError(f"`grid[{n!r}]` must be a non-empty list of values, got {v!r}")
            values.append(list(v))
        points.extend(dict(zip(names, combo)) for combo in itertools.product(*values))
    if not points:
        raise ConfigError("`grid` has no points")
    return tuple(points)


@dataclass(frozen=True)
class Utility:
    """The model's realized utility: ppy * mean(r) - lam * ppy * var(r, ddof=1) (annualized)."""

    lam: float = DEFAULT_LAM0

    def __call__(self, returns: np.ndarray, periods_per_year: int) -> float:
        r = np.asarray(returns, dtype=float)
        if r.shape[0] < 2:
            return float("nan")
        ppy = float(periods_per_year)
        return float(ppy * r.mean() - self.lam * ppy * r.var(ddof=1))


def _perf(name: str) -> MetricFn:
    from rwafolio.backtest.stats import performance

    def metric(returns: np.ndarray, periods_per_year: int) -> float:
        if np.asarray(returns).shape[0] < 2:
            return float("nan")
        return float(performance(returns, periods_per_year)[name])

    metric.__name__ = name
    return metric


def resolve_metric(
    metric: str | MetricFn, *, utility_lam: float = DEFAULT_LAM0
) -> tuple[str, MetricFn]:
    """The name and function of a selection metric (see the module docstring)."""
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ConfigError(f"`metric` must be one of {METRICS} or a callable, got {metric!r}")
        if metric == "utility":
            return f"utility(lam={utility_lam:g})", Utility(float(utility_lam))
        return metric, _perf(metric)
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    raise ConfigError(f"`metric` must be one of {METRICS} or a callable, got {metric!r}")


def score(returns: np.ndarray, periods_per_year: int, metric: MetricFn) -> float:
    """``metric(returns)`` with every error or non-finite value mapped to NaN (a failed point)."""
    try:
        with np.errstate(all="ignore"):
            s = float(metric(np.asarray(returns, dtype=float), periods_per_year))
    except (ArithmeticError, ValueError, TypeError):
        return float("nan")
    return s if np.isfinite(s) else float("nan")


@dataclass(frozen=True)
class Selection:
    """The chosen point of one fold and how it was chosen.

    Attributes
    ----------
    index : int or None
        Grid index of the winner; None when no point has a finite score.
    score : float
    tied : tuple of int
        Every grid index tied with the best (including the winner); rule: first in grid order.
    n_ok, n_failed : int
    """

    index: int | None
    score: float
    tied: tuple[int, ...]
    n_ok: int
    n_failed: int

    rule: str = "highest score; ties within tie_tol * max(1, |best|) -> first in grid order"


def select(scores: np.ndarray, *, tie_tol: float = 1e-12) -> Selection:
    """Pick the best finite score (ties: first in grid order).

    Parameters
    ----------
    scores : ndarray of shape (n_points,)
        NaN marks a failed point.
    tie_tol : float
        Relative tolerance within which scores count as tied.
    """
    s = np.asarray(scores, dtype=float)
    ok = np.isfinite(s)
    if not ok.any():
        return Selection(None, float("nan"), (), 0, int(s.shape[0]))
    best = float(np.max(s[ok]))
    tied = np.flatnonzero(ok & (s >= best - tie_tol * max(1.0, abs(best))))
    return Selection(
        int(tied[0]),
        float(s[tied[0]]),
        tuple(int(i) for i in tied),
        int(ok.sum()),
        int((~ok).sum()),
    )


def build_strategy(prototype: Strategy, params: Mapping[str, Any]) -> Strategy:
    """A deep copy of ``prototype`` with ``params`` applied through ``set_params``."""
    strategy = copy.deepcopy(prototype)
    strategy.set_params(**dict(params))
    return strategy


def row_slice(panel: Panel, start: int, stop: int) -> Panel:
    """Rows ``[start, stop)`` of a panel."""
    d = panel.dates
    return panel.slice(d[start], d[stop - 1])


class MemoEstimator:
    """Memoizes another estimator's ``(mu, Sigma)`` by a hash of the window's bytes.

    A parameter sweep estimates the same window (same dates, same window length) for every
    point of the grid that differs only in lam0, eta or the threshold, and in every overlapping
    training window. The estimate is a pure function of the window, so serving it from a memo
    changes no bit of any result; it only removes the repeated work. One memo lives per worker
    (deep copies share it).

    Parameters
    ----------
    base : estimator
        Has ``estimate(window_returns, periods_per_year=None) -> (mu, Sigma)``.
    """

    def __init__(self, base: Any) -> None:
        self.base = base
        self._memo: dict[tuple[bytes, tuple[int, ...], Any], tuple[np.ndarray, np.ndarray]] = {}

    def estimate(
        self, window_returns: Any, periods_per_year: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        a = np.ascontiguousarray(window_returns, dtype=float)
        key = (hashlib.blake2b(a.tobytes(), digest_size=20).digest(), a.shape, periods_per_year)
        hit = self._memo.get(key)
        if hit is None:
            mu, cov = (
                self.base.estimate(a)
                if periods_per_year is None
                else self.base.estimate(a, periods_per_year)
            )
            hit = (np.array(mu, dtype=float), np.array(cov, dtype=float))
            self._memo[key] = hit
        return hit[0].copy(), hit[1].copy()

    @property
    def same_numbers_as(self) -> Any:
        """The estimator whose numbers this one returns, bit for bit (so the compiled loop, which
        estimates with the default estimator's kernel, may run a strategy that holds the memo)."""
        return self.base

    def __deepcopy__(self, memo: dict[int, Any]) -> MemoEstimator:
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {"base": self.base}  # the memo is per process: it does not travel

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.base = state["base"]
        self._memo = {}

    def __repr__(self) -> str:
        return f"MemoEstimator({self.base!r})"

    def __task_key__(self) -> dict[str, Any]:
        """What a task-cache key covers: the wrapped estimator (the memo changes no result)."""
        return {"base": self.base}


def with_memo(strategy: Strategy) -> Strategy:
    """A copy of ``strategy`` whose estimator (``estimator`` parameter; None = the strategy's
    default Ledoit-Wolf) is wrapped in a :class:`MemoEstimator`; unchanged if it has none."""
    params = strategy.get_params()
    if "estimator" not in params or isinstance(params["estimator"], MemoEstimator):
        return strategy
    base = params["estimator"]
    if base is None:
        from rwafolio.optimize.estimators import LedoitWolfEstimator

        base = LedoitWolfEstimator()
    return build_strategy(strategy, {"estimator": MemoEstimator(base)})


@dataclass(frozen=True)
class SweepData:
    """What every worker receives once: the panel, the strategy prototype and the engine's
    ``loop`` (which path walks the dates; it changes no result)."""

    panel: Panel
    strategy: Strategy
    loop: str = "auto"


def evaluate_point(shared: SweepData, payload: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Task: backtest one grid point on rows ``[start, stop)``, trading from row ``first``.

    Runs without vectorbt (``execute=False``). Returns the per-period net returns from ``first``
    on (the live period, whose first return is the initial trade's fees), the turnover and the
    fees paid, as JSON-able values. ``seed`` is unused by deterministic strategies.
    """
    from rwafolio.backtest.engine import run

    strategy = build_strategy(shared.strategy, payload["params"])
    start, stop, first = int(payload["start"]), int(payload["stop"]), int(payload["first"])
    sub = row_slice(shared.panel, start, stop)
    res = run(
        strategy, sub, first_decision=first - start, progress=False, execute=False,
        loop=shared.loop,  # type: ignore[arg-type]
    )  # fmt: skip
    k = first - start
    fees = res.fees.to_numpy()[k:]
    return {
        "returns": res.returns.to_numpy()[k:].tolist(),
        "turnover": float(res.turnover.to_numpy()[k:].sum()),
        "fees": float(1.0 - np.prod(1.0 - fees)),
        "decisions": len(res.decisions),
    }
