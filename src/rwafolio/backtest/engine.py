"""The backtest engine: walks the decision dates, serves the past only, carries drifted weights.

``run(strategy, panel)``:

1. asks the strategy to ``prepare`` with the universe and the trading calendar (no prices);
2. at each date t from the strategy's warm-up on, drifts the held weights with the day's returns,
   shows the strategy a read-only :class:`~rwafolio.strategies.MarketView` that ends at t, and
   takes its :class:`~rwafolio.strategies.Decision`;
3. turns the decision into self-financing vectorbt targets and books the trade;
4. executes all targets once with vectorbt (:mod:`rwafolio.backtest.execution`) and reconciles
   vectorbt's holdings with its own.

One date's decision and trade is :func:`rwafolio.backtest.step.rebalance` (the live
rebalancer calls the same function). The book's step (drift, self-financing trade, fee) is
:mod:`rwafolio.backtest.book`; fees come
from the one :class:`~rwafolio.optimize.costs.CostModel`, built once from the universe and also
handed to the strategy (``Setup.cost_model``) and to vectorbt. After trading the portfolio holds
the strategy's weights up to the factor the fees cost, and vectorbt's fills are complete. Any
remaining difference between vectorbt's holdings and the engine's is measured and stored
(``decisions["execution_gap"]``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rwafolio.backtest.book import drift, self_financing_scale
from rwafolio.backtest.result import BacktestResult
from rwafolio.backtest.step import rebalance
from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.costs import CostModel
from rwafolio.strategies.base import Decision, MarketView, Setup, Strategy
from rwafolio.utils.jsonable import param_jsonable
from rwafolio.utils.progress import Progress

__all__ = ["Market", "market_of", "run", "self_financing_scale", "setup_of", "view_at"]

_DECISION_COLUMNS = [
    "date",
    "lam",
    "vix",
    "solver",
    "status",
    "kkt_residual",
    "iterations",
    "objective",
    "traded",
    "n_skipped",
    "fallback_reason",
]


class Market(NamedTuple):
    """A panel as the engine reads it: plain arrays, one row per date.

    Attributes
    ----------
    dates : DatetimeIndex of shape (n_dates,)
    symbols, classes : list of str
    returns : ndarray of shape (n_dates, n_assets)
        Per-period simple returns (row 0 is zeros).
    tradable : ndarray of bool, shape (n_dates, n_assets)
    vix : ndarray of shape (n_dates,) or None
    cost_model : CostModel
    periods_per_year : int
    """

    dates: pd.DatetimeIndex
    symbols: list[str]
    classes: list[str]
    returns: np.ndarray
    tradable: np.ndarray
    vix: np.ndarray | None
    cost_model: CostModel
    periods_per_year: int


def market_of(panel: Panel) -> Market:
    """The arrays the engine walks, and the run's one cost model, from ``panel``."""
    prices = panel.prices.to_numpy(dtype=float)
    returns = np.zeros_like(prices)
    returns[1:] = prices[1:] / prices[:-1] - 1.0
    return Market(
        dates=panel.dates,
        symbols=panel.symbols,
        classes=panel.universe.classes,
        returns=returns,
        tradable=panel.tradable.to_numpy(dtype=bool),
        vix=None if panel.vix is None else panel.vix.to_numpy(dtype=float),
        cost_model=CostModel.from_universe(panel.universe),
        periods_per_year=panel.periods_per_year,
    )


def setup_of(market: Market) -> Setup:
    """What a strategy may know before the first date (no prices, no index levels)."""
    return Setup(
        dates=market.dates,
        tradable=market.tradable,
        symbols=market.symbols,
        asset_classes=market.classes,
        costs=market.cost_model.rates,
        periods_per_year=market.periods_per_year,
        has_vix=market.vix is not None,
        cost_model=market.cost_model,
    )


def view_at(
    market: Market,
    t: int,
    weights: np.ndarray,
    lag: int,
    returns: np.ndarray | None = None,
    vix: np.ndarray | None = None,
) -> MarketView:
    """The :class:`MarketView` of date row ``t``: data through row ``t - lag``, read-only.

    ``returns``/``vix`` are the engine's row-by-row buffers (nothing after row t in memory);
    without them the rows are copied out of ``market``, so the view's memory still ends there.
    """
    stop = t + 1 - lag
    if returns is None:  # an analysis after the run: copies of the rows up to the view's end
        seen_r = np.array(market.returns[:stop])
        seen_v = None if market.vix is None else np.array(market.vix[:stop])
    else:
        seen_r = returns[:stop]
        seen_v = None if vix is None else vix[:stop]
    return MarketView(
        t,
        market.dates,
        seen_r,
        seen_v,
        weights,
        market.tradable[t],
        market.symbols,
        market.classes,
        market.cost_model.rates,
        market.periods_per_year,
    )


class _Ledger:
    """The book of record, filled one date at a time."""

    def __init__(self, n_dates: int, n: int, init_cash: float) -> None:
        self.value = float(init_cash)
        self.w_before = np.zeros((n_dates, n))
        self.w_after = np.zeros((n_dates, n))
        self.sent = np.full((n_dates, n), np.nan)
        self.fees = np.zeros(n_dates)
        self.turnover = np.zeros(n_dates)
        self.values = np.empty(n_dates)
        self.decisions: list[dict[str, Any]] = []
        self.skipped: list[dict[str, Any]] = []
        self.est_dates: list[int] = []
        self.est_mu: list[np.ndarray] = []
        self.est_cov: list[np.ndarray] = []

    def record(self, t: int, decision: Decision, traded: bool) -> None:
        self.decisions.append(
            {
                "date": t,
                "lam": decision.lam,
                "vix": decision.vix,
                "solver": decision.solver,
                "status": decision.status,
                "kkt_residual": decision.kkt_residual,
                "iterations": decision.iterations,
                "objective": decision.objective,
                "traded": traded,
                "n_skipped": len(decision.skipped),
                "fallback_reason": decision.fallback_reason,
            }
        )
        for sym, change, reason in decision.skipped:
            self.skipped.append({"date": t, "symbol": sym, "proposed": change, "reason": reason})
        if decision.mu is not None and decision.cov is not None:
            self.est_dates.append(t)
            self.est_mu.append(np.asarray(decision.mu, dtype=float))
            self.est_cov.append(np.asarray(decision.cov, dtype=float))


def _check_options(strategy: Strategy, panel: Panel, init_cash: float, signal_lag: int) -> int:
    if not isinstance(strategy, Strategy):
        raise ConfigError(f"`strategy` must be a rwafolio Strategy, got {type(strategy).__name__}")
    if not isinstance(panel, Panel):
        raise ConfigError(f"`panel` must be a Panel, got {type(panel).__name__}")
    if not np.isfinite(init_cash) or init_cash <= 0:
        raise ConfigError(f"`init_cash` must be > 0, got {init_cash!r}")
    if not isinstance(signal_lag, int | np.integer) or signal_lag < 0:
        raise ConfigError(
            f"`signal_lag` must be a whole number of periods >= 0, got {signal_lag!r}"
        )
    return int(signal_lag)


def _first_row(strategy: Strategy, first_decision: int | None, lag: int, n_dates: int) -> int:
    start = strategy.warmup + lag if first_decision is None else int(first_decision)
    if start < strategy.warmup + lag or start >= n_dates:
        raise ConfigError(
            f"`first_decision` must be in [{strategy.warmup + lag}, {n_dates}) (the strategy "
            f"needs {strategy.warmup} periods of warm-up plus the signal lag {lag}; the panel has "
            f"{n_dates} dates), got {start}"
        )
    return start


def _initial_book(
    initial_weights: np.ndarray | None, n: int, start: int
) -> tuple[np.ndarray | None, int]:
    """The carried-in weights (checked) and the row they are held at (-1: none)."""
    if initial_weights is None:
        return None, -1
    w_init = np.asarray(initial_weights, dtype=float)
    if w_init.shape != (n,) or not np.all(np.isfinite(w_init)) or np.any(w_init < 0):
        raise ConfigError(
            f"`initial_weights` must be {n} finite non-negative weights, got {w_init!r}"
        )
    if w_init.sum() > 1 + 1e-9:
        raise ConfigError(f"`initial_weights` must sum to at most 1, got {w_init.sum()!r}")
    if start < 1:
        raise ConfigError("`initial_weights` need `first_decision` >= 1 (a row to hold them at)")
    return w_init, start - 1


def _walk(
    strategy: Strategy,
    market: Market,
    ledger: _Ledger,
    start: int,
    lag: int,
    w_init: np.ndarray | None,
    seed_row: int,
    bar: Any,
) -> None:
    """Walk every date: drift, show the past, book the decision's trade."""
    n_dates, n = market.returns.shape
    rates = market.cost_model.rates
    # What strategies see: buffers filled one row at a time, so even the memory behind a view
    # (``view.returns.base``) holds nothing after the decision date.
    seen_returns = np.zeros_like(market.returns)
    seen_vix = None if market.vix is None else np.zeros_like(market.vix)
    w, cash = np.zeros(n), 1.0
    for t in range(n_dates):
        if t > 0:
            w, cash, growth = drift(w, cash, market.returns[t])
            ledger.value *= growth
        if t == seed_row and w_init is not None:
            w = w_init.copy()
            cash = 1.0 - float(w.sum())
            ledger.sent[t] = np.where(w > 0, w, np.nan)
        ledger.w_before[t] = w
        seen_returns[t] = market.returns[t]
        if seen_vix is not None and market.vix is not None:
            seen_vix[t] = market.vix[t]
        if t >= start:
            view = view_at(market, t, w.copy(), lag, seen_returns, seen_vix)
            step = rebalance(strategy, view, w, cash, rates)
            if step.decision is not None:
                if step.trade is not None:
                    ledger.sent[t, step.traded] = step.trade.sent
                    ledger.turnover[t], ledger.fees[t] = step.trade.turnover, step.trade.fee
                    ledger.value *= step.trade.growth
                w, cash = step.weights, step.cash
                ledger.record(t, step.decision, step.trade is not None)
            if bar is not None:
                bar.update(1)
        ledger.w_after[t] = w
        ledger.values[t] = ledger.value


def run(
    strategy: Strategy,
    panel: Panel,
    *,
    init_cash: float = 1.0,
    name: str | None = None,
    first_decision: int | None = None,
    signal_lag: int = 0,
    progress: bool | None = None,
    execute: bool = True,
    initial_weights: np.ndarray | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``panel`` and execute it with vectorbt.

    Parameters
    ----------
    strategy : Strategy
    panel : Panel
    init_cash : float, default 1.0
    name : str or None
        Label of the run (default: the strategy's class name).
    first_decision : int or None
        Row of the first date the strategy may trade (default: its warm-up). Use the same value
        for strategies you compare.
    progress : bool or None
        Progress on stderr (:class:`rwafolio.utils.progress.Progress`: a bar on a terminal,
        one-line updates otherwise); False silences it.
    signal_lag : int, default 0
        Periods between the last data the strategy sees and the date it trades at. 0: the view
        ends at the decision date's close. With mixed calendars the "close" differs by market
        (NYSE 16:00 ET, CBOE's VIX 16:15 ET, Yahoo's crypto bars 00:00 UTC), so an ETF order
        filled at 16:00 may be decided with a few hours of later crypto and VIX data; 1 removes
        that by deciding on data through the previous date.
    execute : bool, default True
        Build the vectorbt portfolio (False skips it, for speed in parameter sweeps).
    initial_weights : ndarray of shape (n_assets,) or None
        Weights already held at the close of the row before ``first_decision`` (fractions of
        value, cash = 1 - sum), e.g. the drifted book carried over from a previous walk-forward
        fold. Rows before that hold cash. vectorbt establishes them at that row without fees (the
        cost of getting there was paid where they were bought). None: start from cash.
    """
    lag = _check_options(strategy, panel, init_cash, signal_lag)
    market = market_of(panel)
    n_dates, n = market.returns.shape
    strategy.prepare(setup_of(market))
    start = _first_row(strategy, first_decision, lag, n_dates)
    w_init, seed_row = _initial_book(initial_weights, n, start)
    ledger = _Ledger(n_dates, n, init_cash)
    bar = Progress(n_dates - start, f"backtest {name or strategy.name}", "date", enabled=progress)
    _walk(strategy, market, ledger, start, lag, w_init, seed_row, bar)
    if bar is not None:
        bar.close()
    return _result(
        strategy, panel, market, ledger, name, start, lag, init_cash, w_init, seed_row, execute
    )


def _result(
    strategy: Strategy,
    panel: Panel,
    market: Market,
    ledger: _Ledger,
    name: str | None,
    start: int,
    lag: int,
    init_cash: float,
    w_init: np.ndarray | None,
    seed_row: int,
    execute: bool,
) -> BacktestResult:
    """Label the ledger, execute it with vectorbt (unless ``execute`` is False)."""
    dates, symbols, n = market.dates, market.symbols, len(market.symbols)
    decisions = pd.DataFrame(ledger.decisions, columns=_DECISION_COLUMNS)
    decisions["date"] = dates[decisions["date"].to_numpy(dtype=int)]
    decisions = decisions.set_index("date")
    skipped = pd.DataFrame(ledger.skipped, columns=["date", "symbol", "proposed", "reason"])
    skipped["date"] = dates[skipped["date"].to_numpy(dtype=int)]
    frame = lambda a: pd.DataFrame(a, index=dates, columns=symbols)  # noqa: E731
    value_s = pd.Series(ledger.values, index=dates, name="value")
    portfolio = None
    if execute:
        from rwafolio.backtest.execution import execute_targets, execution_gap

        portfolio = execute_targets(
            panel,
            frame(ledger.sent),
            init_cash=init_cash,
            fee_free_row=seed_row if seed_row >= 0 else None,
            cost_model=market.cost_model,
            first_row=start if seed_row < 0 else seed_row,
        )
        gap = execution_gap(portfolio, frame(ledger.w_after))
        decisions["execution_gap"] = gap.reindex(decisions.index).to_numpy()
    rets = value_s.pct_change().fillna(0.0).rename("returns")
    n_est = len(ledger.est_mu)
    return BacktestResult(
        name=name or strategy.name,
        panel=panel,
        portfolio=portfolio,
        value=value_s * 1.0,
        returns=rets,
        weights=frame(ledger.w_after),
        weights_before=frame(ledger.w_before),
        targets=frame(ledger.sent),
        decisions=decisions,
        skipped=skipped,
        turnover=pd.Series(ledger.turnover, index=dates, name="turnover"),
        fees=pd.Series(ledger.fees, index=dates, name="fees"),
        estimate_dates=pd.DatetimeIndex(dates[np.array(ledger.est_dates, dtype=int)]),
        mu=np.array(ledger.est_mu).reshape(n_est, n),
        cov=np.array(ledger.est_cov).reshape(n_est, n, n),
        params={
            "strategy": type(strategy).__name__,
            **param_jsonable(strategy.get_params()),
            "first_decision": dates[start].strftime("%Y-%m-%d"),
            "signal_lag": lag,
            "init_cash": init_cash,
            "initial_weights": None if w_init is None else [float(x) for x in w_init],
        },
        init_cash=init_cash,
        strategy=_unprepared_copy(strategy),
        signal_lag=lag,
    )


def _unprepared_copy(strategy: Strategy) -> Strategy | None:
    """A fresh instance with the same constructor parameters (None if the class cannot be
    rebuilt from them, e.g. a constructor that does not follow the scikit-learn contract)."""
    try:
        return type(strategy)(**strategy.get_params())
    except (TypeError, ValueError, AttributeError):
        return None
