"""Monte Carlo VaR, CVaR and drawdown-at-risk of a portfolio over a horizon.

Sign convention (used everywhere in :mod:`rwafolio.risk`)
--------------------------------------------------------
Every risk number is a RETURN over the horizon, and NEGATIVE MEANS LOSS, like the model's
"95% VaR of -12%":

* ``VaR_a`` at confidence ``a`` (e.g. 0.95) is the ``(1 - a)`` quantile of the scenario outcomes
  ``R_p - C_p``: the lower order statistic ``x_(ceil(M (1 - a)))`` of the M sorted outcomes.
  A realized return below it is a breach.
* ``CVaR_a`` is the mean of the ``ceil(M (1 - a))`` worst outcomes, so ``CVaR_a <= VaR_a`` (more
  negative: a larger loss).
* Drawdowns are ``<= 0``; drawdown-at-risk ``DaR_a`` is the ``(1 - a)`` quantile of the maximum
  drawdowns and ``CDaR_a`` the mean of the worst ones.

Units: ``mu`` and ``Sigma`` are PER PERIOD (one trading day for daily data). Use
:func:`per_period` to convert annual figures (``annual / 252`` and ``annual_cov / 252``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from rwafolio.exceptions import ConfigError, DataError, describe
from rwafolio.risk.montecarlo import FORECAST_DISTRIBUTIONS, MonteCarlo, resolve_settings
from rwafolio.risk.scenarios import Aggregation, Mixing, simulate

__all__ = [
    "FORECAST_DISTRIBUTIONS",
    "RiskForecast",
    "TailStats",
    "covariance_from_vols",
    "forecast",
    "normal_var",
    "per_period",
    "summarize",
    "tail_stats",
]


@dataclass(frozen=True)
class TailStats:
    """Quantile, tail mean and Monte Carlo error of one sample at one confidence level."""

    quantile: float
    tail_mean: float
    quantile_se: float
    quantile_ci: tuple[float, float]
    tail_mean_se: float


def tail_stats(sorted_x: np.ndarray, level: float, z: float = 1.959963984540054) -> TailStats:
    """VaR-style statistics of an ascending-sorted sample at confidence ``level``.

    The quantile is the order statistic ``x_(j)``, ``j = ceil(M (1 - level))``; the tail mean
    averages ``x_(1..j)``. The Monte Carlo standard error of the quantile comes from the
    distribution-free binomial (order-statistic) interval: the order statistics at
    ``M p -+ z sqrt(M p (1 - p))`` bracket the true quantile with probability about 95%, and
    ``se = (upper - lower) / (2 z)``. The tail mean's error is
    ``sqrt(Var(min(X - q, 0)) / M) / p`` (the asymptotic variance of the CVaR estimator).
    """
    m = sorted_x.shape[0]
    p = 1.0 - level
    j = max(int(np.ceil(m * p - 1e-9)), 1)
    q = float(sorted_x[j - 1])
    tail = float(sorted_x[:j].mean())
    half = z * np.sqrt(m * p * (1.0 - p))
    lo = int(np.clip(np.floor(m * p - half), 1, m))
    hi = int(np.clip(np.ceil(m * p + half), 1, m))
    ci = (float(sorted_x[lo - 1]), float(sorted_x[hi - 1]))
    se = (ci[1] - ci[0]) / (2.0 * z)
    short = np.minimum(sorted_x - q, 0.0)
    tail_se = float(np.sqrt(short.var() / m) / p)
    return TailStats(q, tail, float(se), ci, tail_se)


@dataclass(frozen=True)
class RiskForecast:
    """Distribution of a portfolio's horizon outcome, summarised (negative = loss).

    Attributes
    ----------
    levels : tuple of float
        Confidence levels, e.g. (0.95, 0.99).
    var, cvar : tuple of float
        VaR and CVaR per level, as horizon returns (negative = loss); ``cvar <= var``.
    var_se : tuple of float
        Monte Carlo standard error of each VaR (order-statistic interval / (2 * 1.96)).
    var_ci : tuple of (float, float)
        Distribution-free ~95% interval of each VaR from the order statistics.
    cvar_se : tuple of float
    dar, cdar : tuple of float
        Drawdown-at-risk per level: quantile and tail mean of the maximum drawdowns (<= 0).
    mean, std : float
        Mean and standard deviation of the outcomes.
    mean_cost : float
        Mean rebalancing cost ``C_p`` paid over the horizon (fraction of starting value).
    outcomes : ndarray of shape (n_scenarios,)
        Every scenario's ``R_p - C_p`` (read-only), e.g. for a histogram.
    max_drawdowns : ndarray of shape (n_scenarios,)
        Every scenario's maximum drawdown (read-only).
    seed : int
        Root seed; ``forecast(..., rng=seed)`` with the same inputs gives identical numbers.
    n_scenarios, horizon : int
    distribution : str
    nu : float or None
        Degrees of freedom (Student-t only).
    rebalance : "drift" or int
    aggregation : {"compound", "sum"}
    block : int or None
        Bootstrap block length (bootstrap only).
    mixing : str or None
        Student-t mixing unit (Student-t only).
    settings : MonteCarlo or None
        The settings the forecast ran with, seed resolved (and a fitted ``nu`` in place of
        ``"fit"``): ``forecast(..., settings=f.settings)`` reproduces it. None for the
        top-down and strategy-aware forecasts, which have their own inputs.
    """

    levels: tuple[float, ...]
    var: tuple[float, ...]
    cvar: tuple[float, ...]
    var_se: tuple[float, ...]
    var_ci: tuple[tuple[float, float], ...]
    cvar_se: tuple[float, ...]
    dar: tuple[float, ...]
    cdar: tuple[float, ...]
    mean: float
    std: float
    mean_cost: float
    outcomes: np.ndarray
    max_drawdowns: np.ndarray
    seed: int
    n_scenarios: int
    horizon: int
    distribution: str
    nu: float | None
    rebalance: str | int
    aggregation: str
    block: int | None
    mixing: str | None = None
    settings: MonteCarlo | None = None

    def _pos(self, level: float) -> int:
        for i, lv in enumerate(self.levels):
            if abs(lv - level) < 1e-12:
                return i
        raise ConfigError(f"`level` {level} was not forecast; levels are {self.levels}")

    def var_at(self, level: float) -> float:
        """VaR at ``level`` (a return, negative = loss)."""
        return self.var[self._pos(level)]

    def cvar_at(self, level: float) -> float:
        """CVaR at ``level`` (a return, negative = loss)."""
        return self.cvar[self._pos(level)]

    def dar_at(self, level: float) -> float:
        """Drawdown-at-risk at ``level`` (<= 0)."""
        return self.dar[self._pos(level)]

    def to_frame(self) -> pd.DataFrame:
        """One row per level: var, var_se, var_lo, var_hi, cvar, cvar_se, dar, cdar."""
        return pd.DataFrame(
            {
                "var": self.var,
                "var_se": self.var_se,
                "var_lo": [c[0] for c in self.var_ci],
                "var_hi": [c[1] for c in self.var_ci],
                "cvar": self.cvar,
                "cvar_se": self.cvar_se,
                "dar": self.dar,
                "cdar": self.cdar,
            },
            index=pd.Index(self.levels, name="level"),
        )

    def params(self) -> dict[str, Any]:
        """The parameters that produced this forecast."""
        return {
            "seed": self.seed,
            "n_scenarios": self.n_scenarios,
            "horizon": self.horizon,
            "distribution": self.distribution,
            "nu": self.nu,
            "levels": self.levels,
            "rebalance": self.rebalance,
            "aggregation": self.aggregation,
            "block": self.block,
            "mixing": self.mixing,
        }


def per_period(
    mu_annual: np.ndarray | Sequence[float],
    sigma_annual: np.ndarray | Sequence[Sequence[float]],
    periods_per_year: int = 252,
) -> tuple[np.ndarray, np.ndarray]:
    """Convert annual expected returns and covariance to per-period ones (i.i.d. scaling).

    Returns ``(mu_annual / periods_per_year, sigma_annual / periods_per_year)``.
    """
    if periods_per_year <= 0:
        raise ConfigError(f"`periods_per_year` must be positive, got {periods_per_year!r}")
    return (
        np.asarray(mu_annual, dtype=float) / periods_per_year,
        np.asarray(sigma_annual, dtype=float) / periods_per_year,
    )


def covariance_from_vols(
    vols: Sequence[float], corr: np.ndarray | Sequence[Sequence[float]]
) -> np.ndarray:
    """Covariance ``diag(vols) @ corr @ diag(vols)``."""
    v = np.asarray(vols, dtype=float)
    return np.asarray(corr, dtype=float) * np.outer(v, v)


def _vector(name: str, x: object, n: int | None) -> np.ndarray:
    a = np.array(x.to_numpy() if isinstance(x, (pd.Series, pd.DataFrame)) else x, dtype=float)
    if a.ndim != 1 or (n is not None and a.shape[0] != n):
        want = "a 1D array" if n is None else f"a 1D array of length {n}"
        raise DataError(f"`{name}` must be {want}, got {describe(a)}")
    if not np.all(np.isfinite(a)):
        raise DataError(f"`{name}` must be finite")
    return a


def forecast(
    weights: np.ndarray | pd.Series | Sequence[float],
    mu: np.ndarray | pd.Series | Sequence[float] | None,
    Sigma: np.ndarray | pd.DataFrame | None,
    *,
    horizon: int = 30,
    n_scenarios: int = 10_000,
    distribution: str = "normal",
    nu: float | str = 5.0,
    levels: Sequence[float] = (0.95, 0.99),
    rebalance: str | int = "drift",
    costs: np.ndarray | Sequence[float] | None = None,
    history: np.ndarray | pd.DataFrame | None = None,
    block: int = 5,
    aggregation: Aggregation = "compound",
    rng: np.random.Generator | int | None = None,
    workers: int | None = None,
    pool: Executor | None = None,
    mixing: Mixing = "period",
    filter: str = "ewma",
    settings: MonteCarlo | None = None,
    progress: bool | None = False,
) -> RiskForecast:
    """Forecast the horizon return and drawdown distribution of a portfolio by Monte Carlo.

    Parameters
    ----------
    weights : array-like of shape (n,)
        Weights held now (fractions of value; cash = 1 - sum, earning zero).
    mu : array-like of shape (n,) or None
        Expected simple return PER PERIOD (daily for daily data; see :func:`per_period`).
        May be None for ``distribution="bootstrap"``.
    Sigma : ndarray of shape (n, n) or None
        Covariance PER PERIOD; positive semi-definite (singular is fine, e.g. a zero-vol
        stablecoin). May be None for the bootstrap.
    horizon : int
        H, periods per path (default 30).
    n_scenarios : int
        M, number of paths (default 10,000).
    distribution : {"normal", "student_t", "bootstrap", "fhs"}
        See :mod:`rwafolio.risk.scenarios`. ``"fhs"``: filtered historical simulation, the
        block bootstrap of ``history`` re-scaled to today's volatility per asset, de-meaned and
        re-centred on ``mu`` (:func:`rwafolio.risk.generators.fhs_history`); Sigma is not used.
        The volatility is held at today's over the horizon (the strategy-aware and top-down
        forecasts carry it forward along each path).
    nu : float or "fit"
        Student-t degrees of freedom, > 2 (the covariance is Sigma whatever nu is); ``"fit"``
        fits it by maximum likelihood to the portfolio's past returns ``history @ weights``
        (:func:`rwafolio.risk.generators.fit_nu`) and records the value.
    levels : sequence of float
        VaR confidences (default 0.95 and 0.99).
    rebalance : "drift" or int
        ``"drift"``: buy and hold inside the horizon; ``k``: trade back to ``weights`` after every
        k periods, paying ``sum_i C_i |trade_i|``.
    costs : array-like of shape (n,) or None
        One-off cost per unit of traded weight (0.001 = 10 bp); None = no costs.
    history : array-like of shape (T, n) or None
        Per-period historical returns, required by the bootstrap.
    block : int
        Bootstrap block length in periods.
    aggregation : {"compound", "sum"}
        ``"compound"`` (default): the outcome is the compounded value change ``V_H - 1``.
        ``"sum"``: the sum of per-period portfolio returns minus costs, the model's
        ``R_p - C_p`` convention, whose normal closed form ``H w'mu + z sqrt(H w'Sigma w)`` is
        exact with ``rebalance=1`` and no costs.
    rng : Generator, int or None
        Randomness; the resolved integer seed is recorded in the result.
    workers : int or None
        Threads for the simulation; results do not depend on it.
    pool : Executor or None
        An existing thread pool to reuse across many forecasts (at least ``workers - 1``
        threads); None creates one per call.
    mixing : {"period", "block", "path"}
        Student-t mixing unit: per period (tails thin out over the horizon), per ``block``
        periods, or per path (the horizon sum stays Student-t).
    filter : {"ewma", "garch"}
        Volatility filter of ``"fhs"`` (RiskMetrics 0.94, or GARCH(1, 1) through ``arch``).
    settings : MonteCarlo or None
        All the Monte Carlo settings above (horizon to block, and the seed) as one checked
        object, instead of the keywords (which must then keep their defaults).
    progress : bool or None
        Report the scenarios done on stderr when the run lasts over ~2 s (None or True: on;
        default False, as inside a rolling run, which reports its dates).

    Returns
    -------
    RiskForecast
        VaR/CVaR/drawdown-at-risk per level, as returns (negative = loss).
    """
    mc = resolve_settings(
        settings, rng, horizon=horizon, n_scenarios=n_scenarios, levels=levels,
        distribution=distribution, nu=nu, mixing=mixing, rebalance=rebalance,
        aggregation=aggregation, block=block,
    )  # fmt: skip
    w = _vector("weights", weights, None)
    n = w.shape[0]
    if mc.nu == "fit":
        if history is None:
            raise ConfigError("`nu='fit'` needs `history` (past returns to fit it on)")
        from rwafolio.risk.generators import fit_nu

        mc = replace(mc, nu=fit_nu(np.asarray(history, dtype=float) @ w))
    distribution, nu, lv, every = mc.distribution, float(mc.nu), mc.levels, mc.every
    c = None if costs is None else _vector("costs", costs, n)
    if c is not None and np.any(c < 0):
        raise ConfigError("`costs` must be non-negative")
    mu_v: np.ndarray | None = None
    sig: np.ndarray | None = None
    hist: np.ndarray | None = None
    if distribution in ("bootstrap", "fhs"):
        if history is None:
            raise ConfigError(f"`history` is required when distribution={distribution!r}")
        hist = np.array(history, dtype=float)
        if hist.ndim != 2 or hist.shape[1] != n or hist.shape[0] < 1:
            raise DataError(f"`history` must have shape (T, {n}), got {describe(hist)}")
        if not np.all(np.isfinite(hist)) or np.any(hist <= -1):
            raise DataError("`history` must hold finite returns > -1")
        if distribution == "fhs":
            from rwafolio.risk.generators import fhs_history

            m = None if mu is None else _vector("mu", mu, n)
            hist = fhs_history(hist, m, filter=filter)  # type: ignore[arg-type]
    else:
        if mu is None or Sigma is None:
            raise ConfigError(f"`mu` and `Sigma` are required when distribution={distribution!r}")
        mu_v = _vector("mu", mu, n)
        sig = np.array(Sigma.to_numpy() if isinstance(Sigma, pd.DataFrame) else Sigma, dtype=float)
        if sig.shape != (n, n) or not np.all(np.isfinite(sig)):
            raise DataError(f"`Sigma` must be a finite ({n}, {n}) matrix, got {describe(sig)}")
        if not np.allclose(sig, sig.T, rtol=1e-10, atol=1e-14):
            raise DataError("`Sigma` must be symmetric")
        sig = 0.5 * (sig + sig.T)
    assert mc.seed is not None  # resolved
    sims = simulate(
        w, mu_v, sig, seed=mc.seed, horizon=mc.horizon, n_scenarios=mc.n_scenarios,
        distribution="bootstrap" if distribution == "fhs" else distribution,  # type: ignore[arg-type]
        nu=nu, every=every, costs=c, history=hist, block=mc.block,
        aggregation=mc.aggregation,  # type: ignore[arg-type]
        workers=workers, pool=pool, mixing=mc.mixing,  # type: ignore[arg-type]
        progress=progress,
    )  # fmt: skip
    return summarize(
        sims.outcomes, sims.max_drawdowns, sims.costs_paid, levels=lv, seed=mc.seed,
        horizon=mc.horizon, distribution=distribution,
        nu=nu if distribution == "student_t" else None, rebalance=mc.rebalance,
        aggregation=mc.aggregation,
        block=mc.block if distribution in ("bootstrap", "fhs") else None,
        mixing=mc.mixing if distribution == "student_t" else None, settings=mc,
    )  # fmt: skip


def summarize(
    outcomes: np.ndarray,
    max_drawdowns: np.ndarray,
    costs_paid: np.ndarray,
    *,
    levels: tuple[float, ...],
    seed: int,
    horizon: int,
    distribution: str,
    nu: float | None,
    rebalance: str | int,
    aggregation: str,
    block: int | None,
    mixing: str | None = None,
    settings: MonteCarlo | None = None,
) -> RiskForecast:
    """Build a :class:`RiskForecast` from per-scenario outcomes (see the module's conventions)."""
    xs = np.sort(outcomes)
    ds = np.sort(max_drawdowns)
    stats = [tail_stats(xs, lv) for lv in levels]
    dstats = [tail_stats(ds, lv) for lv in levels]
    return RiskForecast(
        levels=levels,
        var=tuple(s.quantile for s in stats),
        cvar=tuple(s.tail_mean for s in stats),
        var_se=tuple(s.quantile_se for s in stats),
        var_ci=tuple(s.quantile_ci for s in stats),
        cvar_se=tuple(s.tail_mean_se for s in stats),
        dar=tuple(s.quantile for s in dstats),
        cdar=tuple(s.tail_mean for s in dstats),
        mean=float(outcomes.mean()),
        std=float(outcomes.std()),
        mean_cost=float(costs_paid.mean()),
        outcomes=outcomes,
        max_drawdowns=max_drawdowns,
        seed=seed,
        n_scenarios=int(outcomes.shape[0]),
        horizon=horizon,
        distribution=distribution,
        nu=nu,
        rebalance=rebalance,
        aggregation=aggregation,
        block=block,
        mixing=mixing,
        settings=settings,
    )


def normal_var(
    weights: np.ndarray,
    mu: np.ndarray,
    Sigma: np.ndarray,
    horizon: int,
    level: float,
) -> float:
    """Closed-form normal VaR ``H w'mu + z_(1-level) sqrt(H w'Sigma w)`` (a return, < 0 = loss).

    Exact for the ``aggregation="sum"`` outcome with ``rebalance=1`` and no costs.
    """
    w = np.asarray(weights, dtype=float)
    m = horizon * float(w @ np.asarray(mu, dtype=float))
    s = float(np.sqrt(horizon * w @ np.asarray(Sigma, dtype=float) @ w))
    return m + float(norm.ppf(1.0 - level)) * s
