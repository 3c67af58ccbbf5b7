"""Rolling risk forecasts along a backtest, set against what really happened.

At each estimate date of a :class:`~rwafolio.backtest.result.BacktestResult` (or every k-th), a
forecast of the next H periods is made from data up to that date only, by ``target``: the
strategy's own net P&L filtered top-down (``"pnl"``, default), the strategy re-deciding on every
simulated path (``"strategy"``), or the book held after trading, drifting (``"book"``). The
realized H-period return ``value[t + H] / value[t] - 1`` and the realized maximum drawdown inside
``(t, t + H]`` are recorded beside the forecast. The last dates, whose window runs past the end of
the data, are kept with ``complete = False`` and NaN outcomes.

Breaches and backtests: a breach is ``realized_return < VaR`` (both returns, negative = loss).
Overlapping H-period windows are not independent, so the backtests use NON-OVERLAPPING windows by
default: the first complete forecast, then each next forecast at least H periods later. The
sampling used is written into every result. :mod:`rwafolio.risk.evaluation` runs the full set of
tests per horizon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.risk.backtests import BacktestSuite, run_all
from rwafolio.risk.forecast import RiskForecast, forecast, summarize
from rwafolio.risk.generators import ewma_covariance
from rwafolio.risk.montecarlo import FORECAST_DISTRIBUTIONS, MonteCarlo, resolve_settings
from rwafolio.risk.scenarios import (
    CHUNK,
    Aggregation,
    Mixing,
    _default_workers,
)
from rwafolio.risk.shortfall import TAIL_BINS, tail_bins
from rwafolio.risk.topdown import Filter, Innovations, pnl_history, simulate_pnl
from rwafolio.utils.progress import Progress
from rwafolio.utils.validation import check_choice, check_int

if TYPE_CHECKING:
    from rwafolio.backtest.result import BacktestResult

Sampling = Literal["non_overlapping", "all"]
Kind = Literal["var", "dar"]
Target = Literal["pnl", "strategy", "book"]
TARGETS: tuple[str, ...] = ("pnl", "strategy", "book")


def level_label(level: float) -> str:
    """Column suffix of a level: 0.95 -> "95", 0.995 -> "99.5"."""
    return f"{level * 100:.10g}"


def date_seed(base_seed: int, j: int) -> int:
    """Seed of the forecast at estimate number ``j``, derived deterministically from the base."""
    state = np.random.SeedSequence([base_seed, j]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


@dataclass(frozen=True)
class RollingForecasts:
    """Forecasts at decision dates and the outcomes that followed.

    Attributes
    ----------
    table : DataFrame indexed by forecast date
        Columns: ``position`` (row in ``result.value``), ``seed``, ``complete`` (a full H-period
        outcome exists), ``forecast_ok`` (inputs were finite), ``mean``, and per level L
        (label "95", "99"): ``var_L``, ``var_se_L``, ``cvar_L``, ``dar_L``; then
        ``realized_return`` and ``realized_mdd`` (NaN where not complete). Returns, negative =
        loss.
    horizon, every, n_scenarios : int
    levels : tuple of float
    distribution : str
    nu : float
    rebalance : "drift" or int
    aggregation : str
    mean : {"estimate", "zero"}
        Drift used in the simulation.
    seed : int
        Base seed; each row's seed is ``date_seed(seed, j)`` with j its estimate number.
    target : {"pnl", "book"}
        What was simulated: the strategy's own net P&L (top-down) or the book held at the date.
    tails : dict of level label -> ndarray of shape (n_rows, k)
        Each forecast's tail below its VaR as equal-probability bin means (for the ES test; NaN
        rows where no forecast was made).
    settings : MonteCarlo or None
        The Monte Carlo settings asked for, base seed resolved:
        ``rolling_forecasts(result, settings=fc.settings, ...)`` reproduces the table.
    """

    table: pd.DataFrame
    horizon: int
    every: int
    n_scenarios: int
    levels: tuple[float, ...]
    distribution: str
    nu: float
    rebalance: str | int
    aggregation: str
    seed: int
    mean: str = "estimate"
    target: str = "book"
    tails: dict[str, np.ndarray] = field(default_factory=dict)
    settings: MonteCarlo | None = None

    def sample_mask(self, sampling: Sampling = "non_overlapping") -> pd.Series:
        """Rows used by the backtests: complete ones, thinned to non-overlapping windows."""
        t = self.table
        usable = t["complete"].to_numpy() & t["forecast_ok"].to_numpy()
        if sampling == "all":
            return pd.Series(usable, index=t.index)
        if sampling != "non_overlapping":
            raise ConfigError(f"`sampling` must be 'non_overlapping' or 'all', got {sampling!r}")
        keep = np.zeros(len(t), dtype=bool)
        last = None
        for i, (pos, ok) in enumerate(zip(t["position"].to_numpy(), usable)):
            if ok and (last is None or pos >= last + self.horizon):
                keep[i] = True
                last = pos
        return pd.Series(keep, index=t.index)

    def sampling_description(self, sampling: Sampling = "non_overlapping") -> str:
        if sampling == "all":
            return (
                f"all complete forecasts (overlapping {self.horizon}-period windows; "
                "the tests' independence assumption does not hold)"
            )
        return (
            f"non-overlapping: first complete forecast, then each next one at least "
            f"{self.horizon} periods later"
        )

    def breaches(
        self, level: float = 0.95, *, kind: Kind = "var", sampling: Sampling = "non_overlapping"
    ) -> pd.Series:
        """Boolean breach series: realized return < VaR (``kind="var"``) or realized maximum
        drawdown < drawdown-at-risk (``kind="dar"``), on the sampled rows."""
        lab = level_label(self._level(level))
        if kind not in ("var", "dar"):
            raise ConfigError(f"`kind` must be 'var' or 'dar', got {kind!r}")
        mask = self.sample_mask(sampling)
        t = self.table.loc[mask.to_numpy()]
        realized = t["realized_return"] if kind == "var" else t["realized_mdd"]
        return (realized < t[f"{kind}_{lab}"]).rename(f"breach_{kind}_{lab}")

    def backtest(
        self,
        level: float = 0.95,
        *,
        kind: Kind = "var",
        sampling: Sampling = "non_overlapping",
        alpha: float = 0.05,
    ) -> BacktestSuite:
        """Kupiec, Christoffersen independence, conditional coverage and traffic light.

        Raises
        ------
        DataError
            If fewer than 2 sampled forecasts have an outcome.
        """
        b = self.breaches(level, kind=kind, sampling=sampling)
        if len(b) < 2:
            raise DataError(
                f"only {len(b)} usable forecast(s) with sampling={sampling!r}; need at least 2"
            )
        return run_all(b, level, self.sampling_description(sampling), alpha=alpha)

    def _level(self, level: float) -> float:
        for lv in self.levels:
            if abs(lv - level) < 1e-12:
                return lv
        raise ConfigError(f"`level` {level} was not forecast; levels are {self.levels}")


def realized_outcomes(
    values: np.ndarray, positions: np.ndarray, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Realized H-period return and max drawdown after each position of a value path.

    Returns ``(complete, ret, mdd)``; ``ret``/``mdd`` are NaN where ``p + horizon`` is past the
    end. The drawdown is over levels ``values[p..p+H] / values[p]`` (start included, so <= 0).
    """
    n = values.shape[0]
    complete = positions + horizon <= n - 1
    ret = np.full(positions.shape[0], np.nan)
    mdd = np.full(positions.shape[0], np.nan)
    for i, p in enumerate(positions):
        if complete[i]:
            seg = values[p : p + horizon + 1] / values[p]
            ret[i] = seg[-1] - 1.0
            mdd[i] = float((seg / np.maximum.accumulate(seg) - 1.0).min())
    return complete, ret, mdd


def rolling_forecasts(
    result: BacktestResult,
    horizon: int = 30,
    every: int = 1,
    n_scenarios: int = 10_000,
    distribution: str = "normal",
    levels: tuple[float, ...] = (0.95, 0.99),
    rng: np.random.Generator | int | None = None,
    *,
    target: Target = "pnl",
    nu: float = 5.0,
    mixing: Mixing = "period",
    covariance: Literal["estimate", "ewma"] = "estimate",
    rebalance: str | int = "drift",
    aggregation: Aggregation = "compound",
    mean: Literal["estimate", "zero"] = "zero",
    bootstrap_window: int = 250,
    block: int = 5,
    innovations: Innovations = "fhs",
    filter: Filter = "ewma",
    ewma_lambda: float = 0.94,
    pnl_window: int = 1000,
    workers: int | None = None,
    progress: bool | None = None,
    settings: MonteCarlo | None = None,
) -> RollingForecasts:
    """Forecast VaR/CVaR/drawdown-at-risk at every ``every``-th estimate date of a backtest.

    Parameters
    ----------
    result : BacktestResult
        Uses ``estimate_dates``, ``mu``/``cov`` (PER PERIOD, as the strategy used them),
        ``weights`` (held after trading), ``value`` and ``panel``.
    horizon : int
        H periods ahead (default 30).
    every : int
        Use every k-th estimate date (1 = all).
    target : {"pnl", "strategy", "book"}
        ``"pnl"`` (default): the strategy's own net value path, top-down
        (:mod:`rwafolio.risk.topdown`: a variance filter on its net daily returns, FHS or normal
        innovations; fees, re-trading and schedules are in the history it filters).
        ``"strategy"``: the strategy re-decides on every simulated path, bottom-up
        (:mod:`rwafolio.risk.strategy_mc`; ``innovations`` "fhs" (each path carries the
        filtered volatility forward), "fhs-static" or "bootstrap" ("normal" means "fhs" here),
        ``filter``, ``ewma_lambda``, ``pnl_window`` rows of history, ``block``).
        ``"book"``: the weights held at the date, drifting (or rebalanced) over the horizon
        with the strategy's ``mu``/``cov`` and ``distribution``; this is a different object from
        the strategy that is realized, and fails the backtests on real runs.
    n_scenarios, distribution, levels, nu, mixing, rebalance, aggregation, block, workers
        As in :func:`rwafolio.risk.forecast` (``target="book"``); costs are the universe's.
    covariance : {"estimate", "ewma"}
        Book target: the strategy's own covariance, or the RiskMetrics EWMA (0.94) of the last
        ``bootstrap_window`` asset returns (:func:`rwafolio.risk.generators.ewma_covariance`).
    rng : Generator, int or None
        Base seed; the forecast at estimate number j uses ``date_seed(seed, j)``.
    mean : {"zero", "estimate"}
        ``"zero"`` (default) or the strategy's own per-period estimate (``mu``, or ``w' mu`` for
        the P&L). Recorded in the result.
    bootstrap_window : int
        Bootstrap history (book target): the last ``bootstrap_window`` returns up to the date.
    innovations, filter, ewma_lambda : see :func:`rwafolio.risk.topdown.simulate_pnl`
        (``target="pnl"``).
    pnl_window : int
        Net returns filtered for the P&L target (seeded with the held weights' pseudo-history
        where the live history is shorter).
    progress : bool or None
        Report progress on stderr (:class:`rwafolio.utils.progress.Progress`: a bar on a
        terminal, a line every 10 s after the first 2 s otherwise); False silences it.
    settings : MonteCarlo or None
        The Monte Carlo settings (horizon, n_scenarios, levels, distribution, nu, mixing,
        rebalance, aggregation, block and the base seed) as one checked object, instead of
        the keywords (which must then keep their defaults). ``nu="fit"`` is not supported.

    Returns
    -------
    RollingForecasts
    """
    mc = resolve_settings(
        settings, rng, horizon=horizon, n_scenarios=n_scenarios, levels=levels,
        distribution=distribution, nu=nu, mixing=mixing, rebalance=rebalance,
        aggregation=aggregation, block=block,
    )  # fmt: skip
    mc.require("rolling_forecasts", distributions=FORECAST_DISTRIBUTIONS)
    every = check_int(every, "every", minimum=1)
    pnl_window = check_int(pnl_window, "pnl_window", minimum=1)
    bootstrap_window = check_int(bootstrap_window, "bootstrap_window", minimum=2)
    check_choice(target, "target", TARGETS)
    check_choice(covariance, "covariance", ("estimate", "ewma"))
    check_choice(mean, "mean", ("estimate", "zero"))
    horizon, n_scenarios, lv, base = mc.horizon, mc.n_scenarios, mc.levels, mc.seed
    assert base is not None  # resolved
    dates = pd.DatetimeIndex(result.estimate_dates)
    mus = np.asarray(result.mu, dtype=float)
    if mean == "zero":
        mus = np.where(np.isfinite(mus), 0.0, mus)
    covs = np.asarray(result.cov, dtype=float)
    n = len(result.weights.columns)
    if mus.shape != (len(dates), n) or covs.shape != (len(dates), n, n):
        raise DataError(
            f"`result.mu`/`result.cov` must have shapes ({len(dates)}, {n}) and "
            f"({len(dates)}, {n}, {n}), got {mus.shape} and {covs.shape}"
        )
    positions = pd.DatetimeIndex(result.value.index).get_indexer(dates)
    if np.any(positions < 0):
        raise DataError("`result.estimate_dates` must all be dates of `result.value`")
    chosen = np.arange(0, len(dates), every)
    values = result.value.to_numpy(dtype=float)
    complete, ret, mdd = realized_outcomes(values, positions[chosen], horizon)
    kw = dict(
        horizon=horizon, n_scenarios=n_scenarios, levels=lv, distribution=mc.distribution,
        nu=mc.nu, mixing=mc.mixing, covariance=covariance,
        rebalance=mc.rebalance, aggregation=mc.aggregation, block=mc.block, workers=workers,
        bootstrap_window=bootstrap_window, innovations=innovations, filter=filter,
        ewma_lambda=ewma_lambda, pnl_window=pnl_window,
    )  # fmt: skip
    bar = Progress(len(chosen), f"rolling {target} forecasts", "forecast", enabled=progress)
    try:
        rows, tails = _forecast_rows(result, target, chosen, positions, mus, covs, base, kw, bar)
    finally:
        bar.close()
    table = pd.DataFrame(rows, index=dates[chosen])
    cols = ["mean"] + [
        f"{s}_{level_label(level)}" for level in lv for s in ("var", "var_se", "cvar", "dar")
    ]
    for c in cols:
        if c not in table:
            table[c] = np.nan
    table["complete"] = complete
    table["realized_return"] = ret
    table["realized_mdd"] = mdd
    table = table[
        ["position", "seed", "complete", "forecast_ok", *cols, "realized_return", "realized_mdd"]
    ]
    table.index.name = "date"
    ran = f"{filter}-{_innovations(target, innovations)}"
    return RollingForecasts(
        table=table, horizon=horizon, every=every, n_scenarios=n_scenarios, levels=lv,
        distribution=mc.distribution if target == "book" else ran,
        nu=float(mc.nu), rebalance=mc.rebalance, aggregation=mc.aggregation, seed=base,
        mean=mean, target=target, tails=tails, settings=mc,
    )  # fmt: skip


def _innovations(target: str, innovations: str) -> str:
    """The innovations a target runs: the strategy target has no normal draws and runs FHS."""
    if target == "strategy" and innovations not in ("fhs", "fhs-static", "bootstrap"):
        return "fhs"
    return innovations


def _forecast_rows(
    result: BacktestResult,
    target: str,
    chosen: np.ndarray,
    positions: np.ndarray,
    mus: np.ndarray,
    covs: np.ndarray,
    base: int,
    kw: dict[str, Any],
    bar: Progress,
) -> tuple[list[dict[str, object]], dict[str, np.ndarray]]:
    """One forecast per chosen estimate date: the table rows and the tail bins per level."""
    lv = kw["levels"]
    weights = result.weights.to_numpy(dtype=float)
    tails = {level_label(x): np.full((len(chosen), TAIL_BINS), np.nan) for x in lv}
    rows: list[dict[str, object]] = []
    date_workers = 1
    if target == "pnl":
        prices = result.panel.prices.to_numpy(dtype=float)
        asset_r = np.zeros_like(prices)
        asset_r[1:] = prices[1:] / prices[:-1] - 1.0
        values = result.value.to_numpy(dtype=float)
        first_live = int(positions[0]) if len(positions) else 0
        make = lambda j, pos, seed: _pnl_one(  # noqa: E731
            values, weights, asset_r, pos, first_live, mus[j], seed, kw
        )
    elif target == "strategy":
        from rwafolio.risk.strategy_mc import strategy_arrays, strategy_forecast

        arrays = strategy_arrays(result)
        innov = _innovations("strategy", kw["innovations"])
        # One chunk per forecast runs on one thread: spread the dates over the threads instead
        # (each date keeps its own seed, so the numbers do not depend on the thread count).
        n_workers = kw["workers"] or _default_workers()
        if n_workers > 1 and kw["n_scenarios"] <= CHUNK:
            date_workers = n_workers
        inner = 1 if date_workers > 1 else kw["workers"]

        def make(j: int, pos: int, seed: int) -> RiskForecast | None:
            if pos < max(arrays.decision.window, 2) or not np.all(np.isfinite(mus[j])):
                return None
            return strategy_forecast(
                result, pos, horizon=kw["horizon"], n_scenarios=kw["n_scenarios"],
                levels=lv, seed=seed, mean=mus[j], innovations=innov, filter=kw["filter"],
                ewma_lambda=kw["ewma_lambda"], history_window=kw["pnl_window"], block=kw["block"], workers=inner,
                arrays=arrays,
            )  # fmt: skip
    else:
        costs = np.asarray(result.panel.universe.costs, dtype=float)
        needs_history = kw["distribution"] in ("bootstrap", "fhs") or kw["covariance"] == "ewma"
        hist_all = result.panel.returns().to_numpy(dtype=float) if needs_history else None
        n_workers = kw["workers"] or _default_workers()
        pool = ThreadPoolExecutor(max(n_workers - 1, 1))  # reused by every date
        make = lambda j, pos, seed: _book_one(  # noqa: E731
            weights[pos], mus[j], covs[j], costs, hist_all, pos, seed, kw, n_workers, pool
        )
    jobs = [(int(j), int(positions[j]), date_seed(base, int(j))) for j in chosen]
    try:
        for r, (f, (_j, pos, seed)) in enumerate(zip(_in_order(make, jobs, date_workers), jobs)):
            row: dict[str, object] = {"position": pos, "seed": seed}
            row["forecast_ok"] = f is not None
            if f is not None:
                row["mean"] = f.mean
                xs = np.sort(f.outcomes)
                for k, level in enumerate(lv):
                    lab = level_label(level)
                    row[f"var_{lab}"] = f.var[k]
                    row[f"var_se_{lab}"] = f.var_se[k]
                    row[f"cvar_{lab}"] = f.cvar[k]
                    row[f"dar_{lab}"] = f.dar[k]
                    tails[lab][r] = tail_bins(xs, level)
            rows.append(row)
            bar.update(1)
    finally:
        if target == "book":
            pool.shutdown()
    return rows, tails


def _in_order(
    make: Callable[[int, int, int], RiskForecast | None],
    jobs: list[tuple[int, int, int]],
    workers: int,
) -> Iterator[RiskForecast | None]:
    """``make(*job)`` for each job, in order; on ``workers`` threads when more than one (the
    kernels release the GIL)."""
    if workers <= 1:
        for job in jobs:
            yield make(*job)
        return
    with ThreadPoolExecutor(workers) as ex:
        futures = [ex.submit(make, *job) for job in jobs]
        try:
            for fut in futures:
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _book_one(
    w: np.ndarray,
    mu: np.ndarray,
    cov: np.ndarray,
    costs: np.ndarray,
    hist_all: np.ndarray | None,
    pos: int,
    seed: int,
    kw: dict[str, Any],
    n_workers: int,
    pool: ThreadPoolExecutor,
) -> RiskForecast | None:
    """The held book's forecast at one date (None when its inputs are not finite)."""
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(mu)) and np.all(np.isfinite(cov))):
        return None
    history = None
    if hist_all is not None:
        # panel.returns() row i is the return from date i to date i+1; up to pos inclusive.
        history = hist_all[max(0, pos - kw["bootstrap_window"]) : pos]
        if history.shape[0] < 2:
            return None
        if kw["covariance"] == "ewma":
            cov = ewma_covariance(history)
    return forecast(
        w, mu, cov, horizon=kw["horizon"], n_scenarios=kw["n_scenarios"],
        distribution=kw["distribution"], nu=kw["nu"], levels=kw["levels"],
        rebalance=kw["rebalance"], costs=costs, history=history, block=kw["block"],
        aggregation=kw["aggregation"], rng=seed, workers=n_workers, pool=pool,
        mixing=kw["mixing"],
    )  # fmt: skip


def _pnl_one(
    values: np.ndarray,
    weights: np.ndarray,
    asset_r: np.ndarray,
    pos: int,
    first_live: int,
    mu: np.ndarray,
    seed: int,
    kw: dict[str, Any],
) -> RiskForecast | None:
    """The strategy's top-down forecast at one date (None when there is too little history)."""
    w = weights[pos]
    if pos < 2 or not (np.all(np.isfinite(w)) and np.all(np.isfinite(mu))):
        return None
    hist = pnl_history(values, weights, asset_r, pos, first_live, kw["pnl_window"])
    if not np.all(np.isfinite(hist)) or np.all(hist == 0.0):
        return None
    out, mdd = simulate_pnl(
        hist, horizon=kw["horizon"], n_scenarios=kw["n_scenarios"], seed=seed,
        innovations=kw["innovations"], filter=kw["filter"], lam=kw["ewma_lambda"],
        mean=float(w @ mu), block=kw["block"],
    )  # fmt: skip
    return summarize(
        out, mdd, np.zeros_like(out), levels=kw["levels"], seed=seed, horizon=kw["horizon"],
        distribution=f"{kw['filter']}-{kw['innovations']}", nu=None, rebalance="strategy",
        aggregation="compound", block=kw["block"] if kw["innovations"] == "fhs" else None,
    )  # fmt: skip
