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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from rwafolio.backtest.replay import problems
from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError, DataError, OptimizationError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.problem import Problem
from rwafolio.optimize.sensitivity import Sensitivity, rank_inputs, sensitivities
from rwafolio.strategies.dynamic import DEFAULT_STRESS_VIX

__all__ = [
    "STRESS_VIX",
    "SensitivityPath",
    "regime_summary",
    "sensitivity_at",
    "sensitivity_path",
    "sensitivity_report",
    "tornado_figure",
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
) -> SensitivityPath:
    """Rank the inputs at every ``every``-th decision date of ``result``.

    Parameters as in :func:`sensitivity_at`; ``stress_vix`` labels the regimes.
    """
    if not isinstance(every, int) or every < 1:
        raise ConfigError(f"`every` must be a positive int, got {every!r}")
    _check_freeze(freeze)
    symbols = list(result.weights.columns)
    frames, failed = [], []
    for date, prob in problems(result, result.estimate_dates[::every]):
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


def tornado_figure(ranking: pd.DataFrame, top: int = 12, title: str = "") -> Any:
    """Tornado chart of a ranking: the change in portfolio volatility for -1 and +1 typical move
    (see :func:`rwafolio.reports.figures_studies.tornado_figure`)."""
    from rwafolio.reports.figures_studies import tornado_figure as draw

    return draw(ranking, top, title)


# --------------------------------------------------------------------------- frequency study


# --------------------------------------------------------------------------- CLI-facing entry points
def _default_run(panel: Panel, strategy_params: Mapping[str, Any] | None) -> BacktestResult:
    from rwafolio.backtest import run
    from rwafolio.strategies.dynamic import DynamicLambdaStrategy

    return run(DynamicLambdaStrategy(**dict(strategy_params or {})), panel, execute=False)


def sensitivity_report(
    panel: Panel,
    *,
    date: object = None,
    result: BacktestResult | None = None,
    strategy_params: Mapping[str, Any] | None = None,
    every: int = 1,
    top: int = 12,
) -> tuple[pd.DataFrame, list[tuple[str, Any, str]]]:
    """The ranking at ``date`` (or across the backtest) and its report sections.

    Returns
    -------
    (DataFrame, list of (title, figure or DataFrame, note))
        With ``date``: the ranking table at that decision. Without: the regime summary by input.
        The sections go to ``rwafolio.reports.render_html(..., extra_sections=...)``.
    """
    from rwafolio.reports.figures_studies import sensitivity_table

    res = result if result is not None else _default_run(panel, strategy_params)
    sections: list[tuple[str, Any, str]] = []
    note = (
        "Bars: change in the optimal portfolio's annualized volatility for a one-standard-error "
        "move of each estimate over the window (mean sigma*sqrt(ppy/T), vol sigma/sqrt(2T), "
        "correlation (1-rho^2)/sqrt(T)) and a 5-point VIX move; ordered by the L1 turnover "
        "that move would cause. Exact derivatives of the KKT system; one-sided where flagged."
    )
    if date is not None:
        _, ranking = sensitivity_at(res, date)
        d = str(pd.Timestamp(ranking.attrs["date"]).date())
        sections.append((f"Sensitivity ranking at {d}", tornado_figure(ranking, top), note))
        sections.append(
            (
                f"Sensitivity table at {d}",
                sensitivity_table(ranking.head(top).set_index("input")),
                note,
            )
        )
        return ranking, sections
    path = sensitivity_path(res, every=every)
    by_input = regime_summary(path, "input")
    by_kind = regime_summary(path, "kind")
    last = path.table["date"].max()
    _, ranking = sensitivity_at(res, last)
    sections.append(
        (
            f"Sensitivity ranking at the last decision ({pd.Timestamp(last).date()})",
            tornado_figure(ranking, top),
            note,
        )
    )
    sections.append(
        (
            "Sensitivities in calm and stress (VIX > 25)",
            sensitivity_table(by_input.head(top)),
            "Per input and regime: the mean turnover a typical move would cause (% of value), "
            "its mean rank (1 = moves the allocation most) and the share of dates it was among "
            "the top five.",
        )
    )
    sections.append(
        (
            "Share of impact by kind of input",
            sensitivity_table(by_kind),
            "Per regime: each kind of input's share of the summed turnover impact (%), the mean "
            "over dates; the rows add up to 100%.",
        )
    )
    return by_input, sections
