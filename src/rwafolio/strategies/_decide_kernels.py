"""Compiled decision of the built-in strategy: estimate, lam, freeze, solve, threshold.

One implementation of :meth:`rwafolio.strategies.DynamicLambdaStrategy.decide` for the default
estimator as plain arrays, shared by every compiled loop that runs the strategy forward (the
strategy-aware Monte Carlo, the crowding agents, the live rebalancer, the historical loop). It
estimates R and Sigma on the window (Ledoit-Wolf shrinkage of the correlations, the default
estimator, :func:`lw_correlation_nb`; the window mean or the Black-Litterman mean), sets lam from
the index (``lam0 (1 + eta VIX)``), freezes what may not trade, solves exactly with the
optimizer's public kernel (:func:`rwafolio.optimize.solve_full_nb`, the one ``solve_arrays``
calls) and applies the threshold rule. Nothing here re-implements the solver; the estimator and
the threshold rule are mirrored from their Python definitions and tested against them.
:func:`choose_full_nb` also returns what a Python ``Decision`` records (lam, solver iterations,
worst KKT residual, objective, the changes the threshold held back, and whether any solve was
not optimal, where the Python strategy falls back to the reference solver).

Conventions: returns per period; weights fractions of value; ``mode`` of the threshold rule is
0 none, 1 per_asset, 2 portfolio. A solver status 2 (failed) holds (no trade), like the
strategy's ``hold`` fallback.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.optimize import solve_full_nb

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
) -> tuple[np.ndarray, int, int, float]:
    """Solve with ``frozen`` held: ``(w, status, iterations, KKT residual)``; status -1 when no
    fully invested portfolio exists (``solve_full_nb`` is :func:`rwafolio.optimize.solve_nb` with
    its residual, the one ``solve_arrays`` records)."""
    lo = box_lo.copy()
    hi = box_hi.copy()
    for i in range(held.shape[0]):
        if frozen[i]:
            lo[i] = held[i]
            hi[i] = held[i]
    if lo.sum() > 1.0 + 1e-12 or hi.sum() < 1.0 - 1e-12:
        return held.copy(), -1, 0, np.nan
    w, it, status, res = solve_full_nb(R, Sigma, C, held, lam, lo, hi, warm, TOL, MAX_ITER)
    return w, status, it, res


#: ``info`` of :func:`choose_full_nb`: outcome code, lam, solves, summed iterations, worst KKT
#: residual, objective of the final solution (the fields of a Python ``Decision``).
INFO_CODE, INFO_LAM, INFO_SOLVES, INFO_ITERATIONS, INFO_KKT, INFO_OBJECTIVE = range(6)
INFO_SIZE = 6
#: Outcome codes: every solve optimal; a solve not optimal (``solve_arrays`` would fall back to
#: the reference solver); a freeze with no fully invested portfolio (the strategy holds, or
#: applies the portfolio rule, and says why).
CODE_OPTIMAL, CODE_NOT_OPTIMAL, CODE_INFEASIBLE = 0, 1, 2


@njit(cache=True)
def _count(info: np.ndarray, status: int, iterations: int, residual: float) -> None:
    """Record one solve in ``info`` (a non-optimal status marks the decision)."""
    if status == -1:
        return
    info[INFO_SOLVES] += 1.0
    info[INFO_ITERATIONS] += iterations
    info[INFO_KKT] = max(info[INFO_KKT], residual)
    if status != 0:
        info[INFO_CODE] = CODE_NOT_OPTIMAL


@njit(cache=True)
def _finish(
    info: np.ndarray,
    w: np.ndarray,
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    held: np.ndarray,
    lam: float,
) -> np.ndarray:
    """``info`` with the objective ``w'R - lam w'Sigma w - C'|w - held|`` of the final solution."""
    info[INFO_OBJECTIVE] = w @ R - lam * (w @ (Sigma @ w)) - C @ np.abs(w - held)
    return info


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
def choose_full_nb(
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The decision from given per-period estimates: ``(target, final weights, held back, info)``.

    ``mu`` and ``cov`` are the window's mean and covariance over ``t_obs`` returns, however they
    were computed (in one pass, or updated as the window rolls). The mean is the window mean
    (``prior_obs = 0``) or the Black-Litterman posterior ``(prior_obs pi + T xbar) / (prior_obs + T)``
    with ``pi = 2 lam_ref cov w_ref`` and ``lam_ref = ref_lam`` (NaN: the date's lam), as
    :class:`~rwafolio.optimize.returns.BlackLitterman`.
    """
    n = held.shape[0]
    target = np.full(n, np.nan)
    back = np.full(n, np.nan)
    info = np.zeros(INFO_SIZE)
    lam = max(lam0 * (1.0 + eta * vix), 0.0)  # the rule's floor at 0, as VixLinear
    info[INFO_LAM] = lam
    if prior_obs > 0.0:
        lam_r = lam if np.isnan(ref_lam) else ref_lam
        pi = 2.0 * lam_r * (cov @ w_ref)
        mu = (prior_obs * pi + t_obs * mu) / (prior_obs + t_obs)
    R = mu * ppy
    Sigma = cov * ppy
    frozen = ~may
    w, status, it, res = _solve_frozen(R, Sigma, opt_costs, held, lam, box_lo, box_hi, frozen, warm)
    _count(info, status, it, res)
    if status == -1 or status == 2:
        info[INFO_CODE] = CODE_INFEASIBLE if status == -1 else CODE_NOT_OPTIMAL
        return target, w, back, info
    proposed = w.copy()
    if mode == 0:
        for i in range(n):
            if may[i]:
                target[i] = w[i]
        return target, w, back, _finish(info, w, R, Sigma, opt_costs, held, lam)
    big = False
    for i in range(n):
        if may[i] and abs(w[i] - held[i]) > tau:
            big = True
    if mode == 2:
        for i in range(n):
            if may[i] and big:
                target[i] = w[i]
            elif may[i] and w[i] != held[i]:
                back[i] = w[i] - held[i]
        return target, w, back, _finish(info, w, R, Sigma, opt_costs, held, lam)
    for _ in range(n):  # per_asset: hold the in-band assets and re-solve, until none is new
        inside = may & ~frozen & (np.abs(w - held) <= tau)
        if not inside.any():
            break
        for i in range(n):
            if inside[i] and np.isnan(back[i]):
                back[i] = w[i] - held[i]
        frozen = frozen | inside
        if frozen.all():
            break  # nothing trades; the last solution stays the warm start
        w_new, status, it, res = _solve_frozen(
            R, Sigma, opt_costs, held, lam, box_lo, box_hi, frozen, warm
        )
        _count(info, status, it, res)
        if status == -1:  # holding left no feasible portfolio: the portfolio rule today
            info[INFO_CODE] = CODE_INFEASIBLE
            if big:
                for i in range(n):
                    if may[i]:
                        target[i] = proposed[i]
            return target, proposed, np.full(n, np.nan), info
        if status == 2:
            info[INFO_CODE] = CODE_NOT_OPTIMAL
            return np.full(n, np.nan), w_new, back, info
        w = w_new
    for i in range(n):
        if may[i] and not frozen[i]:
            target[i] = w[i]
        if back[i] == 0.0:
            back[i] = np.nan  # a change of exactly zero is not held back
    return target, w, back, _finish(info, w, R, Sigma, opt_costs, held, lam)


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
    """:func:`choose_full_nb` without its diagnostics: ``(target, final weights)``."""
    target, w, _back, _info = choose_full_nb(
        mu, cov, t_obs, vix, held, may, lam0, eta, opt_costs, box_lo, box_hi, ppy, tau, mode,
        warm, prior_obs, w_ref, ref_lam,
    )  # fmt: skip
    return target, w
