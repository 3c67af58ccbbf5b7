"""Rolling risk forecasts along a backtest, set against what really happened.

At each estimate date of a :class:`~rwafolio.backtest.result.BacktestResult` (or every k-th), the
portfolio actually held after trading is simulated over the next H periods with the strategy's
own per-period estimates ``mu``/``cov`` of that date. The realized H-period return
``value[t + H] / value[t] - 1`` and the realized maximum drawdown inside ``(t, t + H]`` are
recorded beside the forecast. The last dates, whose window runs past the end of the data, are
kept with ``complete = False`` and NaN outcomes.

Breaches and backtests: a breach is ``realized_return < VaR`` (both returns, negative = loss).
Overlapping H-period windows are not independent, so the backtests use NON-OVERLAPPING windows by
default: the first complete forecast, then each next forecast at least H periods later. The
sampling used is written into every result.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.risk.backtests import BacktestSuite, run_all
from rwafolio.risk.forecast import forecast, parse_rebalance, validate_levels
from rwafolio.risk.scenarios import (
    AGGREGATIONS,
    DISTRIBUTIONS,
    Aggregation,
    Distribution,
    _default_workers,
    resolve_seed,
)
from rwafolio.utils.progress import Progress
from rwafolio.utils.validation import check_int

if TYPE_CHECKING:
    from rwafolio.backtest.result import BacktestResult

Sampling = Literal["non_overlapping", "all"]
Kind = Literal["var", "dar"]


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
    distribution: Distribution = "normal",
    levels: tuple[float, ...] = (0.95, 0.99),
    rng: np.random.Generator | int | None = None,
    *,
    nu: float = 5.0,
    rebalance: str | int = "drift",
    aggregation: Aggregation = "compound",
    mean: Literal["estimate", "zero"] = "estimate",
    bootstrap_window: int = 250,
    block: int = 5,
    workers: int | None = None,
    progress: bool | None = None,
) -> RollingForecasts:
    """Forecast VaR/CVaR/drawdown-at-risk at every ``every``-th estimate date of a backtest.

    Parameters
    ----------
    result : BacktestResult
        Uses ``estimate_dates``, ``mu``/``cov`` (PER PERIOD, as the strategy used them),
        ``weights`` (held after trading), ``value`` and ``panel`` (costs, returns for the
        bootstrap).
    horizon : int
        H periods ahead (default 30).
    every : int
        Use every k-th estimate date (1 = all).
    n_scenarios, distribution, levels, nu, rebalance, aggregation, block, workers
        As in :func:`rwafolio.risk.forecast`; costs are the universe's costs.
    rng : Generator, int or None
        Base seed; the forecast at estimate number j uses ``date_seed(seed, j)``.
    mean : {"estimate", "zero"}
        ``"estimate"`` simulates with the strategy's own ``mu``; ``"zero"`` sets the drift to 0
        (a common VaR practice: a 30-observation mean extrapolated over H periods is mostly
        noise). Recorded in the result.
    bootstrap_window : int
        Bootstrap history: the last ``bootstrap_window`` returns up to and including the date.
    progress : bool or None
        Progress on stderr (a bar on a terminal, one-line updates otherwise); False silences it.

    Returns
    -------
    RollingForecasts
    """
    every = check_int(every, "every", minimum=1)
    horizon = check_int(horizon, "horizon", minimum=1)
    if distribution not in DISTRIBUTIONS:
        raise ConfigError(f"`distribution` must be one of {DISTRIBUTIONS}, got {distribution!r}")
    if mean not in ("estimate", "zero"):
        raise ConfigError(f"`mean` must be 'estimate' or 'zero', got {mean!r}")
    if aggregation not in AGGREGATIONS:
        raise ConfigError(f"`aggregation` must be one of {AGGREGATIONS}, got {aggregation!r}")
    lv = validate_levels(levels)
    parse_rebalance(rebalance)
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
    value_index = pd.DatetimeIndex(result.value.index)
    positions = value_index.get_indexer(dates)
    if np.any(positions < 0):
        raise DataError("`result.estimate_dates` must all be dates of `result.value`")
    base = resolve_seed(rng)
    costs = np.asarray(result.panel.universe.costs, dtype=float)
    weights = result.weights.to_numpy(dtype=float)
    hist_all = result.panel.returns().to_numpy(dtype=float) if distribution == "bootstrap" else None
    chosen = np.arange(0, len(dates), every)
    values = result.value.to_numpy(dtype=float)
    complete, ret, mdd = realized_outcomes(values, positions[chosen], horizon)
    rows: list[dict[str, object]] = []
    n_workers = workers or _default_workers()
    pool = ThreadPoolExecutor(max(n_workers - 1, 1))  # reused by every date
    bar = Progress(len(chosen), "rolling VaR forecasts", "date", enabled=progress)
    try:
        for j in chosen:
            bar.update(1)
            pos = int(positions[j])
            w = weights[pos]
            seed = date_seed(base, int(j))
            row: dict[str, object] = {"position": pos, "seed": seed}
            ok = bool(
                np.all(np.isfinite(w))
                and np.all(np.isfinite(mus[j]))
                and np.all(np.isfinite(covs[j]))
            )
            history = None
            if distribution == "bootstrap" and ok:
                assert hist_all is not None
                # panel.returns() row i is the return from date i to date i+1; up to pos inclusive.
                history = hist_all[max(0, pos - bootstrap_window) : pos]
                ok = history.shape[0] >= 1
            row["forecast_ok"] = ok
            if ok:
                f = forecast(
                    w, mus[j], covs[j], horizon=horizon, n_scenarios=n_scenarios,
                    distribution=distribution, nu=nu, levels=lv, rebalance=rebalance,
                    costs=costs, history=history, block=block, aggregation=aggregation,
                    rng=seed, workers=n_workers, pool=pool,
                )  # fmt: skip
                row["mean"] = f.mean
                for k, level in enumerate(lv):
                    lab = level_label(level)
                    row[f"var_{lab}"] = f.var[k]
                    row[f"var_se_{lab}"] = f.var_se[k]
                    row[f"cvar_{lab}"] = f.cvar[k]
                    row[f"dar_{lab}"] = f.dar[k]
            rows.append(row)
    finally:
        bar.close()
        pool.shutdown()
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
    return RollingForecasts(
        table=table, horizon=horizon, every=every, n_scenarios=n_scenarios, levels=lv,
        distribution=distribution, nu=float(nu), rebalance=rebalance, aggregation=aggregation,
        seed=base,
        mean=mean,
    )  # fmt: skip
