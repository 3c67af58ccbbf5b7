"""The built-in strategy's decision at one date, compiled, with everything the engine records.

:func:`decide_record_nb` is :meth:`rwafolio.strategies.DynamicLambdaStrategy.decide` for the
configurations :mod:`rwafolio.strategies.compiled` accepts, as plain arrays, computed with the
same kernels as the Python path (the estimator :func:`~rwafolio.optimize._estimator_kernels.lw_correlation_nb`,
the solver ``solve_full_nb`` and the objective ``objective_nb`` that
:func:`~rwafolio.optimize.solve_arrays` calls, IEEE-identical
arithmetic for lam, the Black-Litterman mean, the annualization and the threshold rule), so the
historical loop (:mod:`rwafolio.backtest.compiled`) and the engine's Python path give the same
bits. Beside the target it returns the diagnostics of the date (lam, iterations, worst KKT
residual, objective, the held-back changes, the estimates).

:func:`record_nb` is the same decision from given estimates: the one implementation of the
strategy's step. In ``strict`` mode (the historical loop, the live rebalancer) any solve that is
not ``optimal`` (status 1 or 2), or a freeze without a fully invested portfolio, is reported
(``code``) and the caller hands the date to the Python path, which has the cvxpy fallback chain
and the portfolio-rule fallback, so the two paths agree on every date. Without it (the Monte
Carlo and the crowding agents through :func:`rwafolio.strategies._decide_kernels.choose_nb`) an
iteration-capped solve is used as it is and the rest is reported for the caller's fallback.

Conventions: returns per period; weights fractions of value; threshold ``mode`` 0 none,
1 per_asset, 2 portfolio.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.optimize._entry_kernels import objective_nb
from rwafolio.optimize._estimator_kernels import lw_correlation_nb
from rwafolio.optimize._kernels import solve_into, solve_work_size
from rwafolio.optimize._returns_kernels import implied_returns_nb

__all__ = ["decide_record_nb", "record_nb"]

#: Solver tolerance and iteration cap: those of ``solve_arrays`` (the Python path).
TOL = 1e-10
MAX_ITER = 20_000


@njit(cache=True)
def _solve_under(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    held: np.ndarray,
    lam: float,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    frozen: np.ndarray,
    warm: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    w: np.ndarray,
    work: np.ndarray,
) -> tuple[int, int, float]:
    """Solve with ``frozen`` held, the answer written into ``w``: ``(iterations, status,
    residual)``; status -1: no feasible book (``w`` is ``held``).

    ``lo`` and ``hi`` (shape (n,)) are work buffers, overwritten with the box of this solve;
    ``work`` is the solver's scratch (:func:`~rwafolio.optimize._kernels.solve_work_size`), kept
    across the threshold rule's re-solves so that they allocate nothing.
    """
    lo_sum = 0.0
    hi_sum = 0.0
    for i in range(held.shape[0]):
        lo[i] = held[i] if frozen[i] else box_lo[i]
        hi[i] = held[i] if frozen[i] else box_hi[i]
        lo_sum += lo[i]
        hi_sum += hi[i]
    if lo_sum > 1.0 + 1e-12 or hi_sum < 1.0 - 1e-12:
        w[:] = held
        return 0, -1, 0.0
    return solve_into(R, Sigma, C, held, lam, lo, hi, warm, TOL, MAX_ITER, w, work)


@njit(cache=True)
def _mean_nb(
    mu: np.ndarray,
    cov: np.ndarray,
    t_obs: float,
    lam: float,
    prior_obs: float,
    w_ref: np.ndarray,
    ref_lam: float,
) -> np.ndarray:
    """The window mean (``prior_obs = 0``) or the Black-Litterman mean (see ``choose_nb``)."""
    if prior_obs > 0.0:
        lam_r = lam if np.isnan(ref_lam) else ref_lam
        pi = implied_returns_nb(cov, w_ref, lam_r)
        return (prior_obs * pi + t_obs * mu) / (prior_obs + t_obs)
    return mu


@njit(cache=True)
def decide_record_nb(
    window: np.ndarray,
    vix: float,
    held: np.ndarray,
    may: np.ndarray,
    warm: np.ndarray,
    lam0: float,
    eta: float,
    opt_costs: np.ndarray,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    ppy: float,
    tau: float,
    mode: int,
    prior_obs: float,
    w_ref: np.ndarray,
    ref_lam: float,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int, int, float, float, np.ndarray
]:
    """One date's decision and its record.

    Parameters
    ----------
    window : ndarray of shape (window, n)
        The last per-period returns through the decision date.
    vix : float
        Index level lam is set from (0 for a constant lam).
    held, may, warm : ndarray of shape (n,)
        Drifted weights, which assets may trade (at least one), the solver's warm start.
    lam0, eta, opt_costs, box_lo, box_hi, ppy, tau, mode, prior_obs, w_ref, ref_lam
        The strategy (:class:`rwafolio.strategies.compiled.DecisionArrays`).

    Returns
    -------
    target : ndarray of shape (n,)
        NaN for every asset that does not trade.
    last : ndarray of shape (n,)
        The last solution (the next date's warm start).
    mu, cov : ndarray of shape (n,) and (n, n)
        The per-period mean used (window or Black-Litterman) and the covariance.
    lam : float
    code : int
        0 every solve optimal; otherwise the first other status (-1 no feasible book under a
        freeze, 1 iteration cap, 2 failed): the caller hands the date to the Python path.
    iterations : int
        Summed over the solves.
    residual, objective : float
        Worst KKT residual over the solves; objective of the last solution.
    skipped : ndarray of shape (n,)
        The proposed change of each asset the threshold held back (NaN elsewhere).
    """
    mu_w, cov = lw_correlation_nb(window)
    return record_nb(
        mu_w, cov, float(window.shape[0]), vix, held, may, warm, lam0, eta, opt_costs, box_lo,
        box_hi, ppy, tau, mode, prior_obs, w_ref, ref_lam, True,
    )  # fmt: skip


@njit(cache=True)
def record_nb(
    mu_w: np.ndarray,
    cov: np.ndarray,
    t_obs: float,
    vix: float,
    held: np.ndarray,
    may: np.ndarray,
    warm: np.ndarray,
    lam0: float,
    eta: float,
    opt_costs: np.ndarray,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    ppy: float,
    tau: float,
    mode: int,
    prior_obs: float,
    w_ref: np.ndarray,
    ref_lam: float,
    strict: bool,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int, int, float, float, np.ndarray
]:
    """:func:`decide_record_nb` from the window's per-period mean ``mu_w`` and covariance ``cov``
    over ``t_obs`` returns (however computed); ``strict`` as in the module docs. Without it, a
    status 1 (iteration cap) counts as a solution, and the objective is not computed (NaN)."""
    n = held.shape[0]
    target = np.full(n, np.nan)
    skipped = np.full(n, np.nan)
    lam = lam0 * (1.0 + eta * vix)
    mu = _mean_nb(mu_w, cov, t_obs, lam, prior_obs, w_ref, ref_lam)
    R = mu * ppy
    Sigma = cov * ppy
    frozen = np.empty(n, dtype=np.bool_)
    for i in range(n):
        frozen[i] = not may[i]
    lo = np.empty(n)  # the box of each solve (work buffers shared by the re-solves)
    hi = np.empty(n)
    w = np.empty(n)  # each solve's answer (the last one is returned)
    work = np.empty(solve_work_size(n))
    iters, code, worst = _solve_under(
        R, Sigma, opt_costs, held, lam, box_lo, box_hi, frozen, warm, lo, hi, w, work
    )
    if code == 1 and not strict:
        code = 0
    if code != 0:
        return target, w, mu, cov, lam, code, iters, worst, np.nan, skipped
    if mode == 0:
        for i in range(n):
            if may[i]:
                target[i] = w[i]
    elif mode == 2:
        big = False
        for i in range(n):
            if may[i] and abs(w[i] - held[i]) > tau:
                big = True
        for i in range(n):
            if may[i] and big:
                target[i] = w[i]
            elif may[i] and w[i] - held[i] != 0.0:
                skipped[i] = w[i] - held[i]
    else:
        for _ in range(n):  # per_asset: hold the in-band assets and re-solve, until none is new
            inside = False
            for i in range(n):  # an asset free to trade whose change is in the band is held
                if may[i] and not frozen[i] and abs(w[i] - held[i]) <= tau:
                    inside = True
                    frozen[i] = True
                    if w[i] - held[i] != 0.0:
                        skipped[i] = w[i] - held[i]
            if not inside:
                break
            if frozen.all():
                break
            it, code, res = _solve_under(
                R, Sigma, opt_costs, held, lam, box_lo, box_hi, frozen, warm, lo, hi, w, work
            )
            iters += it
            worst = max(worst, res)
            if code == 1 and not strict:
                code = 0
            if code != 0:
                return target, w, mu, cov, lam, code, iters, worst, np.nan, skipped
        for i in range(n):
            if may[i] and not frozen[i]:
                target[i] = w[i]
    obj = objective_nb(w, R, Sigma, opt_costs, held, lam) if strict else np.nan
    return target, w, mu, cov, lam, 0, iters, worst, obj, skipped
