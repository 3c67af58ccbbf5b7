"""What moves the allocation along a backtest: the sensitivity ranking at each decision date.

At each decision date of a :class:`~rwafolio.backtest.result.BacktestResult` the strategy that
ran states its problem again (:func:`rwafolio.backtest.replay.problems`: the same annualized
estimates, lam and d lam / d VIX from its risk-aversion rule, the drifted ``weights_before`` as
w_prev, its effective costs and bounds), which is solved exactly, differentiated with
:func:`rwafolio.optimize.sensitivity.sensitivities` and ranked with
:func:`~rwafolio.optimize.sensitivity.rank_inputs` over the estimation window. By default every
asset may trade (``freeze="none"``: what the model wants at that date); with
``freeze="schedule"`` the assets the strategy froze that day (schedule and stress override, as
seen through the run's signal lag) are frozen as in the backtest. Stress dates are those with
VIX above ``stress_vix`` (the strategy's default, 25).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rwafolio.backtest.replay import problems
from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError, DataError, OptimizationError
from rwafolio.optimize.problem import Problem
from rwafolio.optimize.sensitivity import Sensitivity, rank_inputs, sensitivities
from rwafolio.strategies.dynamic import DEFAULT_STRESS_VIX
from rwafolio.utils.progress import Progress
from rwafolio.utils.validation import check_int

__all__ = [
    "STRESS_VIX",
    "SensitivityOverview",
    "SensitivityPath",
    "regime_summary",
    "sensitivity_at",
    "sensitivity_overview",
    "sensitivity_path",
]

Freeze = Literal["none", "schedule"]
#: The stress level that labels regimes: the strategy's default stress override.
STRESS_VIX = DEFAULT_STRESS_VIX


def _check_freeze(freeze: str) -> None:
    if freeze not in ("none", "schedule"):
        raise ConfigError(f"`freeze` must be 'none' or 'schedule', got {freeze!r}")


def _differentiate(prob: Problem, freeze: Freeze, symbols: list[str]) -> Sensitivity:
    """Sensitivities of the strategy's problem (``freeze="none"``: with every asset free)."""
    p = prob if freeze == "schedule" else prob.unfrozen()
    return sensitivities(
        p.R,
        p.Sigma,
        p.costs,
        p.held,
        p.lam,
        lo=p.lo,
        hi=p.hi,
        dlam_dvix=p.dlam_dvix,
        vix=p.vix,
        symbols=symbols,
    )


def sensitivity_at(
    result: BacktestResult,
    date: object,
    *,
    vix_move: float = 5.0,
    freeze: Freeze = "none",
) -> tuple[Sensitivity, pd.DataFrame]:
    """Sensitivities and the ranking at one decision date of a backtest.

    Parameters
    ----------
    result : BacktestResult
        A run of a strategy that states its problem (e.g. DynamicLambdaStrategy); uses its
        ``strategy``, ``panel``, ``estimate_dates``, ``weights_before`` and ``signal_lag``.
    date : date-like
        The decision date, or the last estimate date on or before it.
    vix_move : float, default 5.0
        Typical VIX move, in points.
    freeze : {"none", "schedule"}
        See the module docstring.

    Returns
    -------
    (Sensitivity, DataFrame)
        The derivatives and :func:`~rwafolio.optimize.sensitivity.rank_inputs`' table.
    """
    dates = pd.DatetimeIndex(result.estimate_dates)
    if len(dates) == 0:
        raise DataError("`result` has no estimate dates (did the strategy record mu/cov?)")
    ts = pd.Timestamp(date)  # type: ignore[arg-type]
    j = int(dates.searchsorted(ts, side="right")) - 1
    if j < 0:
        raise DataError(f"`date` {ts.date()} is before the first decision {dates[0].date()}")
    _check_freeze(freeze)
    _, prob = next(problems(result, [dates[j]]))
    sens = _differentiate(prob, freeze, list(result.weights.columns))
    ranking = rank_inputs(sens, prob.n_obs, prob.periods_per_year, vix_move)
    ranking.attrs["date"] = dates[j]
    return sens, ranking


@dataclass(frozen=True)
class SensitivityPath:
    """The input ranking at each decision date of a backtest.

    Attributes
    ----------
    table : DataFrame
        Long format, one row per (date, input): ``date``, ``input``, ``kind``, ``move``,
        ``turnover``, ``drisk_up``, ``drisk_down``, ``differentiable``, ``rank``, ``vix``,
        ``lam``, ``regime`` ("stress" when VIX > ``stress_vix``, else "calm").
    failed : DataFrame
        Dates whose problem could not be differentiated: ``date``, ``reason``.
    stress_vix : float
    vix_move : float
    freeze : str
    every : int
    """

    table: pd.DataFrame
    failed: pd.DataFrame
    stress_vix: float
    vix_move: float
    freeze: str
    every: int


def sensitivity_path(
    result: BacktestResult,
    *,
    every: int = 1,
    vix_move: float = 5.0,
    stress_vix: float = STRESS_VIX,
    freeze: Freeze = "none",
    progress: bool | None = None,
) -> SensitivityPath:
    """Rank the inputs at every ``every``-th decision date of ``result``.

    Parameters as in :func:`sensitivity_at`; ``stress_vix`` labels the regimes; ``progress``
    reports on stderr (False: silent).
    """
    every = check_int(every, "every", minimum=1)
    _check_freeze(freeze)
    symbols = list(result.weights.columns)
    frames, failed = [], []
    dates = result.estimate_dates[::every]
    bar = Progress(len(dates), "sensitivity path", "date", enabled=progress)
    for date, prob in problems(result, dates):
        bar.update(1)
        try:
            sens = _differentiate(prob, freeze, symbols)
        except (DataError, OptimizationError) as exc:
            failed.append({"date": date, "reason": str(exc)})
            continue
        tab = rank_inputs(sens, prob.n_obs, prob.periods_per_year, vix_move)
        tab = tab[
            [
                "input",
                "kind",
                "move",
                "turnover",
                "drisk_up",
                "drisk_down",
                "differentiable",
                "rank",
            ]
        ]
        tab.insert(0, "date", date)
        tab["vix"], tab["lam"] = prob.vix, prob.lam
        frames.append(tab)
    bar.close()
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(table):
        table["regime"] = np.where(table["vix"] > stress_vix, "stress", "calm")
    return SensitivityPath(
        table, pd.DataFrame(failed, columns=["date", "reason"]), stress_vix, vix_move, freeze, every
    )


def regime_summary(path: SensitivityPath, by: Literal["input", "kind"] = "input") -> pd.DataFrame:
    """How the ranking differs between calm and stress dates.

    Parameters
    ----------
    path : SensitivityPath
    by : {"input", "kind"}
        Per input, or per kind of input (mean, vol, corr, vix).

    Returns
    -------
    DataFrame
        ``by="input"``: per regime the mean turnover impact, mean rank and the share of dates in
        the top five (columns ``<stat>_<regime>``), sorted by the stress impact. ``by="kind"``:
        per regime the share of the total impact each kind carries (mean over dates of its summed
        turnover over the date's total) and ``n_dates``.
    """
    t = path.table
    if t.empty:
        raise DataError("`path` has no dates")
    if by == "input":
        g = t.assign(top5=t["rank"] <= 5).groupby(["input", "regime"])
        agg = g.agg(
            turnover=("turnover", "mean"), rank=("rank", "mean"), top5_share=("top5", "mean")
        )
        wide = pd.DataFrame(agg.unstack("regime"))
        wide.columns = pd.Index(["_".join(map(str, c)) for c in wide.columns.to_list()])
        key = "turnover_stress" if "turnover_stress" in wide.columns else str(wide.columns[0])
        return wide.sort_values(by=key, ascending=False)
    if by == "kind":
        per = t.groupby(["date", "regime", "kind"])["turnover"].sum().unstack("kind").fillna(0.0)
        share = per.div(per.sum(axis=1).replace(0.0, np.nan), axis=0)
        out = share.groupby(level="regime").mean()
        out["n_dates"] = per.groupby(level="regime").size()
        return out
    raise ConfigError(f"`by` must be 'input' or 'kind', got {by!r}")


# --------------------------------------------------------------------------- overview
@dataclass(frozen=True)
class SensitivityOverview:
    """What moves the allocation, at one date or across a backtest (what the CLI shows).

    Attributes
    ----------
    ranking : DataFrame
        :func:`~rwafolio.optimize.sensitivity.rank_inputs`' table at ``date``.
    date : Timestamp
        The decision date of ``ranking`` (the one asked for, or the last decision).
    by_input, by_kind : DataFrame or None
        :func:`regime_summary` across the backtest; None when one date was asked for.
    """

    ranking: pd.DataFrame
    date: pd.Timestamp
    by_input: pd.DataFrame | None = None
    by_kind: pd.DataFrame | None = None

    @property
    def table(self) -> pd.DataFrame:
        """The table to print: the ranking at one date, else the regime summary by input."""
        return self.ranking if self.by_input is None else self.by_input


def sensitivity_overview(
    result: BacktestResult, *, date: object = None, every: int = 1, progress: bool | None = None
) -> SensitivityOverview:
    """The ranking at ``date``; without a date, the regime summaries and the last ranking.

    Parameters
    ----------
    result : BacktestResult
        A DynamicLambdaStrategy run.
    date : date-like or None
        A decision date (see :func:`sensitivity_at`); None: across the backtest.
    every : int, default 1
        Without ``date``: every k-th decision date (see :func:`sensitivity_path`).
    """
    if date is not None:
        _, ranking = sensitivity_at(result, date)
        return SensitivityOverview(ranking, pd.Timestamp(ranking.attrs["date"]))
    path = sensitivity_path(result, every=every, progress=progress)
    by_input = regime_summary(path, "input")
    by_kind = regime_summary(path, "kind")
    last = path.table["date"].max()
    _, ranking = sensitivity_at(result, last)
    return SensitivityOverview(ranking, pd.Timestamp(last), by_input, by_kind)
