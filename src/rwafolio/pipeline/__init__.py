"""The orchestration the CLI and the Python API share: load, run, forecast, report.

Every function here returns results and never prints; ``rwafolio.cli`` only parses arguments,
calls these functions and prints what they return. Progress of slow steps goes to stderr through
:mod:`rwafolio.utils.progress`.

- :mod:`~rwafolio.pipeline.data`: data options and their defaults (:func:`load_panel`);
- :mod:`~rwafolio.pipeline.suite`: ``demo`` / ``backtest`` (:func:`run_suite`, :func:`write_outputs`);
- :mod:`~rwafolio.pipeline.var`: ``var`` (:func:`book_risk`);
- :mod:`~rwafolio.pipeline.studies`: ``sensitivity`` / ``frequency``;
- :mod:`~rwafolio.pipeline.walkforward`: ``walkforward`` (:func:`run_walkforward`).
"""

from __future__ import annotations

from rwafolio.pipeline.data import DEFAULT_SYMBOLS, DataOptions, default_vix, load_panel
from rwafolio.pipeline.studies import StudyRun, render_study, run_frequency, run_sensitivity
from rwafolio.pipeline.suite import (
    RiskOptions,
    SuiteRun,
    add_risk,
    add_walkforward,
    run_suite,
    write_outputs,
    write_summary,
)
from rwafolio.pipeline.var import BookRisk, book_risk
from rwafolio.pipeline.walkforward import DEFAULT_GRID, WalkForwardRun, run_walkforward

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_SYMBOLS",
    "BookRisk",
    "DataOptions",
    "RiskOptions",
    "StudyRun",
    "SuiteRun",
    "WalkForwardRun",
    "add_risk",
    "add_walkforward",
    "book_risk",
    "default_vix",
    "load_panel",
    "render_study",
    "run_frequency",
    "run_sensitivity",
    "run_suite",
    "run_walkforward",
    "write_outputs",
    "write_summary",
]
