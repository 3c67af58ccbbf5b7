"""Rolling moments against the batch estimator (numpy and rwafolio's ``sample``)."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.live import RollingMoments
from rwafolio.optimize.estimators import sample


@pytest.mark.parametrize("every", [1, 7, 10**9])
def test_rolling_equals_batch_every_bar(every: int) -> None:
    rng = np.random.default_rng(11)
    X = rng.standard_t(4, size=(400, 5)) * 0.03 + 0.001
    rm = RollingMoments(5, 30, recompute_every=every)
    for t, x in enumerate(X):
        rm.push(x)
        W = X[max(0, t - 29) : t + 1]
        np.testing.assert_allclose(rm.mean, W.mean(axis=0), rtol=0, atol=1e-15)
        if W.shape[0] >= 2:
            np.testing.assert_allclose(rm.cov, np.cov(W.T, ddof=1), rtol=0, atol=1e-15)


def test_rolling_pinned_to_sample_estimator() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(0.0005, 0.02, size=(200, 6))
    rm = RollingMoments(6, 30)
    for x in X:
        rm.push(x)
    mu, cov = sample(X[-30:])  # PSD repair leaves a well-conditioned matrix alone
    np.testing.assert_allclose(rm.mean, mu, atol=1e-16)
    np.testing.assert_allclose(rm.cov, cov, atol=1e-16)


def test_stable_with_a_large_offset_and_recomputation_resets_drift() -> None:
    # Price-like levels with tiny moves: a sum-of-squares update would lose every digit.
    rng = np.random.default_rng(2)
    X = 1e6 + rng.normal(0, 1e-3, size=(20_000, 3))
    rm = RollingMoments(3, 50, recompute_every=10**9)
    for x in X:
        rm.push(x)
    exact = np.cov(X[-50:].T, ddof=1)
    drift = np.abs(rm.cov - exact).max() / np.abs(exact).max()
    assert drift < 1e-6  # Welford stays close after 20,000 add/drop pairs
    rm.recompute()
    np.testing.assert_allclose(rm.cov, exact, rtol=1e-12, atol=0)


def test_window_rows_in_time_order_and_bad_input() -> None:
    rm = RollingMoments(2, 3)
    for k in range(5):
        rm.push(np.array([k, -k], dtype=float))
    np.testing.assert_array_equal(rm.window_rows()[:, 0], [2.0, 3.0, 4.0])
    with pytest.raises(DataError, match="finite"):
        rm.push(np.array([np.nan, 0.0]))
    with pytest.raises(ConfigError, match="window"):
        RollingMoments(2, 1)
