"""Backtests: the engine that walks the dates, the book's one step (:mod:`.book`), the vectorbt
adapter (:mod:`.execution`), results and statistics, and the replay of a result's problems
(:mod:`.replay`)."""

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
