"""Ledoit-Wolf (correlation target) kept up to date as the window rolls, in O(n^2) per row.

:func:`rwafolio.strategies._decide_kernels.lw_correlation_nb` estimates from the whole window
(O(T n^2)). A loop that rolls its window one row at a time (the strategy-aware Monte Carlo, the
historical and live loops) can instead keep running sums of the shifted returns ``y = x - shift``
over the window and read the same estimate from them:

- ``s1[j] = sum y_j``, ``s2[j, k] = sum y_j y_k`` (mean and covariance),
- ``s3[j, k] = sum y_j^2 y_k`` and ``s4[j, k] = sum y_j^2 y_k^2`` (Ledoit-Wolf's ``beta`` needs
  ``sum_t (sum_j z_tj^2)^2``, which expands into these sums about the window mean).

``shift`` (per asset, fixed while rolling, e.g. the first window's mean) keeps the sums centred so
the expansion loses no digits; re-read the sums from a window (:func:`lw_sums_nb`) now and then
on long rolls. When an asset's variance is not well above the rounding of its sums (a flat or
near-flat column), :func:`lw_from_sums_nb` says so and the caller estimates from the window with
:func:`lw_correlation_nb`, so the answer is that of the one-pass estimator to ~1e-13 relative.

All arrays float64; per-period units; ``t_obs`` rows in the window.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: An asset's window variance must exceed this fraction of its shifted second moment (else the
#: sums are not trusted and the caller estimates from the window).
VAR_FLOOR = 1e-4


@njit(cache=True, nogil=True)
def lw_roll_nb(
    x: np.ndarray,
    sign: float,
    shift: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    s3: np.ndarray,
    s4: np.ndarray,
) -> None:
    """Add (``sign = 1``) or remove (``sign = -1``) one row ``x`` of shape (n,) from the sums."""
    n = x.shape[0]
    for j in range(n):
        yj = x[j] - shift[j]
        qj = yj * yj
        s1[j] += sign * yj
        for k in range(n):
            yk = x[k] - shift[k]
            s2[j, k] += sign * (yj * yk)
            s3[j, k] += sign * (qj * yk)
            s4[j, k] += sign * (qj * (yk * yk))


@njit(cache=True, nogil=True)
def lw_sums_nb(
    X: np.ndarray,
    shift: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    s3: np.ndarray,
    s4: np.ndarray,
) -> None:
    """Set the sums to those of the window ``X`` of shape (t_obs, n) (written in place)."""
    s1[:] = 0.0
    s2[:] = 0.0
    s3[:] = 0.0
    s4[:] = 0.0
    for t in range(X.shape[0]):
        lw_roll_nb(X[t], 1.0, shift, s1, s2, s3, s4)


@njit(cache=True, nogil=True)
def lw_from_sums_nb(
    s1: np.ndarray,
    s2: np.ndarray,
    s3: np.ndarray,
    s4: np.ndarray,
    shift: np.ndarray,
    t_obs: float,
    mu: np.ndarray,
    cov: np.ndarray,
) -> bool:
    """Window mean and Ledoit-Wolf covariance (correlation target) from the sums, in place.

    The same estimate as :func:`lw_correlation_nb` on the window (mirrors its steps). Returns
    False, with ``mu`` and ``cov`` unspecified, when some asset's variance is below
    ``VAR_FLOOR`` of its shifted second moment: estimate from the window then.
    """
    n = s1.shape[0]
    T = t_obs
    m = s1 / T
    sd = np.empty(n)
    for j in range(n):
        raw = s2[j, j] / T
        var = raw - m[j] * m[j]
        if not var > VAR_FLOOR * raw:
            return False
        sd[j] = np.sqrt(var)
        mu[j] = shift[j] + m[j]
    k = float(n)
    # correlations S, their trace (n, up to rounding) and sum of squares
    tr = 0.0
    ss = 0.0
    for a in range(n):
        for b in range(n):
            if a == b:
                v = 1.0
            else:
                v = (s2[a, b] / T - m[a] * m[b]) / (sd[a] * sd[b])
            cov[a, b] = v
            ss += v * v
        tr += cov[a, a]
    mm = tr / k
    delta = (ss - 2.0 * mm * tr + k * mm * mm) / k
    # sum_t (sum_j z_tj^2)^2 / T from the sums about the window mean
    row4 = 0.0
    for j in range(n):
        mj = m[j]
        for q in range(n):
            mq = m[q]
            Q = (
                s4[j, q] - 2.0 * mq * s3[j, q] - 2.0 * mj * s3[q, j]
                + mq * mq * s2[j, j] + mj * mj * s2[q, q] + 4.0 * mj * mq * s2[j, q]
                - 2.0 * mj * mq * mq * s1[j] - 2.0 * mj * mj * mq * s1[q]
                + T * mj * mj * mq * mq
            )  # fmt: skip
            row4 += Q / ((sd[j] * sd[j]) * (sd[q] * sd[q]))
    row4 /= T
    beta = (row4 - ss) / (k * T)
    beta = min(beta, delta)
    shrink = 0.0 if beta <= 0.0 or delta <= 0.0 else beta / delta
    for a in range(n):
        for b in range(n):
            cov[a, b] *= 1.0 - shrink
        cov[a, a] += shrink
    if shrink == 0.0:
        ev, V = np.linalg.eigh(cov)
        if ev[0] < 0.0:
            C = (V * np.maximum(ev, 0.0)) @ V.T
            cov[:, :] = 0.5 * (C + C.T)
    for a in range(n):
        for b in range(n):
            cov[a, b] *= sd[a] * sd[b]
    return True
