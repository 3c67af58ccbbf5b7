"""The one-pass Ledoit-Wolf kernel against its numpy twin and sklearn, on the hard windows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf as sk_lw

from rwafolio.optimize import ledoit_wolf
from rwafolio.optimize._estimator_kernels import lw_correlation_nb
from rwafolio.optimize._twins import lw_correlation_py

TOL = 1e-14


def _window(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    T, n = {"T=30": (30, 6), "flat": (30, 6), "T<n": (5, 8), "T=2": (2, 6), "T=3": (3, 6)}[kind]
    mix = np.eye(n) + 0.6 * rng.normal(size=(n, n))  # correlated columns
    X = rng.standard_t(5, size=(T, n)) @ mix.T * rng.uniform(0.0005, 0.05, n)
    if kind == "flat":
        X[:, 2] = 0.0001  # a pegged stablecoin
        X[:, 5] = 0.0  # a column of zeros
    return np.ascontiguousarray(X)


def _scaled_gap(cov: np.ndarray, ref: np.ndarray) -> float:
    """Largest ``|cov - ref|`` relative to each entry's scale ``sd_i sd_j`` of ``ref``."""
    sd = np.sqrt(np.diag(ref))
    scale = np.outer(sd, sd)
    scale[scale == 0.0] = 1.0  # zero rows: compared absolutely (they must be exactly 0)
    return float(np.max(np.abs(cov - ref) / scale))


KINDS = ["T=30", "flat", "T<n", "T=2", "T=3"]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", KINDS)
def test_kernel_is_its_numpy_twin(kind: str, seed: int) -> None:
    X = _window(kind, seed)
    mu, cov = lw_correlation_nb(X)
    ref_mu, ref_cov = lw_correlation_py(X)
    np.testing.assert_allclose(mu, ref_mu, rtol=TOL, atol=0.0)
    assert _scaled_gap(cov, ref_cov) <= TOL
    assert np.array_equal(cov, cov.T)
    dead = np.diag(ref_cov) == 0.0
    assert np.all(cov[dead] == 0.0) and np.all(cov[:, dead] == 0.0)
    assert np.linalg.eigvalsh(cov).min() >= -TOL * np.trace(cov)
    py_mu, py_cov = ledoit_wolf(X)  # the Python estimator calls the kernel: the same bits
    assert np.array_equal(py_mu, mu) and np.array_equal(py_cov, cov)


def test_two_rows_take_the_psd_repair() -> None:
    """With T = 2 the shrinkage is 0 and the correlations' rounding leaves negative eigenvalues
    on most seeds: the windows above exercise the kernel's eigenvalue repair."""
    from rwafolio.optimize.estimators import _lw_shrinkage

    repaired = 0
    for seed in range(8):
        X = _window("T=2", seed)
        D = X - X.mean(axis=0)
        S, shrink, _ = _lw_shrinkage(D / np.sqrt((D * D).mean(axis=0)))
        repaired += shrink == 0.0 and np.linalg.eigvalsh(0.5 * (S + S.T))[0] < 0.0
    assert repaired >= 4


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", KINDS)
def test_kernel_is_sklearn_on_standardized_returns(kind: str, seed: int) -> None:
    """sklearn's Ledoit-Wolf of the standardized returns, rescaled by the sample volatilities.

    With a shrinkage of 0 (T = 2: the correlations are +-1) the kernel also clips the rounding
    level negative eigenvalues, which moves the entries by ~1e-16 only.
    """
    X = _window(kind, seed)
    mu, cov = lw_correlation_nb(X)
    D = X - X.mean(axis=0)
    sd = np.sqrt((D * D).mean(axis=0))
    live = sd > 0.0
    corr = sk_lw(D[:, live] / sd[live], assume_centered=True)[0]
    np.testing.assert_allclose(np.diag(cov)[live], sd[live] ** 2, rtol=TOL)
    s = sd[live]
    gap = np.abs(cov[np.ix_(live, live)] / np.outer(s, s) - corr)
    assert gap.max() <= TOL
    np.testing.assert_allclose(mu, X.mean(axis=0), rtol=TOL)


def test_one_row_has_zero_covariance() -> None:
    """One observation: every column is flat, so the covariance is all zeros, as the twin's."""
    X = np.array([[0.01, -0.02, 0.0001]])
    mu, cov = lw_correlation_nb(X)
    ref_mu, ref_cov = lw_correlation_py(X)
    assert np.array_equal(mu, X[0]) and np.array_equal(mu, ref_mu)
    assert np.array_equal(cov, np.zeros((3, 3))) and np.array_equal(ref_cov, cov)
