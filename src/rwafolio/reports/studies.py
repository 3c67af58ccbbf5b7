"""Figures and report sections of the studies (:mod:`rwafolio.studies`): they draw, never compute.

- :func:`tornado_figure` and :func:`sensitivity_sections` for a sensitivity overview;
- :func:`costs_risk_figure` and :func:`frequency_sections` for the update-frequency study.

Sections are ``(title, figure or DataFrame, note)`` tuples for
``rwafolio.reports.render_html(..., extra_sections=...)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rwafolio.studies.frequency import FrequencyStudy
from rwafolio.studies.sensitivity_path import SensitivityOverview

__all__ = ["costs_risk_figure", "frequency_sections", "sensitivity_sections", "tornado_figure"]

Section = tuple[str, Any, str]

_SENSITIVITY_NOTE = (
    "Bars: change in the optimal portfolio's annualized volatility for a one-standard-error "
    "move of each estimate over the window (mean sigma*sqrt(ppy/T), vol sigma/sqrt(2T), "
    "correlation (1-rho^2)/sqrt(T)) and a 5-point VIX move; ordered by the L1 turnover "
    "that move would cause. Exact derivatives of the KKT system; one-sided where flagged."
)


def tornado_figure(ranking: pd.DataFrame, top: int = 12, title: str = "") -> Any:
    """Tornado chart of a ranking: the change in portfolio volatility for -1 and +1 typical move.

    Bars are ordered by the L1 turnover the move causes (printed beside each bar)."""
    import plotly.graph_objects as go

    r = ranking.head(top).iloc[::-1]
    text = [f"turnover {x:.1%}" for x in r["turnover"]]
    fig = go.Figure()
    fig.add_bar(y=r["input"], x=100 * r["drisk_down"], orientation="h", name="-1 typical move")
    fig.add_bar(
        y=r["input"],
        x=100 * r["drisk_up"],
        orientation="h",
        name="+1 typical move",
        text=text,
        textposition="outside",
    )
    fig.update_layout(
        barmode="overlay",
        title=title or "What moves the allocation (top inputs by turnover)",
        xaxis_title="change in portfolio volatility (pp, annualized)",
        height=max(320, 28 * len(r) + 120),
    )
    return fig


def sensitivity_sections(overview: SensitivityOverview, top: int = 12) -> list[Section]:
    """Report sections of a :class:`~rwafolio.studies.SensitivityOverview`."""
    d = overview.date.date()
    figure = tornado_figure(overview.ranking, top)
    if overview.by_input is None or overview.by_kind is None:
        return [
            (f"Sensitivity ranking at {d}", figure, _SENSITIVITY_NOTE),
            (f"Sensitivity table at {d}", overview.ranking.head(top).round(5), _SENSITIVITY_NOTE),
        ]
    return [
        (f"Sensitivity ranking at the last decision ({d})", figure, _SENSITIVITY_NOTE),
        (
            "Sensitivities in calm and stress (VIX > 25)",
            overview.by_input.head(top).round(5),
            "Mean turnover impact, mean rank and share of dates in the top five, per regime.",
        ),
        (
            "Share of impact by kind of input",
            overview.by_kind.round(4),
            "Mean over dates of each kind's share of the summed turnover impact.",
        ),
    ]


def costs_risk_figure(study: FrequencyStudy) -> Any:
    """Costs paid against realized volatility, one marker per schedule (size: utility lost)."""
    import plotly.graph_objects as go

    t = study.table
    fig = go.Figure()
    for override, sub in t.groupby(t["stress_vix"].isna()):
        fig.add_scatter(
            x=100 * sub["volatility"],
            y=100 * sub["costs_paid"],
            mode="markers+text",
            text=[f"{c}/{r}" for c, r in zip(sub["crypto"], sub["rwa"])],
            textposition="top center",
            name="no stress override" if override else "stress override (VIX>25)",
            marker={"size": 8 + 400 * np.sqrt(np.clip(sub["utility_lost"], 0, None))},
            customdata=np.c_[sub["sharpe"], sub["utility_lost"]],
            hovertemplate="%{text}<br>vol %{x:.1f}%<br>costs %{y:.2f}%<br>Sharpe %{customdata[0]:.2f}"
            "<br>utility lost %{customdata[1]:.4f}<extra></extra>",
        )
    fig.update_layout(
        title="Costs paid against realized risk, per update schedule (crypto/RWA)",
        xaxis_title="realized volatility (%, annualized)",
        yaxis_title="costs paid (% of value, whole period)",
        height=480,
    )
    return fig


def frequency_sections(study: FrequencyStudy) -> list[Section]:
    """Report sections of an update-frequency study: the scatter and the schedule table."""
    note = (
        "One marker per schedule; marker size grows with the utility lost against trading every "
        "day at zero cost (module docstring of rwafolio.studies.frequency)."
    )
    cols = [c for c in study.table.columns if c != "seconds"]
    return [
        ("Update frequency: costs against risk", costs_risk_figure(study), note),
        (
            "Update frequency: schedule table",
            study.table[cols].round(4),
            "utility_lost: mean over dates of U_t(w*) - U_t(w held), annualized, zero costs.",
        ),
    ]
