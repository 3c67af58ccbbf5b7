"""Pure-numpy twins of the numba kernels in ``_kernels`` (written independently, for the tests).

* :func:`prox_py` finds the budget multiplier by sorting all breakpoints (the kernel uses a
  safeguarded Newton search);
* :func:`lp_py` is the greedy segment fill, vectorised;
* :func:`solve_py` is FISTA with the exact prox plus a vectorised primal active-set polish whose
  reduced systems are always solved by least squares.

The KKT-residual twin of ``kkt_residual_nb`` is :func:`rwafolio.optimize.model.kkt_residual`.
"""

from __future__ import annotations

import numpy as np

from rwafolio.optimize.model import kkt_residual

__all__ = ["lp_py", "prox_py", "solve_py"]


def _prox_at(
    v: np.ndarray,
    t: float,
    C: np.ndarray,
    p: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    nu: np.ndarray,
) -> np.ndarray:
    x = v[None, :] - t * nu[:, None]
    c = t * C[None, :]
    s = np.where(x > p + c, x - c, np.where(x < p - c, x + c, p))
    return np.clip(s, lo, hi)


def prox_py(
    v: np.ndarray, t: float, C: np.ndarray, p: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, float]:
    """Exact prox of ``t*(sum C|w-p| + box + budget)`` at ``v``: returns ``(w, nu)``."""
    c = t * C
    pts = np.concatenate([p - c, p + c, lo - c, lo + c, hi - c, hi + c])
    vv = np.tile(v, 6)
    nus = np.unique((vv - pts) / t)
    sums = _prox_at(v, t, C, p, lo, hi, nus).sum(axis=1) - 1.0  # non-increasing in nu
    k = int(np.searchsorted(-sums, 0.0))  # first index with sums <= 0
    if k == 0:
        nu = float(nus[0])
    elif k == len(nus):
        nu = float(nus[-1])
    else:
        a, b = nus[k - 1], nus[k]
        fa, fb = sums[k - 1], sums[k]
        nu = float(b if fa == fb else a + (b - a) * fa / (fa - fb))
    w = _prox_at(v, t, C, p, lo, hi, np.array([nu]))[0]
    return w, nu


def lp_py(
    c: np.ndarray, C: np.ndarray, p: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Greedy exact solution of ``max c'w - sum C|w - p|`` over box and budget."""
    n = c.shape[0]
    pc = np.clip(p, lo, hi)
    vals = np.concatenate([c + C, c - C])
    lens = np.concatenate([pc - lo, hi - pc])
    order = np.argsort(-vals, kind="mergesort")
    before = np.concatenate([[0.0], np.cumsum(lens[order])[:-1]])
    take = np.clip((1.0 - lo.sum()) - before, 0.0, lens[order])
    w = lo.copy()
    np.add.at(w, order % n, take)
    full_a = np.zeros(n, dtype=bool)
    full_a[order[(order < n) & (take == lens[order])]] = True
    full_b = np.zeros(n, dtype=bool)
    full_b[order[(order >= n) & (take == lens[order])] - n] = True
    take_b = np.zeros(n)
    take_b[order[order >= n] - n] = take[order >= n]
    w = np.where(full_b, hi, np.where(full_a & (take_b == 0), pc, w))  # exactly on kinks/bounds
    return w


def _polish_py(
    x: np.ndarray, R: np.ndarray, S: np.ndarray, C: np.ndarray, p: np.ndarray, lam: float,
    lo: np.ndarray, hi: np.ndarray, tol: float, steps: int,
) -> tuple[np.ndarray, bool]:  # fmt: skip
    """Vectorised primal active-set method (states: lo, hi, kink, up, down)."""
    w = x.copy()
    state = np.select([w <= lo, w >= hi, w == p, w > p], [0, 1, 2, 3], 4)
    frozen = lo == hi
    for _ in range(steps):
        F = np.flatnonzero(state >= 3)
        h = R - 2.0 * lam * (S @ w)
        nu = 0.0
        if F.size:
            s = np.where(state[F] == 3, 1.0, -1.0)
            m = F.size
            K = np.zeros((m + 1, m + 1))
            K[:m, :m] = 2.0 * lam * S[np.ix_(F, F)]
            K[:m, m] = K[m, :m] = 1.0
            b = np.append(h[F] - C[F] * s, 1.0 - w.sum())
            sol = np.linalg.lstsq(K, b, rcond=1e-13)[0]
            r = b - K @ sol
            ray = np.max(np.abs(r)) > 1e-10 * (1.0 + np.abs(b).max() + np.abs(K).max())
            d = r[:m] - r[:m].mean() if ray else sol[:m]
            nu = float(sol[m])
            down_lim = np.where((state[F] == 3) & (p[F] > lo[F]), p[F], lo[F])
            up_lim = np.where((state[F] == 4) & (p[F] < hi[F]), p[F], hi[F])
            lim = np.where(d < 0, down_lim, up_lim)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(d != 0, (lim - w[F]) / d, np.inf)
            j = int(np.argmin(ratio))
            alpha = max(float(ratio[j]), 0.0)
            if alpha >= 1.0 and not ray:
                w[F] += d
            elif np.isfinite(alpha):
                w[F] += alpha * d
                i = F[j]
                w[i] = lim[j]
                state[i] = 2 if lim[j] == p[i] else (0 if lim[j] == lo[i] else 1)
                continue
            else:
                return w, False
            h = R - 2.0 * lam * (S @ w)
        if not F.size:
            up = np.where(w >= p, h - C, h + C)[(state != 1) & ~frozen]
            dn = np.where(w <= p, -h - C, -h + C)[(state != 0) & ~frozen]
            if up.size and dn.size:
                nu = 0.5 * (up.max() - dn.max())
        q = h - nu
        up_v = np.where(np.isin(state, (0, 2)) & ~frozen, np.where(w >= p, q - C, q + C), -np.inf)
        dn_v = np.where(np.isin(state, (1, 2)) & ~frozen, np.where(w <= p, -q - C, -q + C), -np.inf)
        iu, idn = int(np.argmax(up_v)), int(np.argmax(dn_v))
        if max(up_v[iu], dn_v[idn]) <= 0.25 * tol:
            return w, kkt_residual(w, R, S, C, p, lam, lo, hi, active_tol=0.0) <= tol
        if up_v[iu] >= dn_v[idn]:
            state[iu] = 3 if w[iu] >= p[iu] else 4
        else:
            state[idn] = 4 if w[idn] <= p[idn] else 3
    return w, False


def solve_py(
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
    """Pure-numpy twin of ``solve_nb`` (same arguments and returns; slow, for tests)."""
    n = R.shape[0]
    scale = 1.0 + np.abs(R).max() + 2.0 * lam * np.diag(Sigma).max() + C.max()
    tol = max(tol, 1e-13 * scale * max(1.0, np.sqrt(n) / 4.0))
    x, _ = prox_py(w0, 1.0, np.zeros(n), w_prev, lo, hi)
    if max_iter <= 0:
        return x, 0, 1
    if lam == 0.0 or np.diag(Sigma).max() == 0.0:
        w = lp_py(R, C, w_prev, lo, hi)
        ok = kkt_residual(w, R, Sigma, C, w_prev, lam, lo, hi, active_tol=0.0) <= tol
        return w, 1, 0 if ok else 2
    t = 1.0 / (2.0 * lam * np.linalg.eigvalsh(Sigma)[-1])
    y = x.copy()
    theta = 1.0
    last = None
    for k in range(max_iter):
        xn, _ = prox_py(y - t * (2.0 * lam * (Sigma @ y) - R), t, C, w_prev, lo, hi)
        if (y - xn) @ (xn - x) > 0:
            theta, y = 1.0, xn.copy()
        else:
            tn = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * theta * theta))
            y = xn + ((theta - 1.0) / tn) * (xn - x)
            theta = tn
        x = xn
        pattern = np.select([x <= lo, x >= hi, x == w_prev, x > w_prev], [0, 1, 2, 3], 4)
        if k % 10 == 9 or (last is not None and np.array_equal(pattern, last)):
            wp, ok = _polish_py(x, R, Sigma, C, w_prev, lam, lo, hi, tol, 30)
            if ok:
                return wp, k + 1, 0
        last = pattern
    ok = kkt_residual(x, R, Sigma, C, w_prev, lam, lo, hi, active_tol=0.0) <= tol
    return x, max_iter, 0 if ok else 1


def held_optimal_py(
    R: np.ndarray,
    Sigma: np.ndarray,
    C: np.ndarray,
    p: np.ndarray,
    lam: float,
    lo: np.ndarray,
    hi: np.ndarray,
    budget_tol: float,
) -> bool:
    """Numpy twin of ``held_optimal_nb``: intersect the multiplier intervals as arrays."""
    if np.any(p < lo) or np.any(p > hi) or abs(p.sum() - 1.0) > budget_tol:
        return False
    g = R - 2.0 * lam * (Sigma @ p)
    lower = np.where(p < hi, g - C, -np.inf)
    upper = np.where(p > lo, g + C, np.inf)
    return bool(lower.max() <= upper.min())
