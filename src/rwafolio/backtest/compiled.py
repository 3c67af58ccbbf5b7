"""The engine's compiled path: the built-in strategy's historical walk in one kernel.

:func:`rwafolio.backtest.run` walks the dates through :func:`~rwafolio.backtest._loop_kernels.walk_nb`
when the strategy is one :mod:`rwafolio.strategies.compiled` supports (``loop="auto"``, the
default), and through the Python path (``strategy.decide`` at each date) otherwise. Both call the
same kernels for the same steps (the estimator, the solver, the book's drift and trade), so they
give the same bits; ``tests/backtest/test_compiled.py`` proves it on the real data and on
synthetic calendars. When the kernel meets a date it cannot decide exactly as the Python path
(a solve that is not optimal: the Python path then asks cvxpy; a freeze with no feasible book),
the Python path takes over from that date, so the semantics stay the Python path's.

This module chooses the path (:func:`choose_loop`), runs the kernel from the engine's ledger
(:func:`walk_compiled`) and turns its per-date record into the result's tables
(:func:`decision_rows`).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from rwafolio.backtest._loop_kernels import LoopRecord, LoopState, walk_nb
from rwafolio.exceptions import ConfigError
from rwafolio.strategies.compiled import decision_arrays, unsupported
from rwafolio.strategies.threshold import skip_reason

__all__ = ["LOOPS", "Loop", "choose_loop", "decision_rows", "walk_compiled"]

Loop = Literal["auto", "compiled", "python"]
LOOPS: tuple[str, ...] = get_args(Loop)


def choose_loop(strategy: Any, signal_lag: int, loop: str) -> bool:
    """Whether the compiled loop runs (True) or the Python path (False).

    Parameters
    ----------
    strategy : Strategy
    signal_lag : int
    loop : {"auto", "compiled", "python"}
        ``"auto"``: compiled when supported; ``"compiled"``: compiled or an error.

    Raises
    ------
    ConfigError
        ``loop`` is not one of :data:`LOOPS`, or ``"compiled"`` is asked of a strategy the
        compiled loop does not support (the message says why).
    """
    if loop not in LOOPS:
        raise ConfigError(f"`loop` must be one of {LOOPS}, got {loop!r}")
    if loop == "python":
        return False
    reason = unsupported(strategy, signal_lag)
    if reason is not None and loop == "compiled":
        raise ConfigError(
            f"`loop='compiled'` cannot run this backtest: the compiled loop does not support "
            f"{reason}; use loop='auto' (falls back to Python) or loop='python'"
        )
    return reason is None


def walk_compiled(
    strategy: Any,
    market: Any,
    rec: LoopRecord,
    value: float,
    start: int,
    w_init: np.ndarray | None,
    seed_row: int,
) -> tuple[int, LoopState]:
    """Walk ``market`` with the prepared ``strategy`` in the kernel, writing ``rec``.

    Parameters
    ----------
    strategy : DynamicLambdaStrategy
        Prepared on ``market``'s setup; supported (:func:`choose_loop`).
    market : rwafolio.backtest.engine.Market
    rec : LoopRecord
        The engine's ledger arrays, written in place.
    value : float
        The book's value before row 0 (``init_cash``).
    start : int
        First decision row.
    w_init, seed_row : ndarray of shape (n,) or None, int
        Weights carried in and the row they are held at (-1: none), as in ``run``.

    Returns
    -------
    (row, state)
        The row the Python path must continue from (``n_dates``: none) and the book before it;
        the strategy's next warm start is the loop's last solution.
    """
    n_dates, n = market.returns.shape
    arrays = decision_arrays(strategy, list(market.symbols), market.vix is not None)
    vix = np.zeros(n_dates) if market.vix is None else market.vix
    if w_init is not None and seed_row >= 0:
        # Rows before the seed row hold cash (they drift nothing); the seed row holds w_init.
        rec.values[: seed_row + 1] = value
        rec.w_before[seed_row] = w_init
        rec.w_after[seed_row] = w_init
        rec.sent[seed_row] = np.where(w_init > 0, w_init, np.nan)
        w0, cash0, t_from = w_init.copy(), 1.0 - float(w_init.sum()), seed_row + 1
    else:
        w0, cash0, t_from = np.zeros(n), 1.0, 0
    state = LoopState(w0, cash0, float(value), np.zeros(n), False)
    stop, state = walk_nb(
        np.ascontiguousarray(market.returns, dtype=np.float64),
        np.ascontiguousarray(vix, dtype=np.float64),
        np.ascontiguousarray(market.tradable, dtype=np.bool_),
        np.ascontiguousarray(market.cost_model.rates, dtype=np.float64),
        arrays, int(start), int(t_from), state, rec,
    )  # fmt: skip
    # A Python path that takes over starts its solver from the loop's last solution.
    strategy.warm_start_from(state.warm if state.has_warm else None)
    return int(stop), state


def decision_rows(
    rec: LoopRecord, stop: int, market: Any, strategy: Any
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The compiled rows' part of the result: decisions, skipped changes, decision rows.

    Returns
    -------
    decisions : DataFrame
        The engine's decision columns, ``date`` as a row number.
    skipped : DataFrame
        ``date`` (row number), ``symbol``, ``proposed``, ``reason``.
    rows : ndarray of int
        The decision rows (where ``rec.mu``/``rec.cov`` hold the estimates).
    """
    rows = np.flatnonzero(rec.decided[:stop])
    vix = np.full(rec.lam.shape[0], np.nan) if market.vix is None else market.vix
    held_back = rec.skipped[rows]
    marks = ~np.isnan(held_back)
    decisions = pd.DataFrame(
        {
            "date": rows,
            "lam": rec.lam[rows],
            "vix": np.asarray(vix, dtype=float)[rows],
            "solver": "fast",
            "status": "optimal",
            "kkt_residual": rec.kkt[rows],
            "iterations": rec.iterations[rows],
            "objective": rec.objective[rows],
            "traded": rec.traded[rows],
            "n_skipped": marks.sum(axis=1),
            "fallback_reason": "",
        }
    )
    r, i = np.nonzero(marks)
    symbols = np.asarray(market.symbols, dtype=object)
    skipped = pd.DataFrame(
        {
            "date": rows[r],
            "symbol": symbols[i],
            "proposed": held_back[r, i],
            "reason": skip_reason(strategy.threshold_mode, strategy.threshold),
        },
        columns=["date", "symbol", "proposed", "reason"],
    )
    return decisions, skipped, rows
