"""Numba kernels of the fast exact solver (plain arrays in, plain arrays out, no validation).

The problem, written as a minimisation of ``f = -U``::

    minimize  f(w) = lam * w'Sigma w - R'w + sum_i C_i |w_i - p_i|
    s.t.      sum_i w_i = 1,  lo <= w <= hi

``p`` is ``w_prev``. Units are the caller's (annualized R and Sigma, one-off cost fractions C by
default); ``lam`` multiplies ``w'Sigma w`` with no 1/2.

Algorithm of :func:`solve_nb`:

0. No-trade certificate: when ``w_prev`` is feasible (in the box exactly, on the budget within the
   tolerance) and satisfies the KKT conditions (:func:`held_optimal_nb`: one budget multiplier in
   every asset's interval ``[g_i - C_i, g_i + C_i]``, one-sided at a bound, ``g = R - 2 lam Sigma
   w_prev``), ``w_prev`` itself is returned, bit for bit, with 0 iterations and status optimal.
   O(n^2); costs make holding optimal on most days of a cost-aware strategy.
1. ``lam == 0`` or ``Sigma == 0``: the problem is a linear programme over a box and a budget with
   convex piecewise-linear separable costs; a greedy fill of the cheapest segments is exact.
2. Active-set polish from the warm start: one prox-gradient step snaps coordinates to their kinks
   and bounds, then a primal active-set method (each asset at ``lo``, at ``hi``, at its kink
   ``w = p`` or free with a known trade sign) solves the reduced equality-constrained KKT system
   exactly, steps to the first blocking constraint, releases fixed assets whose multiplier has the
   wrong sign, and stops when :func:`kkt_residual_nb` is below tolerance.  A good warm start costs
   one or two linear solves.
3. Otherwise FISTA with gradient-based adaptive restart, whose proximal operator is EXACT for
   ``g = sum C_i|w_i - p_i| + box + budget`` (clipped soft-thresholds around ``p`` shifted by one
   budget multiplier found by safeguarded Newton on a monotone piecewise-linear function), step
   ``1/L`` with ``L = 2 lam lambda_max(Sigma)`` from power iteration.  Whenever the active pattern
   of the iterates is stable the polish is tried; its answer is exact.

Singular Sigma (duplicated assets, a zero-volatility stablecoin, fewer observations than assets)
is handled by a least-squares reduced solve; every answer is verified by the KKT residual.

The pieces live in two sibling modules: :mod:`rwafolio.optimize._prox_kernels` (the exact prox,
the greedy LP and the KKT residual) and :mod:`rwafolio.optimize._polish_kernels` (the active-set
polish and its small linear algebra). This module holds the driver and re-exports the pieces
under their old names. A solve that the first polish ends allocates two arrays (its scratch and
the answer), one that the no-trade certificate ends allocates one (the answer);
:func:`solve_into` with the caller's answer and scratch buffers allocates none.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.optimize._polish_kernels import _classify, polish_into, polish_nb, polish_work_size
from rwafolio.optimize._prox_kernels import (
    _matvec,
    _max,
    _max_abs,
    held_optimal_nb,
    kkt_residual_nb,
    lp_nb,
    prox_nb,
)

__all__ = [
    "STATUS_FAILED",
    "STATUS_MAX_ITER",
    "STATUS_OPTIMAL",
    "held_optimal_nb",
    "kkt_residual_nb",
    "lp_nb",
    "polish_nb",
    "prox_nb",
    "solve_full_nb",
    "solve_into",
    "solve_nb",
    "solve_work_size",
]

STATUS_OPTIMAL = 0
STATUS_MAX_ITER = 1
STATUS_FAILED = 2


@njit(cache=True)
def _lambda_max(Sigma: np.ndarray, iters: int) -> float:
    n = Sigma.shape[0]
    v = np.empty(n)
    for i in range(n):
        v[i] = 1.0 + 0.3 * np.sin(1.7 * i + 0.5)
    v /= np.sqrt(v @ v)
    rho = 0.0
    for _ in range(iters):
        u = _matvec(Sigma, v)
        new = v @ u
        nrm = np.sqrt(u @ u)
        if nrm == 0.0:
            return 0.0
        v = u / nrm
        if abs(new - rho) <= 1e-6 * abs(new):
            rho = new
            break
        rho = new
    return rho


@njit(cache=True)
def solve_full_nb(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    w0: np.ndarray,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int, int, float]:
    """Exact optimum of ``max w'R - lam w'Sigma w - sum C|w - w_prev|`` on box and budget.

    Parameters
    ----------
    R : ndarray (n,)  expected returns (annualized by default).
    Sigma : ndarray (n, n)  covariance, symmetric PSD (may be singular), same units as R.
    C : ndarray (n,)  one-off cost per unit of weight traded, >= 0.
    w_prev : ndarray (n,)  drifted weights (may be off-budget and out of bounds).
    lam : float  risk aversion >= 0 (no 1/2 in front of w'Sigma w).
    lo, hi : ndarray (n,)  bounds, ``lo <= hi``, ``sum lo <= 1 <= sum hi``.
    w0 : ndarray (n,)  warm start (any vector; projected first).
    tol : float  accepted KKT residual (floored at rounding level ``1e-13 * scale``).
    max_iter : int  maximum proximal-gradient iterations; ``<= 0`` returns the projected warm
        start with status 1.

    When ``w_prev`` is feasible and optimal (:func:`held_optimal_nb`) it is returned unchanged
    with 0 iterations and status 0, without iterating.

    Returns
    -------
    w : ndarray (n,), iterations : int, status : int (0 optimal, 1 max_iter, 2 failed),
    residual : float (``kkt_residual_nb`` of w with ``active_tol = 0``)
    """
    out = np.empty(R.shape[0])
    iters, status, res = solve_into(R, Sigma, C, w_prev, lam, lo, hi, w0, tol, max_iter, out, None)
    return out, iters, status, res


@njit(cache=True, inline="always")
def solve_work_size(n: int) -> int:
    """Floats (8 bytes each) of scratch :func:`solve_into` needs for ``n`` assets."""
    return 3 * n + polish_work_size(n)


@njit(cache=True, inline="always")
def solve_into(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    w0: np.ndarray,
    tol: float,
    max_iter: int,
    out: np.ndarray,
    work: np.ndarray | None,
) -> tuple[int, int, float]:
    """:func:`solve_full_nb` writing its answer into ``out`` (n,): ``(iterations, status, residual)``.

    ``work`` is caller scratch, a C-contiguous float64 array of at least :func:`solve_work_size`
    elements (contents overwritten), or None to allocate it when the polish needs it; a caller
    that solves in a loop and passes both buffers allocates nothing on the polished path. ``out``
    may be ``w0`` but no other argument, nor ``work``'s memory. The same bits as
    :func:`solve_full_nb`, which is this with a fresh ``out`` and ``work=None``. Compiled inline:
    as a separate call it cost ~0.1 us per n = 6 solve, more than the two allocations it saves.
    """
    n = R.shape[0]
    if max_iter <= 0:
        projected = np.empty(n)  # not into ``out``, which may be ``w0``
        prox_nb(w0, 1.0, np.zeros(n), w_prev, lo, hi, 0.0, projected)
        out[:] = projected
        return 0, STATUS_MAX_ITER, kkt_residual_nb(out, R, Sigma, C, w_prev, lam, lo, hi, 0.0)
    maxdiag = 0.0
    for i in range(n):
        maxdiag = max(maxdiag, Sigma[i, i])
    scale = 1.0 + _max_abs(R) + 2.0 * lam * maxdiag + _max(C)
    tol_eff = max(tol, 1e-13 * scale * max(1.0, np.sqrt(n) / 4.0))
    if held_optimal_nb(R, Sigma, C, w_prev, lam, lo, hi, tol_eff):  # 0) no trade is optimal
        out[:] = w_prev
        return 0, STATUS_OPTIMAL, kkt_residual_nb(w_prev, R, Sigma, C, w_prev, lam, lo, hi, 0.0)
    if lam == 0.0 or maxdiag == 0.0:
        out[:] = lp_nb(R, C, w_prev, lo, hi)
        res = kkt_residual_nb(out, R, Sigma, C, w_prev, lam, lo, hi, 0.0)
        return 1, (STATUS_OPTIMAL if res <= tol_eff else STATUS_FAILED), res
    # 1) Warm polish after one aggressive prox-gradient step (t = 1 / (2 lam max diag) >= 1/L),
    # in one scratch buffer: the projected warm start w, the step v, its prox x, the polish's.
    if work is None:
        buf = np.empty(solve_work_size(n))
    else:
        buf = work
    w = buf[:n]
    v = buf[n : 2 * n]
    x = buf[2 * n : 3 * n]
    for i in range(n):
        v[i] = 0.0
    prox_nb(w0, 1.0, v, w_prev, lo, hi, 0.0, w)
    t0 = 1.0 / (2.0 * lam * maxdiag)
    c = 2.0 * lam
    for i in range(n):  # v = w - t0 * (2.0 * lam * _matvec(Sigma, w) - R), element by element
        acc = 0.0
        for j in range(n):
            acc += Sigma[i, j] * w[j]
        v[i] = w[i] - t0 * (c * acc - R[i])
    prox_nb(v, t0, C, w_prev, lo, hi, 0.0, x)
    pwork = buf[3 * n :]
    ok, steps, res = polish_into(x, R, Sigma, C, w_prev, lam, lo, hi, tol_eff, 30, out, pwork)
    if ok:
        return steps, STATUS_OPTIMAL, res
    # 2) FISTA with exact prox, polishing whenever the active pattern is stable.
    return _fista(R, Sigma, C, w_prev, lam, lo, hi, tol_eff, max_iter, out, steps, v, pwork)


@njit(cache=True)
def _fista(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    tol_eff: float,
    max_iter: int,
    x: np.ndarray,
    iters: int,
    v: np.ndarray,
    polish_work: np.ndarray,
) -> tuple[int, int, float]:
    """Stage 2 of :func:`solve_into` from the polished ``x`` (n,), updated in place (the answer).

    ``v`` (n,) and ``polish_work`` (:func:`polish_work_size` floats) are scratch. Every iterate
    lives in a buffer allocated once; each replaced array expression is a loop with its
    operations in the same order, and the restart test's dot product is numpy's on buffers
    allocated as its temporaries were, so the bits are those of the allocating version.
    """
    n = x.shape[0]
    L = 2.0 * lam * _lambda_max(Sigma, 100) * 1.05
    L = min(L, 2.0 * lam * np.trace(Sigma))
    t = 1.0 / L
    c = 2.0 * lam
    y = x.copy()
    xn = np.empty(n)
    dy = np.empty(n)
    dx = np.empty(n)
    theta = 1.0
    nu = 0.0
    state = np.empty(n, dtype=np.int8)
    prev_state = np.full(n, -1, dtype=np.int8)
    tried = np.full(n, -1, dtype=np.int8)
    stable = 0
    for k in range(max_iter):
        iters += 1
        for i in range(n):  # v = y - t * (2.0 * lam * _matvec(Sigma, y) - R)
            acc = 0.0
            for j in range(n):
                acc += Sigma[i, j] * y[j]
            v[i] = y[i] - t * (c * acc - R[i])
        nu = prox_nb(v, t, C, w_prev, lo, hi, nu, xn)
        _classify(xn, w_prev, lo, hi, state)
        same = True
        for i in range(n):
            if state[i] != prev_state[i]:
                same = False
                break
        stable = stable + 1 if same else 0
        prev_state[:] = state
        # Adaptive restart (O'Donoghue & Candes, gradient scheme): (y - xn) @ (xn - x) > 0.
        for i in range(n):
            dy[i] = y[i] - xn[i]
            dx[i] = xn[i] - x[i]
        if dy @ dx > 0.0:
            theta = 1.0
            y[:] = xn
        else:
            theta_n = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * theta * theta))
            momentum = (theta - 1.0) / theta_n
            for i in range(n):  # y = xn + ((theta - 1.0) / theta_n) * (xn - x)
                y[i] = xn[i] + momentum * (xn[i] - x[i])
            theta = theta_n
        x[:] = xn
        if (stable >= 2 and not np.array_equal(state, tried)) or (k + 1) % 50 == 0:
            tried[:] = state
            ok, steps, res = polish_into(
                x, R, Sigma, C, w_prev, lam, lo, hi, tol_eff, 30, x, polish_work
            )
            iters += steps
            if ok:
                return iters, STATUS_OPTIMAL, res
            y[:] = x
            theta = 1.0
    res = kkt_residual_nb(x, R, Sigma, C, w_prev, lam, lo, hi, 0.0)
    if res <= tol_eff:
        return iters, STATUS_OPTIMAL, res
    return iters, STATUS_MAX_ITER, res


@njit(cache=True)
def solve_nb(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    w0: np.ndarray,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int, int]:
    """Public kernel: ``(w, iterations, status)`` of :func:`solve_full_nb` (same arguments).

    Callable from other numba code (nopython). All arrays float64 and contiguous, Sigma 2-D.
    Status 0 optimal (KKT residual <= tol), 1 max_iter, 2 failed. Exact no-trade certificate
    first: a feasible ``w_prev`` that satisfies the KKT conditions is returned as is (a copy) with
    0 iterations and status 0 (see :func:`held_optimal_nb`).
    """
    w, iters, status, _res = solve_full_nb(R, Sigma, C, w_prev, lam, lo, hi, w0, tol, max_iter)
    return w, iters, status
