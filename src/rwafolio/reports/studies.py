"""Report sections of the studies (:mod:`rwafolio.studies`): they draw, never compute.

- :func:`sensitivity_sections` for a :class:`~rwafolio.studies.SensitivityOverview`;
- :func:`frequency_sections` for a :class:`~rwafolio.studies.FrequencyStudy`.

The figures and display tables they use live in :mod:`rwafolio.reports.figures_studies`.
Sections are ``(title, figure or DataFrame, note)`` tuples for
``rwafolio.reports.render_html(..., extra_sections=...)``.
"""

from __future__ import annotations

from typing import Any

from rwafolio.reports.figures_studies import (
    costs_risk_figure,
    schedule_table,
    sensitivity_table,
    tornado_figure,
)
from rwafolio.studies.frequency import FrequencyStudy
from rwafolio.studies.sensitivity_path import SensitivityOverview

__all__ = ["frequency_sections", "sensitivity_sections"]

Section = tuple[str, Any, str]

_SENSITIVITY_NOTE = (
    "Bars: change in the optimal portfolio's annualized volatility for a one-standard-error "
    "move of each estimate over the window (mean sigma*sqrt(ppy/T), vol sigma/sqrt(2T), "
    "correlation (1-rho^2)/sqrt(T)) and a 5-point VIX move; ordered by the L1 turnover "
    "that move would cause. Exact derivatives of the KKT system; one-sided where flagged."
)


def sensitivity_sections(overview: SensitivityOverview, top: int = 12) -> list[Section]:
    """Report sections of a sensitivity overview: the tornado and its tables."""
    d = overview.date.date()
    figure = tornado_figure(overview.ranking, top)
    if overview.by_input is None or overview.by_kind is None:
        table = sensitivity_table(overview.ranking.head(top).set_index("input"))
        return [
            (f"Sensitivity ranking at {d}", figure, _SENSITIVITY_NOTE),
            (f"Sensitivity table at {d}", table, _SENSITIVITY_NOTE),
        ]
    return [
        (f"Sensitivity ranking at the last decision ({d})", figure, _SENSITIVITY_NOTE),
        (
            "Sensitivities in calm and stress (VIX > 25)",
            sensitivity_table(overview.by_input.head(top)),
            "Per input and regime: the mean turnover a typical move would cause (% of value), "
            "its mean rank (1 = moves the allocation most) and the share of dates it was among "
            "the top five.",
        ),
        (
            "Share of impact by kind of input",
            sensitivity_table(overview.by_kind),
            "Per regime: each kind of input's share of the summed turnover impact (%), the mean "
            "over dates; the rows add up to 100%.",
        ),
    ]


def frequency_sections(study: FrequencyStudy) -> list[Section]:
    """Report sections of an update-frequency study: costs against risk and the schedule table."""
    note = (
        "One marker per update schedule: colour is how often crypto may trade, the label and "
        "the marker's shape how often RWAs may; left panel with the stress override (every "
        "open asset may trade when the VIX is above the stress level), right without. Down and "
        "to the left is cheaper and calmer. Hover a marker for its Sharpe ratio and utility lost."
    )
    return [
        ("Update frequency: costs against risk", costs_risk_figure(study.table), note),
        (
            "Update frequency: schedule table",
            schedule_table(study.table),
            "Utility lost: the mean over dates of U_t(w*) - U_t(w held), annualized, at zero "
            "costs, against trading every asset every day (the module docstring of "
            "rwafolio.studies.frequency defines it). Breaches count realized "
            f"{study.params['var_horizon']}-period returns below the forecast VaR.",
        ),
    ]
