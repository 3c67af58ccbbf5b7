"""Compiled kernels of the strategy-aware Monte Carlo: the strategy re-decides on every path.

Each simulated date of each path repeats the engine's date: the book drifts with the date's
returns (:func:`rwafolio.backtest.book.drift_nb`), the strategy decides on its window rolled
forward with the simulated returns and the simulated index
(:func:`rwafolio.strategies._decide_kernels.choose_nb`, the one compiled decision, fed with the
window's Ledoit-Wolf estimate) and trades self-financed, paying the cost model's fee
(:func:`rwafolio.backtest.book.trade_nb`). Nothing here re-implements the decision or the book
step.

Speed: the window's estimate is kept up to date in O(n^2) per simulated day from running sums
(:mod:`rwafolio.strategies._rolling_lw_kernels`, the same estimate as
:func:`~rwafolio.strategies._decide_kernels.lw_correlation_nb` on the window to ~1e-13 relative,
which it falls back to on a flat column); days on which nothing may trade only drift the book and
roll the sums; the solver's no-trade certificate answers the days on which holding is optimal
without iterating.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.backtest.book import drift_nb, trade_nb
from rwafolio.strategies._decide_kernels import choose_nb, lw_correlation_nb
from rwafolio.strategies._rolling_lw_kernels import lw_from_sums_nb, lw_roll_nb, lw_sums_nb


@njit(cache=True, nogil=True)
def strategy_paths_nb(
    pool: np.ndarray,
    mean: np.ndarray,
    filters: np.ndarray,
    dlogvix: np.ndarray,
    idx: np.ndarray,
    window0: np.ndarray,
    vix0: float,
    w0: np.ndarray,
    warm0: np.ndarray,
    scheduled: np.ndarray,
    tradable: np.ndarray,
    stress_vix: float,
    lam0: float,
    eta: float,
    opt_costs: np.ndarray,
    rates: np.ndarray,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    ppy: float,
    tau: float,
    mode: int,
    prior_obs: float,
    w_ref: np.ndarray,
    ref_lam: float,
    out: np.ndarray,
    mdd: np.ndarray,
    paid: np.ndarray,
) -> None:
    """Run the strategy forward on ``out.shape[0]`` simulated paths, in place.

    Parameters
    ----------
    pool : ndarray of shape (n_pool, n)
        Residuals to draw rows from: asset ``i``'s simulated return on an open day is
        ``mean[i] + sqrt(v_i) * pool[row, i]``, its variance ``v_i`` starting at
        ``filters[3, i]`` and updated by ``v_i = omega + a * shock^2 + b * v_i`` after each open
        day (``filters`` rows ``omega, a, b``; a closed day leaves it): the filtered
        historical simulation of :func:`rwafolio.risk.generators.fhs_filtered` with the volatility
        carried forward. ``filters`` columns ``(0, 0, 1, s2)`` hold the volatility at ``sqrt(s2)``;
        ``(0, 0, 1, 1)`` draw ``mean + pool`` (returns as they were).
    mean : ndarray of shape (n,)
        Mean per-period return of each asset.
    filters : ndarray of shape (4, n)
        Each asset's variance filter and starting variance (above).
    dlogvix : ndarray of shape (n_pool,)
        The index's log change on the same rows (the index is simulated jointly).
    idx : ndarray of int64, shape (n_paths * horizon,)
        Row of ``pool`` for each simulated date, path-major.
    window0 : ndarray of shape (window, n)
        The strategy's estimation window at the start (returns up to the forecast date).
    vix0 : float
        Index level at the forecast date.
    w0, warm0 : ndarray of shape (n,)
        Weights held after trading at the forecast date; the solver's warm start.
    scheduled, tradable : ndarray of bool, shape (horizon, n)
        The calendar ahead: the schedule's trading days and the open markets. A closed asset's
        simulated return is 0 (the panel's convention for a closed market).
    stress_vix : float
        Above it every open asset may trade (``inf`` disables it).
    lam0, eta, opt_costs, rates, box_lo, box_hi, ppy, tau, mode
        The strategy: lam rule, the optimizer's amortized costs, the one-off fee rates, the box,
        the annualization factor and the threshold rule.
    prior_obs, w_ref, ref_lam
        The mean estimator (see :func:`decide_nb`).
    out, mdd, paid : ndarray of shape (n_paths,)
        Written: horizon return net of fees, maximum drawdown, fees paid (fraction of the
        starting value).
    """
    horizon, n = scheduled.shape
    win = window0.shape[0]
    buf = np.empty((win + horizon, n))
    buf[:win] = window0
    filled = np.zeros(n)
    shift = np.empty(n)
    for i in range(n):
        shift[i] = window0[:, i].mean()
    b1, b2, b3, b4 = np.zeros(n), np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
    lw_sums_nb(window0, shift, b1, b2, b3, b4)
    s1, s2, s3, s4 = b1.copy(), b2.copy(), b3.copy(), b4.copy()
    mu, cov = np.empty(n), np.empty((n, n))
    r = np.empty(n)
    var = np.empty(n)
    may = np.empty(n, dtype=np.bool_)
    for m in range(out.shape[0]):
        var[:] = filters[3]
        s1[:] = b1
        s2[:] = b2
        s3[:] = b3
        s4[:] = b4
        w = w0.copy()
        cash = 1.0 - w.sum()
        warm = warm0.copy()
        vix = vix0
        level = 1.0
        peak = 1.0
        worst = 0.0
        fees = 0.0
        for t in range(horizon):
            src = idx[m * horizon + t]
            any_may = False
            for i in range(n):
                if tradable[t, i]:
                    shock = np.sqrt(var[i]) * pool[src, i]
                    r[i] = mean[i] + shock
                    var[i] = (
                        filters[0, i] + filters[1, i] * (shock * shock) + filters[2, i] * var[i]
                    )
                else:
                    r[i] = 0.0
            vix = vix * np.exp(dlogvix[src])
            stress = vix > stress_vix
            for i in range(n):
                may[i] = (scheduled[t, i] or stress) and tradable[t, i]
                any_may = any_may or may[i]
            lw_roll_nb(buf[t], -1.0, shift, s1, s2, s3, s4)
            lw_roll_nb(r, 1.0, shift, s1, s2, s3, s4)
            buf[win + t] = r
            w, cash, growth = drift_nb(w, cash, r)
            level *= growth
            if any_may:
                if not lw_from_sums_nb(s1, s2, s3, s4, shift, float(win), mu, cov):
                    mu_w, cov_w = lw_correlation_nb(buf[t + 1 : t + 1 + win])
                    mu[:] = mu_w
                    cov[:, :] = cov_w
                target, warm = choose_nb(
                    mu, cov, float(win), vix, w, may, lam0, eta, opt_costs, box_lo, box_hi,
                    ppy, tau, mode, warm, prior_obs, w_ref, ref_lam,
                )  # fmt: skip
                traded = ~np.isnan(target) & tradable[t]
                if traded.any():
                    for i in range(n):
                        filled[i] = target[i] if traded[i] else 0.0
                    w, cash, post, fee, _turn, _sent = trade_nb(w, cash, filled, traded, rates)
                    fees += fee * level
                    level *= post
            if level > peak:
                peak = level
            dd = level / peak - 1.0
            if dd < worst:
                worst = dd
        out[m] = level - 1.0
        mdd[m] = worst
        paid[m] = fees
