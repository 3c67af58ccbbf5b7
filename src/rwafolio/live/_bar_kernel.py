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
from rwafolio.strategies.schedules import NO_KEY, period_key_nb

__all__ = [
    "BAD_PRICES",
    "DECIDED",
    "EVERY_BAR",
    "FROZEN_CLOSED",
    "FROZEN_SCHEDULE",
    "FROZEN_THRESHOLD",
    "FROZEN_WIDE",
    "NEVER",
    "NO_DECISION",
    "OUT_ROWS",
    "REDO",
    "WARMUP",
    "BarResult",
    "LiveBook",
    "PackedState",
    "book_views",
    "live_bar_nb",
    "live_bar_packed_nb",
    "pack_params",
    "pack_state",
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
#: trading), the changes the threshold rule held back (NaN: none), why each asset could not
#: trade (:data:`FROZEN_CLOSED`, ...; 0: it could) and the bar's prices (closed markets carried). One fresh block per bar, filled in place:
#: returning eight arrays (or a NamedTuple of them) from the kernel costs about 5 us more per bar
#: to box, and reading the reasons from one row spares the caller four numpy calls.
(
    OUT_BEFORE,
    OUT_AFTER,
    OUT_TARGET,
    OUT_TRADES,
    OUT_HELD_BACK,
    OUT_FROZEN,
    OUT_PRICES,
    OUT_SCHEDULED,
) = range(8)
OUT_ROWS = 8
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
    frozen : int
        The ``OUT_FROZEN`` row as one integer (:func:`_frozen_code`; 0: none frozen).
    lam, fee, objective, kkt : float
        lam used, fee paid (fraction of the value before trading), the final solution's
        objective and the worst KKT residual of the bar's solves (NaN when not decided).
    iterations : int
        Solver iterations over the bar's solves.
    """

    status: int
    traded: bool
    frozen: int
    lam: float
    fee: float
    objective: float
    kkt: float
    iterations: int


#: :func:`_frozen_code` of a universe too large for one integer (read the ``OUT_FROZEN`` row).
FROZEN_WIDE = -1


@njit(cache=True)
def _frozen_code(out: np.ndarray) -> int:
    """The ``OUT_FROZEN`` row as one integer, asset ``i``'s code in base-4 digit ``i`` (0: none
    frozen), so the caller keys its reasons on an int; :data:`FROZEN_WIDE` beyond 31 assets."""
    n = out.shape[1]
    if n > 31:
        return FROZEN_WIDE
    code = 0
    for i in range(n - 1, -1, -1):
        code = 4 * code + int(out[OUT_FROZEN, i])
    return code


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
    stress = vix > p.stress_vix
    may = np.empty(n, dtype=np.bool_)
    for i in range(n):
        may[i] = tradable[i] and (scheduled[i] or stress)
    out[OUT_BEFORE] = w
    out[OUT_AFTER] = w
    out[OUT_TARGET] = np.nan
    out[OUT_TRADES] = 0.0
    out[OUT_HELD_BACK] = np.nan
    for i in range(n):
        out[OUT_FROZEN, i] = 0.0 if tradable[i] else FROZEN_CLOSED
    if not decide:
        return WARMUP, False, _frozen_code(out), np.nan, 0.0, np.nan, np.nan, 0
    for i in range(n):
        if tradable[i] and not may[i]:
            out[OUT_FROZEN, i] = FROZEN_SCHEDULE
    if not may.any():
        return NO_DECISION, False, _frozen_code(out), np.nan, 0.0, np.nan, np.nan, 0
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
    for i in range(n):
        if not np.isnan(back[i]):
            out[OUT_HELD_BACK, i] = back[i]
            out[OUT_FROZEN, i] = FROZEN_THRESHOLD
    traded = np.empty(n, dtype=np.bool_)
    any_trade = False
    for i in range(n):
        traded[i] = may[i] and not np.isnan(target[i])
        any_trade = any_trade or traded[i]
    fee = 0.0
    if any_trade:
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
    return DECIDED, any_trade, _frozen_code(out), lam, fee, objective, kkt, iters


#: ``live_bar_packed_nb``'s status for a bar whose prices fail the checks (nothing written).
BAD_PRICES = -1
#: Slots of the packed parameter vector after its five (n_assets,) rows (see :func:`pack_params`).
_P_SCALARS = 10


def pack_params(p: DecisionArrays, rates: np.ndarray) -> np.ndarray:
    """``p`` (all but ``scheduled``, which the live kernel does not read) and ``rates`` as one
    float vector: opt_costs, box_lo, box_hi, w_ref, rates, then the scalars in field order.

    Integers and flags go through float64 exactly (window, mode: small integers; uses_index).
    """
    scalars = [p.window, p.stress_vix, p.lam0, p.eta, float(p.uses_index), p.ppy, p.tau, p.mode]
    scalars += [p.prior_obs, p.ref_lam]
    rows = (p.opt_costs, p.box_lo, p.box_hi, p.w_ref, rates)
    return np.ascontiguousarray(np.concatenate([*rows, np.array(scalars, dtype=float)]))


class PackedState(NamedTuple):
    """The two vectors :func:`live_bar_packed_nb` reads and writes, and views of their parts.

    Attributes
    ----------
    fstate : ndarray of float64
        :func:`pack_params`' vector, then the book (:func:`book_views`), the last bar's prices
        (n) and this bar's given prices (n).
    istate : ndarray of int64
        The window's bar times (window), each asset's last schedule block (n), each asset's
        schedule code (n), each periodic schedule's ``(kind, param)`` (2 per schedule).
    book : LiveBook
        Views of ``fstate`` and ``istate``.
    prices, given, last_key : ndarray
        Views of the last prices, the given prices and the last blocks.
    """

    fstate: np.ndarray
    istate: np.ndarray
    book: LiveBook
    prices: np.ndarray
    given: np.ndarray
    last_key: np.ndarray


def pack_state(
    params: np.ndarray, window: int, schedule_of: np.ndarray, groups: np.ndarray
) -> PackedState:
    """A fresh :class:`PackedState`: the book zero (views as :func:`book_views`), prices NaN,
    the last blocks at the smallest int64 (no block seen); ``params`` from :func:`pack_params`,
    ``schedule_of`` and ``groups`` (shape (n_groups, 2)) as :func:`live_bar_packed_nb` reads."""
    n = schedule_of.shape[0]
    n_par, at = _layout(n, window)
    fstate = np.zeros(at + 2 * n)
    fstate[:n_par] = params
    fstate[at : at + n] = np.nan
    istate = np.concatenate(
        [
            np.zeros(window + n, dtype=np.int64),
            np.asarray(schedule_of, dtype=np.int64),
            np.asarray(groups, dtype=np.int64).ravel(),
        ]
    )
    istate[window : window + n] = np.iinfo(np.int64).min
    book = book_views(fstate[n_par:at], istate[:window], n)
    return PackedState(
        fstate, istate, book, fstate[at : at + n], fstate[at + n :], istate[window : window + n]
    )


def _layout(n: int, window: int) -> tuple[int, int]:
    """Where :func:`pack_state`'s float vector puts its parts: ``(end of the parameters, end of
    the book)``; the last and the given prices follow (n each). The one statement of the layout
    (:func:`_unpack_nb` reads it compiled)."""
    n_par = 5 * n + _P_SCALARS
    return n_par, n_par + 2 * n + 2 + window + window * n


_layout_nb = njit(cache=True)(_layout)


def book_views(fstate: np.ndarray, times: np.ndarray, n: int) -> LiveBook:
    """The :class:`LiveBook` whose arrays are views of the packed float book ``fstate``:
    weights (n), warm (n), scalars (2), vixes (window), window (window * n), in that order."""
    rows = times.shape[0]
    return LiveBook(
        fstate[:n], fstate[n : 2 * n], fstate[2 * n + 2 + rows :].reshape(rows, n),
        fstate[2 * n + 2 : 2 * n + 2 + rows], times, fstate[2 * n : 2 * n + 2],
    )  # fmt: skip


_book_views_nb = njit(cache=True)(book_views)


@njit(cache=True)
def _unpack_nb(
    fstate: np.ndarray, istate: np.ndarray, n: int
) -> tuple[np.ndarray, LiveBook, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The parts of :func:`pack_state`'s vectors (views): params, book (the window's times
    included), last prices, given prices, last blocks, schedule codes, schedule kinds."""
    window = int(fstate[5 * n])
    n_par, at = _layout_nb(n, window)
    g = (istate.shape[0] - window - 2 * n) // 2
    times = istate[:window]
    book = _book_views_nb(fstate[n_par:at], times, n)
    return (
        fstate[:n_par], book, fstate[at : at + n], fstate[at + n : at + 2 * n],
        istate[window : window + n], istate[window + n : window + 2 * n],
        istate[window + 2 * n :].reshape((g, 2)),
    )  # fmt: skip


#: Codes of ``live_bar_packed_nb``'s ``schedule_of``: never scheduled; scheduled every open bar
#: (else: the row of the asset's periodic schedule in ``groups``). :data:`NO_KEY`: the schedule
#: may not use this bar (``period_key`` gives None).
NEVER, EVERY_BAR = -2, -1


@njit(cache=True)
def _schedule_nb(
    tradable: np.ndarray,
    schedule_of: np.ndarray,
    groups: np.ndarray,
    time_ns: int,
    last_key: np.ndarray,
) -> np.ndarray:
    """``LiveRebalancer._schedule_row`` at the bar (``last_key`` updated); ``groups`` holds each
    periodic schedule's ``(kind, param)``."""
    n = tradable.shape[0]
    scheduled = np.zeros(n, dtype=np.bool_)
    for j in range(n):
        code = schedule_of[j]
        if not tradable[j] or code == NEVER:
            continue
        if code == EVERY_BAR:
            scheduled[j] = True
            continue
        key = period_key_nb(time_ns, groups[code, 0], groups[code, 1])
        if key != NO_KEY:
            scheduled[j] = key != last_key[j]
            last_key[j] = key
    return scheduled


@njit(cache=True)
def live_bar_packed_nb(
    fstate: np.ndarray,
    istate: np.ndarray,
    tradable: np.ndarray,
    out: np.ndarray,
    checked: bool,
    vix: float,
    time_ns: int,
    first: bool,
    decide: bool,
) -> tuple[int, bool, int, float, float, float, float, int]:
    """:func:`live_bar_nb` with the strategy, the book and the schedule packed into two arrays.

    What the per-bar caller calls: numba's dispatcher unboxes each argument in Python (a
    NamedTuple field by field, an array in ~60 ns), so ~30 arguments cost microseconds per call
    and these nine a third of one. ``fstate`` is :func:`pack_state`'s float vector (the
    strategy's parameters, the book, the last bar's prices and this bar's), ``istate`` its
    integer vector (the window's bar times, each asset's last schedule block, the schedule).

    The bar's prices are checked here, before anything is written: the ``given`` slot holds every
    symbol's price in order; unless ``checked`` (the caller has already checked and merged them),
    an open asset's must be > 0 and finite (else :data:`BAD_PRICES` and nothing changes: the
    caller's full checks then raise) and a closed asset keeps its old price. The bar's prices are
    written to ``out[OUT_PRICES]`` and, after the bar, to the last prices' slot. The calendar
    schedule is the rebalancer's ``_schedule_row`` from each asset's code (:data:`NEVER`,
    :data:`EVERY_BAR` or the row of its periodic schedule), each periodic schedule's
    ``(kind, param)`` (:func:`~rwafolio.strategies.schedules.schedule_kind`) and each asset's last block (updated); it is written
    to ``out[OUT_SCHEDULED]``.
    """
    n = out.shape[1]
    params, book, old_prices, given, last_key, schedule_of, groups = _unpack_nb(fstate, istate, n)
    for i in range(n):
        if checked:
            out[OUT_PRICES, i] = given[i]
        elif tradable[i]:
            q = given[i]
            if not (q > 0.0 and q < np.inf):
                return BAD_PRICES, False, 0, np.nan, 0.0, np.nan, np.nan, 0
            out[OUT_PRICES, i] = q
        else:
            out[OUT_PRICES, i] = old_prices[i]
    scheduled = _schedule_nb(tradable, schedule_of, groups, time_ns, last_key)
    for i in range(n):
        out[OUT_SCHEDULED, i] = 1.0 if scheduled[i] else 0.0
    k = 5 * n
    p = DecisionArrays(
        scheduled.reshape(1, n), int(params[k]), params[k + 1], params[k + 2], params[k + 3],
        params[k + 4] != 0.0, params[:n], params[n : 2 * n], params[2 * n : 3 * n], params[k + 5],
        params[k + 6], int(params[k + 7]), params[k + 8], params[3 * n : 4 * n], params[k + 9],
    )  # fmt: skip
    res = live_bar_nb(
        old_prices, out[OUT_PRICES], first, tradable, scheduled, vix, time_ns, decide, book, p,
        params[4 * n : k], out,
    )  # fmt: skip
    old_prices[:] = out[OUT_PRICES]
    return res
