"""The backtest engine: walks the decision dates, serves the past only, carries drifted weights.

``run(strategy, panel)``:

1. asks the strategy to ``prepare`` with the universe and the trading calendar (no prices);
2. at each date t from the strategy's warm-up on, drifts the held weights with the day's returns,
   shows the strategy a read-only :class:`~rwafolio.strategies.MarketView` that ends at t, and
   takes its :class:`~rwafolio.strategies.Decision`;
3. turns the decision into self-financing vectorbt targets (below) and books the trade;
4. executes all targets once with vectorbt (:mod:`rwafolio.backtest.execution`) and reconciles
   vectorbt's holdings with its own.

**Self-financing targets.** vectorbt's ``targetpercent`` sizes every order in a bar against the
group value before the bar and takes fees from cash. Targets that sum to 1 would leave cash
short by the fees and force a partial fill of the last buy. The engine therefore scales the traded
assets' targets by the k in (0, 1] that solves  k * sum_S t_i + sum_S C_i |k t_i - w_i| = c + sum_S w_i
(cash after trading is zero; S are the traded assets, c the cash before), exactly, by a
breakpoint search. After trading the portfolio holds the strategy's weights up to the factor the
fees cost, and vectorbt's fills are complete. Any remaining difference between vectorbt's holdings
and the engine's is measured and stored (``decisions["execution_gap"]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError, OptimizationError
from rwafolio.loaders.panel import Panel
from rwafolio.strategies.base import Decision, MarketView, Setup, Strategy
from rwafolio.utils.jsonable import jsonable
from rwafolio.utils.progress import Progress

#: Shave on k so vectorbt never sees cash short by a rounding error (1e-12 of value).
_CASH_GUARD = 1e-12


def self_financing_scale(
    target: np.ndarray, held: np.ndarray, cash: float, costs: np.ndarray
) -> float:
    """The k that makes trading to ``k * target`` pay its own fees exactly.

    Parameters
    ----------
    target, held, costs : ndarray of shape (n_traded,)
        Targets and held weights of the traded assets, their one-off costs.
    cash : float
        Cash weight available to the trade (before trading, less the cash the strategy wants to
        keep).

    Returns
    -------
    float
        Root of the increasing, piecewise-linear f(k) = k sum(t) + sum C |k t - w| - (cash + sum w).
        k is slightly below 1 when the targets use all the available cash (the fees come out of
        them).
    """
    return float(
        _scale_nb(
            np.ascontiguousarray(target, dtype=np.float64),
            np.ascontiguousarray(held, dtype=np.float64),
            float(cash),
            np.ascontiguousarray(costs, dtype=np.float64),
        )
    )


def scale_py(target: np.ndarray, held: np.ndarray, cash: float, costs: np.ndarray) -> float:
    """Pure-numpy twin of the scale kernel: Newton's method on the piecewise-linear f.

    From k = 1, each step lands on the root of the linear piece it stands on; f is convex
    (a sum of |.| plus a line), so the iterates approach the root monotonically from one side and
    stop on its piece after at most n + 1 steps.
    """
    budget = cash + held.sum()
    st = target.sum()
    if st <= 0.0:
        return 1.0
    k = 1.0
    for _ in range(target.shape[0] + 3):
        dev = k * target - held
        f = k * st + np.abs(dev) @ costs - budget
        slope = st + (np.sign(dev) * target) @ costs
        if slope <= 0.0:  # only with costs >= 1, rejected by Asset; stay safe
            break
        k_new = max(k - f / slope, 0.0)
        if k_new == k:
            break
        k = k_new
    return float(k)


_scale_nb = njit(cache=True)(scale_py)


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
    if not isinstance(strategy, Strategy):
        raise ConfigError(f"`strategy` must be a rwafolio Strategy, got {type(strategy).__name__}")
    if not isinstance(panel, Panel):
        raise ConfigError(f"`panel` must be a Panel, got {type(panel).__name__}")
    if not np.isfinite(init_cash) or init_cash <= 0:
        raise ConfigError(f"`init_cash` must be > 0, got {init_cash!r}")
    prices = panel.prices.to_numpy(dtype=float)
    tradable = panel.tradable.to_numpy(dtype=bool)
    n_dates, n = prices.shape
    returns = np.zeros_like(prices)
    returns[1:] = prices[1:] / prices[:-1] - 1.0
    vix = None if panel.vix is None else panel.vix.to_numpy(dtype=float)
    # What strategies see: buffers the engine fills one row at a time, so even the memory behind
    # a view (``view.returns.base``) holds nothing after the decision date.
    seen_returns = np.zeros_like(returns)
    seen_vix = None if vix is None else np.zeros_like(vix)
    costs = panel.universe.costs
    symbols = panel.symbols
    classes = panel.universe.classes
    dates = panel.dates
    strategy.prepare(
        Setup(
            dates=dates,
            tradable=tradable,
            symbols=symbols,
            asset_classes=classes,
            costs=costs,
            periods_per_year=panel.periods_per_year,
            has_vix=vix is not None,
        )
    )
    if not isinstance(signal_lag, int | np.integer) or signal_lag < 0:
        raise ConfigError(
            f"`signal_lag` must be a whole number of periods >= 0, got {signal_lag!r}"
        )
    lag = int(signal_lag)
    start = strategy.warmup + lag if first_decision is None else int(first_decision)
    if start < strategy.warmup + lag or start >= n_dates:
        raise ConfigError(
            f"`first_decision` must be in [{strategy.warmup + lag}, {n_dates}) (the strategy "
            f"needs {strategy.warmup} periods of warm-up plus the signal lag {lag}; the panel has "
            f"{n_dates} dates), got {start}"
        )

    w = np.zeros(n)
    cash = 1.0
    seed_row = -1
    w_init = None
    if initial_weights is not None:
        w_init = np.asarray(initial_weights, dtype=float)
        if w_init.shape != (n,) or not np.all(np.isfinite(w_init)) or np.any(w_init < 0):
            raise ConfigError(
                f"`initial_weights` must be {n} finite non-negative weights, got {w_init!r}"
            )
        if w_init.sum() > 1 + 1e-9:
            raise ConfigError(f"`initial_weights` must sum to at most 1, got {w_init.sum()!r}")
        if start < 1:
            raise ConfigError(
                "`initial_weights` need `first_decision` >= 1 (a row to hold them at)"
            )
        seed_row = start - 1
    value = float(init_cash)
    w_before = np.zeros((n_dates, n))
    w_after = np.zeros((n_dates, n))
    sent = np.full((n_dates, n), np.nan)
    cost_frac = np.zeros(n_dates)
    turnover = np.zeros(n_dates)
    values = np.empty(n_dates)
    decision_rows: list[dict[str, Any]] = []
    skipped_rows: list[dict[str, Any]] = []
    est_dates: list[int] = []
    est_mu: list[np.ndarray] = []
    est_cov: list[np.ndarray] = []
    bar = Progress(n_dates - start, f"backtest {name or strategy.name}", "date", enabled=progress)

    for t in range(n_dates):
        if t > 0:
            grown = w * (1.0 + returns[t])
            total = grown.sum() + cash
            value *= total
            w = grown / total
            cash = cash / total
        if t == seed_row and w_init is not None:
            w = w_init.copy()
            cash = 1.0 - float(w.sum())
            sent[t] = np.where(w > 0, w, np.nan)
        w_before[t] = w
        seen_returns[t] = returns[t]
        if seen_vix is not None and vix is not None:
            seen_vix[t] = vix[t]
        if t >= start:
            view = MarketView(
                t,
                dates,
                seen_returns[: t + 1 - lag],
                None if seen_vix is None else seen_vix[: t + 1 - lag],
                w.copy(),
                tradable[t],
                symbols,
                classes,
                costs,
                panel.periods_per_year,
            )
            try:
                decision = strategy.decide(view)
            except OptimizationError as exc:
                # A numerical failure on one date never kills the run: hold, and say why.
                decision = Decision(
                    target=np.full(n, np.nan),
                    solver="hold",
                    status="failed",
                    fallback_reason=f"hold: {exc}",
                )
            if decision is not None:
                if not isinstance(decision, Decision):
                    decision = Decision(target=np.asarray(decision, dtype=float))
                target = np.asarray(decision.target, dtype=float)
                if target.shape != (n,):
                    raise ConfigError(
                        f"{strategy.name}.decide returned a target of shape {target.shape}, "
                        f"expected ({n},)"
                    )
                traded = ~np.isnan(target) & tradable[t]
                if np.any(~np.isnan(target) & ~tradable[t]):
                    closed = [symbols[i] for i in np.flatnonzero(~np.isnan(target) & ~tradable[t])]
                    raise ConfigError(
                        f"{strategy.name} ordered {closed} on {dates[t].date()}, when their "
                        "market is closed"
                    )
                fee = 0.0
                if traded.any():
                    tg = target[traded]
                    if np.any(tg < -1e-12):
                        raise ConfigError(f"{strategy.name} returned negative targets (long only)")
                    tg = np.maximum(tg, 0.0)
                    keep_cash = 1.0 - tg.sum() - w[~traded].sum()
                    if keep_cash < -1e-9:
                        raise ConfigError(
                            f"{strategy.name} on {dates[t].date()}: targets plus the weights it "
                            f"does not trade sum to {1.0 - keep_cash:.6f} > 1 (long only, no "
                            "leverage)"
                        )
                    k = self_financing_scale(
                        tg, w[traded], cash - max(keep_cash, 0.0), costs[traded]
                    )
                    k *= 1.0 - _CASH_GUARD
                    new = k * tg
                    trade = new - w[traded]
                    fee = float(np.abs(trade) @ costs[traded])
                    turnover[t] = float(np.abs(trade).sum())
                    sent[t, traded] = new
                    w_new = w.copy()
                    w_new[traded] = new
                    cash = cash + float(-trade.sum()) - fee
                    post = 1.0 - fee
                    value *= post
                    w = w_new / post
                    cash = cash / post
                    cost_frac[t] = fee
                decision_rows.append(
                    {
                        "date": t,
                        "lam": decision.lam,
                        "vix": decision.vix,
                        "solver": decision.solver,
                        "status": decision.status,
                        "kkt_residual": decision.kkt_residual,
                        "iterations": decision.iterations,
                        "objective": decision.objective,
                        "traded": bool(traded.any()),
                        "n_skipped": len(decision.skipped),
                        "fallback_reason": decision.fallback_reason,
                    }
                )
                for sym, change, reason in decision.skipped:
                    skipped_rows.append(
                        {"date": t, "symbol": sym, "proposed": change, "reason": reason}
                    )
                if decision.mu is not None and decision.cov is not None:
                    est_dates.append(t)
                    est_mu.append(np.asarray(decision.mu, dtype=float))
                    est_cov.append(np.asarray(decision.cov, dtype=float))
            if bar is not None:
                bar.update(1)
        w_after[t] = w
        values[t] = value
    if bar is not None:
        bar.close()

    decisions = pd.DataFrame(
        decision_rows,
        columns=[
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
        ],
    )
    decisions["date"] = dates[decisions["date"].to_numpy(dtype=int)]
    decisions = decisions.set_index("date")
    skipped = pd.DataFrame(skipped_rows, columns=["date", "symbol", "proposed", "reason"])
    skipped["date"] = dates[skipped["date"].to_numpy(dtype=int)]
    frame = lambda a: pd.DataFrame(a, index=dates, columns=symbols)  # noqa: E731
    value_s = pd.Series(values, index=dates, name="value")
    portfolio = None
    if execute:
        from rwafolio.backtest.execution import execute_targets, execution_gap

        portfolio = execute_targets(
            panel,
            frame(sent),
            init_cash=init_cash,
            fee_free_row=seed_row if seed_row >= 0 else None,
        )
        gap = execution_gap(portfolio, frame(w_after))
        decisions["execution_gap"] = gap.reindex(decisions.index).to_numpy()
    rets = value_s.pct_change().fillna(0.0).rename("returns")
    return BacktestResult(
        name=name or strategy.name,
        panel=panel,
        portfolio=portfolio,
        value=value_s * 1.0,
        returns=rets,
        weights=frame(w_after),
        weights_before=frame(w_before),
        targets=frame(sent),
        decisions=decisions,
        skipped=skipped,
        turnover=pd.Series(turnover, index=dates, name="turnover"),
        costs=pd.Series(cost_frac, index=dates, name="costs"),
        estimate_dates=pd.DatetimeIndex(dates[np.array(est_dates, dtype=int)]),
        mu=np.array(est_mu).reshape(len(est_mu), n),
        cov=np.array(est_cov).reshape(len(est_cov), n, n),
        params={
            "strategy": type(strategy).__name__,
            **{k: jsonable(v) for k, v in strategy.get_params().items()},
            "first_decision": dates[start].strftime("%Y-%m-%d"),
            "signal_lag": lag,
            "init_cash": init_cash,
            "initial_weights": None if w_init is None else [float(x) for x in w_init],
        },
        init_cash=init_cash,
    )
