"""Studies that run the strategy many times or differentiate it along a backtest.

- :mod:`~rwafolio.studies.sensitivity_path`: what moves the allocation, at one decision date or at
  every date of a backtest, split by calm and stress regimes.
- :mod:`~rwafolio.studies.frequency`: the update-frequency study (schedules compared on costs,
  risk and utility lost).

Studies compute and return frozen results; their figures and report sections live in
:mod:`rwafolio.reports.studies`.
"""

from __future__ import annotations

from rwafolio.studies.frequency import FrequencyStudy, frequency_study, schedule_grid, utility_loss
from rwafolio.studies.sensitivity_path import (
    STRESS_VIX,
    SensitivityOverview,
    SensitivityPath,
    regime_summary,
    sensitivity_at,
    sensitivity_overview,
    sensitivity_path,
)

__all__ = [
    "STRESS_VIX",
    "FrequencyStudy",
    "SensitivityOverview",
    "SensitivityPath",
    "frequency_study",
    "regime_summary",
    "schedule_grid",
    "sensitivity_at",
    "sensitivity_overview",
    "sensitivity_path",
    "utility_loss",
]
