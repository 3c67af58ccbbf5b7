"""Market data in, one validated :class:`Panel` out.

``load(source, symbols, ...)`` is the single entry point; ``load_synthetic``, ``load_files``,
``load_yahoo`` are its per-source forms and ``fetch`` fills the yfinance cache. Every loader runs
the same pipeline: read -> clean (report; repair only if asked) -> align on a calendar policy ->
attach the volatility index -> :class:`Panel`.

Modules: :mod:`.files` (layouts), :mod:`.yahoo` (+ :mod:`.cache`), :mod:`.synthetic`,
:mod:`.calendar` (policies, NYSE sessions, missing days), :mod:`.cleaning`, :mod:`.vix`,
:mod:`.locate` (which files a folder scan reads).
"""

from __future__ import annotations

from rwafolio.loaders.api import (
    CLEAN_POLICIES,
    DEFAULT_SYMBOLS,
    SOURCES,
    build_panel,
    fetch,
    load,
    load_files,
    load_reported,
    load_synthetic,
    load_yahoo,
    severe_lines,
    with_own_warnings,
)
from rwafolio.loaders.calendar import MISSING_POLICIES, align, nyse_sessions
from rwafolio.loaders.files import KNOWN_LAYOUTS, read_file
from rwafolio.loaders.panel import CALENDAR_POLICIES, PERIODS_PER_YEAR, Finding, Panel

__all__ = [
    "CALENDAR_POLICIES",
    "CLEAN_POLICIES",
    "DEFAULT_SYMBOLS",
    "KNOWN_LAYOUTS",
    "MISSING_POLICIES",
    "PERIODS_PER_YEAR",
    "SOURCES",
    "Finding",
    "Panel",
    "align",
    "build_panel",
    "fetch",
    "load",
    "load_files",
    "load_reported",
    "load_synthetic",
    "load_yahoo",
    "nyse_sessions",
    "read_file",
    "severe_lines",
    "with_own_warnings",
]
