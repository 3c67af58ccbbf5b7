"""One live bar of the built-in strategy in one compiled call.

:func:`live_bar_nb` does for one bar what :meth:`rwafolio.live.LiveRebalancer.step` does in
Python after validating the bar: the bar's returns, the book's drift (:func:`drift_nb`), the
estimation window (pushed in place, oldest row first, as the backtest's view shows it), then,
from the first decision row on, the shared compiled decision
(:func:`~rwafolio.strategies._decide_record_kernels.decide_record_nb`, the strategy read once by
:func:`rwafolio.strategies.compiled.decision_arrays`) and the book's trade (:func:`trade_nb`),
in the order of the historical loop (:func:`rwafolio.backtest._loop_kernels.walk_nb`). The
Python path calls the same kernels for the same steps, so both give the same bits; nothing of
the decision is written here, and ``tests/live/test_compiled.py`` holds the two paths together
bar by bar.

When a solve is not optimal, a freeze leaves no fully invested portfolio, or lam would need an
index level it has not got (or come out negative), the kernel stops before deciding (status
:data:`REDO`): the Python strategy then decides that bar, with its reference-solver fallback and
its reasons, from the same drifted book and window.

Units: returns per bar; weights, cash, fees fractions of value; lam as the rule gives it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from rwafolio.backtest.book import drift_nb, trade_nb
from rwafolio.strategies._decide_record_kernels import decide_record_nb
from rwafolio.strategies.compiled import DecisionArrays

__all__ = [
    "DECIDED",
    "FROZEN_CLOSED",
    "FROZEN_SCHEDULE",
    "FROZEN_THRESHOLD",
    "NO_DECISION",
    "OUT_ROWS",
    "REDO",
    "WARMUP",
    "BarResult",
    "LiveBook",
    "live_bar_flat_nb",
    "live_bar_nb",
]

#: ``BarResult.status``: before the first decision row; no asset may trade (the strategy says
#: nothing); decided by the compiled path; to be decided by the Python strategy.
WARMUP, NO_DECISION, DECIDED, REDO = 0, 1, 2, 3


class LiveBook(NamedTuple):
    """What the kernel carries from bar to bar (updated in place).

    Attributes
    ----------
    weights : ndarray of shape (n_assets,)
        The book (fractions of value).
    warm : ndarray of shape (n_assets,)
        The last solution (the solver's warm start; NaN before the first decision).
    window : ndarray of shape (window, n_assets)
        The last ``window`` returns, oldest first (zeros before the first bars).
    vixes : ndarray of shape (window,)
        Index level at each row of ``window``.
    times : ndarray of int64, shape (window,)
        Bar time of each row (nanoseconds since 1970-01-01).
    scalars : ndarray of shape (2,)
        Cash and value (per unit of initial value).
    """

    weights: np.ndarray
    warm: np.ndarray
    window: np.ndarray
    vixes: np.ndarray
    times: np.ndarray
    scalars: np.ndarray


#: Rows of the kernel's output block, shape (OUT_ROWS, n_assets): the drifted book before trading,
#: the book after, the target (NaN: no order), the traded weights (fractions of the value before
#: trading), the changes the threshold rule held back (NaN: none) and why each asset could not
#: trade (:data:`FROZEN_CLOSED`, ...; 0: it could). One fresh block per bar, filled in place:
#: returning six arrays (or a NamedTuple of them) from the kernel costs about 5 us more per bar
#: to box, and reading the reasons from one row spares the caller four numpy calls.
OUT_BEFORE, OUT_AFTER, OUT_TARGET, OUT_TRADES, OUT_HELD_BACK, OUT_FROZEN = range(6)
OUT_ROWS = 6
#: Codes of the ``OUT_FROZEN`` row: market closed; not scheduled (and no stress override);
#: held back by the threshold rule.
FROZEN_CLOSED, FROZEN_SCHEDULE, FROZEN_THRESHOLD = 1.0, 2.0, 3.0


class BarResult(NamedTuple):
    """The scalars of one bar (the arrays are the rows of the output block).

    Attributes
    ----------
    status : int
        :data:`WARMUP`, :data:`NO_DECISION`, :data:`DECIDED` or :data:`REDO`.
    traded : bool
        Whether any order was executed.
    held_back : int
        How many assets the threshold rule held back.
    lam, fee, objective, kkt : float
        lam used, fee paid (fraction of the value before trading), the final solution's
        objective and the worst KKT residual of the bar's solves (NaN when not decided).
    iterations : int
        Solver iterations over the bar's solves.
    """

    status: int
    traded: bool
    held_back: int
    lam: float
    fee: float
    objective: float
    kkt: float
    iterations: int


@njit(cache=True)
def _push(book: LiveBook, r: np.ndarray, vix: float, time_ns: int) -> None:
    """Drop the oldest row of the window and append the bar's."""
    rows = book.window.shape[0]
    for k in range(rows - 1):
        book.window[k] = book.window[k + 1]
        book.vixes[k] = book.vixes[k + 1]
        book.times[k] = book.times[k + 1]
    book.window[rows - 1] = r
    book.vixes[rows - 1] = vix
    book.times[rows - 1] = time_ns


@njit(cache=True)
def live_bar_nb(
    old_prices: np.ndarray,
    new_prices: np.ndarray,
    first: bool,
    tradable: np.ndarray,
    scheduled: np.ndarray,
    vix: float,
    time_ns: int,
    decide: bool,
    book: LiveBook,
    p: DecisionArrays,
    rates: np.ndarray,
    out: np.ndarray,
) -> tuple[int, bool, int, float, float, float, float, int]:
    """Process one validated bar (module docs); ``book`` and ``out`` are written in place.

    Parameters
    ----------
    old_prices, new_prices : ndarray of shape (n_assets,)
        Last bar's prices and this bar's (closed markets carried).
    first : bool
        The first bar (no return).
    tradable, scheduled : ndarray of bool, shape (n_assets,)
        Open at this bar; the calendar part of the schedule at this bar.
    vix : float
        The index level (NaN without an index).
    time_ns : int
    decide : bool
        Whether the bar is at or after the first decision row.
    p : DecisionArrays
        The strategy (its ``scheduled`` is not read: ``scheduled`` above is this bar's).
    rates : ndarray of shape (n_assets,)
        The cost model's one-off rates (the fees).
    out : ndarray of shape (OUT_ROWS, n_assets)
        Receives the bar's arrays (rows ``OUT_*``).

    Returns
    -------
    tuple
        The fields of :class:`BarResult`, in order.
    """
    n = new_prices.shape[0]
    r = np.zeros(n)
    if not first:
        for i in range(n):
            r[i] = new_prices[i] / old_prices[i] - 1.0
    w, cash, growth = drift_nb(book.weights, book.scalars[0], r)
    book.scalars[1] *= growth
    book.weights[:] = w
    book.scalars[0] = cash
    _push(book, r, vix, time_ns)
    may = (scheduled | (tradable & (vix > p.stress_vix))) & tradable
    out[OUT_BEFORE] = w
    out[OUT_AFTER] = w
    out[OUT_TARGET] = np.nan
    out[OUT_TRADES] = 0.0
    out[OUT_HELD_BACK] = np.nan
    for i in range(n):
        out[OUT_FROZEN, i] = 0.0 if tradable[i] else FROZEN_CLOSED
    if not decide:
        return WARMUP, False, 0, np.nan, 0.0, np.nan, np.nan, 0
    for i in range(n):
        if tradable[i] and not may[i]:
            out[OUT_FROZEN, i] = FROZEN_SCHEDULE
    if not may.any():
        return NO_DECISION, False, 0, np.nan, 0.0, np.nan, np.nan, 0
    level = 0.0  # a constant lam reads no index
    if p.uses_index:
        level = vix
        if not np.isfinite(level) or p.lam0 * (1.0 + p.eta * level) < 0.0:
            return REDO, False, 0, np.nan, 0.0, np.nan, np.nan, 0  # Python raises or floors lam
    warm = w if np.isnan(book.warm[0]) else book.warm
    target, sol, _mu, _cov, lam, code, iters, kkt, objective, back = decide_record_nb(
        book.window, level, w, may, warm, p.lam0, p.eta, p.opt_costs, p.box_lo, p.box_hi, p.ppy,
        p.tau, p.mode, p.prior_obs, p.w_ref, p.ref_lam,
    )  # fmt: skip
    if code != 0:
        return REDO, False, 0, lam, 0.0, np.nan, np.nan, 0
    book.warm[:] = sol
    out[OUT_TARGET] = target
    held_back = 0
    for i in range(n):
        if not np.isnan(back[i]):
            out[OUT_HELD_BACK, i] = back[i]
            out[OUT_FROZEN, i] = FROZEN_THRESHOLD
            held_back += 1
    traded = may & ~np.isnan(target)
    fee = 0.0
    if traded.any():
        w2, cash2, post, fee, _turnover, sent = trade_nb(w, cash, target, traded, rates)
        j = 0
        for i in range(n):
            if traded[i]:
                out[OUT_TRADES, i] = sent[j] - w[i]
                j += 1
        out[OUT_AFTER] = w2
        book.weights[:] = w2
        book.scalars[0] = cash2
        book.scalars[1] *= post
    return DECIDED, bool(traded.any()), held_back, lam, fee, objective, kkt, iters


@njit(cache=True)
def live_bar_flat_nb(
    old_prices: np.ndarray,
    new_prices: np.ndarray,
    first: bool,
    tradable: np.ndarray,
    scheduled: np.ndarray,
    vix: float,
    time_ns: int,
    decide: bool,
    weights: np.ndarray,
    warm: np.ndarray,
    window: np.ndarray,
    vixes: np.ndarray,
    times: np.ndarray,
    scalars: np.ndarray,
    p_scheduled: np.ndarray,
    p_window: int,
    stress_vix: float,
    lam0: float,
    eta: float,
    uses_index: bool,
    opt_costs: np.ndarray,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    ppy: float,
    tau: float,
    mode: int,
    prior_obs: float,
    w_ref: np.ndarray,
    ref_lam: float,
    rates: np.ndarray,
    out: np.ndarray,
) -> tuple[int, bool, int, float, float, float, float, int]:
    """:func:`live_bar_nb` with the fields of ``book`` and ``p`` passed one by one, in order.

    What the per-bar caller calls (``CompiledBar.step`` keeps the fields in one tuple). numba's
    dispatcher types a NamedTuple argument field by field in Python: about 5 us per call for
    :class:`LiveBook` and :class:`DecisionArrays` (measured on the n = 6 benchmark), against
    0.4 us for the same arrays passed flat. The NamedTuples are rebuilt here, in compiled code.
    """
    book = LiveBook(weights, warm, window, vixes, times, scalars)
    p = DecisionArrays(
        p_scheduled, p_window, stress_vix, lam0, eta, uses_index, opt_costs, box_lo, box_hi, ppy,
        tau, mode, prior_obs, w_ref, ref_lam,
    )  # fmt: skip
    return live_bar_nb(
        old_prices, new_prices, first, tradable, scheduled, vix, time_ns, decide, book, p, rates,
        out,
    )  # fmt: skip
