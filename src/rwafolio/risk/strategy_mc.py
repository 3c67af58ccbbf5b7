"""Strategy-aware Monte Carlo: forecast the strategy itself, re-deciding on every simulated path.

At a forecast date of a backtest, each path draws future days as whole rows of the past (asset
returns and the index's log change together, so lam moves with the simulated index), filtered
and re-scaled to today's volatility (FHS, the default) or as they were (``"bootstrap"``), in
blocks. On each simulated date the strategy of the backtest decides as the engine would have it
decide: same window rolled forward, same lam rule, schedules, stress override, freezes,
threshold rule, optimizer costs and self-financing fee step (the compiled kernel in
:mod:`rwafolio.risk._strategy_kernels`). The outcome is the strategy's net value path: VaR,
CVaR and drawdown-at-risk of what will be realized, fees included.

Supported strategies: :class:`~rwafolio.strategies.DynamicLambdaStrategy` with the default
covariance estimator (Ledoit-Wolf, correlation target), the window mean or a ``BlackLitterman``
mean (the default), a ``VixLinear``/``Constant`` rule without smoothing (or ``lam0``/``eta``), no
utility threshold, no per-class indexes and ``signal_lag = 0``. Anything else raises :class:`ConfigError` naming
what is not supported (use ``target="pnl"`` then).

The mean is zero or the strategy's own per-period estimate at the date (``mean``); the pool
rows are de-meaned first, so no window mean is extrapolated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.risk._strategy_kernels import strategy_paths_nb
from rwafolio.risk.forecast import RiskForecast, summarize
from rwafolio.risk.generators import fhs_history
from rwafolio.risk.montecarlo import MonteCarlo
from rwafolio.risk.scenarios import run_chunks
from rwafolio.utils.validation import check_int

if TYPE_CHECKING:
    from rwafolio.backtest.result import BacktestResult

_MODES = {"none": 0, "per_asset": 1, "portfolio": 2}


class StrategyArrays(NamedTuple):
    """The prepared strategy and market of a backtest, as the kernel reads them."""

    returns: np.ndarray
    vix: np.ndarray
    scheduled: np.ndarray
    tradable: np.ndarray
    window: int
    stress_vix: float
    lam0: float
    eta: float
    opt_costs: np.ndarray
    rates: np.ndarray
    box_lo: np.ndarray
    box_hi: np.ndarray
    ppy: float
    tau: float
    mode: int
    prior_obs: float
    w_ref: np.ndarray
    ref_lam: float


def _mean_inputs(strat: Any, symbols: list[str]) -> tuple[float, np.ndarray, float]:
    """``(prior_obs, w_ref, ref_lam)`` of the window mean (prior 0) or a Black-Litterman mean."""
    from rwafolio.optimize.returns import BlackLitterman, reference_weights

    me = strat.mean_estimator
    n = len(symbols)
    if me is None:
        return 0.0, np.full(n, 1.0 / n), float("nan")
    if not isinstance(me, BlackLitterman):
        raise ConfigError(
            f"target='strategy' supports the window mean or BlackLitterman, got {me!r}"
        )
    w_ref = np.ascontiguousarray(reference_weights(me.reference, n, symbols), dtype=float)
    return float(me.prior_obs), w_ref, float("nan") if me.lam is None else float(me.lam)


def strategy_arrays(result: BacktestResult) -> StrategyArrays:
    """Prepare a copy of ``result.strategy`` on its panel and read its parameters.

    Raises
    ------
    ConfigError
        If the strategy (or its estimator, rule or signal lag) is not supported by the compiled
        path.
    """
    from rwafolio.backtest.engine import market_of, setup_of
    from rwafolio.optimize.estimators import LedoitWolfEstimator
    from rwafolio.optimize.risk_aversion import Constant, VixLinear
    from rwafolio.strategies import DynamicLambdaStrategy

    strat = getattr(result, "strategy", None)
    if not isinstance(strat, DynamicLambdaStrategy):
        raise ConfigError(
            "target='strategy' needs a DynamicLambdaStrategy backtest; got "
            f"{type(strat).__name__} (use target='pnl')"
        )
    est = strat.estimator
    if est is not None and not (
        isinstance(est, LedoitWolfEstimator) and est.target == "correlation"
    ):
        raise ConfigError(f"target='strategy' supports the default estimator only, got {est!r}")
    lag = getattr(result, "signal_lag", None) or result.params.get("signal_lag", 0) or 0
    if int(lag) != 0:
        raise ConfigError("target='strategy' supports signal_lag = 0 only")
    for name in ("utility_threshold", "class_indexes"):
        if getattr(strat, name, None) is not None:
            raise ConfigError(f"target='strategy' does not support `{name}` (use target='pnl')")
    s = type(strat)(**strat.get_params())
    market = market_of(result.panel)
    s.prepare(setup_of(market))
    rule = s.rule_
    if isinstance(rule, VixLinear) and getattr(rule, "smoothing", None) is None:
        lam0, eta = float(rule.lam0), float(rule.eta)
    elif isinstance(rule, Constant):
        lam0, eta = float(rule.lam), 0.0
    else:
        raise ConfigError(f"target='strategy' supports VixLinear or Constant lam, got {rule!r}")
    vix = market.vix if market.vix is not None else np.zeros(market.returns.shape[0])
    prior_obs, w_ref, ref_lam = _mean_inputs(strat, list(market.symbols))
    return StrategyArrays(
        returns=market.returns, vix=np.asarray(vix, dtype=float),
        scheduled=np.asarray(s.scheduled_, dtype=bool), tradable=market.tradable,
        window=int(s.window), stress_vix=np.inf if s.stress_vix is None else float(s.stress_vix),
        lam0=lam0, eta=eta, opt_costs=np.ascontiguousarray(s.opt_costs_, dtype=float),
        rates=np.ascontiguousarray(market.cost_model.rates, dtype=float),
        box_lo=s.lo_, box_hi=s.hi_, ppy=float(s.ppy_), tau=float(s.threshold),
        mode=_MODES[s.threshold_mode], prior_obs=prior_obs, w_ref=w_ref, ref_lam=ref_lam,
    )  # fmt: skip


def calendar_ahead(matrix: np.ndarray, pos: int, horizon: int) -> np.ndarray:
    """Rows ``pos + 1 .. pos + horizon`` of a (dates, n) calendar; past its end, the row a whole
    number of weeks earlier (the weekly pattern repeats)."""
    rows = np.arange(pos + 1, pos + horizon + 1)
    last = matrix.shape[0] - 1
    rows = np.where(rows > last, rows - 7 * (-(-(rows - last) // 7)), rows)
    return np.ascontiguousarray(matrix[rows])


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
    innovations : {"fhs", "bootstrap"}
        Rows re-scaled to today's volatility per asset, or as they were; both de-meaned.
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
    if pos < a.window or pos < 2:
        raise DataError(f"`pos` {pos} is inside the strategy's warm-up ({a.window} periods)")
    lo = max(1, pos - history_window + 1)
    hist = a.returns[lo : pos + 1]
    mu = np.zeros(n) if mean is None else np.asarray(mean, dtype=float)
    if innovations == "fhs":
        pool = fhs_history(hist, mu)
    elif innovations == "bootstrap":
        pool = hist - hist.mean(axis=0) + mu
    else:
        raise ConfigError(f"`innovations` must be 'fhs' or 'bootstrap', got {innovations!r}")
    pool = np.ascontiguousarray(pool)
    vix = a.vix
    dlv = (
        np.log(vix[lo : pos + 1] / vix[lo - 1 : pos]) if np.all(vix[lo - 1 : pos + 1] > 0) else None
    )
    dlogvix = np.zeros(pool.shape[0]) if dlv is None else np.ascontiguousarray(dlv)
    weights = result.weights.to_numpy(dtype=float)
    w0 = np.ascontiguousarray(weights[pos])
    window0 = np.ascontiguousarray(a.returns[pos - a.window + 1 : pos + 1])
    sched = calendar_ahead(a.scheduled, pos, horizon)
    trad = calendar_ahead(a.tradable, pos, horizon)
    out, mdd, paid = np.empty(n_scenarios), np.empty(n_scenarios), np.empty(n_scenarios)

    def body(s: int, e: int, _z: np.ndarray, _scale: np.ndarray, idx: np.ndarray) -> None:
        strategy_paths_nb(
            pool, dlogvix, idx, window0, float(vix[pos]), w0, w0, sched, trad, a.stress_vix,
            a.lam0, a.eta, a.opt_costs, a.rates, a.box_lo, a.box_hi, a.ppy, a.tau, a.mode,
            a.prior_obs, a.w_ref, a.ref_lam, out[s:e], mdd[s:e], paid[s:e],
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
        "window0": np.ascontiguousarray(a.returns[pos - a.window + 1 : pos + 1]),
        "w0": np.ascontiguousarray(result.weights.to_numpy(dtype=float)[pos]),
        "scheduled": calendar_ahead(a.scheduled, pos, horizon),
        "tradable": calendar_ahead(a.tradable, pos, horizon),
    }
