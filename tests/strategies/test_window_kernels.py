"""Rolling window moments: the estimate from moments rolled day by day equals the one-pass
Ledoit-Wolf kernel and the numpy estimator on every window; constant columns fall back."""

from __future__ import annotations

import numpy as np

from rwafolio.optimize import ledoit_wolf
from rwafolio.strategies._decide_kernels import lw_correlation_nb
from rwafolio.strategies._window_kernels import (
    estimate_windows_nb,
    lw_from_moments_nb,
    start_windows_nb,
    window_moments_nb,
)


def _returns(rows: int, seed: int = 0) -> np.ndarray:
    gen = np.random.default_rng(seed)
    vols = np.array([0.04, 0.012, 0.0008, 0.02])
    corr = np.array([[1, 0.5, 0, 0.3], [0.5, 1, 0, 0.2], [0, 0, 1, 0], [0.3, 0.2, 0, 1.0]])
    return 3e-4 + gen.standard_normal((rows, 4)) @ np.linalg.cholesky(corr).T * vols


def test_moments_of_a_window_by_hand() -> None:
    x = _returns(7)
    shift = np.array([0.001, -0.002, 0.0, 0.5])
    s1, P, Q, F = np.zeros(4), np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4))
    window_moments_nb(x, shift, s1, P, Q, F)
    y = x - shift
    np.testing.assert_allclose(s1, y.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(P, y.T @ y, rtol=1e-13)
    np.testing.assert_allclose(Q, (y * y).T @ y, rtol=1e-13)
    np.testing.assert_allclose(F, (y * y).T @ (y * y), rtol=1e-13)


def test_rolled_estimates_equal_the_one_pass_estimator() -> None:
    x = _returns(400, seed=1)
    windows = np.array([15, 30, 30, 60, 21], dtype=np.int64)
    hist0 = x[:60]
    lengths, slot, shift, s1, P, Q, F = start_windows_nb(windows, hist0)
    assert list(lengths) == [15, 21, 30, 60] and list(slot) == [0, 2, 2, 3, 1]
    est_mu, est_cov = np.empty((4, 4)), np.empty((4, 4, 4))
    for end in range(61, x.shape[0] + 1):  # 340 days rolled, no reset
        estimate_windows_nb(x, end, lengths, shift, s1, P, Q, F, est_mu, est_cov)
        for s, L in enumerate(lengths):
            mu, cov = lw_correlation_nb(x[end - L : end])
            sd = np.sqrt(np.diag(cov))
            np.testing.assert_allclose(est_mu[s], mu, rtol=0, atol=1e-12 * sd.max())
            scaled = (est_cov[s] - cov) / np.outer(sd, sd)  # in units of the volatilities
            np.testing.assert_allclose(scaled, 0.0, rtol=0, atol=1e-12)
    ref_mu, ref_cov = ledoit_wolf(x[-60:])  # the numpy estimator, independently
    np.testing.assert_allclose(est_mu[3], ref_mu, rtol=1e-10)
    np.testing.assert_allclose(est_cov[3], ref_cov, rtol=1e-9)


def test_constant_column_is_left_to_the_one_pass_estimator() -> None:
    x = _returns(50, seed=2)
    x[20:, 2] = 0.0  # a pegged stablecoin stops moving
    x[30:, 3] = 0.01  # a stale price: a constant non-zero return
    lengths, _slot, shift, s1, P, Q, F = start_windows_nb(np.array([10], np.int64), x[:20])
    est_mu, est_cov = np.empty((1, 4)), np.empty((1, 4, 4))
    for end in range(21, 51):
        estimate_windows_nb(x, end, lengths, shift, s1, P, Q, F, est_mu, est_cov)
        _m, _c, ok = lw_from_moments_nb(s1[0], P[0], Q[0], F[0], 10, shift)
        mu, cov = lw_correlation_nb(x[end - 10 : end])
        if end >= 30:  # column 2 flat over the whole window: the one-pass answer, exactly
            assert not ok
            np.testing.assert_array_equal(est_cov[0], cov)
            np.testing.assert_array_equal(est_mu[0], mu)
            assert np.all(est_cov[0][2] == 0.0)
        else:
            np.testing.assert_allclose(est_cov[0], cov, rtol=1e-9, atol=1e-20)
