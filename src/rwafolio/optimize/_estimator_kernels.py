"""Compiled estimator: Ledoit-Wolf shrinkage of the correlations (the default covariance).

:func:`lw_correlation_nb` is the one implementation of
``rwafolio.optimize.estimators.ledoit_wolf(..., target="correlation")``: the estimator calls it,
and so do the compiled decision loops (:mod:`rwafolio.strategies._decide_kernels`), so a
decision computed in Python and one computed in a compiled loop see the same bits. The
pure-numpy twin the tests compare it against is :func:`rwafolio.optimize._twins.lw_correlation_py`.
Units: per period, like the returns given.
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

    The one implementation of :func:`rwafolio.optimize.estimators.ledoit_wolf` with
    ``target="correlation"`` (which calls it), so the engine's Python path and every compiled
    loop estimate with the same bits. Its pure-numpy twin is
    :func:`rwafolio.optimize._twins.lw_correlation_py`.
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
