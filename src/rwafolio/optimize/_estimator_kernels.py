"""Compiled estimator: Ledoit-Wolf shrinkage of the correlations (the default covariance).

:func:`lw_correlation_nb` is the one implementation of
``rwafolio.optimize.estimators.ledoit_wolf(..., target="correlation")``: the estimator calls it,
and so do the compiled decision loops (:mod:`rwafolio.strategies._decide_kernels`), so a
decision computed in Python and one computed in a compiled loop see the same bits. The
pure-numpy twin the tests compare it against is :func:`rwafolio.optimize._twins.lw_correlation_py`.
Units: per period, like the returns given.

It runs once per decision in every loop (the live bar, each simulated date of the Monte Carlo), so
it is written as plain loops over the window with three arrays allocated (the mean, the
covariance, the inverse volatilities) and no BLAS call: the centred cross products
``G = D'D`` (``D`` the centred window, never stored) give the variances, the correlations
``G_ab / sqrt(G_aa G_bb)`` and, after shrinkage, the covariance ``(1 - s) G_ab / T`` directly.
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
    cov = np.empty((n, n))  # upper triangle: G = D'D, D the centred window
    for a in range(n):
        ma = mu[a]
        for b in range(a, n):
            mb = mu[b]
            acc = 0.0
            for t in range(t_obs):
                acc += (X[t, a] - ma) * (X[t, b] - mb)
            cov[a, b] = acc
    isd = np.empty(n)  # 1 / sd, 0 for a zero-variance asset
    k = 0
    for a in range(n):
        var = cov[a, a] / T
        if var > 0.0:
            isd[a] = 1.0 / np.sqrt(var)
            k += 1
        else:
            isd[a] = 0.0
    if k == 0:
        cov[:, :] = 0.0
        return mu, cov
    off = 0.0  # ||S - I||_F^2: the off-diagonal correlations squared
    for a in range(n):
        for b in range(a + 1, n):
            r = (cov[a, b] / T) * isd[a] * isd[b]
            off += r * r
    off *= 2.0
    row4 = 0.0  # sum_t (z_t'z_t)^2
    for t in range(t_obs):
        acc = 0.0
        for j in range(n):
            z = (X[t, j] - mu[j]) * isd[j]
            acc += z * z
        row4 += acc * acc
    kf = float(k)
    delta = off / kf
    beta = min((row4 / T - (kf + off)) / (kf * T), delta)
    shrink = 0.0 if beta <= 0.0 or delta <= 0.0 else beta / delta
    keep = 1.0 - shrink
    for a in range(n):
        live = isd[a] > 0.0
        cov[a, a] = cov[a, a] / T if live else 0.0
        for b in range(a + 1, n):
            v = keep * (cov[a, b] / T) if live and isd[b] > 0.0 else 0.0
            cov[a, b] = v
            cov[b, a] = v
    if shrink == 0.0 and k > 1:
        _repair_correlations(cov, isd, k)
    return mu, cov


@njit(cache=True)
def _repair_correlations(cov: np.ndarray, isd: np.ndarray, k: int) -> None:
    """Clip the correlations' negative eigenvalues to 0 and rescale, in place (``cov`` (n, n)).

    ``cov`` holds the unshrunk covariance (zero rows for the ``isd == 0`` assets); unchanged when
    the correlation matrix of the ``k`` live assets is PSD.
    """
    n = cov.shape[0]
    live = np.empty(k, dtype=np.int64)
    i = 0
    for a in range(n):
        if isd[a] > 0.0:
            live[i] = a
            i += 1
    C = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            a, b = live[i], live[j]
            C[i, j] = 1.0 if i == j else cov[a, b] * isd[a] * isd[b]
    ev, V = np.linalg.eigh(C)
    if ev[0] >= 0.0:
        return
    C = (V * np.maximum(ev, 0.0)) @ V.T
    for i in range(k):
        for j in range(k):
            a, b = live[i], live[j]
            cov[a, b] = 0.5 * (C[i, j] + C[j, i]) / (isd[a] * isd[b])
