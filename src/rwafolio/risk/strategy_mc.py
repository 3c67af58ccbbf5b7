"""Strategy-aware Monte Carlo: forecast the strategy itself, re-deciding on every simulated path.

At a forecast date of a backtest, each path draws future days as whole rows of the past (asset
returns and the index's log change together, so lam moves with the simulated index), in blocks:
filtered residuals re-scaled to today's volatility, which each path carries forward with the
filter's recursion on its own shocks (FHS, the default), or as they were (``"bootstrap"``); each
simulated day draws from past days with the same markets open (:func:`calendar_rows`). On each simulated date the strategy of the backtest decides as the engine would have it
decide: same window rolled forward, same lam rule, schedules, stress override, freezes,
threshold rule, optimizer costs and self-financing fee step (the compiled kernel in
:mod:`rwafolio.risk._strategy_kernels`). The outcome is the strategy's net value path: VaR,
CVaR and drawdown-at-risk of what will be realized, fees included.

Supported strategies: those the compiled loops support, stated once in
:mod:`rwafolio.strategies.compiled` (the built-in :class:`~rwafolio.strategies.DynamicLambdaStrategy`
with the default estimator, the window or Black-Litterman mean, a ``VixLinear`` or ``Constant``
lam, no utility threshold, no per-class indexes, ``signal_lag = 0``). Anything else raises
:class:`ConfigError` naming what is not supported (use ``target="pnl"`` then).

The mean is zero or the strategy's own per-period estimate at the date (``mean``); the pool
rows are de-meaned first, so no window mean is extrapolated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.risk._strategy_kernels import strategy_paths_nb
from rwafolio.risk.forecast import RiskForecast, summarize
from rwafolio.risk.generators import fhs_filtered
from rwafolio.risk.montecarlo import MonteCarlo
from rwafolio.risk.scenarios import run_chunks
from rwafolio.utils.validation import check_choice, check_int

if TYPE_CHECKING:
    from rwafolio.backtest.result import BacktestResult
    from rwafolio.risk.topdown import Filter
    from rwafolio.strategies.compiled import DecisionArrays


class StrategyArrays(NamedTuple):
    """The prepared strategy and market of a backtest, as the kernel reads them.

    Attributes
    ----------
    returns, vix, tradable : ndarray
        The market: per-period returns (dates, n), the index level (dates,; zeros without one),
        the open markets (dates, n).
    rates : ndarray of shape (n,)
        The cost model's one-off fee rates.
    decision : DecisionArrays
        The strategy (:func:`rwafolio.strategies.compiled.decision_arrays`, the statement the
        historical loop and the live path read too).
    """

    returns: np.ndarray
    vix: np.ndarray
    tradable: np.ndarray
    rates: np.ndarray
    decision: DecisionArrays


def strategy_args(a: StrategyArrays) -> tuple[Any, ...]:
    """The strategy's arguments of :func:`strategy_paths_nb`, in its order (``stress_vix`` to
    ``ref_lam``)."""
    d = a.decision
    return (
        d.stress_vix, d.lam0, d.eta, d.opt_costs, a.rates, d.box_lo, d.box_hi, d.ppy, d.tau,
        d.mode, d.prior_obs, d.w_ref, d.ref_lam,
    )  # fmt: skip


def strategy_arrays(result: BacktestResult) -> StrategyArrays:
    """Prepare a copy of ``result.strategy`` on its panel and read it as the kernel does.

    The strategy's part is :func:`rwafolio.strategies.compiled.decision_arrays`, the one
    statement the historical loop reads too.

    Raises
    ------
    ConfigError
        If the strategy (or its estimator, rule or signal lag) is not supported by the compiled
        path.
    """
    from rwafolio.backtest.engine import market_of, setup_of
    from rwafolio.strategies.compiled import decision_arrays, unsupported

    strat = getattr(result, "strategy", None)
    lag = getattr(result, "signal_lag", None) or result.params.get("signal_lag", 0) or 0
    reason = unsupported(strat, int(lag))
    if strat is None or reason is not None:
        raise ConfigError(f"target='strategy' does not support {reason} (use target='pnl')")
    s = type(strat)(**strat.get_params())
    market = market_of(result.panel)
    s.prepare(setup_of(market))
    d = decision_arrays(s, list(market.symbols), market.vix is not None)
    vix = market.vix if market.vix is not None else np.zeros(market.returns.shape[0])
    return StrategyArrays(
        returns=market.returns, vix=np.asarray(vix, dtype=float), tradable=market.tradable,
        rates=np.ascontiguousarray(market.cost_model.rates, dtype=float), decision=d,
    )  # fmt: skip


def calendar_ahead(matrix: np.ndarray, pos: int, horizon: int) -> np.ndarray:
    """Rows ``pos + 1 .. pos + horizon`` of a (dates, n) calendar; past its end, the row a whole
    number of weeks earlier (the weekly pattern repeats)."""
    rows = np.arange(pos + 1, pos + horizon + 1)
    last = matrix.shape[0] - 1
    rows = np.where(rows > last, rows - 7 * (-(-(rows - last) // 7)), rows)
    return np.ascontiguousarray(matrix[rows])


def calendar_rows(
    idx: np.ndarray, horizon: int, block: int, n_hist: int, hist_open: np.ndarray,
    sim_open: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """The pool row of each simulated day: the block bootstrap kept to days of the same calendar.

    ``idx`` (shape (M * horizon,), path-major) is :func:`rwafolio.risk.scenarios.bootstrap_indices`'
    circular block bootstrap over ``n_hist`` rows. A simulated day whose markets are open as on
    some past days (``sim_open[t]`` equal to rows of ``hist_open``) draws from those days only: a
    weekday from weekdays, a weekend (exchanges closed, crypto open) from weekends, so an asset
    open in the simulation never takes a return from a day its market was closed (a zero). Each
    block keeps its start's place in time, ``u / n_hist`` of the way through the history: a day
    of the block takes, in its calendar's own days, the one that far in, then the next ones for
    the block's later days of that calendar. A simulated calendar seen on fewer than ``block``
    past days draws from the days on which at least its open markets were open; with one
    calendar (every market open every day) the rows are ``idx`` itself.

    Parameters
    ----------
    hist_open : ndarray of bool, shape (n_hist, n)
        Which markets were open on each pool row.
    sim_open : ndarray of bool, shape (horizon, n)
        Which markets are open on each simulated day.

    Returns
    -------
    ndarray of int64, shape (M * horizon,)
    """
    return _calendar_apply(idx, block, n_hist, _calendar_lists(hist_open, sim_open, block))


#: Per simulated day, the key of its calendar, and per key the pool rows it draws from.
CalendarPlan = tuple[np.ndarray, dict[int, np.ndarray]]


def _calendar_lists(hist_open: np.ndarray, sim_open: np.ndarray, block: int) -> CalendarPlan | None:
    """:func:`calendar_rows`' rows of each simulated calendar (None: one calendar for all)."""
    n_hist = hist_open.shape[0]
    keys, inverse = np.unique(np.vstack([hist_open, sim_open]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    hist_key, sim_key = inverse[:n_hist], inverse[n_hist:]
    if keys.shape[0] == 1:
        return None
    lists: dict[int, np.ndarray] = {}
    for t in range(sim_key.shape[0]):
        key = int(sim_key[t])
        if key in lists:
            continue
        rows = np.flatnonzero(hist_key == key)
        if rows.shape[0] < block:
            rows = np.flatnonzero(np.all(hist_open | ~sim_open[t], axis=1))
        if rows.shape[0] == 0:
            raise DataError(
                f"no past day in the history window had every market open that is open on "
                f"simulated day {t + 1}"
            )
        lists[key] = rows
    return sim_key, lists


def _calendar_apply(
    idx: np.ndarray, block: int, n_hist: int, plan: CalendarPlan | None
) -> np.ndarray:
    """The rows of :func:`calendar_rows` from the bootstrap's ``idx`` and a plan."""
    if plan is None:
        return idx
    sim_key, lists = plan
    horizon = sim_key.shape[0]
    starts = idx.reshape(-1, horizon)
    out = np.empty_like(starts)
    for t in range(horizon):
        b0 = (t // block) * block
        key = int(sim_key[t])
        rows = lists[key]
        later = int(np.sum(sim_key[b0:t] == key))
        first = (starts[:, b0] * rows.shape[0]) // n_hist
        out[:, t] = rows[(first + later) % rows.shape[0]]
    return np.ascontiguousarray(out.reshape(-1))


def strategy_forecast(
    result: BacktestResult,
    pos: int,
    *,
    horizon: int = 30,
    n_scenarios: int = 10_000,
    levels: tuple[float, ...] = (0.95, 0.99),
    seed: int = 0,
    mean: np.ndarray | None = None,
    innovations: str = "fhs",
    filter: str = "ewma",
    ewma_lambda: float = 0.94,
    history_window: int = 1000,
    block: int = 5,
    workers: int | None = None,
    arrays: StrategyArrays | None = None,
) -> RiskForecast:
    """Forecast the strategy's net value over ``horizon`` periods after row ``pos``.

    Parameters
    ----------
    result : BacktestResult
        A backtest of a supported strategy (module docstring).
    pos : int
        Row of the forecast date (the book is the one held after trading at its close).
    horizon, n_scenarios, levels : as in :func:`rwafolio.risk.forecast`
    seed : int
        Root seed (chunked like every simulation here: thread count does not matter).
    mean : ndarray of shape (n,) or None
        Mean per period of the simulated asset returns (None = 0).
    innovations : {"fhs", "fhs-static", "bootstrap"}
        Filtered historical simulation (:func:`rwafolio.risk.generators.fhs_filtered`): each
        asset's standardized residuals re-scaled to today's volatility, which each path then
        carries forward with the filter's recursion on its own shocks (``"fhs"``, Barone-Adesi
        et al. 1999; the top-down forecast does the same with the P&L's filter), or holds at
        today's (``"fhs-static"``); or the rows as they were (``"bootstrap"``). All de-meaned,
        each asset over the days its market was open (and filtered on those days only). The
        simulated days draw past days of their own calendar (:func:`calendar_rows`): an open
        market never takes a closed day's zero.
    filter, ewma_lambda : {"ewma", "garch"}, float
        The variance filter of ``"fhs"`` (as in :func:`rwafolio.risk.topdown.simulate_pnl`).
    history_window : int
        Past rows to draw from (up to ``pos``).
    block : int
        Block length of the bootstrap.
    arrays : StrategyArrays or None
        Reuse :func:`strategy_arrays` across dates.
    """
    mc = MonteCarlo(
        horizon=horizon, n_scenarios=n_scenarios, levels=levels, block=block, seed=seed
    )  # the checks every forecast makes
    horizon, n_scenarios, levels, block = mc.horizon, mc.n_scenarios, mc.levels, mc.block
    history_window = check_int(history_window, "history_window", minimum=1)
    a = strategy_arrays(result) if arrays is None else arrays
    n = a.returns.shape[1]
    window = a.decision.window
    if pos < window or pos < 2:
        raise DataError(f"`pos` {pos} is inside the strategy's warm-up ({window} periods)")
    lo = max(1, pos - history_window + 1)
    hist = a.returns[lo : pos + 1]
    mu = np.zeros(n) if mean is None else np.asarray(mean, dtype=float)
    hist_open = np.ascontiguousarray(a.tradable[lo : pos + 1])
    if innovations in ("fhs", "fhs-static"):
        kind = cast("Filter", check_choice(filter, "filter", ("ewma", "garch")))
        pool, filters = fhs_filtered(hist, open_days=hist_open, filter=kind, lam=ewma_lambda)
        if innovations == "fhs-static":
            filters[:3] = [[0.0], [0.0], [1.0]]
    elif innovations == "bootstrap":  # each asset de-meaned over its open days
        counts = np.maximum(hist_open.sum(axis=0), 1)
        pool = np.where(hist_open, hist - (hist * hist_open).sum(axis=0) / counts, 0.0)
        filters = np.array([[0.0], [0.0], [1.0], [1.0]]) * np.ones(n)
    else:
        raise ConfigError(
            f"`innovations` must be 'fhs', 'fhs-static' or 'bootstrap', got {innovations!r}"
        )
    pool = np.ascontiguousarray(pool)
    filters = np.ascontiguousarray(filters)
    vix = a.vix
    dlv = (
        np.log(vix[lo : pos + 1] / vix[lo - 1 : pos]) if np.all(vix[lo - 1 : pos + 1] > 0) else None
    )
    dlogvix = np.zeros(pool.shape[0]) if dlv is None else np.ascontiguousarray(dlv)
    weights = result.weights.to_numpy(dtype=float)
    w0 = np.ascontiguousarray(weights[pos])
    window0 = np.ascontiguousarray(a.returns[pos - window + 1 : pos + 1])
    sched = calendar_ahead(a.decision.scheduled, pos, horizon)
    trad = calendar_ahead(a.tradable, pos, horizon)
    out, mdd, paid = np.empty(n_scenarios), np.empty(n_scenarios), np.empty(n_scenarios)

    plan = _calendar_lists(hist_open, trad, block)  # once: every chunk draws the same calendar
    args = strategy_args(a)

    def body(s: int, e: int, _z: np.ndarray, _scale: np.ndarray, idx: np.ndarray) -> None:
        rows = _calendar_apply(idx, block, pool.shape[0], plan)
        strategy_paths_nb(  # type: ignore[call-arg]  # (mypy cannot count a star's items)
            pool, mu, filters, dlogvix, rows, window0, float(vix[pos]), w0, w0, sched, trad,
            *args, out[s:e], mdd[s:e], paid[s:e],
        )  # fmt: skip

    run_chunks(
        body, n_scenarios=n_scenarios, seed=seed, horizon=horizon, k=0,
        distribution="bootstrap", nu=5.0, n_hist=pool.shape[0], block=block, workers=workers,
    )  # fmt: skip
    return summarize(
        out, mdd, paid, levels=levels, seed=seed, horizon=horizon,
        distribution=f"strategy-{innovations}", nu=None, rebalance="strategy",
        aggregation="compound", block=block,
    )  # fmt: skip


def strategy_kernel_inputs(result: BacktestResult, pos: int, horizon: int) -> dict[str, Any]:
    """The kernel's calendar and book inputs at ``pos`` (for tests and benchmarks)."""
    a = strategy_arrays(result)
    return {
        "arrays": a,
        "window0": np.ascontiguousarray(a.returns[pos - a.decision.window + 1 : pos + 1]),
        "w0": np.ascontiguousarray(result.weights.to_numpy(dtype=float)[pos]),
        "scheduled": calendar_ahead(a.decision.scheduled, pos, horizon),
        "tradable": calendar_ahead(a.tradable, pos, horizon),
    }
