"""Compiled decision of the built-in strategy: estimate, lam, freeze, solve, threshold.

One implementation of :meth:`rwafolio.strategies.DynamicLambdaStrategy.decide` for the default
estimator as plain arrays, shared by every compiled loop that runs the strategy forward (the
strategy-aware Monte Carlo, the crowding agents, the live rebalancer, the historical loop). It
estimates R and Sigma on the window (Ledoit-Wolf shrinkage of the correlations, the default
estimator, :func:`lw_correlation_nb`; the window mean or the Black-Litterman mean), sets lam from
the index (``lam0 (1 + eta VIX)``), freezes what may not trade, solves exactly with the
optimizer's public kernel (:func:`rwafolio.optimize.solve_nb`) and applies the threshold rule.
Nothing here re-implements the solver; the estimator and the threshold rule are mirrored from
their Python definitions and tested against them.

Conventions: returns per period; weights fractions of value; ``mode`` of the threshold rule is
0 none, 1 per_asset, 2 portfolio. A solver status 2 (failed) holds (no trade), like the
strategy's ``hold`` fallback.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
    :meth:`DynamicLambdaStrategy.decide` with :func:`~rwafolio.strategies.threshold.apply_threshold`:
    the window's estimates (:func:`lw_correlation_nb`) handed to :func:`choose_nb`.
    """
    mu, cov = lw_correlation_nb(window)
    return choose_nb(
        mu, cov, float(window.shape[0]), vix, held, may, lam0, eta, opt_costs, box_lo, box_hi,
        ppy, tau, mode, warm, prior_obs, w_ref, ref_lam,
    )  # fmt: skip


@njit(cache=True)
def choose_nb(
    mu: np.ndarray,
    cov: np.ndarray,
    t_obs: float,
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
    """The decision from given per-period estimates: ``(target, final weights)``.

    ``mu`` and ``cov`` are the window's mean and covariance over ``t_obs`` returns, however they
    were computed (in one pass, or updated as the window rolls). The mean is the window mean
    (``prior_obs = 0``) or the Black-Litterman posterior ``(prior_obs pi + T xbar) / (prior_obs + T)``
    with ``pi = 2 lam_ref cov w_ref`` and ``lam_ref = ref_lam`` (NaN: the date's lam), as
    :class:`~rwafolio.optimize.returns.BlackLitterman`.
    """
    n = held.shape[0]
    target = np.full(n, np.nan)
    lam = lam0 * (1.0 + eta * vix)
    if prior_obs > 0.0:
        lam_r = lam if np.isnan(ref_lam) else ref_lam
        pi = 2.0 * lam_r * (cov @ w_ref)
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
