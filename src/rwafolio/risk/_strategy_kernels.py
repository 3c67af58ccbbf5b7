"""Compiled kernels of the strategy-aware Monte Carlo: the strategy re-decides on every path.

Each simulated date of each path repeats the engine's date: the book drifts with the date's
returns (:func:`rwafolio.backtest.book.drift_nb`), the strategy estimates R and Sigma on its
window rolled forward with the simulated returns (Ledoit-Wolf shrinkage of the correlations, the
default estimator, :func:`lw_correlation_nb`; the window mean or the Black-Litterman mean), sets lam from the simulated index
(``lam0 (1 + eta VIX)``), freezes what may not trade, solves exactly with the optimizer's
public kernel (:func:`rwafolio.optimize.solve_nb`), applies the threshold rule and trades
self-financed, paying the cost model's fee (:func:`rwafolio.backtest.book.trade_nb`). Nothing
here re-implements the solver or the book step; the estimator and the threshold rule are
mirrored from their Python definitions and tested against them.

Conventions: returns per period; weights fractions of value; ``mode`` of the threshold rule is
0 none, 1 per_asset, 2 portfolio. A solver status 2 (failed) holds (no trade), like the
strategy's ``hold`` fallback.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.backtest.book import drift_nb, trade_nb
from rwafolio.optimize import solve_nb

#: Solver tolerance and iteration cap (those of ``solve_arrays``).
TOL = 1e-10
MAX_ITER = 20_000


@njit(cache=True)
def lw_correlation_nb(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and Ledoit-Wolf covariance with the correlation target (per period).

    Twin of :func:`rwafolio.optimize.estimators.ledoit_wolf` with ``target="correlation"``.
    """
    t_obs, n = X.shape
    mu = np.zeros(n)
    for i in range(n):
        mu[i] = X[:, i].mean()
    D = X - mu
    sd = np.sqrt((D * D).sum(axis=0) / t_obs)
    live = np.flatnonzero(sd > 0.0)
    k = live.shape[0]
    out = np.zeros((n, n))
    if k == 0:
        return mu, out
    Z = np.empty((t_obs, k))
    for j in range(k):
        Z[:, j] = D[:, live[j]] / sd[live[j]]
    S = Z.T @ Z / t_obs
    m = np.trace(S) / k
    ss = np.sum(S * S)
    delta = (ss - 2.0 * m * np.trace(S) + k * m * m) / k
    row2 = (Z * Z).sum(axis=1)
    beta = (np.sum(row2 * row2) / t_obs - ss) / (k * t_obs)
    beta = min(beta, delta)
    shrink = 0.0 if beta <= 0.0 or delta <= 0.0 else beta / delta
    C = (1.0 - shrink) * S
    for j in range(k):
        C[j, j] += shrink
    C = 0.5 * (C + C.T)
    if shrink == 0.0:
        ev, V = np.linalg.eigh(C)
        if ev[0] < 0.0:
            C = (V * np.maximum(ev, 0.0)) @ V.T
            C = 0.5 * (C + C.T)
    for a in range(k):
        for b in range(k):
            out[live[a], live[b]] = C[a, b] * sd[live[a]] * sd[live[b]]
    return mu, out


@njit(cache=True)
def _solve_frozen(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    held: np.ndarray,
    lam: float,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    frozen: np.ndarray,
    warm: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Solve with ``frozen`` held; status -1 when no fully invested portfolio exists."""
    lo = box_lo.copy()
    hi = box_hi.copy()
    for i in range(held.shape[0]):
        if frozen[i]:
            lo[i] = held[i]
            hi[i] = held[i]
    if lo.sum() > 1.0 + 1e-12 or hi.sum() < 1.0 - 1e-12:
        return held.copy(), -1
    w, _it, status = solve_nb(R, Sigma, C, held, lam, lo, hi, warm, TOL, MAX_ITER)
    return w, status


@njit(cache=True)
def decide_nb(
    window: np.ndarray,
    vix: float,
    held: np.ndarray,
    may: np.ndarray,
    lam0: float,
    eta: float,
    opt_costs: np.ndarray,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    ppy: float,
    tau: float,
    mode: int,
    warm: np.ndarray,
    prior_obs: float,
    w_ref: np.ndarray,
    ref_lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The strategy's decision at one date: ``(target, final weights)``.

    ``target`` holds NaN for every asset that does not trade (all NaN: no trade); the final
    weights are the last solution (the next date's warm start). Mirrors
    :meth:`DynamicLambdaStrategy.decide` with :func:`~rwafolio.strategies.threshold.apply_threshold`.
    The mean is the window mean (``prior_obs = 0``) or the Black-Litterman posterior
    ``(prior_obs pi + T xbar) / (prior_obs + T)`` with ``pi = 2 lam_ref cov w_ref`` and
    ``lam_ref = ref_lam`` (NaN: the date's lam), as :class:`~rwafolio.optimize.returns.BlackLitterman`.
    """
    n = held.shape[0]
    target = np.full(n, np.nan)
    mu, cov = lw_correlation_nb(window)
    lam = lam0 * (1.0 + eta * vix)
    if prior_obs > 0.0:
        lam_r = lam if np.isnan(ref_lam) else ref_lam
        pi = 2.0 * lam_r * (cov @ w_ref)
        t_obs = window.shape[0]
        mu = (prior_obs * pi + t_obs * mu) / (prior_obs + t_obs)
    R = mu * ppy
    Sigma = cov * ppy
    frozen = ~may
    w, status = _solve_frozen(R, Sigma, opt_costs, held, lam, box_lo, box_hi, frozen, warm)
    if status == -1 or status == 2:
        return target, w
    proposed = w.copy()
    if mode == 0:
        for i in range(n):
            if may[i]:
                target[i] = w[i]
        return target, w
    big = False
    for i in range(n):
        if may[i] and abs(w[i] - held[i]) > tau:
            big = True
    if mode == 2:
        if big:
            for i in range(n):
                if may[i]:
                    target[i] = w[i]
        return target, w
    for _ in range(n):  # per_asset: hold the in-band assets and re-solve, until none is new
        inside = may & ~frozen & (np.abs(w - held) <= tau)
        if not inside.any():
            break
        frozen = frozen | inside
        if frozen.all():
            w = held.copy()
            break
        w, status = _solve_frozen(R, Sigma, opt_costs, held, lam, box_lo, box_hi, frozen, warm)
        if status == -1:  # holding left no feasible portfolio: the portfolio rule today
            if big:
                for i in range(n):
                    if may[i]:
                        target[i] = proposed[i]
            return target, proposed
        if status == 2:
            return np.full(n, np.nan), w
    for i in range(n):
        if may[i] and not frozen[i]:
            target[i] = w[i]
    return target, w


@njit(cache=True, nogil=True)
def strategy_paths_nb(
    pool: np.ndarray,
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
        Per-period asset returns to draw rows from.
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
    for m in range(out.shape[0]):
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
            r = pool[src].copy()
            for i in range(n):
                if not tradable[t, i]:
                    r[i] = 0.0
            vix = vix * np.exp(dlogvix[src])
            buf[win + t] = r
            w, cash, growth = drift_nb(w, cash, r)
            level *= growth
            stress = vix > stress_vix
            may = (scheduled[t] | stress) & tradable[t]
            if may.any():
                target, warm = decide_nb(
                    buf[t + 1 : t + 1 + win], vix, w, may, lam0, eta, opt_costs, box_lo,
                    box_hi, ppy, tau, mode, warm, prior_obs, w_ref, ref_lam,
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
