"""Walk-forward test windows: run each from the book carried across folds, then stitch them.

- :func:`run_continuing` runs a strategy from a book already held (weights and value at the close
  of the row before its first decision), the adapter to the engine's ``initial_weights`` and
  ``init_cash``;
- :func:`run_fold` runs one fold's test window that way and, if the strategy fails, holds the
  book instead (:class:`Hold`);
- :func:`stitch` joins consecutive test-window results into one continuous
  :class:`~rwafolio.backtest.result.BacktestResult`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.backtest.engine import run
from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError
from rwafolio.loaders.panel import Panel
from rwafolio.strategies.base import Decision, MarketView, Strategy
from rwafolio.walkforward.result import FoldStatus
from rwafolio.walkforward.sweep import build_strategy, row_slice


class Hold(Strategy):
    """Never trades: the drifted book is held (the last-resort fallback of a fold)."""

    def decide(self, view: MarketView) -> Decision | None:
        return None


def run_continuing(
    strategy: Strategy,
    panel: Panel,
    *,
    first_decision: int,
    initial_weights: np.ndarray | None,
    initial_value: float,
    loop: str = "auto",
) -> BacktestResult:
    """``backtest.run`` starting from a book already held (weights as fractions of value, cash =
    1 - sum) worth ``initial_value`` at the close of row ``first_decision - 1``.

    The adapter between stitching and the engine's ``initial_weights``/``init_cash`` arguments.
    """
    if initial_weights is not None and "initial_weights" not in inspect.signature(run).parameters:
        raise ConfigError("this rwafolio engine cannot start from held weights (`initial_weights`)")
    return run(
        strategy,
        panel,
        init_cash=float(initial_value),
        first_decision=first_decision,
        initial_weights=initial_weights,
        progress=False,
        execute=False,
        loop=loop,  # type: ignore[arg-type]
    )


def run_fold(
    strategy: Strategy,
    panel: Panel,
    params: dict[str, Any],
    t0: int,
    t1: int,
    pad: int,
    held: np.ndarray | None,
    value: float,
    status: FoldStatus,
    reason: str,
    loop: str = "auto",
) -> tuple[BacktestResult, int, dict[str, Any], FoldStatus, str]:
    """Run one test window from the carried book; on failure, hold the book instead."""
    start = max(0, t0 - pad)
    sub = row_slice(panel, start, t1)
    try:
        strat = build_strategy(strategy, params)
        res = run_continuing(
            strat, sub, first_decision=t0 - start, initial_weights=held, initial_value=value,
            loop=loop,
        )  # fmt: skip
        return res, t0 - start, params, status, reason
    except Exception as exc:
        note = (
            f"out-of-sample run with {params} failed ({type(exc).__name__}: {exc}); held the book"
        )
        res = run_continuing(
            Hold(), sub, first_decision=t0 - start, initial_weights=held, initial_value=value
        )
        return res, t0 - start, {"hold": True}, "fallback", (reason + "; " if reason else "") + note


def stitch(
    panel: Panel, pieces: Sequence[BacktestResult], firsts: Sequence[int], *, name: str
) -> BacktestResult:
    """Join consecutive test-window results into one BacktestResult.

    Each piece contributes its rows from its first decision on; the result also holds the row
    before the first piece's first decision (cash, value 1), so ``stats()`` sees the first trade's
    fees. Pieces must be contiguous (piece k starts the row after piece k-1 ends).
    """
    if not pieces:
        raise ConfigError("nothing to stitch: no test window produced a result")
    first_res, k0 = pieces[0], firsts[0]
    sl = [slice(k0 - 1, None)] + [slice(k, None) for k in firsts[1:]]

    def cat(attr: str) -> Any:
        return pd.concat([getattr(p, attr).iloc[s] for p, s in zip(pieces, sl)])

    value = cat("value")
    dates = pd.DatetimeIndex(value.index)
    if dates.has_duplicates or not dates.is_monotonic_increasing:
        raise ConfigError("test windows overlap or are out of order; cannot stitch")
    sub = panel.slice(dates[0], dates[-1])
    if not sub.dates.equals(dates):
        raise ConfigError("test windows are not contiguous; cannot stitch")
    est_mask = [p.estimate_dates >= p.value.index[k] for p, k in zip(pieces, firsts)]
    n = len(panel.symbols)
    returns = value.pct_change().fillna(0.0).rename("returns")
    decisions = pd.concat(
        [p.decisions.loc[p.decisions.index >= p.value.index[k]] for p, k in zip(pieces, firsts)]
    )
    skipped = (
        pd.concat(
            [p.skipped.loc[p.skipped["date"] >= p.value.index[k]] for p, k in zip(pieces, firsts)]
        )
        if any(len(p.skipped) for p in pieces)
        else first_res.skipped.iloc[:0]
    )
    return BacktestResult(
        name=name,
        panel=sub,
        portfolio=None,
        value=value,
        returns=returns,
        weights=cat("weights"),
        weights_before=cat("weights_before"),
        targets=cat("targets"),
        decisions=decisions,
        skipped=skipped.reset_index(drop=True),
        turnover=cat("turnover"),
        fees=cat("fees"),
        estimate_dates=pd.DatetimeIndex(np.concatenate([p.estimate_dates[m] for p, m in zip(pieces, est_mask)])),
        mu=np.concatenate([p.mu[m] for p, m in zip(pieces, est_mask)]).reshape(-1, n),
        cov=np.concatenate([p.cov[m] for p, m in zip(pieces, est_mask)]).reshape(-1, n, n),
        params={
            "strategy": "walk-forward",
            "first_decision": dates[1].strftime("%Y-%m-%d"),
            "init_cash": float(first_res.init_cash),
            "folds": [dict(p.params) for p in pieces],
        },
        init_cash=float(first_res.init_cash),
    )  # fmt: skip
