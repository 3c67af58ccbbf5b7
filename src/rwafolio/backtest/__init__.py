"""Backtests: the engine that walks the dates, the vectorbt adapter, results and statistics."""

from __future__ import annotations

from rwafolio.backtest.engine import run, self_financing_scale
from rwafolio.backtest.result import BacktestResult
from rwafolio.backtest.stats import STAT_NAMES, performance, stats, stats_table

__all__ = [
    "STAT_NAMES",
    "BacktestResult",
    "performance",
    "run",
    "self_financing_scale",
    "stats",
    "stats_table",
]
