"""Rolling-window moments and the strategy's Ledoit-Wolf estimate from them (compiled).

A loop that re-estimates on a window that rolls one row a day (the crowding agents, the
strategy-aware Monte Carlo) need not re-read the window: it keeps the window's raw moments of
the shifted returns ``y = x - shift`` (a constant per asset that keeps the sums well
conditioned) and updates them in O(n^2) per day, adding the new row and dropping the oldest:

    s1_j = sum_t y_tj,   P_jl = sum_t y_tj y_tl,   Q_jl = sum_t y_tj^2 y_tl,
    F_jl = sum_t y_tj^2 y_tl^2.

From them :func:`lw_from_moments_nb` gives exactly what
:func:`rwafolio.strategies._decide_kernels.lw_correlation_nb` gives on the window (to rounding):
the window mean ``shift + s1 / T``; the centred sums ``P - s1 s1' / T`` (standard deviations and
sample correlation ``S``); and the statistic of Ledoit-Wolf's ``beta``,
``sum_t (sum_j z_tj^2)^2 = sum_jl G_jl / (sd_j^2 sd_l^2)`` with the centred fourth co-moments

    G_jl = F_jl - 2 m_l Q_jl - 2 m_j Q_lj + 4 m_j m_l P_jl + m_l^2 P_jj + m_j^2 P_ll
           - 3 T m_j^2 m_l^2,        m = s1 / T;

the shrinkage itself is the one implementation, :func:`~rwafolio.strategies._decide_kernels.lw_shrink_nb`.
A window where an asset does not move (its centred sum of squares at rounding level of its raw
one) is left to the one-pass estimator: :func:`lw_from_moments_nb` reports it and the caller
re-reads that window. The moments of the window ``X[a:b]`` are :func:`window_moments_nb`; tests
compare the rolled moments and the estimate with the one-pass kernel and the numpy estimator.

Shapes: ``s1`` (n,), ``P``, ``Q``, ``F`` (n, n), updated in place; returns per period.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.strategies._decide_kernels import lw_correlation_nb, lw_shrink_nb

#: A centred sum of squares at most this share of the raw one counts as a constant column.
DEGENERATE = 1e-10


@njit(cache=True, nogil=True)
def add_row_nb(
    y: np.ndarray, sign: float, s1: np.ndarray, P: np.ndarray, Q: np.ndarray, F: np.ndarray
) -> None:
    """Add (``sign = 1``) or drop (``sign = -1``) one shifted row ``y`` (n,), in place."""
    n = y.shape[0]
    for j in range(n):
        yj = y[j]
        s1[j] += sign * yj
        yj2 = yj * yj
        for k in range(n):
            yk = y[k]
            P[j, k] += sign * (yj * yk)
            Q[j, k] += sign * (yj2 * yk)
            F[j, k] += sign * (yj2 * yk * yk)


@njit(cache=True, nogil=True)
def roll_nb(
    new: np.ndarray,
    old: np.ndarray,
    shift: np.ndarray,
    s1: np.ndarray,
    P: np.ndarray,
    Q: np.ndarray,
    F: np.ndarray,
) -> None:
    """Roll the window one row: add return row ``new`` and drop ``old`` (both (n,), unshifted)."""
    n = new.shape[0]
    y = np.empty(n)
    for j in range(n):
        y[j] = new[j] - shift[j]
    add_row_nb(y, 1.0, s1, P, Q, F)
    for j in range(n):
        y[j] = old[j] - shift[j]
    add_row_nb(y, -1.0, s1, P, Q, F)


@njit(cache=True, nogil=True)
def window_moments_nb(
    X: np.ndarray, shift: np.ndarray, s1: np.ndarray, P: np.ndarray, Q: np.ndarray, F: np.ndarray
) -> None:
    """The moments of the returns ``X`` (T, n) shifted by ``shift`` (n,), written in place."""
    n = X.shape[1]
    s1[:] = 0.0
    P[:] = 0.0
    Q[:] = 0.0
    F[:] = 0.0
    y = np.empty(n)
    for t in range(X.shape[0]):
        for j in range(n):
            y[j] = X[t, j] - shift[j]
        add_row_nb(y, 1.0, s1, P, Q, F)


@njit(cache=True, nogil=True)
def lw_from_moments_nb(
    s1: np.ndarray,
    P: np.ndarray,
    Q: np.ndarray,
    F: np.ndarray,
    t_obs: int,
    shift: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(mu, cov, ok)``: the window mean and Ledoit-Wolf covariance (correlation target, per
    period) of the window whose moments are given, as
    :func:`~rwafolio.strategies._decide_kernels.lw_correlation_nb` computes them in one pass.

    ``ok`` is False (and ``mu``, ``cov`` unset) when an asset's centred sum of squares is at most
    ``DEGENERATE`` times its raw one (a constant column): the caller re-reads that window with
    the one-pass estimator, which decides exactly which columns are constant.
    """
    n = s1.shape[0]
    T = float(t_obs)
    m = s1 / T
    mu = shift + m
    sd = np.empty(n)
    for j in range(n):
        css = P[j, j] - s1[j] * m[j]
        if not css > DEGENERATE * P[j, j]:
            return mu, np.zeros((n, n)), False
        sd[j] = np.sqrt(css / T)
    S = np.empty((n, n))
    r4 = 0.0
    for j in range(n):
        for k in range(n):
            S[j, k] = (P[j, k] - s1[j] * m[k]) / T / (sd[j] * sd[k])
            g = (
                F[j, k] - 2.0 * m[k] * Q[j, k] - 2.0 * m[j] * Q[k, j]
                + 4.0 * m[j] * m[k] * P[j, k] + m[k] * m[k] * P[j, j] + m[j] * m[j] * P[k, k]
                - 3.0 * T * m[j] * m[j] * m[k] * m[k]
            )  # fmt: skip
            r4 += g / (sd[j] * sd[j] * sd[k] * sd[k])
    return mu, lw_shrink_nb(S, r4, T, sd), True


@njit(cache=True, nogil=True)
def start_windows_nb(
    windows: np.ndarray, hist0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Several users' windows over one history, at its end: the distinct lengths and moments.

    ``windows`` (K,) int64 window lengths (each at most ``hist0.shape[0]``), ``hist0`` (W, n) the
    returns so far. Returns ``(lengths (S,), slot (K,), shift (n,), s1 (S, n), P, Q, F (S, n,
    n))``: users with the same length share slot ``slot[k]`` (one estimate; a view bias shifts
    only the mean); ``shift`` is the mean of ``hist0``; the moments are those of the last
    ``lengths[s]`` rows of ``hist0``.
    """
    n = hist0.shape[1]
    lengths = np.unique(windows)
    slot = np.searchsorted(lengths, windows)
    n_slots = lengths.shape[0]
    shift = np.zeros(n)
    if hist0.shape[0] > 0:
        for j in range(n):
            shift[j] = hist0[:, j].mean()
    s1 = np.zeros((n_slots, n))
    P = np.zeros((n_slots, n, n))
    Q = np.zeros((n_slots, n, n))
    F = np.zeros((n_slots, n, n))
    for s in range(n_slots):
        window_moments_nb(hist0[hist0.shape[0] - lengths[s] :], shift, s1[s], P[s], Q[s], F[s])
    return lengths, slot, shift, s1, P, Q, F


@njit(cache=True, nogil=True)
def estimate_windows_nb(
    buf: np.ndarray,
    end: int,
    lengths: np.ndarray,
    shift: np.ndarray,
    s1: np.ndarray,
    P: np.ndarray,
    Q: np.ndarray,
    F: np.ndarray,
    est_mu: np.ndarray,
    est_cov: np.ndarray,
) -> None:
    """Roll every window to the row ``buf[end - 1]`` just written, and estimate (in place).

    ``buf`` (rows, n) holds the returns so far (``end`` of them; ``end - 1 - lengths[s] >= 0``).
    ``est_mu[s]`` (n,) and ``est_cov[s]`` (n, n) become the window mean and Ledoit-Wolf
    covariance of ``buf[end - lengths[s] : end]``: from the rolled moments, or, for a window with
    a constant column, :func:`~rwafolio.strategies._decide_kernels.lw_correlation_nb` on it.
    """
    for s in range(lengths.shape[0]):
        L = lengths[s]
        roll_nb(buf[end - 1], buf[end - 1 - L], shift, s1[s], P[s], Q[s], F[s])
        mu, cov, ok = lw_from_moments_nb(s1[s], P[s], Q[s], F[s], L, shift)
        if not ok:
            mu, cov = lw_correlation_nb(buf[end - L : end])
        est_mu[s] = mu
        est_cov[s] = cov
