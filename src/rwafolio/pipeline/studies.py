"""The ``sensitivity`` and ``frequency`` commands as functions (return, never print)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rwafolio.backtest import BacktestResult, run
from rwafolio.config import RunConfig
from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.outputs import ensure_parent
from rwafolio.studies import (
    FrequencyStudy,
    SensitivityOverview,
    frequency_study,
    sensitivity_overview,
)

__all__ = ["StudyRun", "render_study", "run_frequency", "run_sensitivity"]


@dataclass(frozen=True)
class StudyRun:
    """A study and the backtest its report draws on.

    Attributes
    ----------
    table : DataFrame
        What the CLI prints.
    sections : list of (title, figure or DataFrame, note)
        The report sections (:mod:`rwafolio.reports.studies`).
    result : BacktestResult
        The configured strategy's backtest.
    study : SensitivityOverview or FrequencyStudy
    """

    table: pd.DataFrame
    sections: list[tuple[str, Any, str]]
    result: BacktestResult
    study: SensitivityOverview | FrequencyStudy


def _dynamic_only(config: RunConfig, study: str) -> None:
    if config.strategy_name != "dynamic":
        raise ConfigError(
            f"the {study} study runs the dynamic strategy; config [strategy].name is "
            f"{config.strategy_name!r}"
        )


def _check_date(result: BacktestResult, date: str) -> None:
    try:
        when = pd.Timestamp(date)
    except (ValueError, TypeError):
        raise ConfigError(f"`--date` must be YYYY-MM-DD, got {date!r}") from None
    dates = result.estimate_dates
    if when not in dates:
        policy = result.panel.policy
        which = "a session" if policy == "exchange_days" else "a calendar day"
        raise ConfigError(
            f"`--date` {date} is not a decision date of this run "
            f"({dates[0].date()}..{dates[-1].date()}; under {policy} a decision date is {which} "
            "after the strategy's warm-up)"
        )


def run_sensitivity(
    panel: Panel,
    config: RunConfig | None = None,
    *,
    date: str | None = None,
    every: int = 1,
    top: int = 12,
    execute: bool = False,
    progress: bool | None = None,
) -> StudyRun:
    """Backtest the configured strategy and rank what moves its allocation.

    ``date``: one decision date (``YYYY-MM-DD``); None: across the backtest (calm vs stress) at
    every ``every``-th date. ``execute``: also run vectorbt (needed for a report).
    """
    from rwafolio.reports.studies import sensitivity_sections

    cfg = config if config is not None else RunConfig()
    _dynamic_only(cfg, "sensitivity")
    result = run(cfg.build_strategy(), panel, execute=execute, progress=progress)
    if date is not None:
        _check_date(result, date)
    overview = sensitivity_overview(result, date=date, every=every, progress=progress)
    return StudyRun(overview.table, sensitivity_sections(overview, top), result, overview)


def run_frequency(
    panel: Panel,
    config: RunConfig | None = None,
    *,
    executor: Any = None,
    seed: int = 7,
    progress: bool | None = None,
) -> StudyRun:
    """The update-frequency study of the configured strategy, and a backtest for its report."""
    from rwafolio.reports.studies import frequency_sections

    cfg = config if config is not None else RunConfig()
    _dynamic_only(cfg, "update-frequency")
    study = frequency_study(
        panel, strategy_params=cfg.strategy_params(), executor=executor, rng=seed,
        progress=progress,
    )  # fmt: skip
    result = run(cfg.build_strategy(), panel, progress=progress)
    return StudyRun(study.table.drop(columns="seconds"), frequency_sections(study), result, study)


def render_study(run_: StudyRun, out: str | os.PathLike[str]) -> Path:
    """Render a study's report (the backtest's report plus the study's sections)."""
    from rwafolio.reports import render_html

    path = ensure_parent(out, "`--out`")
    return Path(render_html(run_.result, path=path, extra_sections=run_.sections))
