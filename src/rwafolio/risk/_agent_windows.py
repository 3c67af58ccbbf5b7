"""The crowding agents' estimates: one rolling Ledoit-Wolf per distinct window length.

Agent k estimates on the last ``window[k]`` realized returns plus its view bias. The bias shifts
every return of the window by the same vector, so it moves the window mean by exactly that vector
and leaves the Ledoit-Wolf covariance (correlation target) unchanged: agents with the same window
length share one estimate, and the caller adds each agent's bias to the shared mean. Each distinct
window keeps running sums updated in O(n^2) per day with the rolling kernel
:mod:`rwafolio.strategies._rolling_lw_kernels` (the same estimate as
:func:`~rwafolio.strategies._decide_kernels.lw_correlation_nb` on the window, to which it falls
back on a flat column). Nothing here re-implements the estimator.

Shapes: S distinct lengths, K agents, n assets; ``s1`` (S, n), ``s2``, ``s3``, ``s4`` (S, n, n).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rwafolio.strategies._decide_kernels import lw_correlation_nb
from rwafolio.strategies._rolling_lw_kernels import lw_from_sums_nb, lw_roll_nb, lw_sums_nb

__all__ = ["estimate_windows_nb", "start_windows_nb"]


@njit(cache=True, nogil=True)
def start_windows_nb(
    windows: np.ndarray, hist0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct window lengths and their running sums at the end of ``hist0``.

    ``windows`` (K,) int64 lengths, each at most ``hist0.shape[0]``; ``hist0`` (W, n) the returns
    before the horizon. Returns ``(lengths (S,), slot (K,), shift (n,), s1, s2, s3, s4)``: agent
    k reads slot ``slot[k]``; ``shift`` is the mean of ``hist0`` (it keeps the sums centred); the
    sums are those of the last ``lengths[s]`` rows of ``hist0``.
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
    s2 = np.zeros((n_slots, n, n))
    s3 = np.zeros((n_slots, n, n))
    s4 = np.zeros((n_slots, n, n))
    for s in range(n_slots):
        lw_sums_nb(hist0[hist0.shape[0] - lengths[s] :], shift, s1[s], s2[s], s3[s], s4[s])
    return lengths, slot, shift, s1, s2, s3, s4


@njit(cache=True, nogil=True)
def estimate_windows_nb(
    buf: np.ndarray,
    end: int,
    lengths: np.ndarray,
    shift: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    s3: np.ndarray,
    s4: np.ndarray,
    est_mu: np.ndarray,
    est_cov: np.ndarray,
) -> None:
    """Roll every window to the row ``buf[end - 1]`` just written and estimate, in place.

    ``buf`` (rows, n) holds the returns so far (``end`` rows; ``end - 1 - lengths[s] >= 0``).
    ``est_mu[s]`` (n,) and ``est_cov[s]`` (n, n) become the window mean and Ledoit-Wolf
    covariance (per period) of ``buf[end - lengths[s] : end]``.
    """
    for s in range(lengths.shape[0]):
        L = lengths[s]
        lw_roll_nb(buf[end - 1 - L], -1.0, shift, s1[s], s2[s], s3[s], s4[s])
        lw_roll_nb(buf[end - 1], 1.0, shift, s1[s], s2[s], s3[s], s4[s])
        if not lw_from_sums_nb(s1[s], s2[s], s3[s], s4[s], shift, float(L), est_mu[s], est_cov[s]):
            mu, cov = lw_correlation_nb(buf[end - L : end])
            est_mu[s] = mu
            est_cov[s] = cov
