"""Performance statistics, annualized by the panel's calendar policy.

Definitions (the same as vectorbt's, which the tests check against, with ``ann`` the periods per
year: 365 under ``all_days``, 252 under ``exchange_days``; the risk-free rate is 0):

- total return: V_end / V_start - 1;
- CAGR: (1 + total) ** (ann / n_periods) - 1;
- volatility: std(r, ddof=1) * sqrt(ann);
- Sharpe: mean(r) / std(r, ddof=1) * sqrt(ann);
- Sortino: mean(r) * ann / (sqrt(mean(min(r, 0) ** 2)) * sqrt(ann));
- max drawdown: min over t of V_t / max_{s<=t} V_s - 1 (a negative number);
- Calmar: CAGR / |max drawdown|;
- turnover: sum of |traded weight| per year; costs: total fees as a fraction of value.

Statistics cover the live period: from the first decision date to the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rwafolio.backtest.result import BacktestResult

STAT_NAMES = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "turnover_per_year",
    "costs_paid",
)


def max_drawdown(value: np.ndarray) -> float:
    """Most negative V_t / running max - 1 of a value path (0 for a rising path)."""
    peak = np.maximum.accumulate(value)
    return float(np.min(value / peak - 1.0))


def performance(returns: np.ndarray, periods_per_year: int) -> dict[str, float]:
    """Return-based statistics of per-period simple returns (see module docstring)."""
    r = np.asarray(returns, dtype=float)
    n = r.shape[0]
    value = np.cumprod(1.0 + r)
    total = float(value[-1] - 1.0) if n else 0.0
    ann = float(periods_per_year)
    cagr = float((1.0 + total) ** (ann / n) - 1.0) if n and total > -1 else -1.0
    std = float(np.std(r, ddof=1)) if n > 1 else float("nan")
    mean = float(np.mean(r)) if n else float("nan")
    vol = std * np.sqrt(ann)
    sharpe = mean / std * np.sqrt(ann) if std > 0 else float("nan")
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if n else float("nan")
    sortino = mean * ann / (downside * np.sqrt(ann)) if downside > 0 else float("inf")
    mdd = max_drawdown(np.concatenate([[1.0], value])) if n else 0.0
    calmar = cagr / abs(mdd) if mdd < 0 else float("nan")
    return {
        "total_return": total,
        "cagr": cagr,
        "volatility": float(vol),
        "sharpe": float(sharpe),
        "sortino": float(sortino),
        "max_drawdown": mdd,
        "calmar": float(calmar),
    }


def live_slice(result: BacktestResult) -> slice:
    """Rows from the first decision date on (the strategy's live period)."""
    first = pd.Timestamp(result.params.get("first_decision", result.value.index[0]))
    i0 = int(result.value.index.searchsorted(first))
    return slice(i0, None)


def stats(result: BacktestResult) -> pd.Series:
    """The ``stats()`` table of one result, as a Series indexed by :data:`STAT_NAMES`."""
    sl = live_slice(result)
    # Row i0's return is the first trade's fees (the book was cash before it).
    r = result.returns.to_numpy()[sl]
    out = performance(r, result.periods_per_year)
    n_years = max(r.shape[0], 1) / result.periods_per_year
    out["turnover_per_year"] = float(result.turnover.to_numpy()[sl].sum() / n_years)
    out["costs_paid"] = float(1.0 - np.prod(1.0 - result.fees.to_numpy()[sl]))
    return pd.Series(out, name=result.name)[list(STAT_NAMES)]


def stats_table(results: dict[str, BacktestResult] | list[BacktestResult]) -> pd.DataFrame:
    """Side-by-side ``stats()`` of several results (one column each)."""
    if isinstance(results, dict):
        return pd.concat([stats(r).rename(k) for k, r in results.items()], axis=1)
    return pd.concat([stats(r) for r in results], axis=1)
