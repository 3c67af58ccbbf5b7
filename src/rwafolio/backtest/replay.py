"""Replay a backtest's decisions: the problem its strategy stated at each decision date.

The analyses of a finished run (sensitivities along the path, the update-frequency study) need
the exact problem the strategy solved at a date. They do not rebuild it from parameters: they ask
the strategy that ran (``BacktestResult.strategy``, an unprepared copy), prepared on the same
panel, for its :meth:`problem` at the view the engine showed it (data through the date less the
run's signal lag, the drifted book ``weights_before``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from rwafolio.backtest.engine import market_of, setup_of, view_at
from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError, DataError
from rwafolio.optimize.problem import Problem

__all__ = ["problems", "replay_strategy"]


def replay_strategy(result: BacktestResult) -> Any:
    """A fresh copy of the strategy that produced ``result``, prepared on its panel.

    Raises
    ------
    ConfigError
        ``result`` carries no strategy (read back from a file, or stitched from several), or its
        strategy does not state its problem (it has no ``problem(view)`` method).
    """
    strategy = result.strategy
    if strategy is None:
        raise ConfigError(
            "`result` carries no strategy (a saved or stitched run): re-run the backtest"
        )
    if not callable(getattr(strategy, "problem", None)):
        raise ConfigError(
            f"{type(strategy).__name__} does not state its problem (no `problem(view)` method)"
        )
    fresh = type(strategy)(**strategy.get_params())
    fresh.prepare(setup_of(market_of(result.panel)))
    return fresh


def problems(
    result: BacktestResult, dates: Iterable[object] | None = None
) -> Iterator[tuple[pd.Timestamp, Problem]]:
    """``(date, Problem)`` at each date of ``dates`` (default: ``result.estimate_dates``).

    Each problem is the one the strategy stated when it decided at that date: same estimates,
    lam, freeze (schedule and stress override as seen through the signal lag) and costs.
    """
    strategy = replay_strategy(result)
    market = market_of(result.panel)
    index = result.panel.dates
    before = result.weights_before.to_numpy(dtype=float)
    for d in result.estimate_dates if dates is None else dates:
        ts = pd.Timestamp(d)  # type: ignore[arg-type]
        t = int(index.get_indexer(pd.DatetimeIndex([ts]))[0])
        if t < 0:
            raise DataError(f"`dates` holds {ts.date()}, which is not a date of the panel")
        view = view_at(market, t, before[t].copy(), result.signal_lag)
        yield ts, strategy.problem(view)
