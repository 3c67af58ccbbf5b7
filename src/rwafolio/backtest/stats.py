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

``sharpe`` and ``sortino`` use a zero rate. ``excess_sharpe`` and ``excess_sortino`` are the same
formulas on excess returns r_t - c_t, with c_t the per-period return of the cash asset: the first
asset of class ``cash``, else the first T-bill proxy (``proxies == "tokenized T-bills"``, e.g.
BIL), else a given annual rate ``risk_free`` compounded to the period, ``(1 + rf) ** (1 / ann) - 1``
(quantstats' convention; the tests check against quantstats). A T-bill-heavy book can show a good
zero-rate Sharpe and an excess Sharpe near zero: the excess figure is the one to compare.

:func:`cost_breakdown` splits ``costs_paid`` by asset class and sets the realized holding period,
``2 / turnover_per_year`` years (turnover counts both legs, so rotating the whole book once a year
is turnover 2 and a one-year holding period), against the strategy's cost horizon.

Statistics cover the live period: from the first decision date to the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError

STAT_NAMES = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "excess_sharpe",
    "excess_sortino",
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


def excess_ratios(returns: np.ndarray, cash: np.ndarray, periods_per_year: int) -> dict[str, float]:
    """Sharpe and Sortino of ``returns - cash`` (both per period, same shape), annualized."""
    p = performance(
        np.asarray(returns, dtype=float) - np.asarray(cash, dtype=float), periods_per_year
    )
    return {"excess_sharpe": p["sharpe"], "excess_sortino": p["sortino"]}


def cash_returns(result: BacktestResult, risk_free: float = 0.0) -> tuple[np.ndarray, str]:
    """Per-period cash returns over the whole panel, shape (n_dates,), and where they came from.

    The first asset of class ``cash``, else the first T-bill proxy of the universe, else the
    annual rate ``risk_free`` compounded to one period. The label is the symbol or ``"rate:<rf>"``.
    """
    if not (np.isfinite(risk_free) and risk_free > -1):
        raise ConfigError(f"`risk_free` must be an annual rate > -1, got {risk_free!r}")
    assets = result.panel.universe.assets
    pick = [a.symbol for a in assets if a.asset_class == "cash"]
    pick = pick or [a.symbol for a in assets if a.proxies == "tokenized T-bills"]
    if pick:
        prices = result.panel.prices[pick[0]].to_numpy(dtype=float)
        r = np.concatenate([[0.0], prices[1:] / prices[:-1] - 1.0])
        return r, pick[0]
    n = result.returns.shape[0]
    return np.full(
        n, (1.0 + risk_free) ** (1.0 / result.periods_per_year) - 1.0
    ), f"rate:{risk_free:g}"


def live_slice(result: BacktestResult) -> slice:
    """Rows from the first decision date on (the strategy's live period)."""
    first = pd.Timestamp(result.params.get("first_decision", result.value.index[0]))
    i0 = int(result.value.index.searchsorted(first))
    return slice(i0, None)


def stats(result: BacktestResult, risk_free: float = 0.0) -> pd.Series:
    """The ``stats()`` table of one result, as a Series indexed by :data:`STAT_NAMES`.

    ``risk_free`` (annual rate) is the cash return only when the universe has no cash asset.
    """
    sl = live_slice(result)
    # Row i0's return is the first trade's fees (the book was cash before it).
    r = result.returns.to_numpy()[sl]
    out = performance(r, result.periods_per_year)
    out.update(excess_ratios(r, cash_returns(result, risk_free)[0][sl], result.periods_per_year))
    n_years = max(r.shape[0], 1) / result.periods_per_year
    out["turnover_per_year"] = float(result.turnover.to_numpy()[sl].sum() / n_years)
    out["costs_paid"] = float(1.0 - np.prod(1.0 - result.fees.to_numpy()[sl]))
    return pd.Series(out, name=result.name)[list(STAT_NAMES)]


def stats_table(results: dict[str, BacktestResult] | list[BacktestResult]) -> pd.DataFrame:
    """Side-by-side ``stats()`` of several results (one column each)."""
    if isinstance(results, dict):
        return pd.concat([stats(r).rename(k) for k, r in results.items()], axis=1)
    return pd.concat([stats(r) for r in results], axis=1)


def fees_by_asset(result: BacktestResult) -> pd.DataFrame:
    """Fee per date and asset, fraction of the value before trading, shape (n_dates, n_assets).

    ``C_i |target_i - held_i|`` where an order was sent (the engine's ledger: the targets are the
    scaled, self-financing ones), so each row sums to the date's total fee.
    """
    tg = result.targets.to_numpy(dtype=float)
    held = result.weights_before.to_numpy(dtype=float)
    fee = np.where(np.isnan(tg), 0.0, np.abs(tg - held)) * result.panel.universe.costs[None, :]
    return pd.DataFrame(fee, index=result.targets.index, columns=result.targets.columns)


def cost_horizon_years(params: object, periods_per_year: int) -> float | None:
    """The years a strategy amortizes a one-off cost over, from its recorded parameters.

    ``cost_horizon`` when set (deprecated), ``1 / (trade_aversion * periods_per_year)`` with a
    trade aversion, else the estimation window (``window / periods_per_year``); None for a strategy without
    a cost model (no ``window``)."""
    p = dict(params)  # type: ignore[call-overload]
    if p.get("cost_horizon") is not None:
        return float(p["cost_horizon"])
    if p.get("trade_aversion") is not None:
        return 1.0 / (float(p["trade_aversion"]) * periods_per_year)
    if p.get("window") is not None and "lam0" in p:
        return float(p["window"]) / periods_per_year
    return None


def cost_breakdown(result: BacktestResult) -> dict[str, object]:
    """Fees by asset class and the realized holding period, over the live period.

    Returns
    -------
    dict with
        ``costs_by_class``: {class: share of ``costs_paid``}, each class's fees in proportion to
        its share of the per-date fee fractions (the values sum to ``costs_paid``);
        ``holding_period_years``: ``2 / turnover_per_year`` (inf without trades);
        ``cost_horizon_years``: the strategy's ``cost_horizon`` (None when it has none).
    """
    sl = live_slice(result)
    fees = fees_by_asset(result).to_numpy()[sl]
    classes = result.panel.universe.classes
    total = float(fees.sum())
    paid = float(1.0 - np.prod(1.0 - fees.sum(axis=1)))
    by_class: dict[str, float] = {}
    for j, c in enumerate(classes):
        by_class[c] = by_class.get(c, 0.0) + (float(fees[:, j].sum()) / total if total > 0 else 0.0)
    n_years = max(fees.shape[0], 1) / result.periods_per_year
    turnover = float(result.turnover.to_numpy()[sl].sum() / n_years)
    horizon = cost_horizon_years(result.params, result.periods_per_year)
    return {
        "costs_by_class": {c: v * paid for c, v in by_class.items()},
        "holding_period_years": 2.0 / turnover if turnover > 0 else float("inf"),
        "cost_horizon_years": horizon,
    }
