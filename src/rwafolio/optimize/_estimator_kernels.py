"""Compiled estimator: Ledoit-Wolf shrinkage of the correlations (the default covariance).

:func:`lw_correlation_nb` is the one implementation of
``rwafolio.optimize.estimators.ledoit_wolf(..., target="correlation")``: the estimator calls it,
and so do the compiled decision loops (:mod:`rwafolio.strategies._decide_kernels`), so a
decision computed in Python and one computed in a compiled loop see the same bits. The
pure-numpy twin the tests compare it against is :func:`rwafolio.optimize._twins.lw_correlation_py`.
Units: per period, like the returns given.

It runs once per decision in every loop (the live bar, each simulated date of the Monte Carlo), so
it is written as plain loops with no BLAS call and four arrays allocated (the mean, the centred
window ``D``, the covariance, the inverse volatilities): the cross products ``G = D'D`` give the
variances, the correlations ``G_ab / sqrt(G_aa G_bb)`` and, after shrinkage, the covariance
``(1 - s) G_ab / T`` directly. Every ``G_ab`` is summed over the window in time order, however the
loops are blocked.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["lw_correlation_nb"]


@njit(cache=True)
def lw_correlation_nb(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and Ledoit-Wolf covariance with the correlation target (per period).

    Parameters
    ----------
    X : ndarray of shape (n_obs, n_assets), float64, C-contiguous
        Per-period returns of the window (finite; not checked).

    Returns
    -------
    (mu, cov) : ndarrays of shape (n_assets,) and (n_assets, n_assets)
        Window mean and the shrunk covariance, per period; a zero-variance asset keeps zero rows.

    The standardized returns ``z = (x - mu) / sd`` (``sd`` with ``1 / n_obs``) of the ``k`` live
    assets have correlations ``S`` (unit diagonal); the shrinkage towards the identity is
    sklearn's: ``delta = ||S - I||_F^2 / k``, ``beta = (sum_t (z_t'z_t)^2 / T - ||S||_F^2) /
    (k T)`` clipped to ``delta``, ``s = beta / delta``. The covariance is ``(1 - s) S + s I``
    rescaled by the volatilities (every variance kept as estimated); when ``s = 0`` the
    correlations are repaired to the nearest PSD matrix by eigenvalue clipping.

    The one implementation of :func:`rwafolio.optimize.estimators.ledoit_wolf` with
    ``target="correlation"`` (which calls it), so the engine's Python path and every compiled
    loop estimate with the same bits. Its pure-numpy twin is
    :func:`rwafolio.optimize._twins.lw_correlation_py`.
    """
    t_obs, n = X.shape
    T = float(t_obs)
    mu = np.empty(n)
    for j in range(n):
        acc = 0.0
        for t in range(t_obs):
            acc += X[t, j]
        mu[j] = acc / T
    D, cov = _cross_products(X, mu)  # cov's upper triangle: G = D'D
    isd = np.empty(n)  # 1 / sqrt(G_aa), 0 for a zero-variance asset
    k = 0
    for a in range(n):
        if cov[a, a] / T > 0.0:
            isd[a] = 1.0 / np.sqrt(cov[a, a])
            k += 1
        else:
            isd[a] = 0.0
    if k == 0:
        cov[:, :] = 0.0
        return mu, cov
    off = 0.0  # ||S - I||_F^2: the off-diagonal correlations squared
    for a in range(n):
        for b in range(a + 1, n):
            r = cov[a, b] * isd[a] * isd[b]
            off += r * r
    off *= 2.0
    row4 = 0.0  # sum_t (z_t'z_t)^2 / T^2, z_t = sqrt(T) * D_t * isd
    for t in range(t_obs):
        acc = 0.0
        for j in range(n):
            u = D[t, j] * isd[j]
            acc += u * u
        row4 += acc * acc
    kf = float(k)
    delta = off / kf
    beta = min((T * row4 - (kf + off)) / (kf * T), delta)
    shrink = 0.0 if beta <= 0.0 or delta <= 0.0 else beta / delta
    keep = (1.0 - shrink) / T
    for a in range(n):
        live = isd[a] > 0.0
        cov[a, a] = cov[a, a] / T if live else 0.0
        for b in range(a + 1, n):
            v = keep * cov[a, b] if live and isd[b] > 0.0 else 0.0
            cov[a, b] = v
            cov[b, a] = v
    if shrink == 0.0 and k > 1:
        _repair_correlations(cov, k)
    return mu, cov


@njit(cache=True)
def _cross_products(X: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(D, G)``: the centred window ``X - mu`` (T, n) and ``D'D`` (n, n) in its upper triangle.

    Rows are taken two at a time against four columns (eight running sums that share their
    loads); each entry is still summed over the window in time order. The cells below the
    diagonal are left as scratch.
    """
    t_obs, n = X.shape
    D = np.empty((t_obs, n))
    for t in range(t_obs):
        for j in range(n):
            D[t, j] = X[t, j] - mu[j]
    G = np.empty((n, n))
    for a in range(0, n, 2):
        e = min(a + 1, n - 1)
        b = a
        while b + 4 <= n:
            s0 = s1 = s2 = s3 = r0 = r1 = r2 = r3 = 0.0
            for t in range(t_obs):
                da, de = D[t, a], D[t, e]
                x0, x1, x2, x3 = D[t, b], D[t, b + 1], D[t, b + 2], D[t, b + 3]
                s0 += da * x0
                s1 += da * x1
                s2 += da * x2
                s3 += da * x3
                r0 += de * x0
                r1 += de * x1
                r2 += de * x2
                r3 += de * x3
            G[a, b], G[a, b + 1], G[a, b + 2], G[a, b + 3] = s0, s1, s2, s3
            G[e, b], G[e, b + 1], G[e, b + 2], G[e, b + 3] = r0, r1, r2, r3
            b += 4
        for c in range(b, n):
            s0 = r0 = 0.0
            for t in range(t_obs):
                s0 += D[t, a] * D[t, c]
                r0 += D[t, e] * D[t, c]
            G[a, c] = s0
            G[e, c] = r0
    return D, G


@njit(cache=True)
def _repair_correlations(cov: np.ndarray, k: int) -> None:
    """Clip the correlations' negative eigenvalues to 0 and rescale, in place (``cov`` (n, n)).

    ``cov`` is the unshrunk covariance with ``k`` live assets (the others have zero rows); it is
    unchanged when their correlation matrix is PSD.
    """
    n = cov.shape[0]
    live = np.empty(k, dtype=np.int64)
    sd = np.empty(k)
    i = 0
    for a in range(n):
        if cov[a, a] > 0.0:
            live[i] = a
            sd[i] = np.sqrt(cov[a, a])
            i += 1
    C = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            C[i, j] = 1.0 if i == j else cov[live[i], live[j]] / (sd[i] * sd[j])
    ev, V = np.linalg.eigh(C)
    if ev[0] >= 0.0:
        return
    C = (V * np.maximum(ev, 0.0)) @ V.T
    for i in range(k):
        for j in range(k):
            cov[live[i], live[j]] = 0.5 * (C[i, j] + C[j, i]) * (sd[i] * sd[j])
