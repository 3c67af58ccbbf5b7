"""One-pass validation kernel of a problem's arrays (what makes the public ``solve`` cheap).

:func:`check_problem_nb` runs every check of :func:`rwafolio.optimize.model.validate_problem`
on float64 arrays in one compiled pass and returns a code (0: valid). It does not build messages:
when it reports a problem, ``validate_problem`` re-runs its descriptive numpy checks, which raise
the typed error naming the argument. ``tests/optimize/test_checks.py`` holds the two together.

Positive semi-definiteness: Sigma is accepted when the Cholesky factorization of
``Sigma + PSD_TOL * max_i Sigma_ii * I`` succeeds (a Sigma with no positive variance only when
it is zero), i.e. when its smallest eigenvalue
is above ``-PSD_TOL`` times its largest variance (up to rounding). ``PSD_TOL = 1e-10`` passes
singular covariances (a zero-variance stablecoin, a sample covariance of fewer observations
than assets, whose rounding leaves eigenvalues near -1e-16 of the scale) and refuses a matrix
that is indefinite by more than rounding.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["OK", "PSD_TOL", "check_problem_nb", "cholesky_ok_nb", "psd_ok_nb"]

#: Relative tolerance of the PSD check (fraction of the largest variance).
PSD_TOL = 1e-10
OK = 0
#: Codes: which argument failed first (validate_problem then names it in words).
BAD_R, BAD_SIGMA, BAD_COSTS, BAD_W_PREV, BAD_LAM, BAD_BOUNDS, NOT_PSD, BAD_SHAPE = (
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
)
BAD_WARM = 9

#: The one signature compiled: float64 C-contiguous arrays (others are the caller's slow path).
_SIGNATURE = (
    "int64(float64[::1], float64[:, ::1], float64[::1], float64[::1], float64, float64[::1], "
    "float64[::1], float64[::1], float64, float64, float64[:, ::1])"
)


@njit(cache=True, fastmath=True)
def cholesky_ok_nb(S: np.ndarray, shift: float) -> bool:
    """Whether ``S + shift * I`` (symmetric, shape (n, n)) has a Cholesky factor.

    ``fastmath`` lets the inner products vectorize (their summation order is free): the answer
    is a yes/no against a tolerance far above the rounding this changes."""
    n = S.shape[0]
    L = np.empty((n, n))  # only its lower triangle is written and read
    for j in range(n):
        d = S[j, j] + shift
        for k in range(j):
            d -= L[j, k] * L[j, k]
        if not d > 0.0:
            return False
        ljj = np.sqrt(d)
        L[j, j] = ljj
        for i in range(j + 1, n):
            s = S[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / ljj
    return True


@njit(cache=True)
def psd_ok_nb(S: np.ndarray, psd_tol: float) -> bool:
    """Whether the symmetric ``S`` is PSD to ``psd_tol`` times its largest variance (module doc).

    With no positive variance, S is PSD only if it is zero (a zero diagonal forces zero
    off-diagonals)."""
    n = S.shape[0]
    dmax = 0.0
    for i in range(n):
        dmax = max(dmax, S[i, i])
    if dmax > 0.0:
        return cholesky_ok_nb(S, psd_tol * dmax)
    for i in range(n):
        for j in range(n):
            if S[i, j] != 0.0:
                return False
    return True


@njit(cache=True)
def _finite(x: np.ndarray) -> bool:
    for v in x.ravel():
        if not np.isfinite(v):
            return False
    return True


@njit(_SIGNATURE, cache=True)
def check_problem_nb(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    w_prev: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    warm: np.ndarray,
    sym_tol: float,
    psd_tol: float,
    out: np.ndarray,
) -> int:
    """Validate one problem; write ``0.5 (Sigma + Sigma')`` into ``out`` (shape (n, n)).

    ``warm`` is a warm start of shape (n,), or of shape (0,) for none.

    Returns 0 when valid, else the code of the first failing argument (see the module's
    constants; ``BAD_SHAPE`` when the lengths disagree).
    """
    n = R.shape[0]
    if Sigma.shape[0] != n or Sigma.shape[1] != n or out.shape[0] != n or out.shape[1] != n:
        return BAD_SHAPE
    if C.shape[0] != n or w_prev.shape[0] != n or lo.shape[0] != n or hi.shape[0] != n:
        return BAD_SHAPE
    if n == 0 or not _finite(R):
        return BAD_R
    if not _finite(Sigma):
        return BAD_SIGMA
    amax = 0.0
    asym = 0.0
    for i in range(n):
        d = Sigma[i, i]
        if d < 0.0:
            return BAD_SIGMA
        amax = max(amax, d)
        out[i, i] = d
        for j in range(i + 1, n):
            a, b = Sigma[i, j], Sigma[j, i]
            amax = max(amax, abs(a), abs(b))
            asym = max(asym, abs(a - b))
            out[i, j] = out[j, i] = 0.5 * (a + b)
    if asym > sym_tol * max(amax, 1e-300):
        return BAD_SIGMA
    if not _finite(C):
        return BAD_COSTS
    for v in C:
        if v < 0.0:
            return BAD_COSTS
    if not _finite(w_prev):
        return BAD_W_PREV
    if not (np.isfinite(lam) and lam >= 0.0):
        return BAD_LAM
    if not (_finite(lo) and _finite(hi)):
        return BAD_BOUNDS
    if warm.shape[0] not in (0, n) or not _finite(warm):
        return BAD_WARM
    slo = 0.0
    shi = 0.0
    for i in range(n):
        if lo[i] > hi[i]:
            return BAD_BOUNDS
        slo += lo[i]
        shi += hi[i]
    slack = 1e-12 * n
    if slo > 1.0 + slack or shi < 1.0 - slack:
        return BAD_BOUNDS
    if not psd_ok_nb(out, psd_tol):
        return NOT_PSD
    return OK
