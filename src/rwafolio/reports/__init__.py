"""Reports: one self-contained HTML file per run, and saved runs that re-render without
re-running the backtest.

- :func:`render_html` writes the report (plotly charts in a jinja2 template, plotly.js inlined
  once, opens offline, written atomically);
- :func:`save_run` / :func:`load_run` store a run as parquet tables plus JSON metadata in one
  zip file (no pickle); ``render_html(load_run(path), path=...)`` re-renders it;
- :mod:`rwafolio.reports.studies` draws the studies' figures and sections.

Reports only draw: every number they show is computed elsewhere (``backtest``, ``risk``,
``studies``, ``walkforward``); the scenario view's forecasts come from
:func:`rwafolio.risk.latest_scenarios`.
"""

from __future__ import annotations

from rwafolio.reports.record import RunRecord, collect
from rwafolio.reports.render import render_html, write_atomic
from rwafolio.reports.runfile import load_run, save_run
from rwafolio.reports.sections import ExtraSection

__all__ = [
    "ExtraSection",
    "RunRecord",
    "collect",
    "load_run",
    "render_html",
    "save_run",
    "write_atomic",
]
