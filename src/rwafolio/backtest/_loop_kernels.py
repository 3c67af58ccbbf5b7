"""The historical loop of the built-in strategy, compiled: the engine's walk as one kernel.

:func:`walk_nb` repeats :func:`rwafolio.backtest.engine._walk` date by date for a strategy that
:mod:`rwafolio.strategies.compiled` supports: the book drifts
(:func:`~rwafolio.backtest.book.drift_nb`), the schedule, the stress override and the open
markets say what may trade, the strategy decides
(:func:`~rwafolio.strategies._decide_record_kernels.decide_record_nb`) and the book trades
self-financed (:func:`~rwafolio.backtest.book.trade_nb`). The Python path calls the same
kernels for the same steps, so both give the same bits. Nothing here re-implements a step.

The kernel stops at the first date it cannot decide exactly as the Python path would (a solve
that is not optimal, a freeze with no feasible book, a missing index level under a lam that
needs one) and returns that row with the book as it stood before the date; the driver
(:mod:`rwafolio.backtest.compiled`) hands the rest of the walk to the Python path.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from rwafolio.backtest.book import drift_nb, trade_nb
from rwafolio.strategies._decide_record_kernels import decide_record_nb
from rwafolio.strategies.compiled import DecisionArrays

__all__ = ["LoopRecord", "LoopState", "new_record", "walk_nb"]


class LoopRecord(NamedTuple):
    """What the loop writes, one row per date (the engine's ledger as arrays).

    Attributes
    ----------
    w_before, w_after : ndarray of shape (n_dates, n)
        Drifted weights before trading; weights after trading.
    sent : ndarray of shape (n_dates, n)
        Orders (scaled targets), NaN where none.
    fees, turnover, values : ndarray of shape (n_dates,)
        Fee and turnover of the date's trade (fractions of value before it); value after it.
    decided : ndarray of bool, shape (n_dates,)
        Dates the strategy decided (some asset could trade).
    traded : ndarray of bool, shape (n_dates,)
    lam, kkt, objective : ndarray of shape (n_dates,)
    iterations : ndarray of int64, shape (n_dates,)
    skipped : ndarray of shape (n_dates, n)
        Changes the threshold held back, NaN elsewhere.
    mu : ndarray of shape (n_dates, n)
        Per-period mean the decision used.
    cov : ndarray of shape (n_dates, n, n)
        Per-period covariance the decision used.
    """

    w_before: np.ndarray
    w_after: np.ndarray
    sent: np.ndarray
    fees: np.ndarray
    turnover: np.ndarray
    values: np.ndarray
    decided: np.ndarray
    traded: np.ndarray
    lam: np.ndarray
    kkt: np.ndarray
    objective: np.ndarray
    iterations: np.ndarray
    skipped: np.ndarray
    mu: np.ndarray
    cov: np.ndarray


class LoopState(NamedTuple):
    """The book between two dates: weights, cash (fractions of value), value, warm start."""

    w: np.ndarray
    cash: float
    value: float
    warm: np.ndarray
    has_warm: bool


def new_record(n_dates: int, n: int) -> LoopRecord:
    """An empty :class:`LoopRecord` (NaN orders and skips, zero fees)."""
    return LoopRecord(
        w_before=np.zeros((n_dates, n)),
        w_after=np.zeros((n_dates, n)),
        sent=np.full((n_dates, n), np.nan),
        fees=np.zeros(n_dates),
        turnover=np.zeros(n_dates),
        values=np.zeros(n_dates),
        decided=np.zeros(n_dates, dtype=np.bool_),
        traded=np.zeros(n_dates, dtype=np.bool_),
        lam=np.full(n_dates, np.nan),
        kkt=np.full(n_dates, np.nan),
        objective=np.full(n_dates, np.nan),
        iterations=np.zeros(n_dates, dtype=np.int64),
        skipped=np.full((n_dates, n), np.nan),
        mu=np.zeros((n_dates, n)),
        cov=np.zeros((n_dates, n, n)),
    )


@njit(cache=True)
def _may_trade(a: DecisionArrays, vix: float, tradable: np.ndarray, t: int) -> np.ndarray:
    """Scheduled today, or any open asset under stress; always only the open markets."""
    stress = vix > a.stress_vix
    return (a.scheduled[t] | (tradable & stress)) & tradable


@njit(cache=True)
def _book(rec: LoopRecord, t: int, target: np.ndarray, tradable: np.ndarray, rates: np.ndarray,
          w: np.ndarray, cash: float, value: float) -> tuple[np.ndarray, float, float]:  # fmt: skip
    """Trade the date's orders (if any), record them; the book after."""
    traded = ~np.isnan(target) & tradable
    if not traded.any():
        return w, cash, value
    rec.traded[t] = True
    w, cash, post, fee, turnover, sent = trade_nb(w, cash, target, traded, rates)
    j = 0
    for i in range(w.shape[0]):
        if traded[i]:
            rec.sent[t, i] = sent[j]
            j += 1
    rec.fees[t] = fee
    rec.turnover[t] = turnover
    return w, cash, value * post


@njit(cache=True)
def walk_nb(
    returns: np.ndarray,
    vix: np.ndarray,
    tradable: np.ndarray,
    rates: np.ndarray,
    a: DecisionArrays,
    start: int,
    t_from: int,
    state: LoopState,
    rec: LoopRecord,
) -> tuple[int, LoopState]:
    """Walk rows ``t_from ..`` (deciding from row ``start``), writing ``rec``; stop early to hand over.

    Parameters
    ----------
    returns : ndarray of shape (n_dates, n)
        Per-period simple returns (row 0 zeros).
    vix : ndarray of shape (n_dates,)
        Index levels (zeros without an index: then ``a.stress_vix`` is inf and lam constant).
    tradable : ndarray of bool, shape (n_dates, n)
    rates : ndarray of shape (n,)
        The cost model's one-off rates.
    a : DecisionArrays
    start : int
        First decision row.
    t_from : int
        First row to walk; ``state`` is the book at the close of row ``t_from - 1``.
    state : LoopState
    rec : LoopRecord
        Written in place.

    Returns
    -------
    (row, state)
        ``n_dates`` when the walk is complete; otherwise the row the Python path must take
        over, with the book as it stood before that row.
    """
    n_dates = returns.shape[0]
    w, cash, value, warm, has_warm = state
    for t in range(t_from, n_dates):
        before = LoopState(w, cash, value, warm, has_warm)
        if t > 0:
            w, cash, growth = drift_nb(w, cash, returns[t])
            value *= growth
        rec.w_before[t] = w
        if t >= start:
            may = _may_trade(a, vix[t], tradable[t], t)
            if may.any():
                level = 0.0
                if a.uses_index:
                    level = vix[t]
                    if not np.isfinite(level) or a.lam0 * (1.0 + a.eta * level) < 0.0:
                        return t, before  # the Python path raises or floors lam at 0
                target, last, mu, cov, lam, code, iters, res, obj, skipped = decide_record_nb(
                    returns[t + 1 - a.window : t + 1], level, w, may, warm if has_warm else w,
                    a.lam0, a.eta, a.opt_costs, a.box_lo, a.box_hi, a.ppy, a.tau, a.mode,
                    a.prior_obs, a.w_ref, a.ref_lam,
                )  # fmt: skip
                if code != 0:
                    return t, before
                rec.decided[t] = True
                rec.lam[t], rec.iterations[t], rec.kkt[t], rec.objective[t] = lam, iters, res, obj
                rec.skipped[t] = skipped
                rec.mu[t] = mu
                rec.cov[t] = cov
                w, cash, value = _book(rec, t, target, tradable[t], rates, w, cash, value)
                warm, has_warm = last, True
        rec.w_after[t] = w
        rec.values[t] = value
    return n_dates, LoopState(w, cash, value, warm, has_warm)
