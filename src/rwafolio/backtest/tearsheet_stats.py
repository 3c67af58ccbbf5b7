"""Tearsheet statistics of a return series: calendar returns, rolling figures, the return
distribution, drawdown episodes, extremes and benchmark-relative figures.

Every function takes per-period simple returns (a Series indexed by date; the risk-free rate is
0) and, where a figure is annualized, ``periods_per_year`` (365 under ``all_days``, 252 under
``exchange_days``). Definitions (the tests check each against quantstats, which defines the same
figures):

- monthly / yearly return: compounded, ``prod(1 + r) - 1`` over the calendar month / year;
- rolling volatility: ``std(r, ddof=1) * sqrt(ppy)`` over the last ``window`` periods; rolling
  Sharpe: ``mean(r) / std(r, ddof=1) * sqrt(ppy)`` over the same window;
- skew and kurtosis: pandas' bias-corrected sample skewness and *excess* kurtosis (normal = 0);
- hit rate: share of periods with a gain among periods whose return is not exactly 0 (a frozen
  book's zero days count neither way);
- beta: ``cov(r, b) / var(b)``; alpha: ``(mean(r) - beta * mean(b)) * ppy`` (annualized, not
  compounded); tracking error: ``std(r - b, ddof=1) * sqrt(ppy)``; information ratio:
  ``mean(r - b) / std(r - b, ddof=1) * sqrt(ppy)`` (annualized; quantstats leaves it per period);
- a drawdown episode starts at a running peak (the last date at the high), reaches its trough
  (the lowest value before recovery) and recovers on the first date the value is back at or
  above that peak (none if it never is); its length counts calendar days from peak to recovery
  (or to the last date while it is still open).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rwafolio.exceptions import DataError

__all__ = [
    "drawdown_episodes",
    "extremes",
    "monthly_returns",
    "relative_to",
    "return_distribution",
    "rolling_sharpe",
    "rolling_volatility",
    "yearly_returns",
]


def _checked(returns: pd.Series, name: str = "returns") -> pd.Series:
    if not isinstance(returns, pd.Series) or not isinstance(returns.index, pd.DatetimeIndex):
        raise DataError(f"`{name}` must be a Series indexed by date, got {type(returns).__name__}")
    r = returns.astype(float)
    if not np.isfinite(r.to_numpy()).all():
        raise DataError(f"`{name}` holds NaN or infinite returns")
    return r


def _compound(r: pd.Series, rule: str) -> pd.Series:
    return (1.0 + r).groupby(pd.DatetimeIndex(r.index).to_period(rule)).prod() - 1.0


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded return of each calendar month, as a (year x month 1..12) table.

    Returns
    -------
    DataFrame of shape (n_years, 12)
        Fractions (0.05 = 5%); NaN for months outside the series.
    """
    m = _compound(_checked(returns), "M")
    periods = pd.PeriodIndex(m.index)
    out = pd.DataFrame({"year": periods.year, "month": periods.month, "r": m.to_numpy()})
    table = out.pivot(index="year", columns="month", values="r")
    return table.reindex(columns=range(1, 13))


def yearly_returns(returns: pd.Series) -> pd.Series:
    """Compounded return of each calendar year (index: year; a partial first/last year
    covers only its dates)."""
    y = _compound(_checked(returns), "Y")
    years = pd.PeriodIndex(y.index).year
    return pd.Series(y.to_numpy(), index=pd.Index(years, name="year"), name="return")


def rolling_volatility(returns: pd.Series, window: int, periods_per_year: int) -> pd.Series:
    """Annualized volatility over the last ``window`` periods (NaN for the first ``window-1``)."""
    r = _checked(returns)
    return r.rolling(window).std() * np.sqrt(periods_per_year)


def rolling_sharpe(returns: pd.Series, window: int, periods_per_year: int) -> pd.Series:
    """Annualized Sharpe ratio over the last ``window`` periods (risk-free rate 0)."""
    r = _checked(returns)
    roll = r.rolling(window)
    std = roll.std()
    return roll.mean() / std.where(std > 0) * np.sqrt(periods_per_year)


def return_distribution(returns: pd.Series) -> dict[str, float]:
    """Mean, standard deviation (per period), skew and excess kurtosis of the returns."""
    r = _checked(returns)
    return {
        "mean": float(r.mean()),
        "std": float(r.std()),
        "skew": float(r.skew()),  # type: ignore[arg-type]
        "kurtosis": float(r.kurt()),  # type: ignore[arg-type]
    }


def extremes(returns: pd.Series) -> dict[str, float]:
    """Best and worst period and calendar month, and the hit rate (see module docstring)."""
    r = _checked(returns)
    m = _compound(r, "M")
    moved = r[r != 0.0]
    return {
        "best_day": float(np.max(r.to_numpy())),
        "worst_day": float(np.min(r.to_numpy())),
        "best_month": float(np.max(m.to_numpy())),
        "worst_month": float(np.min(m.to_numpy())),
        "hit_rate": float((moved > 0).mean()) if len(moved) else float("nan"),
        "hit_rate_months": float((m > 0).mean()),
    }


def relative_to(
    returns: pd.Series, benchmark: pd.Series, periods_per_year: int
) -> dict[str, float]:
    """Alpha, beta, tracking error and information ratio of ``returns`` against ``benchmark``
    (both per-period simple returns on the same dates; see the module docstring)."""
    r = _checked(returns)
    b = _checked(benchmark, "benchmark")
    if not r.index.equals(b.index):
        raise DataError("`benchmark` must be indexed by the same dates as `returns`")
    cov = np.cov(r.to_numpy(), b.to_numpy(), ddof=1)
    beta = float(cov[0, 1] / cov[1, 1]) if cov[1, 1] > 0 else float("nan")
    active = r - b
    te = float(active.std())
    ann = np.sqrt(periods_per_year)
    return {
        "alpha": float((r.mean() - beta * b.mean()) * periods_per_year),
        "beta": beta,
        "correlation": float(r.corr(b)),
        "tracking_error": te * ann,
        "information_ratio": float(active.mean() / te * ann) if te > 0 else float("nan"),
    }


def drawdown_episodes(values: pd.Series, top: int = 5) -> pd.DataFrame:
    """The ``top`` deepest drawdown episodes of a value path (see the module docstring).

    Parameters
    ----------
    values : Series of shape (n_dates,)
        Portfolio value (any positive scale), indexed by date.
    top : int
        How many episodes, deepest first.

    Returns
    -------
    DataFrame
        Columns ``peak``, ``trough``, ``recovery`` (NaT while open), ``depth`` (<= 0, a
        fraction), ``days_to_trough``, ``days`` (peak to recovery or to the last date) and
        ``recovered`` (bool).
    """
    v = _checked(values, "values")
    x = v.to_numpy()
    idx = v.index
    peak_val = np.maximum.accumulate(x)
    under = x < peak_val
    rows = []
    i, n = 0, len(x)
    while i < n:
        if not under[i]:
            i += 1
            continue
        p = i - 1  # last date at the high (under[0] is never True)
        j = i
        while j < n and under[j]:
            j += 1
        t = i + int(np.argmin(x[i:j]))
        end = idx[j] if j < n else idx[-1]
        rows.append(
            {
                "peak": idx[p], "trough": idx[t], "recovery": idx[j] if j < n else pd.NaT,
                "depth": float(x[t] / x[p] - 1.0), "days_to_trough": int((idx[t] - idx[p]).days),
                "days": int((end - idx[p]).days), "recovered": j < n,
            }
        )  # fmt: skip
        i = j
    cols = ["peak", "trough", "recovery", "depth", "days_to_trough", "days", "recovered"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("depth", kind="stable").head(top).reset_index(drop=True)
