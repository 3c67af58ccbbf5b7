"""Numba kernels of the fast exact solver (plain arrays in, plain arrays out, no validation).

The problem, written as a minimisation of ``f = -U``::

    minimize  f(w) = lam * w'Sigma w - R'w + sum_i C_i |w_i - p_i|
    s.t.      sum_i w_i = 1,  lo <= w <= hi

``p`` is ``w_prev``. Units are the caller's (annualized R and Sigma, one-off cost fractions C by
default); ``lam`` multiplies ``w'Sigma w`` with no 1/2.

Algorithm of :func:`solve_nb`:

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
"""

from __future__ import annotations

import numpy as np
from numba import njit

_EPS = 2.220446049250313e-16

# Asset states in the active-set polish.
_LO = 0
_HI = 1
_KINK = 2
_UP = 3  # free, w > p
_DOWN = 4  # free, w < p

STATUS_OPTIMAL = 0
STATUS_MAX_ITER = 1
STATUS_FAILED = 2


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


@njit(cache=True)
def _classify(
    x: np.ndarray, p: np.ndarray, lo: np.ndarray, hi: np.ndarray, state: np.ndarray
) -> None:
    for i in range(x.shape[0]):
        if x[i] <= lo[i]:
            state[i] = _LO
        elif x[i] >= hi[i]:
            state[i] = _HI
        elif x[i] == p[i]:
            state[i] = _KINK
        elif x[i] > p[i]:
            state[i] = _UP
        else:
            state[i] = _DOWN


@njit(cache=True)
def _chol_small(A: np.ndarray) -> tuple[np.ndarray, bool]:
    """Plain Cholesky (lower) for small matrices; ``ok`` False when not positive definite."""
    m = A.shape[0]
    L = np.zeros((m, m))
    for j in range(m):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 0.0:
            return L, False
        d = np.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, m):
            s = A[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / d
    return L, True


@njit(cache=True)
def _chol_solve(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    m = L.shape[0]
    y = np.empty(m)
    for i in range(m):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * y[k]
        y[i] = s / L[i, i]
    for i in range(m - 1, -1, -1):
        s = y[i]
        for k in range(i + 1, m):
            s -= L[k, i] * y[k]
        y[i] = s / L[i, i]
    return y


@njit(cache=True)
def _reduced_solve(
    A: np.ndarray, g: np.ndarray, e: float, scale: float
) -> tuple[np.ndarray, float, int]:
    """Minimise ``d'Ad/2 - g'd`` s.t. ``1'd = e`` via ``A d + nu 1 = g, 1'd = e``.

    Returns ``(d, nu, mode)``: mode 0 means ``d`` is the exact minimiser; mode 1 means the
    reduced problem is unbounded below (singular ``A`` with the linear term in its null space) and
    ``d`` is a descent ray with ``A d = 0``, ``1'd = 0``; mode 2 means failure.
    """
    m = g.shape[0]
    d = np.empty(m)
    nu = 0.0
    solved = False
    if m <= 48:
        L, ok = _chol_small(A)
        if ok:
            y1 = _chol_solve(L, np.ones(m))
            y2 = _chol_solve(L, g)
            s1 = y1.sum()
            s2 = y2.sum()
            if s1 > 0.0 and np.isfinite(s1) and np.isfinite(s2):
                nu = (s2 - e) / s1
                d = y2 - nu * y1
                solved = True
    else:
        try:
            L = np.linalg.cholesky(A)
            rhs = np.empty((m, 2))
            rhs[:, 0] = 1.0
            rhs[:, 1] = g
            z = np.linalg.solve(L, rhs)
            y = np.linalg.solve(L.T, z)
            s1 = y[:, 0].sum()
            s2 = y[:, 1].sum()
            if s1 > 0.0 and np.isfinite(s1) and np.isfinite(s2):
                nu = (s2 - e) / s1
                d = y[:, 1] - nu * y[:, 0]
                solved = True
        except Exception:
            solved = False
    if solved:
        # Verify; near-singular A can pass Cholesky with poor accuracy.
        r = _matvec(A, d) + nu - g
        if np.max(np.abs(r)) <= 1e-11 * scale and abs(d.sum() - e) <= 1e-13:
            return d, nu, 0
    K = np.zeros((m + 1, m + 1))
    K[:m, :m] = A
    K[:m, m] = 1.0
    K[m, :m] = 1.0
    b = np.empty(m + 1)
    b[:m] = g
    b[m] = e
    sol, _res, _rk, _sv = np.linalg.lstsq(K, b, 1e-13)
    if not np.all(np.isfinite(sol)):
        return d, 0.0, 2
    r = b - _matvec(K, sol)
    if np.max(np.abs(r)) <= 1e-10 * scale:
        return sol[:m].copy(), float(sol[m]), 0
    # Inconsistent: the residual lies in null(K) = {(z, 0): A z = 0, 1'z = 0}, and g'z = |z|^2 > 0
    # so z is a descent ray of the reduced problem.
    ray = r[:m].copy()
    if ray @ g <= 0.0:
        return d, 0.0, 2
    ray -= ray.mean()
    return ray, 0.0, 1


@njit(cache=True)
def polish_nb(
    x: np.ndarray,
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    p: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float,
    max_steps: int,
) -> tuple[np.ndarray, bool, int, float]:
    """Primal active-set method from the pattern of feasible ``x``.

    Returns ``(w, ok, steps, residual)`` (residual is inf unless computed); ``ok`` means ``kkt_residual_nb(w) <= tol``. When not ok, ``w`` is
    feasible and no worse than ``x``.
    """
    n = x.shape[0]
    w = x.copy()
    state = np.empty(n, dtype=np.int8)
    _classify(w, p, lo, hi, state)
    scale = 1.0 + np.max(np.abs(R)) + 2.0 * lam * np.max(np.abs(Sigma)) + np.max(C)
    thr = 0.25 * tol
    free = np.empty(n, dtype=np.int64)
    for step in range(max_steps):
        m = 0
        for i in range(n):
            if state[i] >= _UP:
                free[m] = i
                m += 1
        h = R - 2.0 * lam * _matvec(Sigma, w)
        nu = 0.0
        if m > 0:
            idx = free[:m]
            A = np.empty((m, m))
            g = np.empty(m)
            for a in range(m):
                ia = idx[a]
                for b in range(m):
                    A[a, b] = 2.0 * lam * Sigma[ia, idx[b]]
                g[a] = h[ia] - (C[ia] if state[ia] == _UP else -C[ia])
            e = 1.0 - w.sum()
            d, nu, mode = _reduced_solve(A, g, e, scale)
            if mode == 2:
                return w, False, step, np.inf
            # Ratio test: first blocking bound or kink (a ray has no natural step length).
            alpha = 1.0 if mode == 0 else np.inf
            block = -1
            block_state = 0
            for a in range(m):
                i = idx[a]
                di = d[a]
                if di < 0.0:
                    lim = lo[i]
                    st = _LO
                    if state[i] == _UP and p[i] > lo[i]:
                        lim = p[i]
                        st = _KINK
                elif di > 0.0:
                    lim = hi[i]
                    st = _HI
                    if state[i] == _DOWN and p[i] < hi[i]:
                        lim = p[i]
                        st = _KINK
                else:
                    continue
                ai = (lim - w[i]) / di
                if ai < alpha:
                    alpha = max(ai, 0.0)
                    block = i
                    block_state = st
            if block < 0 and mode == 1:
                return w, False, step, np.inf
            for a in range(m):
                w[idx[a]] += alpha * d[a]
            if block >= 0:
                state[block] = block_state
                if block_state == _LO:
                    w[block] = lo[block]
                elif block_state == _HI:
                    w[block] = hi[block]
                else:
                    w[block] = p[block]
                continue
            h = R - 2.0 * lam * _matvec(Sigma, w)
        # Multipliers of fixed assets: q_i = h_i - nu; release the worst violator.
        if m == 0:
            best_a = -np.inf
            best_b = -np.inf
            for i in range(n):
                if lo[i] == hi[i]:
                    continue
                if state[i] != _HI:
                    a = h[i] - C[i] if w[i] >= p[i] else h[i] + C[i]
                    best_a = max(best_a, a)
                if state[i] != _LO:
                    b = -h[i] - C[i] if w[i] <= p[i] else -h[i] + C[i]
                    best_b = max(best_b, b)
            if best_a > -np.inf and best_b > -np.inf:
                nu = 0.5 * (best_a - best_b)
        worst = thr
        rel = -1
        rel_state = 0
        for i in range(n):
            st = state[i]
            if st >= _UP or lo[i] == hi[i]:
                continue
            q = h[i] - nu
            if st == _KINK:
                up = q - C[i]
                dn = -q - C[i]
                if up > worst:
                    worst, rel, rel_state = up, i, _UP
                if dn > worst:
                    worst, rel, rel_state = dn, i, _DOWN
            elif st == _LO:
                up = q - C[i] if lo[i] >= p[i] else q + C[i]
                if up > worst:
                    worst, rel, rel_state = up, i, (_UP if lo[i] >= p[i] else _DOWN)
            else:
                dn = -q - C[i] if hi[i] <= p[i] else -q + C[i]
                if dn > worst:
                    worst, rel, rel_state = dn, i, (_DOWN if hi[i] <= p[i] else _UP)
        if rel < 0:
            res = kkt_residual_nb(w, R, Sigma, C, p, lam, lo, hi, 0.0)
            return w, res <= tol, step + 1, res
        state[rel] = rel_state
    return w, False, max_steps, np.inf


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

    Returns
    -------
    w : ndarray (n,), iterations : int, status : int (0 optimal, 1 max_iter, 2 failed),
    residual : float (``kkt_residual_nb`` of w with ``active_tol = 0``)
    """
    n = R.shape[0]
    w = np.empty(n)
    zeros = np.zeros(n)
    prox_nb(w0, 1.0, zeros, w_prev, lo, hi, 0.0, w)
    if max_iter <= 0:
        return w, 0, STATUS_MAX_ITER, kkt_residual_nb(w, R, Sigma, C, w_prev, lam, lo, hi, 0.0)
    maxdiag = 0.0
    for i in range(n):
        maxdiag = max(maxdiag, Sigma[i, i])
    scale = 1.0 + np.max(np.abs(R)) + 2.0 * lam * maxdiag + np.max(C)
    tol_eff = max(tol, 1e-13 * scale * max(1.0, np.sqrt(n) / 4.0))
    if lam == 0.0 or maxdiag == 0.0:
        w = lp_nb(R, C, w_prev, lo, hi)
        res = kkt_residual_nb(w, R, Sigma, C, w_prev, lam, lo, hi, 0.0)
        return w, 1, (STATUS_OPTIMAL if res <= tol_eff else STATUS_FAILED), res
    # 1) Warm polish after one aggressive prox-gradient step (t = 1 / (2 lam max diag) >= 1/L).
    t0 = 1.0 / (2.0 * lam * maxdiag)
    v = w - t0 * (2.0 * lam * _matvec(Sigma, w) - R)
    x = np.empty(n)
    prox_nb(v, t0, C, w_prev, lo, hi, 0.0, x)
    wp, ok, steps, res = polish_nb(x, R, Sigma, C, w_prev, lam, lo, hi, tol_eff, 30)
    iters = steps
    if ok:
        return wp, iters, STATUS_OPTIMAL, res
    # 2) FISTA with exact prox, polishing whenever the active pattern is stable.
    L = 2.0 * lam * _lambda_max(Sigma, 100) * 1.05
    L = min(L, 2.0 * lam * np.trace(Sigma))
    t = 1.0 / L
    x = wp
    y = x.copy()
    xn = np.empty(n)
    theta = 1.0
    nu = 0.0
    state = np.empty(n, dtype=np.int8)
    prev_state = np.full(n, -1, dtype=np.int8)
    tried = np.full(n, -1, dtype=np.int8)
    stable = 0
    for k in range(max_iter):
        iters += 1
        v = y - t * (2.0 * lam * _matvec(Sigma, y) - R)
        nu = prox_nb(v, t, C, w_prev, lo, hi, nu, xn)
        _classify(xn, w_prev, lo, hi, state)
        same = True
        for i in range(n):
            if state[i] != prev_state[i]:
                same = False
                break
        stable = stable + 1 if same else 0
        prev_state[:] = state
        # Adaptive restart (O'Donoghue & Candes, gradient scheme).
        restart = (y - xn) @ (xn - x) > 0.0
        if restart:
            theta = 1.0
            y[:] = xn
        else:
            theta_n = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * theta * theta))
            y = xn + ((theta - 1.0) / theta_n) * (xn - x)
            theta = theta_n
        x = xn.copy()
        if (stable >= 2 and not np.array_equal(state, tried)) or (k + 1) % 50 == 0:
            tried[:] = state
            wp, ok, steps, res = polish_nb(x, R, Sigma, C, w_prev, lam, lo, hi, tol_eff, 30)
            iters += steps
            if ok:
                return wp, iters, STATUS_OPTIMAL, res
            x = wp
            y[:] = wp
            theta = 1.0
    res = kkt_residual_nb(x, R, Sigma, C, w_prev, lam, lo, hi, 0.0)
    if res <= tol_eff:
        return x, iters, STATUS_OPTIMAL, res
    return x, iters, STATUS_MAX_ITER, res


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
    Status 0 optimal (KKT residual <= tol), 1 max_iter, 2 failed.
    """
    w, iters, status, _res = solve_full_nb(R, Sigma, C, w_prev, lam, lo, hi, w0, tol, max_iter)
    return w, iters, status
