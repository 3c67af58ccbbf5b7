"""The rolling Ledoit-Wolf sums give the one-pass estimate (``lw_correlation_nb``) on every window."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.optimize import ledoit_wolf
from rwafolio.strategies._decide_kernels import lw_correlation_nb
from rwafolio.strategies._rolling_lw_kernels import lw_from_sums_nb, lw_roll_nb, lw_sums_nb

VOL = np.array([0.04, 0.05, 0.0005, 0.012, 0.0003, 0.009])


def _sums(n: int) -> tuple[np.ndarray, ...]:
    return np.zeros(n), np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))


def _assert_same(mu, cov, ref_mu, ref_cov) -> None:  # type: ignore[no-untyped-def]
    """Agreement relative to each entry's scale ``sd_i sd_j`` (and ``sd_i`` for the mean)."""
    sd = np.sqrt(np.diag(ref_cov))
    assert np.max(np.abs(cov - ref_cov) / np.outer(sd, sd)) <= 1e-10
    assert np.max(np.abs(mu - ref_mu) / sd) <= 1e-10


def test_sums_are_the_window_sums() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(0.001, 0.02, (30, 4))
    shift = X.mean(axis=0) + 0.003
    s1, s2, s3, s4 = _sums(4)
    lw_sums_nb(X, shift, s1, s2, s3, s4)
    Y = X - shift
    np.testing.assert_allclose(s1, Y.sum(axis=0), rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(s2, Y.T @ Y, rtol=1e-13)
    np.testing.assert_allclose(s3, np.einsum("tj,tk->jk", Y**2, Y), rtol=1e-12, atol=1e-19)
    np.testing.assert_allclose(s4, (Y**2).T @ (Y**2), rtol=1e-13)


@pytest.mark.parametrize(("window", "drift"), [(30, 0.0), (30, 0.002), (90, 0.0), (12, 0.0)])
def test_long_roll_matches_the_one_pass_estimator(window: int, drift: float) -> None:
    """3,000 rows of fat-tailed returns (a stablecoin-like asset of 3 bp vol among them), rolled
    without re-reading the sums; a drifting mean moves the window away from the shift."""
    rng = np.random.default_rng(window)
    steps = 3000
    X = rng.standard_t(4, (steps, 6)) * VOL + 0.0005 + drift * np.linspace(0, 1, steps)[:, None]
    shift = X[:window].mean(axis=0)
    s1, s2, s3, s4 = _sums(6)
    lw_sums_nb(X[:window], shift, s1, s2, s3, s4)
    mu, cov = np.empty(6), np.empty((6, 6))
    for t in range(window, steps):
        lw_roll_nb(X[t - window], -1.0, shift, s1, s2, s3, s4)
        lw_roll_nb(X[t], 1.0, shift, s1, s2, s3, s4)
        assert lw_from_sums_nb(s1, s2, s3, s4, shift, float(window), mu, cov)
        win = X[t - window + 1 : t + 1]
        ref_mu, ref_cov = lw_correlation_nb(win)
        _assert_same(mu, cov, ref_mu, ref_cov)
        if t % 500 == 0:  # and the Python estimator itself
            _assert_same(mu, cov, *ledoit_wolf(win))


def test_flat_column_is_refused() -> None:
    """A column whose window variance is lost in its sums' rounding sends the caller to the
    one-pass estimator."""
    rng = np.random.default_rng(3)
    X = rng.normal(0.0, 0.02, (60, 3))
    X[:, 2] = 0.0
    X[:5, 2] = 1e-3  # rolls out: the window becomes flat
    shift = X[:30].mean(axis=0)
    s1, s2, s3, s4 = _sums(3)
    lw_sums_nb(X[:30], shift, s1, s2, s3, s4)
    mu, cov = np.empty(3), np.empty((3, 3))
    assert lw_from_sums_nb(s1, s2, s3, s4, shift, 30.0, mu, cov)
    for t in range(30, 40):
        lw_roll_nb(X[t - 30], -1.0, shift, s1, s2, s3, s4)
        lw_roll_nb(X[t], 1.0, shift, s1, s2, s3, s4)
    assert not lw_from_sums_nb(s1, s2, s3, s4, shift, 30.0, mu, cov)
