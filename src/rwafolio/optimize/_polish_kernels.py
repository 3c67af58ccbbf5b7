"""Numba kernel of the active-set polish of the fast solver, and its small dense linear algebra.

Plain arrays in, plain arrays out, no validation (see :mod:`rwafolio.optimize._kernels` for the
problem and where the polish sits in the algorithm). :func:`polish_nb` keeps a state per asset (at
``lo``, at ``hi``, at its kink ``w = p``, or free with a known trade sign), solves the reduced
equality-constrained KKT system of the free assets exactly, steps to the first blocking bound or
kink, and releases the fixed asset whose multiplier has the wrong sign by the most.

The steps of :func:`polish_nb` are helpers compiled with ``inline="always"``: as separate calls
they cost about 10% of a solve at n = 10 (``benchmarks/optimizer.py``); inlined, the kernel is as
fast as the single function it was, and its results are the same bits
(``tests/optimize/test_kernels_pinned.py``). Numba's cache does not follow calls across files:
after editing this module, clear the cache or the cached ``solve_full_nb`` keeps the old code.

The polish allocates nothing: :func:`polish_into` works in one caller buffer (the solver's
per-solve scratch; :func:`polish_nb` allocates it for other callers), since at n = 6 each numba
allocation costs 30-60 ns and the array expressions it replaced made about twenty per step. Each
loop does the operations of the expression it replaced in the same order (numba's sums are
left-to-right loops, its maxima scans), so the bits are unchanged
(``tests/optimize/test_scratch_kernels.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.optimize._prox_kernels import (
    _gradient_into,
    _matvec,
    _max,
    _max_abs,
    _max_abs_2d,
    _sum,
    kkt_residual_nb,
)

# Asset states in the active-set polish.
_LO = 0
_HI = 1
_KINK = 2
_UP = 3  # free, w > p
_DOWN = 4  # free, w < p


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


@njit(cache=True, inline="always")
def _chol_into(A: np.ndarray, L: np.ndarray) -> bool:
    """Plain Cholesky (lower) of small ``A`` into ``L``; False when not positive definite.

    Only the lower triangle of ``L`` is written (and read by :func:`_chol_solve_into`).
    """
    m = A.shape[0]
    for j in range(m):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 0.0:
            return False
        d = np.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, m):
            s = A[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / d
    return True


@njit(cache=True, inline="always")
def _chol_solve_into(L: np.ndarray, b: np.ndarray, y: np.ndarray) -> None:
    """``y = (L L')^-1 b`` by forward and back substitution (``y`` must not alias ``b``)."""
    m = L.shape[0]
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


@njit(cache=True)
def _reduced_lstsq_into(
    A: np.ndarray, g: np.ndarray, e: float, scale: float, d: np.ndarray
) -> tuple[float, int]:
    """The least-squares end of :func:`_reduced_solve_into` (singular or large ``A``)."""
    m = g.shape[0]
    K = np.zeros((m + 1, m + 1))
    K[:m, :m] = A
    K[:m, m] = 1.0
    K[m, :m] = 1.0
    b = np.empty(m + 1)
    b[:m] = g
    b[m] = e
    sol, _res, _rk, _sv = np.linalg.lstsq(K, b, 1e-13)
    if not np.all(np.isfinite(sol)):
        return 0.0, 2
    r = b - _matvec(K, sol)
    if np.max(np.abs(r)) <= 1e-10 * scale:
        # One step of iterative refinement: the step is small against a large gradient (high
        # lam, prohibitive costs), and least squares is accurate relative to |b| only.
        fix, _res, _rk, _sv = np.linalg.lstsq(K, r, 1e-13)
        better = sol + fix
        r2 = b - _matvec(K, better)
        if np.all(np.isfinite(better)) and np.max(np.abs(r2)) < np.max(np.abs(r)):
            sol = better
        d[:] = sol[:m]
        return float(sol[m]), 0
    # Inconsistent: the residual lies in null(K) = {(z, 0): A z = 0, 1'z = 0}, and g'z = |z|^2 > 0
    # so z is a descent ray of the reduced problem.
    ray = r[:m].copy()
    if ray @ g <= 0.0:
        return 0.0, 2
    ray -= ray.mean()
    d[:] = ray
    return 0.0, 1


@njit(cache=True)
def _large_solve_into(A: np.ndarray, g: np.ndarray, e: float, d: np.ndarray) -> tuple[float, bool]:
    """LAPACK Cholesky end of :func:`_reduced_solve_into` for ``m > 48``: ``(nu, solved)``."""
    m = g.shape[0]
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
            for i in range(m):
                d[i] = y[i, 1] - nu * y[i, 0]
            return nu, True
    except Exception:
        pass
    return 0.0, False


@njit(cache=True, inline="always")
def _reduced_solve_into(
    A: np.ndarray, g: np.ndarray, e: float, scale: float, d: np.ndarray, work: np.ndarray
) -> tuple[float, int]:
    """Minimise ``d'Ad/2 - g'd`` s.t. ``1'd = e`` via ``A d + nu 1 = g, 1'd = e``, into ``d``.

    ``A`` is (m, m), ``g`` and ``d`` (m,); ``work`` holds at least ``m * m + 3 m`` floats of
    scratch. Returns ``(nu, mode)``: mode 0 means ``d`` is the exact minimiser; mode 1 means the
    reduced problem is unbounded below (singular ``A`` with the linear term in its null space) and
    ``d`` is a descent ray with ``A d = 0``, ``1'd = 0``; mode 2 means failure (``d`` undefined).
    Every array operation is a loop doing the operations of the array expression it replaces, in
    the same order: the same bits as the allocating version this replaced.
    """
    m = g.shape[0]
    nu = 0.0
    solved = False
    if m <= 48:
        L = work[: m * m].reshape((m, m))
        ones = work[m * m : m * m + m]
        y1 = work[m * m + m : m * m + 2 * m]
        y2 = work[m * m + 2 * m : m * m + 3 * m]
        if _chol_into(A, L):
            for i in range(m):
                ones[i] = 1.0
            _chol_solve_into(L, ones, y1)
            _chol_solve_into(L, g, y2)
            s1 = _sum(y1)
            s2 = _sum(y2)
            if s1 > 0.0 and np.isfinite(s1) and np.isfinite(s2):
                nu = (s2 - e) / s1
                for i in range(m):
                    d[i] = y2[i] - nu * y1[i]
                solved = True
    else:
        nu, solved = _large_solve_into(A, g, e, d)
    if solved:
        # Verify; near-singular A can pass Cholesky with poor accuracy. ``max|r| <= bound`` (false
        # on a NaN) is ``|r_i| <= bound`` for every i, with r = (A d + nu) - g.
        bound = 1e-11 * scale
        ok = True
        for i in range(m):
            acc = 0.0
            for j in range(m):
                acc += A[i, j] * d[j]
            if not abs(acc + nu - g[i]) <= bound:
                ok = False
                break
        if ok and abs(_sum(d) - e) <= 1e-13:
            return nu, 0
    return _reduced_lstsq_into(A, g, e, scale, d)


@njit(cache=True, inline="always")
def _free_indices(state: np.ndarray, free: np.ndarray) -> int:
    """Write the indices of the free assets (``_UP`` or ``_DOWN``) into ``free``; return their count."""
    m = 0
    for i in range(state.shape[0]):
        if state[i] >= _UP:
            free[m] = i
            m += 1
    return m


@njit(cache=True, inline="always")
def _reduced_system_into(
    idx: np.ndarray,
    state: np.ndarray,
    Sigma: np.ndarray,
    h: np.ndarray,
    C: np.ndarray,
    lam: float,
    A: np.ndarray,
    g: np.ndarray,
) -> None:
    """Hessian ``A (m, m)`` and linear term ``g (m,)`` of the reduced problem over ``idx``.

    ``h = R - 2 lam Sigma w`` is the gradient of the utility at ``w``; each free asset pays ``C``
    on the side of its trade sign.
    """
    m = idx.shape[0]
    for a in range(m):
        ia = idx[a]
        for b in range(m):
            A[a, b] = 2.0 * lam * Sigma[ia, idx[b]]
        g[a] = h[ia] - (C[ia] if state[ia] == _UP else -C[ia])


@njit(cache=True, inline="always")
def _ratio_test(
    idx: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    state: np.ndarray,
    p: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    alpha: float,
) -> tuple[float, int, int]:
    """First bound or kink that blocks the step ``w[idx] + alpha d`` (``alpha`` is the full step).

    Returns ``(alpha, block, block_state)``: the step length, the blocking asset (-1 if none) and
    the state it takes.
    """
    block = -1
    block_state = 0
    for a in range(idx.shape[0]):
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
    return alpha, block, block_state


@njit(cache=True, inline="always")
def _fix_asset(
    i: int, st: int, w: np.ndarray, state: np.ndarray, p: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> None:
    """Put asset ``i`` in the fixed state ``st`` and snap ``w[i]`` exactly onto its bound or kink."""
    state[i] = st
    if st == _LO:
        w[i] = lo[i]
    elif st == _HI:
        w[i] = hi[i]
    else:
        w[i] = p[i]


@njit(cache=True, inline="always")
def _fixed_budget_multiplier(
    h: np.ndarray,
    w: np.ndarray,
    state: np.ndarray,
    C: np.ndarray,
    p: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> float:
    """Budget multiplier when no asset is free: the midpoint of the feasible interval (0 if open)."""
    best_a = -np.inf
    best_b = -np.inf
    for i in range(w.shape[0]):
        if lo[i] == hi[i]:
            continue
        if state[i] != _HI:
            a = h[i] - C[i] if w[i] >= p[i] else h[i] + C[i]
            best_a = max(best_a, a)
        if state[i] != _LO:
            b = -h[i] - C[i] if w[i] <= p[i] else -h[i] + C[i]
            best_b = max(best_b, b)
    if best_a > -np.inf and best_b > -np.inf:
        return 0.5 * (best_a - best_b)
    return 0.0


@njit(cache=True, inline="always")
def _worst_violator(
    h: np.ndarray,
    nu: float,
    state: np.ndarray,
    C: np.ndarray,
    p: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    thr: float,
) -> tuple[int, int]:
    """Fixed asset whose multiplier ``q_i = h_i - nu`` has the wrong sign by more than ``thr``.

    Returns ``(i, new_state)`` of the worst violator, or ``(-1, 0)`` when every fixed asset is
    optimal.
    """
    worst = thr
    rel = -1
    rel_state = 0
    for i in range(h.shape[0]):
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
    return rel, rel_state


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

    Returns ``(w, ok, steps, residual)`` (residual is inf unless computed); ``ok`` means
    ``kkt_residual_nb(w) <= tol``. When not ok, ``w`` is feasible and no worse than ``x``.
    :func:`polish_into` with fresh buffers.
    """
    n = x.shape[0]
    w = np.empty(n)
    ok, steps, res = polish_into(
        x, R, Sigma, C, p, lam, lo, hi, tol, max_steps, w, np.empty(polish_work_size(n))
    )
    return w, ok, steps, res


@njit(cache=True, inline="always")
def polish_work_size(n: int) -> int:
    """Floats (8 bytes each) of scratch :func:`polish_into` needs for ``n`` assets."""
    return 2 * n * n + 8 * n


@njit(cache=True)
def polish_into(
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
    w: np.ndarray,
    work: np.ndarray,
) -> tuple[bool, int, float]:
    """:func:`polish_nb` writing ``w`` (n,) in place, with caller scratch: no allocation.

    ``work`` is a C-contiguous float64 array of at least :func:`polish_work_size` elements (its
    contents are overwritten; its last ``2 n`` hold the asset states and free indices, viewed as
    int64, so one allocation serves both); ``w`` must not be ``work``'s memory and may be ``x``.
    Returns ``(ok, steps, residual)``; the same bits as the allocating version this replaced.
    """
    n = x.shape[0]
    for i in range(n):
        w[i] = x[i]
    iwork = work[2 * n * n + 6 * n : 2 * n * n + 8 * n].view(np.int64)
    state = iwork[:n]
    free = iwork[n:]
    h = work[:n]
    g_buf = work[n : 2 * n]
    d_buf = work[2 * n : 3 * n]
    a_buf = work[3 * n : 3 * n + n * n]
    solve_work = work[3 * n + n * n : 2 * n * n + 6 * n]
    _classify(w, p, lo, hi, state)
    scale = 1.0 + _max_abs(R) + 2.0 * lam * _max_abs_2d(Sigma) + _max(C)
    thr = 0.25 * tol
    for step in range(max_steps):
        m = _free_indices(state, free)
        _gradient_into(R, Sigma, w, lam, h)
        nu = 0.0
        if m > 0:
            idx = free[:m]
            A = a_buf[: m * m].reshape((m, m))
            g = g_buf[:m]
            d = d_buf[:m]
            _reduced_system_into(idx, state, Sigma, h, C, lam, A, g)
            nu, mode = _reduced_solve_into(A, g, 1.0 - _sum(w), scale, d, solve_work)
            if mode == 2:
                return False, step, np.inf
            # Ratio test: first blocking bound or kink (a ray has no natural step length).
            alpha, block, block_state = _ratio_test(
                idx, d, w, state, p, lo, hi, 1.0 if mode == 0 else np.inf
            )
            if block < 0 and mode == 1:
                return False, step, np.inf
            for a in range(m):
                w[idx[a]] += alpha * d[a]
            if block >= 0:
                _fix_asset(block, block_state, w, state, p, lo, hi)
                continue
            _gradient_into(R, Sigma, w, lam, h)
        else:
            nu = _fixed_budget_multiplier(h, w, state, C, p, lo, hi)
        # Multipliers of fixed assets: q_i = h_i - nu; release the worst violator.
        rel, rel_state = _worst_violator(h, nu, state, C, p, lo, hi, thr)
        if rel < 0:
            res = kkt_residual_nb(w, R, Sigma, C, p, lam, lo, hi, 0.0)
            return res <= tol, step + 1, res
        state[rel] = rel_state
    return False, max_steps, np.inf
