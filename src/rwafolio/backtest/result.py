"""BacktestResult: the immutable record of one backtest run.

Timing convention: at decision date t the strategy sees returns up to and including t (close of
t), and trades at t's close price. Row t of ``weights`` is what is held after trading at t;
row t of ``weights_before`` is the drifted holding just before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.backtest.stats import stats as _stats
from rwafolio.loaders.panel import Panel


@dataclass(frozen=True)
class BacktestResult:
    """Everything one backtest produced.

    Attributes
    ----------
    name : str
        Strategy label ("dynamic", "equal_weight", ...).
    panel : Panel
        The data it ran on.
    portfolio : vectorbt.Portfolio
        The executed portfolio (one group, cash shared).
    value : Series of shape (n_dates,)
        Portfolio value, starting at ``init_cash``.
    returns : Series of shape (n_dates,)
        Per-period simple returns of the portfolio (first is 0).
    weights : DataFrame of shape (n_dates, n_assets)
        Weights held after trading at each date (fractions of portfolio value; cash = 1 - sum).
    weights_before : DataFrame of shape (n_dates, n_assets)
        Drifted weights just before trading at each date.
    targets : DataFrame of shape (n_dates, n_assets)
        Target weights sent to vectorbt; NaN where no order was sent.
    decisions : DataFrame indexed by decision date
        Columns: ``lam``, ``vix``, ``solver``, ``status``, ``kkt_residual``, ``iterations``,
        ``objective``, ``traded`` (bool), ``n_skipped``, ``fallback_reason``.
    skipped : DataFrame
        One row per trade the threshold held back: ``date``, ``symbol``, ``proposed`` (weight
        change), ``reason``.
    turnover : Series of shape (n_dates,)
        sum_i |traded weight_i| per date (fraction of value).
    fees : Series of shape (n_dates,)
        Fees paid per date, as a fraction of the value before trading (the cost model's
        ``fee`` of the date's trade).
    estimate_dates : DatetimeIndex of shape (n_decisions,)
        Decision dates with R/Sigma estimates (those where the strategy estimated).
    mu : ndarray of shape (n_decisions, n_assets)
        Expected return per period (not annualized) the strategy used at each estimate date.
    cov : ndarray of shape (n_decisions, n_assets, n_assets)
        Covariance per period the strategy used.
    params : mapping
        Every strategy parameter and run option as plain values, a record for the report.
    init_cash : float
    strategy : Strategy or None
        An unprepared copy of the strategy that ran (same class and constructor parameters):
        the analyses that need the strategy's problem at a date ask it (see
        :func:`rwafolio.backtest.replay.problems`). None for a result read back from a file.
    signal_lag : int
        The run's signal lag (periods between the data a decision sees and its date).
    loop : str
        Which path walked the dates (:func:`rwafolio.backtest.run`'s ``loop``): ``"compiled"``,
        ``"python"``, or ``"compiled, then python from DATE"`` when the compiled loop handed over.
    """

    name: str
    panel: Panel
    portfolio: Any
    value: pd.Series
    returns: pd.Series
    weights: pd.DataFrame
    weights_before: pd.DataFrame
    targets: pd.DataFrame
    decisions: pd.DataFrame
    skipped: pd.DataFrame
    turnover: pd.Series
    fees: pd.Series
    estimate_dates: pd.DatetimeIndex
    mu: np.ndarray
    cov: np.ndarray
    params: Mapping[str, Any] = field(default_factory=dict)
    init_cash: float = 1.0
    strategy: Any = None
    signal_lag: int = 0
    loop: str = "python"

    @property
    def costs(self) -> pd.Series:
        """Deprecated name of :attr:`fees` (``costs`` now means per-asset rates only)."""
        return self.fees

    @property
    def periods_per_year(self) -> int:
        return self.panel.periods_per_year

    def stats(self) -> pd.Series:
        """Total return, CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar, turnover and
        costs over the live period, annualized by the panel's calendar policy."""
        return _stats(self)

    def solver_stats(self) -> dict[str, Any]:
        """Which solver answered how often, the worst KKT residual, failures and fallbacks."""
        d = self.decisions
        if len(d) == 0:
            return {"decisions": 0, "by_solver": {}, "worst_kkt": float("nan"), "fallbacks": 0}
        return {
            "decisions": len(d),
            "by_solver": {str(k): int(v) for k, v in d["solver"].value_counts().items()},
            "worst_kkt": float(np.nanmax(d["kkt_residual"].to_numpy(dtype=float)))
            if d["kkt_residual"].notna().any()
            else float("nan"),
            "failures": int((d["status"] != "optimal").sum()),
            "fallbacks": int((d["fallback_reason"] != "").sum()),
        }
