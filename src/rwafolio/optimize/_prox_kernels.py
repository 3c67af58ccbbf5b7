"""Numba kernels of the fast solver's first-order pieces: the exact prox, the LP and the KKT residual.

Plain arrays in, plain arrays out, no validation (see :mod:`rwafolio.optimize._kernels` for the
problem and the algorithm that uses them). Twins: :mod:`rwafolio.optimize._twins`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_EPS = 2.220446049250313e-16


@njit(cache=True)
def _matvec(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    n, m = A.shape
    out = np.empty(n)
    for i in range(n):
        acc = 0.0
        for j in range(m):
            acc += A[i, j] * x[j]
        out[i] = acc
    return out


@njit(cache=True, inline="always")
def _gradient_into(
    R: np.ndarray, Sigma: np.ndarray, w: np.ndarray, lam: float, out: np.ndarray
) -> None:
    """``out = R - 2 lam Sigma w`` with no temporary: the operations of ``R - 2.0 * lam *
    _matvec(Sigma, w)`` element by element, in the same order (so the same bits)."""
    n, m = Sigma.shape
    c = 2.0 * lam
    for i in range(n):
        acc = 0.0
        for j in range(m):
            acc += Sigma[i, j] * w[j]
        out[i] = R[i] - c * acc


@njit(cache=True, inline="always")
def _max_abs(a: np.ndarray) -> float:
    """``np.max(np.abs(a))`` of a 1-D array with no temporary (numba's scan: a NaN is returned)."""
    best = abs(a[0])
    if np.isnan(best):
        return best
    for i in range(1, a.shape[0]):
        v = abs(a[i])
        if np.isnan(v):
            return v
        if v > best:
            best = v
    return best


@njit(cache=True, inline="always")
def _max_abs_2d(A: np.ndarray) -> float:
    """``np.max(np.abs(A))`` of a 2-D array with no temporary (row-major scan, as numba's)."""
    best = abs(A[0, 0])
    if np.isnan(best):
        return best
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            v = abs(A[i, j])
            if np.isnan(v):
                return v
            if v > best:
                best = v
    return best


@njit(cache=True, inline="always")
def _max(a: np.ndarray) -> float:
    """``np.max(a)`` of a 1-D array (numba's scan: first element, ``>``, a NaN is returned)."""
    best = a[0]
    if np.isnan(best):
        return best
    for i in range(1, a.shape[0]):
        v = a[i]
        if np.isnan(v):
            return v
        if v > best:
            best = v
    return best


@njit(cache=True, inline="always")
def _sum(a: np.ndarray) -> float:
    """``a.sum()`` of a 1-D array: numba's sum is this left-to-right loop from 0.0."""
    total = 0.0
    for i in range(a.shape[0]):
        total += a[i]
    return total


@njit(cache=True)
def kkt_residual_nb(
    w: np.ndarray,
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    p: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    active_tol: float,
) -> float:
    """Kernel twin of :func:`rwafolio.optimize.model.kkt_residual` (see there)."""
    n = w.shape[0]
    best_up = -np.inf
    best_down = -np.inf
    infeas = 0.0
    total = 0.0
    for i in range(n):
        wi = w[i]
        total += wi
        if wi < lo[i]:
            infeas += lo[i] - wi
        if wi > hi[i]:
            infeas += wi - hi[i]
        hval = R[i]
        acc = 0.0
        for j in range(n):
            acc += Sigma[i, j] * w[j]
        hval -= 2.0 * lam * acc
        if wi < hi[i] - active_tol:
            a = hval - C[i] if wi >= p[i] - active_tol else hval + C[i]
            if a > best_up:
                best_up = a
        if wi > lo[i] + active_tol:
            b = -hval - C[i] if wi <= p[i] + active_tol else -hval + C[i]
            if b > best_down:
                best_down = b
    gap = 0.0
    if best_up > -np.inf and best_down > -np.inf:
        gap = max(0.0, best_up + best_down)
    return gap + abs(total - 1.0) + infeas


@njit(cache=True)
def held_optimal_nb(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    p: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    budget_tol: float,
) -> bool:
    """Exact no-trade certificate: True when ``w = p`` satisfies the problem's KKT conditions.

    ``p`` must lie in ``[lo, hi]`` exactly and on the budget within ``budget_tol``. With
    ``g = R - 2 lam Sigma p`` (the gradient of the smooth part of ``U`` at ``p``), ``w = p`` is
    optimal iff one budget multiplier ``nu`` lies in every asset's interval: ``[g_i - C_i,
    g_i + C_i]`` inside the box, ``[g_i - C_i, inf)`` at ``lo_i``, ``(-inf, g_i + C_i]`` at
    ``hi_i`` and the whole line when ``lo_i = hi_i``; i.e. ``max_(p_i < hi_i) (g_i - C_i) <=
    min_(p_i > lo_i) (g_i + C_i)``, compared with no slack. The problem is convex, so the KKT
    conditions are sufficient. O(n^2) (one product with Sigma).
    """
    n = p.shape[0]
    total = 0.0
    for i in range(n):
        if p[i] < lo[i] or p[i] > hi[i]:
            return False
        total += p[i]
    if abs(total - 1.0) > budget_tol:
        return False
    nu_lo = -np.inf
    nu_hi = np.inf
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += Sigma[i, j] * p[j]
        g = R[i] - 2.0 * lam * acc
        if p[i] < hi[i]:
            nu_lo = max(nu_lo, g - C[i])
        if p[i] > lo[i]:
            nu_hi = min(nu_hi, g + C[i])
        if nu_lo > nu_hi:
            return False
    return True


@njit(cache=True, inline="always")
def _prox_eval(
    v: np.ndarray,
    t: float,
    C: np.ndarray,
    p: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    nu: float,
    out: np.ndarray,
) -> tuple[float, int]:
    total = 0.0
    k = 0
    for i in range(v.shape[0]):
        x = v[i] - t * nu
        c = t * C[i]
        lin = True
        if x > p[i] + c:
            s = x - c
        elif x < p[i] - c:
            s = x + c
        else:
            s = p[i]
            lin = False
        if s <= lo[i]:
            s = lo[i]
            lin = False
        elif s >= hi[i]:
            s = hi[i]
            lin = False
        out[i] = s
        total += s
        if lin:
            k += 1
    return total - 1.0, k


@njit(cache=True)
def prox_nb(
    v: np.ndarray,
    t: float,
    C: np.ndarray,
    p: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    nu0: float,
    out: np.ndarray,
) -> float:
    """Exact prox of ``t*g``, ``g = sum C|w-p| + box + budget``, written into ``out``.

    Returns the budget multiplier ``nu``: ``out_i = clip(soft_{tC_i}(v_i - t nu; p_i), lo_i, hi_i)``
    with ``sum out = 1``.  ``nu0`` is a warm guess.  Requires ``sum lo <= 1 <= sum hi``, ``t > 0``.
    """
    n = v.shape[0]
    nu_lo = np.inf
    nu_hi = -np.inf
    for i in range(n):
        a = (v[i] - hi[i] - t * C[i]) / t
        b = (v[i] - lo[i] + t * C[i]) / t
        if a < nu_lo:
            nu_lo = a
        if b > nu_hi:
            nu_hi = b
    nu = nu0
    if not (nu_lo < nu < nu_hi):
        nu = 0.5 * (nu_lo + nu_hi)
    if nu_lo >= nu_hi:
        nu = nu_lo
    for _ in range(200):
        phi, k = _prox_eval(v, t, C, p, lo, hi, nu, out)
        if abs(phi) <= 4.0 * _EPS * n:
            return nu
        if phi > 0.0:
            nu_lo = nu
        else:
            nu_hi = nu
        nn = 0.5 * (nu_lo + nu_hi)
        if k > 0:
            cand = nu + phi / (t * k)
            if nu_lo < cand < nu_hi:
                nn = cand
        if nn == nu or not (nu_hi - nu_lo > _EPS * max(1.0, abs(nu))):
            break
        nu = nn
    phi, k = _prox_eval(v, t, C, p, lo, hi, nu, out)
    # Put the last rounding error on a coordinate with room.
    for i in range(n):
        cand = out[i] - phi
        if lo[i] <= cand <= hi[i] and out[i] != p[i]:
            out[i] = cand
            break
    return nu


@njit(cache=True)
def lp_nb(
    c: np.ndarray, C: np.ndarray, p: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Exact solution of ``max c'w - sum C|w - p|`` over the box and the budget (greedy fill).

    Every asset starts at ``lo``; segment ``[lo, clip(p)]`` has marginal value ``c + C`` and
    segment ``[clip(p), hi]`` has ``c - C`` (concave), so filling the most valuable segments first
    is optimal.
    """
    n = c.shape[0]
    w = lo.copy()
    vals = np.empty(2 * n)
    lens = np.empty(2 * n)
    budget = 1.0
    for i in range(n):
        budget -= lo[i]
        pc = min(max(p[i], lo[i]), hi[i])
        vals[2 * i] = c[i] + C[i]
        lens[2 * i] = pc - lo[i]
        vals[2 * i + 1] = c[i] - C[i]
        lens[2 * i + 1] = hi[i] - pc
    order = np.argsort(-vals, kind="mergesort")
    for r in range(2 * n):
        if budget <= 0.0:
            break
        s = order[r]
        take = min(lens[s], budget)
        if take > 0.0:
            i = s // 2
            end = min(max(p[i], lo[i]), hi[i]) if s % 2 == 0 else hi[i]
            # A fully used segment ends exactly on its kink or bound (no rounding off the kink).
            w[i] = end if take == lens[s] else w[i] + take
            budget -= take
    return w
